"""What was asked and what was done: the register, deadlines, the audit log, the ledger.

- `register`: the request register (SQLite) with statuses, verification and refusals.
- `deadlines`: the legal deadlines per jurisdiction, each rule with its source.
- `audit`: the hash-chained, append-only audit log.
- `ledger`: the suppression ledger of keyed references (erased, objected, opted out,
  restricted), replayable on a restored export; an erasure is pending until committed.
- `sent`: what was sent to which ad platform, for withdrawals and recipients.
- `releases`: the release log: every published aggregate table of a data set, and the
  privacy budget its differentially private runs spent.
- `sealed`: keyed rows and seals, so a row of these records changed by hand is found.
"""

from __future__ import annotations

from dsar.records.audit import AuditEntry, AuditLog, AuditProblem, verify_audit_log
from dsar.records.deadlines import Deadlines, Jurisdiction, RequestType, compute_deadlines
from dsar.records.ledger import Ledger, LedgerEntry, Reason, State
from dsar.records.register import (
    DenialReason,
    Register,
    RequestRecord,
    Status,
    Verification,
    verify_register,
)
from dsar.records.releases import (
    Charge,
    PublishedTable,
    Release,
    ReleaseLog,
    verify_release_log,
)
from dsar.records.sealed import verify_record

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditProblem",
    "Charge",
    "Deadlines",
    "DenialReason",
    "Jurisdiction",
    "Ledger",
    "LedgerEntry",
    "PublishedTable",
    "Reason",
    "Register",
    "Release",
    "ReleaseLog",
    "RequestRecord",
    "RequestType",
    "State",
    "Status",
    "Verification",
    "compute_deadlines",
    "verify_audit_log",
    "verify_record",
    "verify_register",
    "verify_release_log",
]
