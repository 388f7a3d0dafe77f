"""Audiences attacked as issue 23 tried them: a marketer in a hurry, through the command line.

Each bypass of the issue is replayed on the issue's demo export (1,000 users, seed 7) and
must now be refused or leave the person out: a list with a ledger the list path ignored, the
ledger from the environment, a spec stating no consent, an objection under an account email
whose marketing row holds `name+news@...`, and Google sign-in data read as a list. Then a
property: whatever a person's addresses (case, Gmail dots, `+tags`, several of them) and
whichever path built the audience, nobody the ledger holds is ever in it.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner, Result

from anonymize.audience import platform
from anonymize.cli import app as anonymize_app
from dsar import ConfigError, Keys, UsageError, UseNotAllowedError
from dsar.catalog.models import IdentityKind
from dsar.cli import app as dsar_app
from dsar.demo import generate
from dsar.records.ledger import Ledger, Reason
from dsar.review.manifest import AudienceManifest
from dsar.subjects.identity import make_key
from tests.test_audience import PUBLISHED

KEY = "k" * 40
KEYS = Keys(KEY.encode())
EXAMPLES = Path(__file__).parents[1] / "examples"
SPEC = EXAMPLES / "audience_marketing.yml"
META = platform("meta")
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's demo export: 1,000 users, seed 7; the catalog's path."""
    return generate(tmp_path_factory.mktemp("demo1000"), users=1000, seed=7).catalog_path


def _audience(catalog: Path | None, out: Path, *args: str, ledger: Path | None = None) -> Result:
    """`anonymize audience ...` as a person types it; WORKBENCH_LEDGER as given (or unset)."""
    where = ["--catalog", str(catalog)] if catalog is not None else []
    env = {"WORKBENCH_KEY": KEY, "WORKBENCH_LEDGER": str(ledger) if ledger else None}
    return runner.invoke(anonymize_app, ["audience", *where, "--out", str(out), *args], env=env)


def _ledger_add(ledger: Path, email: str, *more: str) -> None:
    done = runner.invoke(
        dsar_app,
        [
            *("ledger", "add", "--reason", "objected_direct_marketing", "--request", "OB-1"),
            *("--ledger", str(ledger), "--email", email, *more),
        ],
        env={"WORKBENCH_KEY": KEY},
    )
    assert done.exit_code == 0, done.output


def _hashes(folder: Path, name: str = "meta") -> set[str]:
    return {r[0] for r in list(csv.reader((folder / f"{name}.csv").open()))[1:]}


def _manifest(folder: Path, name: str = "meta") -> AudienceManifest:
    return AudienceManifest.model_validate_json((folder / f"{name}.manifest.json").read_text())


def _meta(email: str) -> str:
    return META.hash(META.email(email) or "")


def _rows(catalog: Path, sql: str) -> list[tuple[str, ...]]:
    root = catalog.parent
    sql = sql.replace("{m}", f"read_json('{root}/marketing_preferences.json')")
    return duckdb.execute(sql.replace("{a}", f"read_csv('{root}/accounts.csv')")).fetchall()


def _two_addresses(catalog: Path) -> list[tuple[str, str]]:
    """(account email, marketing email) of the consenting people whose marketing row holds
    another address than their account (`name+news@...`, dots moved)."""
    return [
        (a, m)
        for a, m in _rows(
            catalog,
            "SELECT a.email, m.email FROM {m} m JOIN {a} a USING (user_id)"
            " WHERE m.ads_personalization AND m.opted_out_at IS NULL"
            " AND lower(trim(a.email)) <> lower(trim(m.email)) ORDER BY a.user_id",
        )
    ]


# -- the bypasses, one by one ------------------------------------------------------


