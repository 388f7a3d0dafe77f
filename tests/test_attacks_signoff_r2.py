"""Red team, round 2, on review and sign-off (issue 25): each break it found, attacked again.

1. `sent` checked the folder, not the zip that leaves, and followed a symbolic link's old
   target; a folder swapped while it was signed off got its tampered bytes approved.
2. A certificate was signed off without the export: an erasure undone since passed.
3. The register went from sent back to open or denied, and to sent with identity unverified.
4. `dsar verify` crashed (a traceback quoting a CSV line's values) on a damaged file, and
   named an unlisted file (a name can be an address).
5. "disclose" was accepted with the factors against it; a mistyped --register made a new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dsar import load_catalog
from dsar.access.answer import answer_access_requests
from dsar.cli import app
from dsar.errors import ConfigError, RequestStateError, SignOffRefusedError, WorkbenchError
from dsar.keys import Keys
from dsar.records.register import TRANSITIONS, Register, Status, check_transition
from dsar.review import signoff as signoff_module
from dsar.review.signoff import load_decisions, sign_off, third_party_items, verify_artifact
from dsar.subjects.identity import SubjectRequest, parse_key
from tests.conftest import register_request

KEY = "r" * 40
KEYS = Keys(KEY.encode())
LABEL = "R-2026-0001"  # the first request of a new register
DECISION = {
    "decision": "redact",
    "consent": "not_asked",
    "duty_of_confidence": True,
    "reasonable_without_consent": False,
    "reason": "a colleague named in passing; the ticket is about the person's own login",
}
ADDRESS = "jodie.wilkinson@syncloop.io"  # someone else's, planted by the attacks


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo person's bundle (folder and zip) and another person's, made once."""
    from dsar.demo import generate
    from tests.conftest import AS_OF

    root = tmp_path_factory.mktemp("signoff-r2")
    export = generate(root / "export", users=200, seed=3, as_of=AS_OF)
    demo = json.loads((root / "export" / "demo.json").read_text())
    catalog = load_catalog(export.catalog_path)
    mine = SubjectRequest(LABEL, (parse_key(f"email={demo['subject']['email']}"),))
    [bundle] = answer_access_requests(catalog, [mine], root / "out", keys=KEYS)  # its MAC
    [accounts] = catalog.files("accounts")
    emails = pd.read_csv(accounts)["email"] if accounts.suffix == ".csv" else None
    assert emails is not None, "the demo's accounts are a CSV"
    other_email = next(e for e in emails if isinstance(e, str) and e != demo["subject"]["email"])
    theirs = SubjectRequest(LABEL, (parse_key(f"email={other_email}"),))
    [other] = answer_access_requests(catalog, [theirs], root / "other", keys=KEYS)
    assert bundle.zip_path is not None and other.zip_path is not None
    return {
        "bundle": bundle.path,
        "zip": bundle.zip_path,
        "other": other.path,
        "other_zip": other.zip_path,
        "email": demo["subject"]["email"],
        "other_email": other_email,
        "catalog": export.catalog_path,
    }


