"""Red team (access, finding 3, t03): a bookkeeper's address on two customers' invoices joins
the two accounts in one person's search. Erasing Alice deleted Bob's account without a word;
now the plan stops, naming how many accounts were joined, until a person says they are one
(`accept_joined`, `dsar erase plan --joined-ok`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsar import SubjectRequest, load_catalog, open_engine, parse_key, plan_erasure
from dsar.errors import JoinedAccountsError
from tests.test_attacks_access_s13b import ACCOUNTS, KEYS, _accounts, _table, _write


@pytest.fixture
def shared_billing(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "export",
        {
            "accounts.csv": _accounts(
                "u1,c1,alice@example.com,Alice Ant",
                "u2,c2,bob@example.com,Bob Bee",
                "u3,c3,carol@example.com,Carol Cat",
            ),
            "invoices.csv": "invoice_id,customer_id,billing_email,amount\n"
            "i1,c1,books@accountant.example,100\ni2,c2,books@accountant.example,200\n"
            "i3,c3,carol@example.com,300\n",
        },
        {
            "accounts": ACCOUNTS,
            "invoices": _table(
                "invoices.csv",
                "csv",
                {
                    "invoice_id": {"type": "string"},
                    "customer_id": {
                        "identity": "customer_id",
                        "type": "string",
                        "references": "accounts.customer_id",
                    },
                    "billing_email": {"identity": "email", "type": "string"},
                    "amount": {"type": "integer"},
                },
                primary_key=["invoice_id"],
            ),
        },
    )


def _plan(catalog_path: Path, email: str, accept_joined: bool = False) -> object:
    catalog = load_catalog(catalog_path)
    request = SubjectRequest("ER-1", (parse_key(f"email={email}"),))
    with open_engine(catalog) as engine:
        return plan_erasure(
            catalog,
            engine,
            request,
            keys=KEYS,
            today=date(2026, 12, 7),
            accept_joined=accept_joined,
        )


def test_an_erasure_that_joined_two_accounts_stops_before_any_plan(shared_billing: Path) -> None:
    with pytest.raises(JoinedAccountsError) as raised:
        _plan(shared_billing, "alice@example.com")
    assert raised.value.joined == {"user_id": 2, "customer_id": 2}
    message = str(raised.value)
    assert "--joined-ok" in message
    assert "bob" not in message.lower() and "books@" not in message  # counts, never values


def test_a_person_with_one_account_plans_as_before(shared_billing: Path) -> None:
    plan = _plan(shared_billing, "carol@example.com")
    assert sum(a.rows for a in plan.actions) == 2  # type: ignore[attr-defined]


def test_accepted_after_a_check_the_plan_is_made(shared_billing: Path) -> None:
    plan = _plan(shared_billing, "alice@example.com", accept_joined=True)
    accounts = next(a for a in plan.actions if a.table == "accounts")  # type: ignore[attr-defined]
    assert accounts.rows == 2  # both accounts: what the person accepted


def test_the_command_refuses_and_says_how_to_proceed(shared_billing: Path, tmp_path: Path) -> None:
    from dsar.cli import app

    runner = CliRunner()
    args = ["erase", "plan", "--catalog", str(shared_billing), "--email", "alice@example.com"]
    args += ["--register", str(tmp_path / "requests.db")]
    refused = runner.invoke(app, args)
    assert refused.exit_code != 0  # `dsar` (run_cli) prints it as one line, "error: ...", exit 1
    assert isinstance(refused.exception, JoinedAccountsError)
    assert "--joined-ok" in str(refused.exception)
    accepted = runner.invoke(app, [*args, "--joined-ok"])
    assert accepted.exit_code == 0, accepted.output
    assert "dry run" in accepted.output


# Access: the same joined search would deliver Bob's account and invoice to Alice. The bundle
# is written (the analyst reads the provenance in it) but fails its own check until accepted.


def _access(catalog_path: Path, out: Path, email: str, accept_joined: bool = False) -> object:
    from dsar import answer_access_requests

    request = SubjectRequest("AR-1", (parse_key(f"email={email}"),))
    [bundle] = answer_access_requests(
        load_catalog(catalog_path), [request], out, keys=KEYS, accept_joined=accept_joined
    )
    return bundle


def test_an_access_bundle_that_joined_two_accounts_is_set_aside(
    shared_billing: Path, tmp_path: Path
) -> None:
    from dsar.review.bundle import verify_bundle

    bundle = _access(shared_billing, tmp_path / "out", "alice@example.com")
    assert bundle.rejected and bundle.zip_path is None  # type: ignore[attr-defined]
    assert [f.check for f in bundle.findings] == ["identity"]  # type: ignore[attr-defined]
    message = str(bundle.findings[0])  # type: ignore[attr-defined]
    assert "2 user_ids" in message and "--joined-ok" in message
    assert "bob" not in message.lower() and "books@" not in message
    assert not (tmp_path / "out" / "AR-1.zip").exists()
    # a reviewer's own check of the set-aside folder says the same
    again = verify_bundle(bundle.path, keys=KEYS)  # type: ignore[attr-defined]
    assert [f.check for f in again.findings] == ["identity"]


def test_an_edited_acceptance_is_caught_by_the_key(shared_billing: Path, tmp_path: Path) -> None:
    """Whoever sets the acceptance by hand in the rejected bundle's manifest breaks its MAC."""
    import json

    from dsar.review.bundle import verify_bundle

    bundle = _access(shared_billing, tmp_path / "out", "alice@example.com")
    manifest = bundle.path / "manifest.json"  # type: ignore[attr-defined]
    data = json.loads(manifest.read_text())
    data["accepted_joined_accounts"] = True
    manifest.write_text(json.dumps(data))
    found = verify_bundle(bundle.path, keys=KEYS)  # type: ignore[attr-defined]
    assert any("MAC fails" in f.message for f in found.findings), found.findings


def test_accepted_the_bundle_is_delivered_and_says_so(shared_billing: Path, tmp_path: Path) -> None:
    from dsar.review.bundle import verify_bundle

    bundle = _access(shared_billing, tmp_path / "out", "alice@example.com", accept_joined=True)
    assert not bundle.rejected, bundle.findings  # type: ignore[attr-defined]
    assert bundle.manifest.accepted_joined_accounts  # type: ignore[attr-defined]
    assert bundle.subject.rows == 4  # type: ignore[attr-defined]  # both accounts, both invoices
    checked = verify_bundle(bundle.zip_path, keys=KEYS)  # type: ignore[attr-defined]
    assert checked.ok and any("joined" in n for n in checked.notices)


def test_one_account_is_delivered_without_any_acceptance(
    shared_billing: Path, tmp_path: Path
) -> None:
    bundle = _access(shared_billing, tmp_path / "out", "carol@example.com", accept_joined=True)
    assert not bundle.rejected  # type: ignore[attr-defined]
    assert not bundle.manifest.accepted_joined_accounts  # type: ignore[attr-defined]


def test_the_access_command_sets_it_aside_and_says_how_to_proceed(
    shared_billing: Path, tmp_path: Path
) -> None:
    from dsar.cli import app

    runner = CliRunner()
    args = ["access", "--catalog", str(shared_billing), "--email", "alice@example.com"]
    args += ["--label", "AR-1", "--out", str(tmp_path / "out")]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    assert "REJECTED" in refused.output and "--joined-ok" in refused.output
    args[-1] = str(tmp_path / "out2")
    accepted = runner.invoke(app, [*args, "--joined-ok"])
    assert accepted.exit_code == 0, accepted.output
    assert "accepted (--joined-ok)" in accepted.output