def test_a_list_never_skips_the_ledger_nor_its_tables_rules(demo: Path, tmp_path: Path) -> None:
    """`--input accounts.csv --column email --ledger ledger.db` wrote all 1,000 rows, the
    ledger silently ignored. Now the file is the accounts table (collected to provide the
    service, not for ads): refused; a list the catalog does not know states its basis, and
    the ledger leaves its objector out, counted."""
    ledger = tmp_path / "led" / "ledger.db"
    objector = _rows(  # someone nothing else leaves out: consenting, no Google sign-in
        demo,
        "SELECT a.email FROM {a} a JOIN {m} m USING (user_id) WHERE m.ads_personalization AND"
        " m.opted_out_at IS NULL AND a.email = m.email AND a.user_id NOT IN (SELECT user_id"
        f" FROM read_json('{demo.parent}/google_profiles.jsonl') WHERE user_id IS NOT NULL)"
        " ORDER BY user_id LIMIT 1",
    )[0][0]
    _ledger_add(ledger, objector)
    accounts = demo.parent / "accounts.csv"
    args = ["--input", str(accounts), "--column", "email", "--platform", "meta"]
    refused = _audience(demo, tmp_path / "a", *args, "--ledger", str(ledger))
    assert isinstance(refused.exception, UseNotAllowedError)
    assert "purpose limitation" in str(refused.exception)
    assert not (tmp_path / "a").exists()
    no_catalog = _audience(None, tmp_path / "b", *args, "--ledger", str(ledger))
    assert isinstance(no_catalog.exception, UsageError) and "--catalog" in str(no_catalog.exception)
    # the same addresses in a file of the CRM: the catalog does not know it
    crm = tmp_path / "crm.csv"
    duckdb.sql(f"COPY (SELECT email FROM read_csv('{accounts}')) TO '{crm}' (HEADER)")
    crm_args = ["--input", str(crm), "--column", "email", "--platform", "meta"]
    unstated = _audience(demo, tmp_path / "c", *crm_args, "--ledger", str(ledger))
    assert isinstance(unstated.exception, UsageError)
    assert "--consent-basis" in str(unstated.exception) and not (tmp_path / "c").exists()
    basis = "legitimate interests: existing customers, told at sign-up (privacy policy s.4)"
    built = _audience(
        demo, tmp_path / "d", *crm_args, "--ledger", str(ledger), "--consent-basis", basis
    )
    assert built.exit_code == 0, built.output
    manifest = _manifest(tmp_path / "d")
    counts = manifest.counts  # Google's values and the people who said no leave too (issue 23)
    assert counts["in_ledger"] == 1 and counts["limited_use"] > 0 and counts["said_no_elsewhere"]
    left = ("limited_use", "said_no_elsewhere", "closed_account")  # closed: on lists too
    assert counts["written"] == 999 - sum(counts[r] for r in left)
    assert manifest.eligibility is not None and manifest.eligibility.legal_basis == basis
    assert _meta(objector) not in _hashes(tmp_path / "d")


def test_the_ledger_from_the_environment_applies_to_a_spec(demo: Path, tmp_path: Path) -> None:
    """With WORKBENCH_LEDGER set and --spec, the objector was uploaded (no in_ledger)."""
    ledger = tmp_path / "led" / "ledger.db"
    sent = _audience(demo, tmp_path / "first", "--spec", str(SPEC), "--platform", "meta")
    objector = next(
        e
        for (e,) in _rows(demo, "SELECT email FROM {m}")
        if _meta(e) in _hashes(tmp_path / "first")
    )
    assert sent.exit_code == 0 and "warning: no suppression ledger" in sent.output
    _ledger_add(ledger, objector)
    again = _audience(
        demo, tmp_path / "again", "--spec", str(SPEC), "--platform", "meta", ledger=ledger
    )
    assert again.exit_code == 0, again.output
    assert "1 in the suppression ledger" in again.output and "(in_ledger)" in again.output
    assert "no suppression ledger" not in again.output  # the one from the environment applied
    assert _meta(objector) not in _hashes(tmp_path / "again")
    manifest = _manifest(tmp_path / "again")
    assert manifest.counts["written"] == _manifest(tmp_path / "first").counts["written"] - 1
    assert manifest.eligibility is not None and manifest.eligibility.ledger