@pytest.fixture
def bundle(made: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the bundle folder, with its zip beside it as `dsar access` leaves them."""
    copy = tmp_path / "bundles" / LABEL
    shutil.copytree(made["bundle"], copy)
    shutil.copyfile(made["zip"], copy.with_name(LABEL + ".zip"))
    return copy


@pytest.fixture
def env(made: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The key in $WORKBENCH_KEY; a register holding one verified access request, for the
    person the bundle was made for."""
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    db = tmp_path / "requests.db"
    printed = register_request(db, "access", "gdpr", "2026-11-20", made["email"])
    assert printed.startswith(LABEL)
    verified = _run("requests", "update", LABEL, "--register", db, "--verification", "verified")
    assert verified.exit_code == 0, verified.output
    return db


@dataclass(frozen=True)
class Ran:
    exit_code: int
    output: str
    crashed: BaseException | None = None  # an exception that would print a traceback


def _run(*args: str | Path) -> Ran:
    result = CliRunner().invoke(app, [str(a) for a in args])
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        if not isinstance(error, WorkbenchError):
            return Ran(1, result.output, error)
        return Ran(1, f"{result.output}error: {error}\n")
    return Ran(result.exit_code, result.output)


def _decisions(path: Path, bundle: Path) -> Path:
    items = [i.id for i in third_party_items(bundle)]
    path.write_text(yaml.safe_dump({"items": {i: dict(DECISION) for i in items}}))
    return path


def _sign(artifact: Path, db: Path, name: str, role: str, *extra: str | Path) -> Ran:
    return _run("verify", artifact, "--sign-off", name, "--role", role, "--register", db, *extra)


def _review_and_approve(artifact: Path, db: Path, decisions: Path, *extra: str | Path) -> None:
    reviewed = _sign(artifact, db, "Ann Lee", "reviewer", "--request", LABEL, *extra)
    assert reviewed.exit_code == 0, reviewed.output
    approved = _sign(
        artifact,
        db,
        "Bob Roe",
        "approver",
        "--request",
        LABEL,
        "--decisions",
        decisions,
        "--shared-account",  # the tests sign both roles from one OS account
        *extra,
    )
    assert approved.exit_code == 0, approved.output


def _send(db: Path) -> Ran:
    return _run("requests", "update", LABEL, "--register", db, "--status", "sent")


def _status(db: Path) -> Status:
    reg = Register(db, KEYS)
    try:
        return reg.get(LABEL).status
    finally:
        reg.close()


def _signed(db: Path) -> list[dict[str, Any]]:
    log = db.with_name(db.name + ".audit.jsonl")
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [e for e in entries if e["action"].startswith("artifact.")]


def _rehash(folder: Path, rel: str) -> None:
    """Record a file's new checksum in the manifest, so only the checks behind it see it."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["outputs"]:
        if entry["path"] == rel:
            data = (folder / rel).read_bytes()
            entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _formula(bundle: Path) -> None:
    """A formula in the person's CSV, its checksum recomputed: `dsar verify` flags it."""
    csv = bundle / "portability" / "accounts.csv"
    lines = csv.read_text().splitlines()
    cells = lines[1].split(",")
    cells[-1] = '=HYPERLINK("http://evil")'
    csv.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    _rehash(bundle, "portability/accounts.csv")


def _exchange(a: Path, b: Path) -> None:
    spare = a.with_name(a.name + ".swap")
    a.rename(spare)
    b.rename(a)
    spare.rename(b)


# -- 1. the exact artifact that leaves ------------------------------------------------------


def test_a_symbolic_link_is_never_signed_off(bundle: Path, env: Path, tmp_path: Path) -> None:
    """16_symlink.sh: the approval recorded the link's target; the link repointed to other
    bytes, `sent` still passed. A link is refused at the sign-off, the artifact or in it."""
    link = tmp_path / "link-to-bundle"
    link.symlink_to(bundle, target_is_directory=True)
    refused = _sign(link, env, "Ann Lee", "reviewer", "--request", LABEL)
    assert refused.exit_code == 1 and "symbolic link" in refused.output
    (bundle / "data" / "notes.md").symlink_to(bundle / "report.md")
    assert _sign(bundle, env, "Ann Lee", "reviewer").exit_code == 1
    assert _signed(env) == []


def test_a_link_above_the_artifact_repointed_after_approval_blocks_sent(
    bundle: Path, env: Path, tmp_path: Path, made: dict[str, Any]
) -> None:
    """The folder holding the bundle is reached through a link (`current -> v1`); approved
    through it, then the link moved to `v2`, whose bundle (another person's, for the same
    label) passes `dsar verify` but is not the one approved: `sent` is refused."""
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    shutil.move(bundle, v1 / LABEL)
    shutil.copytree(made["other"], v2 / LABEL)
    current = tmp_path / "current"
    current.symlink_to(v1, target_is_directory=True)
    _review_and_approve(current / LABEL, env, _decisions(tmp_path / "d.yml", v1 / LABEL))
    assert _signed(env)[-1]["details"]["given"] == str(current / LABEL)
    current.unlink()
    current.symlink_to(v2, target_is_directory=True)
    assert _run("verify", current / LABEL).exit_code == 0  # passes its checks
    refused = _send(env)
    assert refused.exit_code == 1 and "now leads to another" in refused.output
    assert _status(env) is Status.APPROVED


def test_the_zip_that_leaves_is_the_one_approved(
    bundle: Path, env: Path, tmp_path: Path, made: dict[str, Any]
) -> None:
    """20_zip_swap.sh: another person's bundle zip put where the person's zip is mailed from;
    the folder was approved and `sent` passed. The zip beside a folder must unpack to the
    files approved, and `sent` checks its bytes."""
    beside = bundle.with_name(LABEL + ".zip")
    decisions = _decisions(tmp_path / "d.yml", bundle)
    shutil.copyfile(made["other_zip"], beside)  # someone else's data, under this name
    refused = _sign(bundle, env, "Ann Lee", "reviewer", "--request", LABEL)
    assert refused.exit_code == 1 and "does not hold the files" in refused.output
    assert _signed(env) == []
    shutil.copyfile(made["zip"], beside)
    _review_and_approve(bundle, env, decisions)
    approval = _signed(env)[-1]["details"]
    assert approval["zip"] == str(beside.resolve())
    assert approval["zip_sha256"] == hashlib.sha256(beside.read_bytes()).hexdigest()
    shutil.copyfile(made["other_zip"], beside)  # swapped after the approval
    refused = _send(env)
    assert refused.exit_code == 1 and "the file that leaves" in refused.output
    beside.unlink()  # gone: the approved zip is what was to leave
    assert _send(env).exit_code == 1
    shutil.copyfile(made["zip"], beside)
    sent = _send(env)
    assert sent.exit_code == 0, sent.output


def test_a_zip_that_appears_after_a_folders_approval_blocks_sent(
    bundle: Path, env: Path, tmp_path: Path, made: dict[str, Any]
) -> None:
    beside = bundle.with_name(LABEL + ".zip")
    beside.unlink()
    _review_and_approve(bundle, env, _decisions(tmp_path / "d.yml", bundle))
    assert "zip" not in _signed(env)[-1]["details"]
    shutil.copyfile(made["other_zip"], beside)
    refused = _send(env)
    assert refused.exit_code == 1 and "was not approved with it" in refused.output


def test_a_folder_swapped_during_the_sign_off_is_not_approved(
    bundle: Path, env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """15_toctou.sh: the folder exchanged with a tampered copy (a formula cell that `dsar
    verify` flags) while the checks ran: the digest recorded was the tampered one, and `sent`
    passed with it in place. The sign-off now checks and digests one private copy."""
    dirty = tmp_path / "dirty"
    shutil.copytree(bundle, dirty)
    _formula(dirty)
    assert not verify_artifact(dirty).ok
    clean = verify_artifact(bundle)
    assert clean.ok
    _exchange(bundle, dirty)  # after `dsar verify` checked the clean one, before recording
    reg = Register(env, KEYS)
    try:
        with pytest.raises(SignOffRefusedError, match="finding"):
            sign_off(bundle, "Ann Lee", "reviewer", register=reg, verification=clean)
        _exchange(bundle, dirty)
        real = signoff_module.verify_artifact

        def checks_then_swap(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            _exchange(bundle, dirty)  # the tampered copy in place once the checks are done
            return result

        monkeypatch.setattr(signoff_module, "verify_artifact", checks_then_swap)
        with pytest.raises(SignOffRefusedError, match="changed while it was being checked"):
            sign_off(bundle, "Ann Lee", "reviewer", register=reg, request=LABEL)
        assert reg.audit.entries() and _signed(env) == []
    finally:
        reg.close()
    assert _send(env).exit_code == 1


# -- 2. certificates against the export ----------------------------------------------------


def _erasure(trap_catalog: Path, out: Path) -> tuple[Path, str]:
    from dsar import open_engine
    from dsar.rights import apply_plan, plan_erasure

    catalog = load_catalog(trap_catalog)
    request = SubjectRequest("ER-1", (parse_key("email=ann@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS)
        result = apply_plan(plan, catalog, engine, out=out, keys=KEYS, dry_run=False)
    assert result.certificate is not None
    return result.certificate, plan.label


def test_a_certificate_is_signed_off_only_against_the_export(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12_cert.sh, 13_cert_reopen.sh: the erasure undone in the export (its originals put
    back), the certificate was signed off and sent without --catalog. A certificate's
    sign-off now needs the catalog, and the person's rows back block it."""
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    certificate, label = _erasure(trap_catalog, tmp_path / "certs")
    db = tmp_path / "requests.db"
    Register(db, KEYS).close()
    for artifact in (certificate, certificate.parent):
        without = _sign(artifact, db, "Ann Lee", "reviewer")
        assert without.exit_code == 1 and "--catalog" in without.output
    reg = Register(db, KEYS)
    with pytest.raises(SignOffRefusedError, match="no catalog"):
        sign_off(certificate, "Ann Lee", "reviewer", register=reg)
    reg.close()
    assert _sign(certificate, db, "Ann Lee", "reviewer", "--catalog", trap_catalog).exit_code == 0
    originals = sorted(trap_catalog.parent.rglob(f"*.before-{label}"))
    assert originals, "the erasure kept the originals"
    for original in originals:  # the erasure undone
        restored = original.with_name(original.name.removesuffix(f".before-{label}"))
        shutil.copyfile(original, restored)
    for artifact in (certificate, certificate.parent):
        refused = _sign(artifact, db, "Bob Roe", "approver", "--catalog", trap_catalog)
        assert refused.exit_code == 1 and "no sign-off recorded" in refused.output
        assert "erased person's keyed reference is still there" in refused.output
        assert "ann@example.com" not in refused.output
    assert [e["action"] for e in _signed(db)] == ["artifact.reviewed"]


# -- 3. the register's transitions ---------------------------------------------------------


def test_every_transition_outside_the_table_is_refused_with_its_rule() -> None:
    for old in Status:
        allowed, rule = TRANSITIONS[old]
        for new in Status:
            if new in allowed or (
                new is old
                and old in (Status.OPEN, Status.IN_PROGRESS, Status.REVIEWED, Status.APPROVED)
            ):
                check_transition("R-1", old, new)
                continue
            with pytest.raises(RequestStateError) as refused:
                check_transition("R-1", old, new)
            assert rule in str(refused.value) and "register rule" in str(refused.value)
    assert TRANSITIONS[Status.SENT][0] == frozenset()
    assert [s for s in Status if Status.SENT in TRANSITIONS[s][0]] == [Status.APPROVED]


def test_sent_is_final_and_needs_a_verified_requester(
    made: dict[str, Any], bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """07_register.sh, 08_sent_open_deny.sh: after `sent` the request went back to open, in
    progress, withdrawn, completed, denied (the log says sent, the register refused), its
    verification to failed; and `sent` passed with the requester's identity still pending."""
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    db = tmp_path / "requests.db"
    register_request(db, "access", "gdpr", "2026-11-20", made["email"])
    _review_and_approve(bundle, db, _decisions(tmp_path / "d.yml", bundle))
    pending = _send(db)
    assert pending.exit_code == 1 and "not verified" in pending.output
    assert "register rule" in pending.output
    assert _status(db) is Status.APPROVED
    update = ("requests", "update", LABEL, "--register", db)
    assert _run(*update, "--verification", "verified").exit_code == 0
    assert _send(db).exit_code == 0
    for change in (
        ("--status", "open"),
        ("--status", "in_progress"),
        ("--status", "withdrawn"),
        ("--status", "completed"),
        ("--status", "sent"),
        ("--deny", "identity_not_verified"),
        ("--verification", "failed"),
    ):
        refused = _run(*update, *change)
        assert refused.exit_code == 1, change
        assert "register rule: sent is final" in refused.output, (change, refused.output)
    assert _status(db) is Status.SENT
    again = _sign(bundle, db, "Ann Lee", "reviewer", "--request", LABEL)
    assert again.exit_code == 1 and "sent is final" in again.output
    assert _run("audit", "verify", "--register", db).exit_code == 0


# -- 4. verify: damaged files give findings, never a traceback or a value -----------------


EXTRACT = """version: 1
name: plans
table: accounts
person: user_id
columns:
  {user_id: drop, customer_id: drop, email: drop, full_name: drop, phone: drop, company: drop,
   city: drop, signup_method: drop, password_hash: drop, account_manager_id: drop,
   created_at: drop, closed_at: drop, last_login_at: drop, country: keep, plan: keep,
   status: keep}
quasi_identifiers: [country, plan, status]
privacy: {k: 5, max_suppression: 0.2}
output: {path: plans.parquet}
"""


@pytest.fixture(scope="module")
def derived(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An aggregate run (CSV) and an extract (Parquet), made with the key (MACs checked)."""
    from anonymize.aggregate import run_aggregates
    from anonymize.extract import run_extract
    from dsar import ReleaseLog, open_engine
    from dsar.demo import generate
    from tests.conftest import AS_OF

    root = tmp_path_factory.mktemp("derived")
    export = generate(root / "export", users=300, seed=5, as_of=AS_OF)
    policy = root / "plans.yml"
    policy.write_text(EXTRACT)
    with open_engine(load_catalog(export.catalog_path)) as engine:
        log = ReleaseLog(root / "releases.db", KEYS)
        aggregate = run_aggregates(
            Path(__file__).parents[1] / "examples" / "aggregate_accounts.yml",
            engine,
            root / "agg",
            release_log=log,
        ).folder
        log.close()
        extract = run_extract(policy, engine, root / "ext", keys=KEYS).folder
    return {"aggregate": aggregate, "extract": extract}


def _artifacts(derived: dict[str, Path], bundle: Path, into: Path) -> dict[str, Path]:
    copies = {}
    for kind, folder in derived.items():
        copies[kind] = into / kind / folder.name
        shutil.copytree(folder, copies[kind])
    return {**copies, "bundle": bundle}


def _damages(data: bytes) -> dict[str, bytes]:
    half = max(len(data) // 2, 1)
    return {
        "cut in half": data[:half],
        "garbled": data[:half] + b'\xff\x00,"\n\x01' * 5 + data[half + 30 :],
        "short row with an address": data + f"{ADDRESS},+31 6 12345678\n".encode(),
        "emptied": b"",
    }


def test_verify_survives_every_damaged_file(
    bundle: Path, derived: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """09_agg_tamper.py, 10_leak_value.sh: a short CSV row with an address and a phone (its
    checksum recomputed) crashed `dsar verify` with a traceback quoting the line. Every file
    type verify reads, cut, garbled, given a short row or emptied, with and without its
    checksum recomputed: exit 1, a finding, no traceback, nothing of the row printed."""
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    artifacts = _artifacts(derived, bundle, tmp_path / "made")
    tried = 0
    for kind, folder in artifacts.items():
        listed = [o["path"] for o in json.loads((folder / "manifest.json").read_text())["outputs"]]
        by_type: dict[str, str] = {}
        for rel in listed:
            by_type.setdefault(Path(rel).parent.as_posix() + Path(rel).suffix, rel)
        for rel in [*by_type.values(), "manifest.json"]:
            for damage, data in _damages((folder / rel).read_bytes()).items():
                for rehash in (False, True) if rel != "manifest.json" else (False,):
                    copy = tmp_path / "try" / folder.name
                    shutil.rmtree(copy.parent, ignore_errors=True)
                    shutil.copytree(folder, copy)
                    (copy / rel).write_bytes(data)
                    if rehash:
                        _rehash(copy, rel)
                    ran = _run("verify", copy)
                    what = f"{kind} {rel} {damage} rehash={rehash}"
                    assert ran.crashed is None, f"{what}: {type(ran.crashed).__name__}"
                    assert ran.exit_code == 1, f"{what}: {ran.output}"
                    assert ADDRESS not in ran.output and "12345678" not in ran.output, what
                    assert "Traceback" not in ran.output, what
                    tried += 1
    assert tried > 60


def test_an_unlisted_file_is_found_without_its_name(
    bundle: Path, derived: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    artifacts = _artifacts(derived, bundle, tmp_path / "made")
    for kind, folder in artifacts.items():
        (folder / f"{ADDRESS}.csv").write_text("x\n")
        ran = _run("verify", folder)
        assert ran.exit_code == 1, (kind, ran.output)
        assert "unlisted file 1 of 1 (at the top)" in ran.output, (kind, ran.output)
        assert "jodie" not in ran.output, kind
    (bundle / "data" / f"{ADDRESS}.json").write_text("{}")
    ran = _run("verify", bundle)
    assert "unlisted file 1 of 2 (in data/)" in ran.output
    assert "unlisted file 2 of 2 (at the top)" in ran.output and "jodie" not in ran.output


# -- 5. decisions that contradict their factors; a mistyped register ----------------------


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({"consent": "refused", "reasonable_without_consent": False}, "reasonable_without"),
        ({"consent": "not_asked", "reasonable_without_consent": False}, "reasonable_without"),
        ({"consent": "refused", "reasonable_without_consent": True}, "duty of confidence"),
        ({"consent": "cannot_be_asked", "reasonable_without_consent": True}, "duty of"),
        ({"consent": "given", "reason": "   "}, "blank"),
    ],
)
def test_disclose_against_its_own_factors_is_refused(
    tmp_path: Path, factors: dict[str, Any], message: str
) -> None:
    """04_thirdparty.sh: `disclose` with consent refused, no duty weighed and disclosure not
    reasonable was recorded."""
    decision = {**DECISION, "decision": "disclose", **factors}
    path = tmp_path / "d.yml"
    path.write_text(yaml.safe_dump({"items": {"PERSON_1": decision}}))
    with pytest.raises(ConfigError, match=message):
        load_decisions(path)


def test_disclose_with_its_grounds_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "d.yml"
    grounds: list[dict[str, Any]] = [
        {"consent": "given"},
        {"consent": "not_asked", "duty_of_confidence": False, "reasonable_without_consent": True},
    ]
    for factors in grounds:
        path.write_text(
            yaml.safe_dump({"items": {"PERSON_1": {**DECISION, "decision": "disclose", **factors}}})
        )
        assert load_decisions(path)["PERSON_1"].decision.value == "disclose"


def test_a_mistyped_register_is_refused_never_created(
    bundle: Path, env: Path, tmp_path: Path
) -> None:
    typo = tmp_path / "requets.db"
    for command in (
        ("requests", "update", LABEL, "--register", typo, "--status", "in_progress"),
        ("requests", "show", LABEL, "--register", typo),
        ("verify", bundle, "--sign-off", "Ann Lee", "--role", "reviewer", "--register", typo),
        ("access", "--catalog", tmp_path / "none.yml", "--request", LABEL, "--register", typo),
    ):
        ran = _run(*command)
        assert ran.exit_code != 0 and ran.crashed is None, command
        assert not typo.exists() and not Path(f"{typo}.audit.jsonl").exists(), command
    listed = _run("requests", "list", "--register", typo)
    assert listed.exit_code == 0 and "no register" in listed.output and not typo.exists()
    added = _run(
        "requests",
        "add",
        "--register",
        typo,
        "--type",
        "access",
        "--jurisdiction",
        "gdpr",
        "--received",
        "2026-11-20",
        "--email",
        "someone@example.com",
    )
    assert added.exit_code == 0 and typo.exists()  # the one command that starts a register
    assert os.stat(typo).st_mode & 0o077 == 0


# -- round 2b (report /tmp/redteam25b): whose bundle, which artifact, who signs -------------


def _register(db: Path, kind: str, email: str) -> None:
    """A verified request of this type for `email` (R-2026-0001 in a new register)."""
    assert register_request(db, kind, "gdpr", "2026-11-20", email).startswith(LABEL)
    verified = _run("requests", "update", LABEL, "--register", db, "--verification", "verified")
    assert verified.exit_code == 0, verified.output


def test_a_bundle_made_for_another_person_does_not_answer_the_request(
    made: dict[str, Any], env: Path, tmp_path: Path
) -> None:
    """F1 (t_label.sh): `dsar access --email X --label R-2026-0001` (no --request) made X's
    bundle, which was reviewed, approved and sent for R-2026-0001, someone else's request.
    The identifiers a bundle was answered with must be the register's (keyed references)."""
    for artifact in (made["other"], made["other_zip"]):
        copy = tmp_path / "other" / artifact.name
        copy.parent.mkdir(exist_ok=True)
        if artifact.is_dir():
            shutil.copytree(artifact, copy)
        else:
            shutil.copyfile(artifact, copy)
        refused = _sign(copy, env, "Ann Lee", "reviewer", "--request", LABEL)
        assert refused.exit_code == 1, refused.output
        assert f"not made for the person request {LABEL} registers" in refused.output
        assert f"dsar access --request {LABEL}" in refused.output  # the fix
        assert made["other_email"] not in refused.output and made["email"] not in refused.output
    assert _signed(env) == [] and _status(env) is Status.OPEN


def test_request_type_and_artifact_kind_are_bound(
    made: dict[str, Any],
    bundle: Path,
    derived: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F2 (t_type.sh, t_kind.sh, t_complete.sh): an erasure request was sent on an access
    bundle, an access request on an aggregate run, and an erasure set completed by hand with
    nothing applied."""
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    erasure = tmp_path / "erasure.db"
    _register(erasure, "erasure", made["email"])
    refused = _sign(bundle, erasure, "Ann Lee", "reviewer", "--request", LABEL)
    assert refused.exit_code == 1
    assert "an erasure request is answered by erasure_certificate" in refused.output
    by_hand = _run("requests", "update", LABEL, "--register", erasure, "--status", "completed")
    assert by_hand.exit_code == 1 and "no erasure is recorded as applied" in by_hand.output
    access = tmp_path / "access.db"
    _register(access, "access", made["email"])
    aggregate = tmp_path / "agg" / derived["aggregate"].name
    shutil.copytree(derived["aggregate"], aggregate)
    refused = _sign(aggregate, access, "Ann Lee", "reviewer", "--request", LABEL)
    assert refused.exit_code == 1
    assert "an access request is answered by access_bundle" in refused.output
    for db in (erasure, access):
        assert _signed(db) == [] and _status(db) is Status.OPEN


def _apply_erasure(trap_catalog: Path, db: Path, out: Path) -> Path:
    applied = _run(
        "erase", "apply", "--catalog", trap_catalog, "--request", LABEL, "--register", db,
        "--ledger", db.with_name("ledger.db"), "--out", out,
    )  # fmt: skip
    assert applied.exit_code == 0, applied.output
    [certificate] = sorted(out.glob("*-certificate.json"))
    return certificate


def test_sent_checks_a_certificate_again_against_the_export(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F5 (t_cert.sh, t_cert_undo.sh): after approval, the certificate's Markdown copy was
    edited, or the erasure undone, and `sent` passed. `sent` runs the certificate's checks
    again with the catalog recorded at the sign-off."""
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    db = tmp_path / "requests.db"
    _register(db, "erasure", "ann@example.com")
    certificate = _apply_erasure(trap_catalog, db, tmp_path / "certs")
    assert _status(db) is Status.COMPLETED  # applied: the job completed it
    extra = ("--catalog", trap_catalog, "--request", LABEL)
    assert _sign(certificate, db, "Ann Lee", "reviewer", *extra).exit_code == 0
    approved = _sign(certificate, db, "Bob Roe", "approver", *extra, "--shared-account")
    assert approved.exit_code == 0, approved.output
    [entry] = [e for e in _signed(db) if e["action"] == "artifact.approved"]
    assert entry["details"]["catalog"] == str(trap_catalog.resolve())
    twin = certificate.with_suffix(".md")
    kept = twin.read_bytes()
    twin.write_bytes(kept + b"\nNote: we kept all your data after all.\n")
    refused = _send(db)
    assert refused.exit_code == 1 and "finding(s) now" in refused.output, refused.output
    twin.write_bytes(kept)
    label = json.loads(certificate.read_text())["request"]
    originals = sorted(trap_catalog.parent.rglob(f"*.before-{label}"))
    assert originals
    erased = {}
    for original in originals:  # the erasure undone
        restored = original.with_name(original.name.removesuffix(f".before-{label}"))
        erased[restored] = restored.read_bytes()
        shutil.copyfile(original, restored)
    refused = _send(db)
    assert refused.exit_code == 1 and "finding(s) now" in refused.output, refused.output
    assert "ann@example.com" not in refused.output
    for path, data in erased.items():
        path.write_bytes(data)
    sent = _send(db)
    assert sent.exit_code == 0, sent.output


@pytest.mark.parametrize("blank", [".", "-", "()", "\u200b", "\u2063", "A.", " \u200b. "])
def test_a_name_of_fewer_than_two_letters_is_refused(blank: str, bundle: Path, env: Path) -> None:
    """F6 (t_blankname.sh): names that normalise to nothing were accepted, and "Ann Lee"
    then approved a nameless review."""
    refused = _sign(bundle, env, blank, "reviewer", "--request", LABEL)
    assert refused.exit_code != 0 and "fewer than two letters" in refused.output
    assert _signed(env) == []


def test_the_reviewer_under_a_title_initials_or_an_address_is_refused(
    bundle: Path, env: Path, tmp_path: Path
) -> None:
    """F6 (t_names.sh): after "Ann Lee" reviewed, 8 of 11 spellings approved as someone
    else. Each is the same person now, with the rule named; someone else still approves."""
    decisions = _decisions(tmp_path / "d.yml", bundle)
    assert _sign(bundle, env, "Ann Lee", "reviewer", "--request", LABEL).exit_code == 0
    approve = ("--request", LABEL, "--decisions", decisions, "--shared-account")
    for name in (
        "Dr. Ann Lee",
        "Ann Lee (approver)",
        "A. Lee",
        "Ann L.",
        "Ann B. Lee",
        "Ann Lee Jr",
        "Ann Lee 2",
        "annlee",
        "ALee",
        "Ms Lee, Ann",
    ):
        refused = _sign(bundle, env, name, "approver", *approve)
        assert refused.exit_code == 1, name
        assert "the approver may be the one who reviewed it" in refused.output, name
        assert "names are one person's (" in refused.output, name
    address = _sign(bundle, env, "annlee@syncloop.io", "approver", *approve)
    assert address.exit_code == 1  # an address as a name is refused (kept in clear) anyway
    assert [e["action"] for e in _signed(env)] == ["artifact.reviewed"]
    assert _sign(bundle, env, "Ben Lee", "approver", *approve).exit_code == 0


def test_review_and_approval_from_one_os_account_need_the_shared_account_flag(
    bundle: Path, env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F6: the OS user recorded was $USER (USER=bob spoofs it) and never compared: "root"
    reviewed and approved. The real uid's account is recorded and compared."""
    import pwd

    account = pwd.getpwuid(os.getuid()).pw_name
    decisions = _decisions(tmp_path / "d.yml", bundle)
    monkeypatch.setenv("USER", "bob")
    monkeypatch.setenv("LOGNAME", "bob")
    assert _sign(bundle, env, "Ann Lee", "reviewer", "--request", LABEL).exit_code == 0
    approve = ("--request", LABEL, "--decisions", decisions)
    monkeypatch.setenv("USER", "carol")
    refused = _sign(bundle, env, "Bob Roe", "approver", *approve)
    assert refused.exit_code == 1
    assert f"operating-system account {account}" in refused.output
    assert "--shared-account" in refused.output
    assert _sign(bundle, env, "Bob Roe", "approver", *approve, "--shared-account").exit_code == 0
    review, approval = _signed(env)
    for entry in (review, approval):
        assert entry["actor"] == account and entry["details"]["os_account"] == account
    assert approval["details"]["shared_account"] is True
    assert _send(env).exit_code == 0


def test_a_reopened_request_needs_a_new_review_and_approval(
    bundle: Path, env: Path, tmp_path: Path
) -> None:
    """F8 (t_states.sh): a review made before a withdrawal was reused after reopening:
    withdrawn -> in_progress -> approved -> sent. And an approved access request was set
    completed by hand."""
    decisions = _decisions(tmp_path / "d.yml", bundle)
    _review_and_approve(bundle, env, decisions)
    by_hand = _run("requests", "update", LABEL, "--register", env, "--status", "completed")
    assert by_hand.exit_code == 1 and "answered by sending it" in by_hand.output
    update = ("requests", "update", LABEL, "--register", env, "--status")
    assert _run(*update, "withdrawn").exit_code == 0
    assert _run(*update, "in_progress").exit_code == 0
    refused = _send(env)
    assert refused.exit_code == 1 and "since it was last reopened" in refused.output
    approve = ("--request", LABEL, "--decisions", decisions, "--shared-account")
    again = _sign(bundle, env, "Bob Roe", "approver", *approve)
    assert again.exit_code == 1 and "since it was last reopened" in again.output
    _review_and_approve(bundle, env, decisions)
    assert _send(env).exit_code == 0


def test_a_bundle_written_after_approval_voids_it(
    made: dict[str, Any], bundle: Path, env: Path, tmp_path: Path
) -> None:
    """F8 (t_two.sh): a second bundle written for the request after approval left it
    approved, and `sent` passed on the first."""
    _review_and_approve(bundle, env, _decisions(tmp_path / "d.yml", bundle))
    assert _status(env) is Status.APPROVED
    reg = Register(env, KEYS)
    try:
        again = SubjectRequest(LABEL, (parse_key(f"email={made['email']}"),))
        catalog = load_catalog(made["catalog"])
        answer_access_requests(catalog, [again], tmp_path / "second", keys=KEYS, register=reg)
    finally:
        reg.close()
    assert _status(env) is Status.IN_PROGRESS
    refused = _send(env)
    assert refused.exit_code == 1 and "not reviewed and approved" in refused.output
