"""What was asked and what was done: the register, deadlines, the audit log, the ledger.

- `register`: the request register (SQLite) with statuses, verification and refusals.
- `deadlines`: the legal deadlines per jurisdiction, each rule with its source.
- `audit`: the hash-chained, append-only audit log.
- `ledger`: the suppression ledger of keyed references (erased, objected, opted out,
  restricted), replayable on a restored export.
"""

from __future__ import annotations

from dsar.records.audit import AuditEntry, AuditLog, AuditProblem, verify_audit_log
from dsar.records.deadlines import Deadlines, Jurisdiction, RequestType, compute_deadlines
from dsar.records.ledger import Ledger, LedgerEntry, Reason
from dsar.records.register import (
    DenialReason,
    Register,
    RequestRecord,
    Status,
    Verification,
)

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditProblem",
    "Deadlines",
    "DenialReason",
    "Jurisdiction",
    "Ledger",
    "LedgerEntry",
    "Reason",
    "Register",
    "RequestRecord",
    "RequestType",
    "Status",
    "Verification",
    "compute_deadlines",
    "verify_audit_log",
]
