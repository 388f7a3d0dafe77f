"""The red team's second pass on who a ledger entry names, through the command line:

- shared identifiers: a family landline seen with two people. Recording one person's
  objection left the other out of every audience (the phone led from their row to the
  objector), and `ledger add --sent-record --catalog` and `anonymize withdraw` named and
  withdrew the other's upload (recorded under the landline);
- the ledger's own folding: an objection recorded in full-width letters (U+FF21 on)
  matched no list that held the address in ASCII, under IDNA or not;
- a ledger and a sent record put back together from yesterday's backup, their audit logs
  still holding the writes since (already refused: the test proves it);
- Limited Use by content: a copy of Google's table reshaped (a column added, rows cut, the
  table twice over) is still Google's (already refused by value: the test proves it).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from anonymize.audience import platform
from anonymize.cli import app as anonymize_app
from dsar.cli import app as dsar_app
from dsar.demo import generate
from dsar.errors import RecordTamperedError, UseNotAllowedError
from dsar.review.manifest import AudienceManifest

KEY = "k" * 40
ENV = {"WORKBENCH_KEY": KEY, "WORKBENCH_LEDGER": None, "WORKBENCH_SENT_RECORD": None}
BASIS = ["--consent-basis", "legitimate interests: existing customers, told at sign-up"]
runner = CliRunner()

SHOP = """\
version: 1
controller: {name: Shop Ltd, contact: privacy@shop.example, supervisory_authority: DPC}
tables:
  prefs:
    path: prefs.csv
    format: csv
    description: Advertising choices.
    category: marketing_preferences
    origin: provided
    purposes: [advertising audiences]
    legal_basis: consent
    source: the person
    retention: {criteria: while consent lasts}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string}
      phone: {identity: phone, type: string}
      ads: {type: boolean}
      opted_out_at: {type: timestamp}
"""
SPEC = """\
version: 1
name: shop-{column}
table: prefs
{column}: {column}
consent: ads
opted_out: opted_out_at
"""
LANDLINE = "+44 20 7946 0101"  # Ann's and Ben's: one household
ANN, BEN, CAT = "ann@home-family.example", "ben@home-family.example", "cat@shop-customers.example"
PEOPLE = [("u0", ANN, LANDLINE), ("u1", BEN, LANDLINE), ("u2", CAT, "+44 7700 900777")]


def _shop(root: Path) -> Path:
    root.mkdir(parents=True)
    rows = [f"{u},{e},{p},true," for u, e, p in PEOPLE]
    (root / "prefs.csv").write_text("user_id,email,phone,ads,opted_out_at\n" + "\n".join(rows))
    (root / "catalog.yml").write_text(SHOP)
    for column in ("email", "phone"):
        (root / f"spec-{column}.yml").write_text(SPEC.format(column=column))
    return root / "catalog.yml"


def _invoke(app: object, *args: str) -> Result:
    return runner.invoke(app, list(args), env=ENV)  # type: ignore[arg-type]


def _ledger_add(ledger: Path, request: str, *ids: str, extra: tuple[str, ...] = ()) -> Result:
    named = [a for given in ids for a in (("--id", given) if "=" in given else ("--email", given))]
    done = _invoke(
        dsar_app,
        *("ledger", "add", "--reason", "objected_direct_marketing", "--request", request),
        *("--ledger", str(ledger), *named, *extra),
    )
    assert done.exit_code == 0, done.output
    return done


def _build(catalog: Path, out: Path, *args: str) -> Result:
    return _invoke(
        anonymize_app,
        *("audience", "--catalog", str(catalog), "--out", str(out), "--platform", "meta", *args),
    )


def _hash(value: str, kind: str = "email") -> str:
    p = platform("meta")
    normalised = p.email(value) if kind == "email" else p.phone(value)
    assert normalised is not None
    return p.hash(normalised)


def _written(folder: Path) -> set[str]:
    found: set[str] = set()
    for file in folder.glob("meta*.csv"):
        found |= {r[0] for r in list(csv.reader(file.open()))[1:]}
    return found


def _counts(folder: Path) -> dict[str, int]:
    text = (folder / "meta.manifest.json").read_text()
    return dict(AudienceManifest.model_validate_json(text).counts)


# -- shared identifiers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "objection",
    [(ANN,), ("user_id=u0",), (ANN, f"phone={LANDLINE}")],
    ids=["email", "account id", "email and the landline"],
)
@pytest.mark.parametrize("path", ["spec", "list"])
def test_an_objection_never_leaves_out_who_shares_the_landline(
    tmp_path: Path, objection: tuple[str, ...], path: str
) -> None:
    """Ann objected; Ben, who shares her landline, was left out of the email audience too
    (the phone led from his row to her). Ann leaves under each of her own identifiers."""
    catalog = _shop(tmp_path / "shop")
    ledger = tmp_path / "led" / "ledger.db"
    _ledger_add(ledger, "R-1", *objection)
    if path == "spec":
        args = ["--spec", str(catalog.parent / "spec-email.yml")]
    else:
        crm = tmp_path / "crm.csv"
        crm.write_text("email\n" + "\n".join(e for _, e, _ in PEOPLE) + "\n")
        args = ["--input", str(crm), "--column", "email", *BASIS]
    built = _build(catalog, tmp_path / "out", *args, "--ledger", str(ledger))
    assert built.exit_code == 0, built.output
    assert _written(tmp_path / "out") == {_hash(BEN), _hash(CAT)}
    assert _counts(tmp_path / "out")["in_ledger"] == 1


CHOICES = """\
  ad_choices:
    path: ad_choices.csv
    format: csv
    description: Choices made in the app's privacy centre.
    category: marketing_preferences
    origin: provided
    purposes: [advertising audiences]
    legal_basis: consent
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    columns:
      user_id: {identity: user_id, type: string}
      withdrawn_at: {type: timestamp}
