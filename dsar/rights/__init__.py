"""Subject rights that change the export: erasure, correction, the retention sweep.

Each is planned first (a value you can show and diff; nothing changes) and then applied:

- `erasure`: `plan_erasure`, `apply_erasure`, `confirm_erasure`, `replay_erasures`.
- `correction`: `plan_correction`, `apply_correction`.
- `retention`: `plan_retention`, `apply_retention`.
- `rewrite`: new file versions beside the old, row accounting, a journal, `recover`.
- `certificate`: what was done, why, and whom to notify.
"""

from __future__ import annotations

from dsar.rights.correction import CorrectionPlan, apply_correction, plan_correction
from dsar.rights.erasure import (
    ErasurePlan,
    ErasureResult,
    TableAction,
    apply_erasure,
    confirm_erasure,
    plan_erasure,
    replay_erasures,
)
from dsar.rights.retention import RetentionPlan, apply_retention, plan_retention
from dsar.rights.rewrite import recover

__all__ = [
    "CorrectionPlan",
    "ErasurePlan",
    "ErasureResult",
    "RetentionPlan",
    "TableAction",
    "apply_correction",
    "apply_erasure",
    "apply_retention",
    "confirm_erasure",
    "plan_correction",
    "plan_erasure",
    "plan_retention",
    "recover",
    "replay_erasures",
]
