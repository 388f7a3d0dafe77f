"""The identity guards run before every job: a collision-prone catalog is refused with the fix,
unless its warnings are accepted, and then every record of the job says which were accepted."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from anonymize import build_audience, run_aggregates, run_extract
from anonymize.cli import app as anonymize_app
from dsar import (
    Catalog,
    CollisionProneCatalogError,
    Engine,
    ReleaseLog,
    SubjectRequest,
    WorkbenchError,
    answer_access_requests,
    apply_plan,
    guard_catalog,
    load_catalog,
    open_engine,
    parse_key,
    plan_correction,
    plan_erasure,
    plan_retention,
    verify_bundle,
    verify_derived,
)
from dsar.cli import app
from dsar.engine import guards
from dsar.engine.guards import catalog_warnings
from dsar.keys import Keys
from tests.conftest import AS_OF
from tests.shop_fixture import CATALOG as SHOP, write_shop

KEY = b"k" * 40
KEYS = Keys(KEY)
EXAMPLES = Path(__file__).parents[1] / "examples"
HOW_TO_ACCEPT = (
    "Fix the catalog (`dsar catalog check` shows the warnings), or, if you have checked that"
    " the rows really belong to that person, accept them with --accept-catalog-warnings (in"
    " Python: accept_catalog_warnings=True); the bundle, certificate or manifest then records"
    " each warning accepted."
)

# ---- the shop: an invoice line's invoice id declared as the customer's id ----------------

LINES_AS_CUSTOMERS = (
    "tables.invoice_lines.columns.InvoiceId: declared customer_id but references"
    " invoices.InvoiceId, which is not an identity column: its values are another kind of key"
    " and can collide"
)


def _lines_as_customers(text: str) -> str:
    """Invoice lines found by their invoice id declared as a customer id (invoice 1 is then
    customer 1's), instead of through their invoice."""
    return (
        text.replace("    owned_through: {column: InvoiceId, parent: invoices.InvoiceId}\n", "")
        .replace(
            "      InvoiceId: {type: integer}\n      TrackId",
            "      InvoiceId: {type: integer, identity: customer_id, references:"
            " invoices.InvoiceId}\n      TrackId",
        )
        .replace(
            "    owned_through: {column: InvoiceLineId, parent: invoice_lines.InvoiceLineId}\n", ""
        )
    )


def _invoices_as_users(text: str) -> str:
    """Invoice ids declared user ids: invoice 1 and staff member 1 are then one person."""
    return text.replace(
        "      InvoiceId: {type: integer}\n      CustomerId: {identity: customer_id",
        "      InvoiceId: {type: integer, identity: user_id}\n      CustomerId: {identity:"
        " customer_id",
    )


def _notes_as_customers(text: str) -> str:
    """Note ids declared customer ids (most are no customer's id once renumbered); not the
    table's key, or customer ids would have two homes."""
    return (
        text.replace(
            "    owned_through: {column: InvoiceLineId, parent: invoice_lines.InvoiceLineId}\n", ""
        )
        .replace("    primary_key: [NoteId]\n", "")
        .replace(
            "      NoteId: {type: integer}", "      NoteId: {type: integer, identity: customer_id}"
        )
    )


def _tracks_unreached(text: str) -> str:
    """The track list said to hold personal data, with no identity and no owner."""
    return text.replace(
        "    personal: false\n",
        "    category: usage\n    origin: provided\n    purposes: [sell music]\n"
        "    legal_basis: contract\n    source: us\n    retention: {criteria: while sold}\n"
        "    erasure: {action: delete}\n",
    )


def _shop(tmp_path: Path, edit: Callable[[str], str] = lambda t: t) -> Catalog:
    path = write_shop(tmp_path / "shop")
    path.write_text(edit(SHOP), encoding="utf-8")
    notes = path.parent / "line_notes.csv"  # notes 1 and 2 renumbered 11 and 12
    notes.write_text(notes.read_text().replace("\n1,", "\n11,").replace("\n2,", "\n12,"))
    return load_catalog(path)


@pytest.mark.parametrize(
    ("edit", "code", "location", "refused"),
    [
        (
            _lines_as_customers,
            "identity-reference-kind",
            "tables.invoice_lines.columns.InvoiceId",
            True,
        ),
        (_invoices_as_users, "identity-two-homes", "identity user_id", True),
        (_notes_as_customers, "identity-coverage", "tables.line_notes.columns.NoteId", True),
        (_tracks_unreached, "table-unreached", "tables.tracks", False),
    ],
    ids=["reference to another kind", "two homes", "coverage", "unreached (a warning only)"],
)
def test_each_warning_has_a_stable_code_and_only_identity_ones_refuse(
    tmp_path: Path, edit: Callable[[str], str], code: str, location: str, refused: bool
) -> None:
    catalog = _shop(tmp_path, edit)
    with open_engine(catalog) as engine:
        found = catalog_warnings(catalog, engine)
        [warning] = [w for w in found if w.location == location]
        assert [w for w in found if w.collision_prone] == ([warning] if refused else [])
        assert (warning.code, warning.location, warning.collision_prone) == (
            code,
            location,
            refused,
        )
        assert str(warning).endswith(f"\n    code: {code}")
        if refused:
            with pytest.raises(CollisionProneCatalogError) as info:
                guard_catalog(catalog, engine)
            assert info.value.warnings == (warning,)
            assert guard_catalog(catalog, engine, accept=True) == (warning,)
            assert guard_catalog(catalog, engine, accept={code}) == (warning,)
        else:
            assert guard_catalog(catalog, engine) == ()


def _refusal(catalog: Catalog, *warnings: str) -> str:
    lines = [
        f"refused: the catalog {catalog.source} has {len(warnings)} warning(s) that can hand"
        " one person's rows to another; nothing was written or changed:",
        *warnings,
        HOW_TO_ACCEPT,
    ]
    return "^" + re.escape("\n".join(lines)) + "$"


LINES_REFUSED = (
    f"  - {LINES_AS_CUSTOMERS}\n"
    "    fix: if the rows belong to the owner of that row, remove the identity role and write"
    " owned_through: {column: InvoiceId, parent: invoices.InvoiceId}\n"
    "    code: identity-reference-kind"
)
LUIS = SubjectRequest("AR-1", (parse_key("email=luis@example.com"),))


def test_access_on_an_invoice_id_declared_as_a_customer_id_is_refused_with_the_fix(
    tmp_path: Path,
) -> None:
    catalog = _shop(tmp_path, _lines_as_customers)
    out = tmp_path / "out"
    with pytest.raises(CollisionProneCatalogError, match=_refusal(catalog, LINES_REFUSED)):
        answer_access_requests(catalog, [LUIS], out)
    assert not out.exists()  # nothing handed over: no bundle, no zip, no partial folder
    refused = pytest.raises(CollisionProneCatalogError, match=_refusal(catalog, LINES_REFUSED))
    with open_engine(catalog) as engine, refused:  # the same with the caller's engine
        answer_access_requests(catalog, [LUIS], out, engine=engine)
    assert not out.exists()


def test_with_acceptance_access_runs_and_every_record_names_the_warning(tmp_path: Path) -> None:
    catalog = _shop(tmp_path, _lines_as_customers)
    [bundle] = answer_access_requests(
        catalog, [LUIS], tmp_path / "out", accept_catalog_warnings=True
    )
    # what was accepted: Luis (customer 1) now gets the lines of invoice 1, Leonie's
    lines = pq.read_table(bundle.path / "data" / "invoice_lines.parquet").to_pylist()
    assert sorted(r["InvoiceLineId"] for r in lines if r["InvoiceId"] == 1) == [1, 2]
    recorded = {"code": "identity-reference-kind", "warning": LINES_AS_CUSTOMERS}
    manifest = json.loads((bundle.path / "manifest.json").read_text())
    assert manifest["accepted_catalog_warnings"] == [recorded]
    report = " ".join((bundle.path / "report.md").read_text().split())
    assert (
        "Our map of where your data is (the catalog) carried the warnings below when this copy"
        " was made"
    ) in report
    assert f"- [identity-reference-kind] {LINES_AS_CUSTOMERS}" in report
    check = verify_bundle(bundle.path)
    assert check.ok, check.findings
    assert check.unauthenticated  # made without a key: a notice says so, besides this one
    assert [n for n in check.notices if "not authenticated" not in n] == [
        f"made from a catalog with an accepted warning: [identity-reference-kind]"
        f" {LINES_AS_CUSTOMERS}"
    ]
    assert bundle.zip_path is not None
    assert verify_bundle(bundle.zip_path).notices == check.notices  # the zip that leaves too


def test_accepting_some_codes_refuses_the_others(tmp_path: Path) -> None:
    catalog = _shop(tmp_path, _lines_as_customers)
    with open_engine(catalog) as engine:
        with pytest.raises(CollisionProneCatalogError, match=_refusal(catalog, LINES_REFUSED)):
            guard_catalog(catalog, engine, accept={"identity-two-homes"})
        with pytest.raises(
            WorkbenchError,
            match=r"^unknown catalog warning code\(s\): two-homes; the codes are"
            r" identity-reference-kind, identity-two-homes, identity-coverage, table-unreached",
        ):
            guard_catalog(catalog, engine, accept={"two-homes"})


def test_the_coverage_check_reads_a_bounded_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run before every job, it reads the first SAMPLE_ROWS values of a column, not all."""
    catalog = _shop(tmp_path, _notes_as_customers)
    with open_engine(catalog) as engine:
        [whole] = catalog_warnings(catalog, engine)
        monkeypatch.setattr(guards, "SAMPLE_ROWS", 2)
        [sampled] = catalog_warnings(catalog, engine)
    assert whole.message == (
        "3 of 4 distinct values are not in customers.CustomerId, the home of customer_id:"
        " probably another kind of key"
    )
    assert sampled.message == (
        "2 of 2 distinct values (in its first 2 rows) are not in customers.CustomerId, the home"
        " of customer_id: probably another kind of key"
    )


def test_the_guards_say_the_same_on_every_engine(tmp_path: Path, engine_kind: str) -> None:
    """The coverage check is SQL run by the job's engine: Spark's answer is DuckDB's."""
    catalog = _shop(tmp_path, _notes_as_customers)
    with open_engine(catalog, engine_kind) as engine:
        [warning] = catalog_warnings(catalog, engine)
    assert (warning.code, warning.message) == (
        "identity-coverage",
        "3 of 4 distinct values are not in customers.CustomerId, the home of customer_id:"
        " probably another kind of key",
    )


# ---- every job, on the demo: a customer id declared as referencing the user id ---------

DEMO_EDIT = (
    "      customer_id: {identity: customer_id, references: accounts.customer_id}\n",
    "      customer_id: {identity: customer_id, references: accounts.user_id}\n",
)
CUSTOMER_AS_USER = (
    "tables.invoices.columns.customer_id: declared customer_id but references accounts.user_id,"
    " which is a user_id: its values are another kind of key and can collide"
)
CUSTOMER_REFUSED = (
    f"  - {CUSTOMER_AS_USER}\n"
    "    fix: if the column holds user_ids, declare it identity: user_id; if it holds"
    " customer_ids, reference a customer_id column\n"
    "    code: identity-reference-kind"
)


@pytest.fixture
def prone_demo(demo_copy: Path) -> Catalog:
    text = demo_copy.read_text(encoding="utf-8")
    assert text.count(DEMO_EDIT[0]) == 1
    demo_copy.write_text(text.replace(*DEMO_EDIT), encoding="utf-8")
    return load_catalog(demo_copy)


def _demo_person(catalog: Catalog, label: str) -> SubjectRequest:
    assert catalog.source is not None
    subject = json.loads((catalog.source.parent / "demo.json").read_text())["subject"]
    return SubjectRequest(label, (parse_key(f"user_id={subject['user_id']}"),))


def _relaxed_extract(tmp_path: Path) -> Path:
    policy = tmp_path / "extract.yml"
    text = (EXAMPLES / "extract_accounts.yml").read_text()
    policy.write_text(
        text.replace("{k: 10, max_suppression: 0.10}", "{k: 2, max_suppression: 0.9}")
    )
    return policy


def _erase(catalog: Catalog, engine: Engine, out: Path, accept: bool) -> list[dict[str, str]]:
    plan = plan_erasure(
        catalog, engine, _demo_person(catalog, "ER-1"), keys=KEYS, accept_catalog_warnings=accept
    )
    result = apply_plan(plan, catalog, engine, out=out, keys=KEYS, dry_run=False)
    assert result.certificate is not None
    return list(json.loads(result.certificate.read_text())["accepted_catalog_warnings"])


def _correct(catalog: Catalog, engine: Engine, out: Path, accept: bool) -> list[dict[str, str]]:
    request = _demo_person(catalog, "CR-1")
    plan = plan_correction(
        catalog, engine, request, {"accounts.city": "Lyon"}, accept_catalog_warnings=accept
    )
    result = apply_plan(plan, catalog, engine, out=out, dry_run=False)
    assert result.certificate is not None
    return list(json.loads(result.certificate.read_text())["accepted_catalog_warnings"])


def _retain(catalog: Catalog, engine: Engine, out: Path, accept: bool) -> list[dict[str, str]]:
    plan = plan_retention(catalog, engine, today=AS_OF, accept_catalog_warnings=accept)
    result = apply_plan(plan, catalog, engine, out=out, dry_run=False)
    assert result.certificate is not None
    return list(json.loads(result.certificate.read_text())["accepted_catalog_warnings"])


def _extract(_: Catalog, engine: Engine, out: Path, accept: bool) -> list[dict[str, str]]:
    result = run_extract(
        _relaxed_extract(out.parent), engine, out, keys=KEYS, accept_catalog_warnings=accept
    )
    assert [n.split(": ", 1)[1] for n in verify_derived(result.folder, keys=KEYS).notices] == (
        [f"[identity-reference-kind] {CUSTOMER_AS_USER}"] if accept else []
    )
    return list(
        json.loads((result.folder / "manifest.json").read_text())["accepted_catalog_warnings"]
    )


def _aggregate(_: Catalog, engine: Engine, out: Path, accept: bool) -> list[dict[str, str]]:
    spec = EXAMPLES / "aggregate_accounts.yml"
    log = ReleaseLog(out.parent / f"releases-{out.name}.db", KEYS)
    result = run_aggregates(spec, engine, out, release_log=log, accept_catalog_warnings=accept)
    assert len(verify_derived(result.folder, keys=KEYS).notices) == (1 if accept else 0)
    return list(
        json.loads((result.folder / "manifest.json").read_text())["accepted_catalog_warnings"]
    )


def _audience(_: Catalog, engine: Engine, out: Path, accept: bool) -> list[dict[str, str]]:
    spec = EXAMPLES / "audience_marketing.yml"
    build_audience(spec, engine, ["google"], out, accept_catalog_warnings=accept)
    return list(json.loads((out / "google.manifest.json").read_text())["accepted_catalog_warnings"])


JOBS = {
    "erasure": _erase,
    "correction": _correct,
    "retention": _retain,
    "extract": _extract,
    "aggregate": _aggregate,
    "audience": _audience,
}
Job = Callable[[Catalog, Engine, Path, bool], list[dict[str, str]]]


@pytest.mark.parametrize("job", JOBS.values(), ids=JOBS.keys())
def test_every_job_refuses_a_collision_prone_catalog_with_the_fix(
    prone_demo: Catalog, tmp_path: Path, job: Job
) -> None:
    assert prone_demo.source is not None
    before = {p.name: p.read_bytes() for p in prone_demo.source.parent.iterdir()}
    out = tmp_path / "out"
    with (
        open_engine(prone_demo) as engine,
        pytest.raises(CollisionProneCatalogError, match=_refusal(prone_demo, CUSTOMER_REFUSED)),
    ):
        job(prone_demo, engine, out, False)
    assert not out.exists() or not any(out.iterdir())  # no certificate, extract or file
    assert {p.name: p.read_bytes() for p in prone_demo.source.parent.iterdir()} == before


@pytest.mark.parametrize("job", JOBS.values(), ids=JOBS.keys())
def test_with_acceptance_every_job_records_the_warning(
    prone_demo: Catalog, tmp_path: Path, job: Job
) -> None:
    with open_engine(prone_demo) as engine:
        recorded = job(prone_demo, engine, tmp_path / "out", True)
    assert recorded == [{"code": "identity-reference-kind", "warning": CUSTOMER_AS_USER}]


def test_the_certificate_says_in_words_which_warning_was_accepted(
    prone_demo: Catalog, tmp_path: Path
) -> None:
    with open_engine(prone_demo) as engine:
        _retain(prone_demo, engine, tmp_path / "out", True)
    [markdown] = (tmp_path / "out").glob("*.md")
    assert markdown.read_text().endswith(
        "Catalog warnings accepted (--accept-catalog-warnings):\n"
        f"- [identity-reference-kind] {CUSTOMER_AS_USER}\n"
    )


@pytest.mark.parametrize("job", JOBS.values(), ids=JOBS.keys())
def test_a_clean_catalog_runs_with_no_notice(demo_copy: Path, tmp_path: Path, job: Job) -> None:
    catalog = load_catalog(demo_copy)
    with open_engine(catalog) as engine:
        assert catalog_warnings(catalog, engine) == []
        assert guard_catalog(catalog, engine) == ()
        assert job(catalog, engine, tmp_path / "out", False) == []


def test_a_clean_catalogs_bundle_has_no_notice(demo_copy: Path, tmp_path: Path) -> None:
    catalog = load_catalog(demo_copy)
    [bundle] = answer_access_requests(catalog, [_demo_person(catalog, "AR-1")], tmp_path / "out")
    manifest = json.loads((bundle.path / "manifest.json").read_text())
    assert manifest["accepted_catalog_warnings"] == []
    assert "Our map of where your data is" not in (bundle.path / "report.md").read_text()
    check = verify_bundle(bundle.path)
    assert check.ok and check.unauthenticated  # no key: that notice alone
    assert [n for n in check.notices if "not authenticated" not in n] == []


# ---- the command lines ------------------------------------------------------------------

runner = CliRunner()


def test_dsar_access_refuses_and_verify_shows_what_was_accepted(tmp_path: Path) -> None:
    catalog = _shop(tmp_path, _lines_as_customers)
    args = ["access", "--catalog", str(catalog.source), "--email", "luis@example.com"]
    refused = runner.invoke(app, [*args, "--out", str(tmp_path / "out"), "--label", "AR-1"])
    assert isinstance(refused.exception, CollisionProneCatalogError)
    assert not (tmp_path / "out").exists()  # no bundle: nothing for `dsar verify` to pass
    out = tmp_path / "accepted"
    accepted = runner.invoke(
        app, [*args, "--out", str(out), "--label", "AR-1", "--accept-catalog-warnings"]
    )
    assert accepted.exit_code == 0, accepted.output
    assert "note: catalog warning(s) accepted (identity-reference-kind)" in accepted.output
    verified = runner.invoke(app, ["verify", str(out / "AR-1.zip")])
    assert verified.exit_code == 3, verified.output  # made and checked without a key
    assert (
        "notice: made from a catalog with an accepted warning: [identity-reference-kind]"
        f" {LINES_AS_CUSTOMERS}"
    ) in verified.output


def _cli(catalog: Path, out: Path) -> dict[str, tuple[object, list[str]]]:
    person = ["--id", "user_id=u0000000"]
    at = ["--catalog", str(catalog)]
    return {
        "erase plan": (app, ["erase", "plan", *at, *person]),
        "correct plan": (app, ["correct", "plan", *at, *person, "--set", "accounts.city=Lyon"]),
        "retention plan": (app, ["retention", "plan", *at, "--today", AS_OF.isoformat()]),
        "extract": (
            anonymize_app,
            ["extract", str(_relaxed_extract(out.parent)), *at, "--out", str(out)],
        ),
        "aggregate": (
            anonymize_app,
            [
                "aggregate",
                str(EXAMPLES / "aggregate_accounts.yml"),
                *at,
                "--out",
                str(out),
                "--release-log",
                str(out.parent / "releases.db"),
            ],
        ),
        "audience": (
            anonymize_app,
            [
                "audience",
                *at,
                "--spec",
                str(EXAMPLES / "audience_marketing.yml"),
                "--platform",
                "google",
                "--out",
                str(out),
            ],
        ),
    }


@pytest.mark.parametrize(
    "command",
    ["erase plan", "correct plan", "retention plan", "extract", "aggregate", "audience"],
)
def test_every_command_refuses_unless_told_to_accept(
    prone_demo: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())
    assert prone_demo.source is not None
    which, args = _cli(prone_demo.source, tmp_path / "out")[command]
    refused = runner.invoke(which, args)  # type: ignore[arg-type]
    assert isinstance(refused.exception, CollisionProneCatalogError), refused.output
    accepted = runner.invoke(which, [*args, "--accept-catalog-warnings"])  # type: ignore[arg-type]
    assert accepted.exit_code == 0, accepted.output


def test_catalog_check_says_which_warnings_the_commands_refuse(tmp_path: Path) -> None:
    catalog = _shop(tmp_path, _lines_as_customers)
    result = runner.invoke(app, ["catalog", "check", str(catalog.source)])
    assert result.exit_code == 0, result.output
    assert "    code: identity-reference-kind\n" in result.output
    assert "    code: table-unreached\n" in result.output  # a warning, not refused
    assert result.output.splitlines()[-1] == (
        "access, erasure, correction, retention, extracts, aggregates and audiences refuse this"
        " catalog (identity-reference-kind): fix it, or, once you have checked that no person's"
        " rows reach another, run them with --accept-catalog-warnings"
    )


def test_a_shop_copy_is_untouched_by_a_refused_erasure(tmp_path: Path) -> None:
    """Erasure, planned on the catalog that would erase invoice 1's lines for customer 1."""
    catalog = _shop(tmp_path, _lines_as_customers)
    assert catalog.source is not None
    keep = tmp_path / "before"
    shutil.copytree(catalog.source.parent, keep)
    request = SubjectRequest("ER-1", (parse_key("email=luis@example.com"),))
    refused = pytest.raises(CollisionProneCatalogError, match=_refusal(catalog, LINES_REFUSED))
    with open_engine(catalog) as engine, refused:
        plan_erasure(catalog, engine, request, keys=KEYS, today=date(2026, 11, 29))
    for path in keep.iterdir():
        assert (catalog.source.parent / path.name).read_bytes() == path.read_bytes()