@pytest.mark.parametrize(
    ("body", "message", "fix"),
    [
        ("", "does not say who agreed to be in an ad audience", "consent: ads_personalization"),
        (
            "opted_out: opted_out_at\n",
            "it names the opt-out column 'opted_out_at' only",
            "consent: none with the legal basis in words",
        ),
        (
            "consent: ads_personalization\n",
            "names the consent column but not the opt-out",
            "add opted_out: <column>",
        ),
        ("consent: none\n", "consent: none needs the legal basis", 'add legal_basis: "..."'),
        (
            "consent: none\nlegal_basis: they are customers\n",
            "is processed on consent (the catalog's legal_basis)",
            "name the column that holds the consent",
        ),
        (
            "consent: ads_personalization\nopted_out: opted_out_at\nlegal_basis: x\n",
            "legal_basis is for consent: none",
            "remove legal_basis",
        ),
    ],
)
def test_a_spec_that_does_not_state_consent_is_refused(
    demo: Path, tmp_path: Path, body: str, message: str, fix: str
) -> None:
    """A spec with no consent: and no opted_out: uploaded 999 people, among them someone who
    opted out in 2021 with ads personalisation off."""
    spec = tmp_path / "spec.yml"
    spec.write_text(f"version: 1\nname: all\ntable: marketing_preferences\nemail: email\n{body}")
    refused = _audience(demo, tmp_path / "out", "--spec", str(spec), "--platform", "meta")
    assert isinstance(refused.exception, ConfigError), refused.output
    assert message in str(refused.exception) and fix in str(refused.exception)
    assert not (tmp_path / "out").exists()


def test_the_2021_opt_out_is_never_uploaded(demo: Path, tmp_path: Path) -> None:
    [(someone,)] = _rows(
        demo,
        "SELECT email FROM {m} WHERE NOT ads_personalization AND opted_out_at < '2022-01-01'"
        " ORDER BY user_id LIMIT 1",
    )
    built = _audience(demo, tmp_path / "out", "--spec", str(SPEC), "--platform", "meta")
    assert built.exit_code == 0, built.output
    assert _meta(someone) not in _hashes(tmp_path / "out")


def test_a_person_leaves_under_every_address(demo: Path, tmp_path: Path) -> None:
    """Erased or objecting under their account email, a person whose marketing row holds
    `name+news@...` stayed in the audience; the sent record named no platform for them and
    withdraw did not find them. 29 consenting demo users have two addresses."""
    pairs = _two_addresses(demo)
    assert len(pairs) == 29
    assert any("+" in m for _, m in pairs) and any("+" not in m for _, m in pairs)
    ledger = tmp_path / "led" / "ledger.db"
    for account, _ in pairs:
        _ledger_add(ledger, account)
    built = _audience(
        demo, tmp_path / "out", "--spec", str(SPEC), "--platform", "meta", ledger=ledger
    )
    assert built.exit_code == 0, built.output
    assert _manifest(tmp_path / "out").counts["in_ledger"] == 29
    written = _hashes(tmp_path / "out")
    assert not {_meta(m) for _, m in pairs} & written