"""


def test_a_no_in_the_export_never_leaves_out_who_shares_the_landline(tmp_path: Path) -> None:
    """Ann withdrew her consent in the app: Ben, on her landline, was left out with her
    (`said_no_elsewhere` through the phone)."""
    catalog = _shop(tmp_path / "shop")
    catalog.write_text(catalog.read_text() + CHOICES)
    (catalog.parent / "ad_choices.csv").write_text("user_id,withdrawn_at\nu0,2024-05-01T00:00:00\n")
    built = _build(catalog, tmp_path / "out", "--spec", str(catalog.parent / "spec-email.yml"))
    assert built.exit_code == 0, built.output
    assert _written(tmp_path / "out") == {_hash(BEN), _hash(CAT)}
    assert _counts(tmp_path / "out")["said_no_elsewhere"] == 1


@pytest.mark.parametrize(
    "objection", [(ANN,), (ANN, f"phone={LANDLINE}")], ids=["email", "email and the landline"]
)
def test_the_objectors_landline_is_never_uploaded(
    tmp_path: Path, objection: tuple[str, ...]
) -> None:
    """The number itself is still the objector's: a phone audience leaves it out (it would
    reach her), from Ben's row too, whether she gave it or not."""
    catalog = _shop(tmp_path / "shop")
    ledger = tmp_path / "led" / "ledger.db"
    _ledger_add(ledger, "R-1", *objection)
    built = _build(
        catalog, tmp_path / "out", "--spec", str(catalog.parent / "spec-phone.yml"),
        "--ledger", str(ledger),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert _written(tmp_path / "out") == {_hash(PEOPLE[2][2], "phone")}


def test_withdraw_and_ledger_add_never_name_who_shares_the_landline(tmp_path: Path) -> None:
    """Ben's upload was recorded under the landline: Ann's objection (her email and the
    landline) named it and withdrew him with her."""
    catalog = _shop(tmp_path / "shop")
    record = tmp_path / "rec" / "sent.db"
    built = _build(
        catalog, tmp_path / "out", "--spec", str(catalog.parent / "spec-email.yml"),
        "--record", str(record),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert _written(tmp_path / "out") == {_hash(e) for _, e, _ in PEOPLE}
    ledger = tmp_path / "led" / "ledger.db"
    added = _ledger_add(
        ledger, "R-1", "user_id=u0",
        extra=("--sent-record", str(record), "--catalog", str(catalog)),
    )  # fmt: skip
    # Ann's own: her account id, her email; the landline is Ben's too
    assert "the person has 2 identifier(s) in the export" in added.output
    assert "1 shared with other people" in added.output
    assert "held by ad platform meta in audience shop-email" in added.output
    _ledger_add(ledger, "R-2", ANN, f"phone={LANDLINE}")
    withdrawn = _invoke(
        anonymize_app,
        *("withdraw", "--platform", "meta", "--record", str(record)),
        *("--ledger", str(ledger), "--out", str(tmp_path / "wd")),
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    [removal] = (tmp_path / "wd").iterdir()
    assert removal.read_text().splitlines() == ["email", _hash(ANN)]


def test_an_uploaded_landline_is_withdrawn_for_either_person(tmp_path: Path) -> None:
    """The landline uploaded (from Ben's row, and Ann's) reaches both: Ann's objection under
    her email withdraws it, and nothing else."""
    catalog = _shop(tmp_path / "shop")
    record = tmp_path / "rec" / "sent.db"
    built = _build(
        catalog, tmp_path / "out", "--spec", str(catalog.parent / "spec-phone.yml"),
        "--record", str(record),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    ledger = tmp_path / "led" / "ledger.db"
    _ledger_add(ledger, "R-1", ANN)
    withdrawn = _invoke(
        anonymize_app,
        *("withdraw", "--platform", "meta", "--record", str(record)),
        *("--ledger", str(ledger), "--out", str(tmp_path / "wd")),
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    [removal] = (tmp_path / "wd").iterdir()
    assert removal.read_text().splitlines() == ["phone", _hash(LANDLINE, "phone")]


ACCOUNTS = """\
  accounts:
    path: accounts.csv
    format: csv
    description: Sign-in accounts.
    category: account
    origin: provided
    purposes: [providing the service]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string}
      status: {type: string}
"""
TEAM = "team@shop-customers.example"  # Ann's and Ben's sign-in: one shared inbox


def _team_shop(root: Path, status: str = "active") -> Path:
    catalog = _shop(root)
    text = catalog.read_text().replace(
        "user_id: {identity: user_id, type: string}\n      email",
        "user_id: {identity: user_id, type: string, references: accounts.user_id}\n      email",
        1,
    )
    catalog.write_text(text + ACCOUNTS)
    (root / "accounts.csv").write_text(
        f"user_id,email,status\nu0,{TEAM},{status}\nu1,{TEAM},active\nu2,{CAT},active\n"
    )
    return catalog


@pytest.mark.parametrize("objection", ["user_id=u0", ANN], ids=["account id", "email"])
def test_a_shared_inbox_never_makes_two_people_one(tmp_path: Path, objection: str) -> None:
    """Ann and Ben sign in with one team inbox: the export made them one person, so Ann's
    objection left Ben's own marketing address out and named his upload for withdrawal."""
    catalog = _team_shop(tmp_path / "shop")
    record = tmp_path / "rec" / "sent.db"
    spec = catalog.parent / "spec-email.yml"
    built = _build(catalog, tmp_path / "out", "--spec", str(spec), "--record", str(record))
    assert built.exit_code == 0, built.output
    ledger = tmp_path / "led" / "ledger.db"
    added = _ledger_add(
        ledger, "R-1", objection, extra=("--sent-record", str(record), "--catalog", str(catalog))
    )
    # Ann's own: her account id and her marketing address; the inbox and the landline are
    # Ben's too
    assert "the person has 2 identifier(s) in the export" in added.output, added.output
    assert "2 shared with other people" in added.output
    withdrawn = _invoke(
        anonymize_app,
        *("withdraw", "--platform", "meta", "--record", str(record)),
        *("--ledger", str(ledger), "--out", str(tmp_path / "wd")),
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    [removal] = (tmp_path / "wd").iterdir()
    assert removal.read_text().splitlines() == ["email", _hash(ANN)]
    again = _build(catalog, tmp_path / "out2", "--spec", str(spec), "--ledger", str(ledger))
    assert again.exit_code == 0, again.output
    assert _written(tmp_path / "out2") == {_hash(BEN), _hash(CAT)}
    assert _counts(tmp_path / "out2")["in_ledger"] == 1


def test_a_closed_account_on_a_shared_inbox_closes_nobody_else(tmp_path: Path) -> None:
    catalog = _team_shop(tmp_path / "shop", status="closed")
    built = _build(catalog, tmp_path / "out", "--spec", str(catalog.parent / "spec-email.yml"))
    assert built.exit_code == 0, built.output
    assert _written(tmp_path / "out") == {_hash(BEN), _hash(CAT)}
    assert _counts(tmp_path / "out")["closed_account"] == 1


def test_a_list_of_the_shared_inbox_leaves_for_either_person(tmp_path: Path) -> None:
    """The inbox itself reaches both: a list holding it leaves it out for Ann's objection."""
    catalog = _team_shop(tmp_path / "shop")
    ledger = tmp_path / "led" / "ledger.db"
    _ledger_add(ledger, "R-1", "user_id=u0")
    crm = tmp_path / "crm.csv"
    crm.write_text(f"email\n{TEAM}\n{BEN}\n")
    built = _build(
        catalog, tmp_path / "out", "--input", str(crm), "--column", "email", *BASIS,
        "--ledger", str(ledger),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert _written(tmp_path / "out") == {_hash(BEN)}


# -- the ledger's own folding -----------------------------------------------------------------


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c != "@" else c for c in text)


_PUNY = "name.q@" + "exämple.com".encode("idna").decode()
WRITINGS = {
    "as given": "Name.Q@Exämple.com",
    "idna": _PUNY,
    "full-width": _full_width("Name.Q") + "@" + _full_width("Exämple") + ".com",
    "full-width idna": _full_width(_PUNY),
    "upper case": "NAME.Q@EXÄMPLE.COM",
    "spaces": "  Name.Q@Exämple.com\t",
}


@pytest.mark.parametrize("listed", sorted(WRITINGS))
@pytest.mark.parametrize("objected", sorted(WRITINGS))
def test_an_objection_in_any_writing_meets_the_list_in_any_other(
    tmp_path: Path, objected: str, listed: str
) -> None:
    """An objection recorded in full-width letters (as pasted from a form) matched no list
    that held the address otherwise: 10 of the 36 pairs were uploaded."""
    catalog = _shop(tmp_path / "shop")
    ledger = tmp_path / "led" / "ledger.db"
    _ledger_add(ledger, "R-1", WRITINGS[objected])
    crm = tmp_path / "crm.csv"
    crm.write_text(f"email\n{WRITINGS[listed]}\n{CAT}\n", encoding="utf-8")
    built = _build(
        catalog, tmp_path / "out", "--input", str(crm), "--column", "email", *BASIS,
        "--ledger", str(ledger),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert _written(tmp_path / "out") == {_hash(CAT)}
    assert _counts(tmp_path / "out")["in_ledger"] == 1


@pytest.mark.parametrize("objected", ["full-width", "full-width idna"])
def test_an_upload_is_withdrawn_for_an_objection_in_full_width(
    tmp_path: Path, objected: str
) -> None:
    catalog = _shop(tmp_path / "shop")
    crm = tmp_path / "crm.csv"
    crm.write_text(f"email\n{WRITINGS['idna']}\n{CAT}\n", encoding="utf-8")
    record = tmp_path / "rec" / "sent.db"
    built = _build(
        catalog, tmp_path / "out", "--input", str(crm), "--column", "email", *BASIS,
        "--record", str(record),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    ledger = tmp_path / "led" / "ledger.db"
    added = _ledger_add(ledger, "R-1", WRITINGS[objected], extra=("--sent-record", str(record)))
    assert "held by ad platform meta in audience crm" in added.output
    withdrawn = _invoke(
        anonymize_app,
        *("withdraw", "--platform", "meta", "--record", str(record)),
        *("--ledger", str(ledger), "--out", str(tmp_path / "wd")),
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    [removal] = (tmp_path / "wd").iterdir()
    assert removal.read_text().splitlines() == ["email", _hash(WRITINGS["idna"])]


# -- rollback of the ledger and the sent record together --------------------------------------


def test_a_ledger_and_a_sent_record_put_back_together_are_found(tmp_path: Path) -> None:
    """Yesterday's backup of both files copied back over today's (an objection and an
    upload since): their audit logs, still holding today's writes, tell."""
    catalog = _shop(tmp_path / "shop")
    record = tmp_path / "rec" / "sent.db"
    ledger = tmp_path / "led" / "ledger.db"
    _ledger_add(ledger, "R-1", CAT)
    built = _build(
        catalog, tmp_path / "out", "--spec", str(catalog.parent / "spec-email.yml"),
        "--record", str(record), "--ledger", str(ledger),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    backup = tmp_path / "backup"
    backup.mkdir()
    shutil.copy(ledger, backup / "ledger.db")
    shutil.copy(record, backup / "sent.db")
    # today: Ann objects, and another audience is sent
    _ledger_add(ledger, "R-2", ANN)
    again = _build(
        catalog, tmp_path / "out2", "--spec", str(catalog.parent / "spec-phone.yml"),
        "--record", str(record), "--ledger", str(ledger),
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    shutil.copy(backup / "ledger.db", ledger)
    shutil.copy(backup / "sent.db", record)
    refused = _invoke(
        anonymize_app,
        *("withdraw", "--platform", "meta", "--record", str(record)),
        *("--ledger", str(ledger), "--out", str(tmp_path / "wd")),
    )
    assert isinstance(refused.exception, RecordTamperedError), refused.output
    assert not (tmp_path / "wd").exists() or not any((tmp_path / "wd").iterdir())
    verified = _invoke(
        dsar_app,
        *("audit", "verify", "--ledger", str(ledger), "--sent-record", str(record)),
    )
    assert verified.exit_code == 1, verified.output
    assert "an earlier copy of the record was put back" in verified.output
    assert f"{ledger}:" in verified.output and "ledger.db.audit.jsonl records 2" in verified.output


# -- Limited Use by content -------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's demo export: 1,000 users, seed 7; the catalog's path."""
    return generate(tmp_path_factory.mktemp("demo1000"), users=1000, seed=7).catalog_path


def _google_copy(demo: Path, target: Path, how: str) -> None:
    """A copy of Google's table no byte of which is the table's file."""
    source = demo.parent / "google_profiles.jsonl"
    rel = f"read_json('{source}')"
    query = {
        # a partial copy, one column added (the CRM's own id)
        "partial, a column added": f"SELECT *, 'crm-' || google_sub AS crm_id FROM {rel}"
        " ORDER BY google_sub LIMIT 120",
        "partial csv, user_id added": f"SELECT user_id, email, given_name FROM {rel}"
        " ORDER BY google_sub LIMIT 60",
        "two copies side by side": f"SELECT * FROM {rel} UNION ALL SELECT * FROM {rel}",
    }[how]
    fmt = "(HEADER)" if target.suffix == ".csv" else "(FORMAT json)"
    duckdb.execute(f"COPY ({query}) TO '{target}' {fmt}")


@pytest.mark.parametrize(
    "how", ["partial, a column added", "partial csv, user_id added", "two copies side by side"]
)
def test_a_reshaped_copy_of_googles_table_is_limited_use(
    demo: Path, tmp_path: Path, how: str
) -> None:
    """Google's table recognised by its values, not its file: a column added, rows cut, the
    table twice over."""
    copy = tmp_path / ("copy.csv" if "csv" in how else "copy.jsonl")
    _google_copy(demo, copy, how)
    refused = _build(demo, tmp_path / "out", "--input", str(copy), "--column", "email", *BASIS)
    assert isinstance(refused.exception, UseNotAllowedError), refused.output
    assert "Limited Use" in str(refused.exception)
    assert refused.exception.table == "google_profiles"
    assert not (tmp_path / "out").exists()


def test_a_marketing_list_sharing_a_few_google_addresses_is_built(
    demo: Path, tmp_path: Path
) -> None:
    """Not every list that meets Google's table is a copy: the shared addresses leave
    (`limited_use`), the rest is built (refused only past half the list's rows)."""
    google = [
        e for (e,) in duckdb.execute(
            f"SELECT email FROM read_json('{demo.parent / 'google_profiles.jsonl'}')"
            " ORDER BY google_sub LIMIT 5"
        ).fetchall()
    ]  # fmt: skip
    ours = [f"customer{n}@crm-only.example" for n in range(20)]
    crm = tmp_path / "crm.csv"
    crm.write_text("email,crm_id\n" + "".join(f"{e},c{n}\n" for n, e in enumerate(google + ours)))
    built = _build(demo, tmp_path / "out", "--input", str(crm), "--column", "email", *BASIS)
    assert built.exit_code == 0, built.output
    assert _written(tmp_path / "out") == {_hash(e) for e in ours}
    assert _counts(tmp_path / "out")["limited_use"] == len(google)
