"""Attacks on `dsar breach scope` / `confirm` from issue 26's second red team (26b), the rest:
the Python API's confirm, a killed scope, export file names in scope.json, names in leaked
text and severity, US residents with no state, categories per value, others named counted
as people, `--where` on a time column.

Each test rebuilds the attack on the small hand-made export of test_attacks_breach.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_attacks_breach import KEY, _manifest
from tests.test_attacks_breach_register import _narrowed, registered

__all__ = ["registered"]  # the fixture, used below


# --- the Python API's confirm checks the register as the command line does --------------


def test_the_python_api_confirm_refuses_a_scope_the_register_does_not_hold(
    registered: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.breach import confirm_breach
    from dsar.catalog import load_catalog
    from dsar.errors import UsageError
    from dsar.keys import Keys

    out, catalog, register = registered
    narrowed = tmp_path / "BR-narrowed"
    assert _narrowed(catalog, narrowed, monkeypatch) == 0
    keys = Keys(KEY.encode())
    decide = {
        "notify_people": False,
        "by": "DPO",
        "reason": "nobody reached",
        "keys": keys,
        "catalog": load_catalog(catalog),
        "register": register,
    }
    with pytest.raises(UsageError, match="not the scope the register holds for BR-1"):
        confirm_breach(narrowed, **decide)  # type: ignore[arg-type]
    assert _manifest(narrowed)["decision"] is None
    # the registered folder takes the decision, screened as the command line screens it
    with pytest.raises(UsageError, match="--reason holds what reads as personal data"):
        confirm_breach(out, **(decide | {"reason": "told ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ"}))  # type: ignore[arg-type]  # noqa: RUF001
    done = confirm_breach(out, **decide)  # type: ignore[arg-type]
    assert done.decision is not None and done.decision.notify_people is False