def test_what_was_sent_is_withdrawn_from_any_address(demo: Path, tmp_path: Path) -> None:
    account, marketing = next((a, m) for a, m in _two_addresses(demo) if "+" in m)
    record = tmp_path / "rec" / "sent.db"
    sent = _audience(
        demo, tmp_path / "out", "--spec", str(SPEC), "--platform", "meta,uid2",
        "--record", str(record),
    )  # fmt: skip
    assert sent.exit_code == 0, sent.output
    assert _meta(marketing) in _hashes(tmp_path / "out")
    ledger = tmp_path / "led" / "ledger.db"
    objected = runner.invoke(
        dsar_app,
        [
            *("ledger", "add", "--reason", "objected_direct_marketing", "--request", "OB-9"),
            *("--ledger", str(ledger), "--email", account, "--sent-record", str(record)),
        ],
        env={"WORKBENCH_KEY": KEY},
    )
    assert objected.exit_code == 0, objected.output
    assert "held by ad platform meta" in objected.output
    assert "held by ad platform uid2" in objected.output
    withdrawn = runner.invoke(
        anonymize_app,
        [
            *("withdraw", "--platform", "meta", "--record", str(record)),
            *("--ledger", str(ledger), "--out", str(tmp_path / "wd")),
        ],
        env={"WORKBENCH_KEY": KEY},
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    assert "1 people to remove" in withdrawn.output
    [removal] = (tmp_path / "wd").iterdir()
    assert removal.read_text().splitlines() == ["email", _meta(marketing)]


def test_one_person_listed_under_two_addresses_is_withdrawn_whole(
    demo: Path, tmp_path: Path
) -> None:
    """A list holding both of a person's addresses uploads two hashes: an objection under
    one withdraws both (the record keys each upload by person, identifier and hash). (A
    person whose account address Google gave is not one: that value is Limited Use.)"""
    google = {
        e.lower()
        for (e,) in _rows(
            demo, f"SELECT email FROM read_json('{demo.parent}/google_profiles.jsonl')"
        )
    }
    account, marketing = next(
        (a, m) for a, m in _two_addresses(demo) if "+" in m and a.lower() not in google
    )
    crm = tmp_path / "crm.csv"
    crm.write_text(f"email\n{account}\n{marketing}\nsomeone.else@example.net\n")
    record = tmp_path / "rec" / "sent.db"
    built = _audience(
        demo, tmp_path / "out", "--input", str(crm), "--column", "email", "--platform", "meta",
        "--consent-basis", "legitimate interests: our customers", "--record", str(record),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert {_meta(account), _meta(marketing)} <= _hashes(tmp_path / "out")
    ledger = tmp_path / "led" / "ledger.db"
    _ledger_add(ledger, account.upper())
    withdrawn = runner.invoke(
        anonymize_app,
        [
            *("withdraw", "--platform", "meta", "--record", str(record)),
            *("--ledger", str(ledger), "--out", str(tmp_path / "wd")),
        ],
        env={"WORKBENCH_KEY": KEY},
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    [removal] = (tmp_path / "wd").iterdir()
    assert sorted(removal.read_text().splitlines()[1:]) == sorted(
        {_meta(account), _meta(marketing)}
    )


def test_a_record_from_before_keeps_every_upload_of_a_person(tmp_path: Path) -> None:
    """A sent record keyed by (platform, audience, ref) kept one upload per reference: a
    person sent under two addresses lost the first to the second, and a withdrawal missed
    it. Opened now, its key is widened, its rows and seals unchanged."""
    import sqlite3

    from dsar.records.sent import SentRecord, person_ref, verify_sent

    path = tmp_path / "rec" / "sent.db"
    record = SentRecord(path, KEYS)
    record.record("meta", "a", "run1", [("ann@example.org", "h1"), ("bob@example.org", "h2")])
    record.close()
    db = sqlite3.connect(path)  # the key it had before
    info = db.execute("PRAGMA table_info(sent)").fetchall()
    columns = ", ".join(f"{r[1]} {r[2]}" for r in info)
    names = ", ".join(r[1] for r in info)
    db.executescript(
        f"CREATE TABLE narrow ({columns}, PRIMARY KEY (platform, audience, ref));"
        f" INSERT INTO narrow SELECT {names} FROM sent; DROP TABLE sent;"
        " ALTER TABLE narrow RENAME TO sent;"
    )
    db.close()
    assert verify_sent(path, KEYS) == []
    record = SentRecord(path, KEYS)
    ann = person_ref(KEYS, "ann@example.org")
    assert ann is not None
    assert record.record_refs("meta", "a", "run2", [(ann, None, "h1"), (ann, None, "h3")]) == 2
    ledger = Ledger(tmp_path / "led" / "ledger.db", KEYS)
    ledger.add([make_key(IdentityKind.EMAIL, "ann@example.org")], Reason.ERASED, "ER-1")
    assert record.withdrawals("meta", ledger) == ["h1", "h3"]
    record.close()
    assert verify_sent(path, KEYS) == []


def test_a_folded_reference_never_finds_rows_to_erase(tmp_path: Path) -> None:
    """The ledger's folded references leave people out of marketing only: replaying an
    erasure matches under the rules the company chose, not through the folding."""
    world: dict[str, list[Any]] = {
        "people": [
            {"user": "u0", "account": "jane@gmail.com", "marketing": "jane@gmail.com"},
            {"user": "u1", "account": "j.ane@gmail.com", "marketing": "j.ane@gmail.com"},
        ],
        "strangers": [],
    }
    for p in world["people"]:
        p["listed"] = p["account"]
    catalog = _write_world(tmp_path / "export", world)
    ledger = Ledger(tmp_path / "led" / "ledger.db", KEYS)
    ledger.add([make_key(IdentityKind.EMAIL, "J.ANE+old@gmail.com")], Reason.ERASED, "ER-1")
    from dsar import load_catalog, open_engine

    with open_engine(load_catalog(catalog)) as engine:
        assert ledger.find_in_export(engine.catalog, engine) == []
    ledger.close()
    spec = tmp_path / "spec.yml"
    spec.write_text(PROPERTY_SPEC)
    built = _audience(
        catalog, tmp_path / "out", "--spec", str(spec), "--platform", "meta",
        ledger=tmp_path / "led" / "ledger.db",
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert _manifest(tmp_path / "out").counts["in_ledger"] == 2  # both are Jane's inbox


def test_google_sign_in_data_never_feeds_an_audience(demo: Path, tmp_path: Path) -> None:
    """`--input google_profiles.jsonl` wrote 245 hashes."""
    google = demo.parent / "google_profiles.jsonl"
    copy = tmp_path / "profiles-export.jsonl"
    shutil.copy(google, copy)
    for n, source in enumerate([google, copy]):
        for more in ([], ["--consent-basis", "they signed in with Google"]):
            refused = _audience(
                demo, tmp_path / f"o{n}", "--input", str(source), "--column", "email",
                "--platform", "meta", *more,
            )  # fmt: skip
            assert isinstance(refused.exception, UseNotAllowedError), refused.output
            assert "Limited Use" in str(refused.exception)
            assert not (tmp_path / f"o{n}").exists()
    for body in (
        "table: google_profiles\nemail: email\n",
        "table: marketing_preferences\nemail: email\nconsent: ads_personalization\n"
        "opted_out: opted_out_at\naccounts: {table: google_profiles, key: user_id,"
        " status: email_verified, closed: ['false']}\n",
    ):
        spec = tmp_path / "spec.yml"
        spec.write_text(f"version: 1\nname: g\n{body}")
        refused = _audience(demo, tmp_path / "s", "--spec", str(spec), "--platform", "meta")
        assert isinstance(refused.exception, UseNotAllowedError), refused.output
        assert "Limited Use" in str(refused.exception)


def test_a_list_value_known_only_from_google_is_left_out(demo: Path, tmp_path: Path) -> None:
    """An address the export holds only from a Google sign-in came from Google, however the
    list was made."""
    root = tmp_path / "demo"
    shutil.copytree(demo.parent, root)
    only_google = "only.from.google@example.net"
    with (root / "google_profiles.jsonl").open("a") as f:
        f.write(
            '{"google_sub": "999", "user_id": null, "email": "' + only_google + '",'
            ' "given_name": "A", "family_name": "B", "picture_url": null, "locale": "en",'
            ' "email_verified": true, "linked_at": "2024-01-01T00:00:00Z"}\n'
        )
    crm = tmp_path / "crm.csv"
    crm.write_text(f"email\n{only_google.upper()}\nsomeone.else@example.net\n")
    built = _audience(
        root / "catalog.yml", tmp_path / "out", "--input", str(crm), "--column", "email",
        "--platform", "meta", "--consent-basis", "legitimate interests: our customers",
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    counts = _manifest(tmp_path / "out").counts
    assert counts["limited_use"] == 1 and counts["written"] == 1
    assert _hashes(tmp_path / "out") == {_meta("someone.else@example.net")}


# -- the property: nobody in the ledger, whatever their addresses, whichever path ----------

CATALOG = """\
version: 1
controller: {name: Shop Ltd, contact: privacy@shop.example, supervisory_authority: DPC}
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Accounts.
    category: account
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string}
  prefs:
    path: prefs.csv
    format: csv
    description: Advertising choices of business customers.
    category: marketing_preferences
    origin: provided
    purposes: [advertising audiences]
    legal_basis: legitimate_interests
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      email: {identity: email, type: string}
      ads: {type: boolean}
      opted_out_at: {type: timestamp}
"""
PROPERTY_SPEC = (
    "version: 1\nname: p\ntable: prefs\nemail: email\nconsent: ads\nopted_out: opted_out_at\n"
)
PLATFORMS = ("meta", "google_ec", "uid2")


@st.composite
def _address(draw: st.DrawFn, local: str, domain: str) -> str:
    """One way of writing local@domain that folds back to it: case, padding, a +tag, and
    on Gmail dots anywhere in the local part."""
    if domain == "gmail.com":
        cuts = draw(st.sets(st.integers(1, len(local) - 1), max_size=2))
        local = "".join(("." if i in cuts else "") + c for i, c in enumerate(local))
    tag = draw(st.sampled_from(["", "+news", "+ads.2024", "+"]))
    text = f"{local}{tag}@{domain}"
    text = "".join(c.upper() if draw(st.booleans()) else c for c in text)
    return draw(st.sampled_from(["", " "])) + text + draw(st.sampled_from(["", "  "]))


@st.composite
def _world(draw: st.DrawFn) -> dict[str, list[Any]]:
    """People with several addresses (account, marketing row, the CRM list), strangers only
    on the list, and the ledger: one identifier each of some of them, as someone objecting
    might give it (any of their addresses, another way of writing it, their user id)."""
    people, held, held_people, held_strangers = [], [], [], []
    for i in range(draw(st.integers(1, 5))):
        domain = draw(st.sampled_from(["gmail.com", "example.org"]))
        local = f"person{i}x" + draw(st.sampled_from(["", "ann", "bo"]))
        person = {
            "user": f"u{i}",
            "account": draw(_address(local, domain)),
            "marketing": draw(_address(local, domain)),
            "listed": draw(_address(local, domain)),
        }
        people.append(person)
        given = draw(st.sampled_from([None, "user", "account", "marketing", "listed", "other"]))
        if given is not None:
            held_people.append(i)
            if given == "user":
                held.append(f"user_id={person['user']}")
            else:  # as written somewhere, or written yet another way
                held.append("email=" + (person.get(given) or draw(_address(local, domain))))
    strangers = []
    for j in range(draw(st.integers(0, 2))):
        local, domain = f"stranger{j}y", draw(st.sampled_from(["gmail.com", "example.org"]))
        strangers.append(draw(_address(local, domain)))
        if draw(st.booleans()):
            held_strangers.append(j)
            held.append("email=" + draw(_address(local, domain)))
    return {
        "people": people,
        "strangers": strangers,
        "held": held,
        "held_people": held_people,
        "held_strangers": held_strangers,
    }


def _write_world(root: Path, world: dict[str, list[Any]]) -> Path:
    people = world["people"]
    root.mkdir(parents=True)
    with (root / "accounts.csv").open("w", newline="") as f:
        csv.writer(f).writerows(
            [["user_id", "email"], *[[p["user"], p["account"]] for p in people]]
        )
    with (root / "prefs.csv").open("w", newline="") as f:
        csv.writer(f).writerows(
            [
                ["user_id", "email", "ads", "opted_out_at"],
                *[[p["user"], p["marketing"], "true", ""] for p in people],
            ]
        )
    strangers = world["strangers"]
    with (root / "crm.csv").open("w", newline="") as f:
        csv.writer(f).writerows(
            [["email"], *[[p["listed"]] for p in people], *[[s] for s in strangers]]
        )
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def _written(folder: Path) -> set[str]:
    found: set[str] = set()
    for name in PLATFORMS:
        found |= {r[0] for r in list(csv.reader((folder / f"{name}.csv").open()))[1:]}
    return found


def _all_hashes(addresses: list[str]) -> set[str]:
    found: set[str] = set()
    for name in PLATFORMS:
        p = platform(name)
        found |= {p.hash(n) for a in addresses if (n := p.email(a)) is not None}
    return found


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=_world())
def test_nobody_in_the_ledger_is_ever_in_an_audience(
    tmp_path_factory: pytest.TempPathFactory, world: dict[str, list[Any]]
) -> None:
    folder = tmp_path_factory.mktemp("world")
    catalog = _write_world(folder / "export", world)
    ledger = Ledger(folder / "led" / "ledger.db", KEYS)
    held = world["held"]
    ledger.add(
        [make_key(IdentityKind(k), v) for k, _, v in (h.partition("=") for h in held)],
        Reason.OBJECTED_DIRECT_MARKETING,
        "OB-P",
    )
    ledger.close()
    spec = folder / "spec.yml"
    spec.write_text(PROPERTY_SPEC)
    platforms = ["--platform", ",".join(PLATFORMS), "--ledger", str(folder / "led" / "ledger.db")]
    basis = ["--consent-basis", "legitimate interests: business customers, told at sign-up"]
    paths = {
        "spec": ["--spec", str(spec)],
        "table file": ["--input", str(catalog.parent / "prefs.csv"), "--column", "email", *basis],
        "unknown list": ["--input", str(catalog.parent / "crm.csv"), "--column", "email", *basis],
    }
    people, strangers = world["people"], world["strangers"]
    for path, args in paths.items():
        out = folder / path.replace(" ", "-")
        built = _audience(catalog, out, *args, *platforms)
        assert built.exit_code == 0, (path, built.output)
        written = _written(out)
        for i, p in enumerate(people):
            if i in world["held_people"]:
                addresses = [p["account"], p["marketing"], p["listed"]]
                assert not _all_hashes(addresses) & written, (path, p, held)
            else:  # and nobody else is left out
                theirs = p["listed" if path == "unknown list" else "marketing"]
                assert _all_hashes([theirs]) <= written, (path, p, held)
        for j, s in enumerate(strangers if path == "unknown list" else []):
            if j in world["held_strangers"]:
                assert not _all_hashes([s]) & written, (path, s, held)
            else:
                assert _all_hashes([s]) <= written, (path, s, held)


@pytest.mark.parametrize(("name", "kind", "given", "region", "published"), PUBLISHED)
def test_the_published_examples_pass_the_gate(
    name: str, kind: str, given: str, region: str | None, published: str, tmp_path: Path
) -> None:
    """Each platform's published example, as a list through the command line's one gate."""
    catalog = _write_world(tmp_path / "export", {"people": [], "strangers": [], "held": []})
    source = tmp_path / "list.csv"
    source.write_text(f'value\n"{given}"\n')
    args = ["--input", str(source), "--column", "value", "--platform", name, "--kind", kind]
    args += ["--consent-basis", "the platform's own example"]
    built = _audience(catalog, tmp_path / "out", *args, *(["--region", region] if region else []))
    assert built.exit_code == 0, built.output
    [file] = (tmp_path / "out").glob(f"{name}*.csv")
    assert list(csv.reader(file.open()))[-1] == [published]
