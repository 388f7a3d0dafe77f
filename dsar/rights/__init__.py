"""Subject rights that change the export: erasure, correction, the retention sweep.

Each is planned first (a value you can show, diff and turn into a dataframe; nothing
changes), then applied with the one `apply_plan`, which returns an `ApplyResult`:

- `plan`: the `Plan` shape every job shares, `apply_plan`, `ApplyResult`.
- `erasure`: `plan_erasure`, `confirm_erasure`, `replay_erasures`.
- `actions`: the erasure actions (delete, nullify, pseudonymize, retain) as registered classes.
- `children`: rows owned through a retained parent, kept with it for as long as it is kept.
- `correction`: `plan_correction`.
- `retention`: `plan_retention`.
- `rewrite`: new file versions staged beside the old, with row accounting.
- `journal`: a change rolled back or forward, never half: `recover`, `Recovery`.
- `certificate`: what was done, why, and whom to notify (one writer for every job).
"""

from __future__ import annotations

from dsar.rights.actions import EraseAction, TableAction, erasure_action
from dsar.rights.correction import CorrectionPlan, plan_correction
from dsar.rights.erasure import ErasurePlan, confirm_erasure, plan_erasure, replay_erasures
from dsar.rights.journal import Outcome, Recovery, recover
from dsar.rights.plan import ApplyResult, Job, Plan, apply_plan
from dsar.rights.retention import RetentionPlan, plan_retention
from dsar.rights.rewrite import FileChange, confirm_rewrite

__all__ = [
    "ApplyResult",
    "CorrectionPlan",
    "EraseAction",
    "ErasurePlan",
    "FileChange",
    "Job",
    "Outcome",
    "Plan",
    "Recovery",
    "RetentionPlan",
    "TableAction",
    "apply_plan",
    "confirm_erasure",
    "confirm_rewrite",
    "erasure_action",
    "plan_correction",
    "plan_erasure",
    "plan_retention",
    "recover",
    "replay_erasures",
]
