"""Four-eyes sign-off: `dsar verify --sign-off`, the register's reviewed/approved/sent states,
third-party decisions, and what the audit log holds (issue 25, point 2)."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dsar import load_catalog
from dsar.access.answer import answer_access_requests
from dsar.cli import app
from dsar.errors import SignOffRefusedError, WorkbenchError
from dsar.keys import Keys
from dsar.records.register import Register, Status
from dsar.records.signoffs import artifact_digest
from dsar.review.signoff import load_decisions, sign_off, third_party_items
from dsar.subjects.identity import SubjectRequest, parse_key
from tests.conftest import register_request

KEY = "s" * 40
KEYS = Keys(KEY.encode())
DECISION = {
    "decision": "redact",
    "consent": "not_asked",
    "duty_of_confidence": True,
    "reasonable_without_consent": False,
    "reason": "a colleague named in passing; the ticket is about the person's own login",
}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo person's bundle (their tickets name colleagues), made once."""
    from dsar.demo import generate
    from tests.conftest import AS_OF

    root = tmp_path_factory.mktemp("signoff")
    export = generate(root / "export", users=200, seed=3, as_of=AS_OF)
    demo = json.loads((root / "export" / "demo.json").read_text())
    request = SubjectRequest("R-2026-0001", (parse_key(f"email={demo['subject']['email']}"),))
    catalog = load_catalog(export.catalog_path)
    [bundle] = answer_access_requests(catalog, [request], root / "out", keys=KEYS)  # its MAC
    SUBJECT["email"] = demo["subject"]["email"]
    return {"bundle": bundle.path, "export": root / "export", "subject": demo["subject"]}


SUBJECT: dict[str, str] = {}  # the bundle's person, whom `_new_request` registers


@pytest.fixture(autouse=True)
def accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each sign-off from its own operating-system account, as two people would sign (the
    same account for review and approval is refused: tests/test_attacks_signoff_r2.py)."""
    import itertools

    from dsar.review import signoff as signoff_module

    numbers = itertools.count(1)
    monkeypatch.setattr(signoff_module, "os_account", lambda: f"staff{next(numbers)}")


@pytest.fixture
def bundle(made: dict[str, Any], tmp_path: Path) -> Path:
    copy = tmp_path / "R-2026-0001"  # the label of the first request of a new register
    shutil.copytree(made["bundle"], copy)
    return copy


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The key in $WORKBENCH_KEY; the register's path (an empty register: a sign-off
    refuses a register path with none)."""
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    Register(tmp_path / "requests.db", KEYS).close()
    return tmp_path / "requests.db"


@dataclass(frozen=True)
class Ran:
    """A command's exit code and what it printed, with the one-line error `dsar` prints for
    a refusal (the runner calls the app without `run_cli`, which prints it)."""

    exit_code: int
    output: str


def _run(*args: str | Path) -> Ran:
    result = CliRunner().invoke(app, [str(a) for a in args])
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        if not isinstance(error, WorkbenchError):
            raise error  # a bug, not a refusal
        return Ran(1, f"{result.output}error: {error}\n")
    return Ran(result.exit_code, result.output)


def _decisions(path: Path, items: list[str]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({"items": {i: dict(DECISION) for i in items}}))
    return path


def _entries(db: Path) -> list[dict[str, Any]]:
    log = db.with_name(db.name + ".audit.jsonl")
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _sign(bundle: Path, db: Path, name: str, role: str, *extra: str | Path) -> Ran:
    return _run("verify", bundle, "--sign-off", name, "--role", role, "--register", db, *extra)


def _new_request(db: Path, email: str | None = None) -> str:
    """A request for the bundle's person (or `email`'s) whose requester's identity is
    verified (`sent` needs it)."""
    printed = register_request(db, "access", "gdpr", "2026-11-20", email or SUBJECT["email"])
    request = printed.split(":", 1)[0]
    verified = _run("requests", "update", request, "--register", db, "--verification", "verified")
    assert verified.exit_code == 0, verified.output
    return request


def test_third_party_items_are_the_placeholders_the_redaction_wrote(bundle: Path) -> None:
    items = third_party_items(bundle)
    ids = [i.id for i in items]
    assert "PERSON_1" in ids and len(ids) >= 2
    body = pq.read_table(bundle / "data" / "support_tickets.parquet").column("body").to_pylist()
    for item in items:
        assert item.places and all(p.startswith("support_tickets.body row ") for p in item.places)
        row = int(item.places[0].rsplit(" ", 1)[1])
        assert f"<{item.id}>" in body[row - 1]


def test_happy_path_review_approve_send(bundle: Path, env: Path, tmp_path: Path) -> None:
    request = _new_request(env)
    items = [i.id for i in third_party_items(bundle)]
    reviewed = _sign(bundle, env, "Ann Lee", "reviewer", "--request", request)
    assert reviewed.exit_code == 0, reviewed.output
    assert "reviewer sign-off recorded" in reviewed.output
    assert f"request {request} now reviewed" in reviewed.output
    assert "NO DECISION YET" in reviewed.output  # the items the approver must decide
    decisions = _decisions(tmp_path / "decisions.yml", items)
    approved = _sign(
        bundle, env, "Bob Roe", "approver", "--request", request, "--decisions", decisions
    )
    assert approved.exit_code == 0, approved.output
    assert f"request {request} now approved" in approved.output
    sent = _run("requests", "update", request, "--register", env, "--status", "sent")
    assert sent.exit_code == 0, sent.output
    reg = Register(env, KEYS)
    assert reg.get(request).status is Status.SENT
    reg.close()
    entries = _entries(env)
    signs = [e for e in entries if e["action"].startswith("artifact.")]
    assert [(e["action"], e["details"]["name"]) for e in signs] == [
        ("artifact.reviewed", "Ann Lee"),
        ("artifact.approved", "Bob Roe"),
    ]
    digest = artifact_digest(bundle)
    for e in signs:
        assert e["details"]["sha256"] == digest
        assert e["details"]["kind"] == "access_bundle"
        assert e["details"]["findings"] == 0
        assert e["request"] == request and e["at"]
    decided = [e for e in entries if e["action"] == "third_party.decided"]
    assert sorted(e["details"]["item"] for e in decided) == sorted(items)
    assert all(
        e["details"]["consent"] == "not_asked"
        and e["details"]["duty_of_confidence"] is True
        and e["details"]["reasonable_without_consent"] is False
        for e in decided
    )
    assert _run("audit", "verify", "--register", env).exit_code == 0


def test_the_reviewer_cannot_approve(bundle: Path, env: Path, tmp_path: Path) -> None:
    decisions = _decisions(tmp_path / "d.yml", [i.id for i in third_party_items(bundle)])
    assert _sign(bundle, env, "Ann Lee", "reviewer").exit_code == 0
    before = len(_entries(env))
    again = _sign(bundle, env, "  ann   LEE ", "approver", "--decisions", decisions)
    assert again.exit_code == 1
    assert "four eyes" in again.output
    assert len(_entries(env)) == before  # nothing recorded, the decisions neither


def test_approving_before_a_review_is_refused(bundle: Path, env: Path, tmp_path: Path) -> None:
    decisions = _decisions(tmp_path / "d.yml", [i.id for i in third_party_items(bundle)])
    result = _sign(bundle, env, "Bob Roe", "approver", "--decisions", decisions)
    assert result.exit_code == 1 and "not been reviewed" in result.output
    assert not [e for e in _entries(env) if e["action"].startswith("artifact.")]


def _reword_report(bundle: Path) -> None:
    """Change the bundle's manifest and sign it again with the key (as answering again
    would), so the checks pass and only the digest tells the change. (Changing the statement
    alone is a finding: verify makes it again from the data and the manifest.)"""
    from dsar.review.manifest import manifest_mac

    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["parameters"]["note"] = "a line added after the review"
    manifest["mac"] = manifest_mac(KEYS, manifest)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_approval_after_a_byte_changed_is_refused(bundle: Path, env: Path, tmp_path: Path) -> None:
    request = _new_request(env)
    decisions = _decisions(tmp_path / "d.yml", [i.id for i in third_party_items(bundle)])
    assert _sign(bundle, env, "Ann Lee", "reviewer", "--request", request).exit_code == 0
    _reword_report(bundle)
    assert _run("verify", bundle).exit_code == 0  # still passes its checks
    result = _sign(
        bundle, env, "Bob Roe", "approver", "--request", request, "--decisions", decisions
    )
    assert result.exit_code == 1
    assert "changed after the review" in result.output and "SHA-256" in result.output
    # a byte changed without the manifest knowing: a finding, and no sign-off at all
    (bundle / "report.html").write_text((bundle / "report.html").read_text() + " ")
    before = len(_entries(env))
    tampered = _sign(bundle, env, "Ann Lee", "reviewer")
    assert tampered.exit_code == 1 and "no sign-off recorded" in tampered.output
    assert len(_entries(env)) == before


def test_sent_needs_a_review_and_an_approval_of_the_bytes_on_disk(
    bundle: Path, env: Path, tmp_path: Path
) -> None:
    request = _new_request(env)

    def send() -> Ran:
        return _run("requests", "update", request, "--register", env, "--status", "sent")

    refused = send()
    assert refused.exit_code == 1 and "not reviewed and approved" in refused.output
    assert "--role reviewer" in refused.output  # the fix is in the message
    assert _sign(bundle, env, "Ann Lee", "reviewer", "--request", request).exit_code == 0
    refused = send()
    assert refused.exit_code == 1 and "reviewed but not approved" in refused.output
    by_hand = _run("requests", "update", request, "--register", env, "--status", "approved")
    assert by_hand.exit_code == 1 and "through a sign-off" in by_hand.output
    decisions = _decisions(tmp_path / "d.yml", [i.id for i in third_party_items(bundle)])
    approve = ("--request", request, "--decisions", decisions)
    assert _sign(bundle, env, "Bob Roe", "approver", *approve).exit_code == 0
    _reword_report(bundle)  # changed after its approval
    refused = send()
    assert refused.exit_code == 1 and "changed after its approval" in refused.output
    reg = Register(env, KEYS)
    assert reg.get(request).status is Status.APPROVED
    reg.close()


def test_a_review_without_the_request_does_not_count_for_its_approval(
    bundle: Path, env: Path, tmp_path: Path
) -> None:
    """Red team r2 (t_roles.sh): a review made without --request took the request from open
    to approved. It counts for no request: the approval is refused until one is made."""
    request = _new_request(env)
    decisions = _decisions(tmp_path / "d.yml", [i.id for i in third_party_items(bundle)])
    assert _sign(bundle, env, "Ann Lee", "reviewer").exit_code == 0
    approve = ("--request", request, "--decisions", decisions)
    refused = _sign(bundle, env, "Bob Roe", "approver", *approve)
    assert refused.exit_code == 1
    assert "a review without --request" in refused.output
    assert _sign(bundle, env, "Ann Lee", "reviewer", "--request", request).exit_code == 0
    assert _sign(bundle, env, "Bob Roe", "approver", *approve).exit_code == 0
    sent = _run("requests", "update", request, "--register", env, "--status", "sent")
    assert sent.exit_code == 0, sent.output


def test_a_forged_sign_off_is_found(bundle: Path, env: Path, tmp_path: Path) -> None:
    request = _new_request(env)
    assert _sign(bundle, env, "Ann Lee", "reviewer").exit_code == 0
    decisions = _decisions(tmp_path / "d.yml", [i.id for i in third_party_items(bundle)])
    assert _sign(bundle, env, "Bob Roe", "approver", "--decisions", decisions).exit_code == 0
    # the sign-offs were not for this request: someone edits it to say it was, by hand
    log = env.with_name(env.name + ".audit.jsonl")
    lines = log.read_text().splitlines()
    [at] = [i for i, line in enumerate(lines) if '"artifact.approved"' in line]
    entry = json.loads(lines[at])
    entry["request"] = request
    lines[at] = json.dumps(entry)
    log.write_text("\n".join(lines) + "\n")
    checked = _run("audit", "verify", "--register", env)
    assert checked.exit_code == 1
    assert f"line {at + 1}: entry {entry['seq']} was edited" in checked.output
    refused = _run("requests", "update", request, "--register", env, "--status", "sent")
    assert refused.exit_code == 1 and "audit log does not verify" in refused.output


def test_an_undecided_third_party_item_blocks_approval(
    bundle: Path, env: Path, tmp_path: Path
) -> None:
    items = [i.id for i in third_party_items(bundle)]
    assert len(items) >= 2
    assert _sign(bundle, env, "Ann Lee", "reviewer").exit_code == 0
    none = _sign(bundle, env, "Bob Roe", "approver")
    assert none.exit_code == 1 and "have no decision" in none.output
    some = _decisions(tmp_path / "some.yml", items[:-1])
    partly = _sign(bundle, env, "Bob Roe", "approver", "--decisions", some)
    assert partly.exit_code == 1 and items[-1] in partly.output
    assert not [e for e in _entries(env) if e["action"] == "third_party.decided"]
    unknown = _decisions(tmp_path / "unknown.yml", [*items, "PERSON_99"])
    typo = _sign(bundle, env, "Bob Roe", "approver", "--decisions", unknown)
    assert typo.exit_code == 1 and "not shown" in typo.output  # counted, never echoed
    assert "PERSON_99" not in typo.output.split("this artifact:")[0]
    # the reviewer may record some decisions; the approver the rest
    assert _sign(bundle, env, "Ann Lee", "reviewer", "--decisions", some).exit_code == 0
    rest = _decisions(tmp_path / "rest.yml", items[-1:])
    done = _sign(bundle, env, "Bob Roe", "approver", "--decisions", rest)
    assert done.exit_code == 0, done.output


def test_a_reason_naming_someone_is_refused(bundle: Path, tmp_path: Path) -> None:
    items = [i.id for i in third_party_items(bundle)]
    path = _decisions(tmp_path / "d.yml", items)
    text = path.read_text().replace(
        "a colleague named in passing", "asked jane.doe@example.org by phone", 1
    )
    path.write_text(text)
    reg = Register(tmp_path / "r.db", KEYS)
    with pytest.raises(SignOffRefusedError, match="email address or a phone number"):
        sign_off(bundle, "Ann Lee", "reviewer", register=reg, decisions=load_decisions(path))
    assert reg.audit.entries() == []
    reg.close()


def test_the_python_api_returns_a_typed_result(bundle: Path, tmp_path: Path) -> None:
    import dsar

    reg = Register(tmp_path / "r.db", KEYS)
    items = dsar.third_party_items(bundle)
    decisions = {i.id: dsar.ThirdPartyDecision.model_validate(DECISION) for i in items}
    first = dsar.sign_off(bundle, "Ann Lee", dsar.SignOffRole.REVIEWER, register=reg)
    assert isinstance(first, dsar.SignOff) and first.undecided == [i.id for i in items]
    second = dsar.sign_off(bundle, "Bob Roe", "approver", register=reg, decisions=decisions)
    assert second.role is dsar.SignOffRole.APPROVER and second.undecided == []
    assert second.sha256 == first.sha256 == dsar.artifact_digest(bundle)
    assert second.entry > first.entry and second.findings == 0
    reg.close()


def _third_party_values(export: Path, bundle: Path) -> set[str]:
    """The text the redaction replaced in the bundle's tickets, read from the export."""
    originals = {
        row["ticket_id"]: row["body"]
        for row in map(json.loads, (export / "support_tickets.jsonl").read_text().splitlines())
    }
    table = pq.read_table(bundle / "data" / "support_tickets.parquet").to_pylist()
    found: set[str] = set()
    for row in table:
        pieces = re.split(r"<[A-Z_]+_\d+>", row["body"] or "")
        if len(pieces) < 2:
            continue
        pattern = "(.+?)".join(re.escape(p) for p in pieces)
        match = re.fullmatch(pattern, originals[row["ticket_id"]], re.S)
        assert match, "the redacted text lines up with its original"
        found |= set(match.groups())
    return found


def test_nothing_personal_in_the_audit_log_or_the_console(
    made: dict[str, Any], bundle: Path, env: Path, tmp_path: Path
) -> None:
    request = _new_request(env)
    outputs = [_sign(bundle, env, "Ann Lee", "reviewer", "--request", request).output]
    decisions = _decisions(tmp_path / "d.yml", [i.id for i in third_party_items(bundle)])
    outputs.append(
        _sign(
            bundle, env, "Bob Roe", "approver", "--request", request, "--decisions", decisions
        ).output
    )
    outputs.append(
        _run("requests", "update", request, "--register", env, "--status", "sent").output
    )
    third = _third_party_values(made["export"], bundle)
    assert third, "the demo person's tickets name other people"
    personal = {*third, made["subject"]["email"], made["subject"]["user_id"]}
    log = env.with_name(env.name + ".audit.jsonl").read_text()
    for value in personal:
        assert value.lower() not in log.lower()
        assert all(value.lower() not in out.lower() for out in outputs)


def test_a_certificate_and_a_folder_of_them_are_signed_off(
    trap_catalog: Path, env: Path, tmp_path: Path
) -> None:
    from dsar import open_engine
    from dsar.review.signoff import artifact_kind, verify_artifact
    from dsar.rights import apply_plan, plan_erasure

    catalog = load_catalog(trap_catalog)
    request = SubjectRequest("ER-1", (parse_key("email=ann@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS)
        result = apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    assert result.certificate is not None
    certificate, folder = result.certificate, result.certificate.parent
    assert artifact_kind(certificate) == "erasure_certificate"
    assert artifact_kind(folder) == "certificates" and verify_artifact(folder).ok
    for artifact in (certificate, folder):
        assert _sign(artifact, env, "Ann Lee", "reviewer").exit_code == 1  # no --catalog
        assert _sign(artifact, env, "Ann Lee", "reviewer", "--catalog", trap_catalog).exit_code == 0
        approved = _sign(artifact, env, "Bob Roe", "approver", "--catalog", trap_catalog)
        assert approved.exit_code == 0, approved.output
    kinds = [e["details"]["kind"] for e in _entries(env) if e["action"] == "artifact.approved"]
    assert kinds == ["erasure_certificate", "certificates"]
    certificate.with_suffix(".md").write_text("edited\n")  # its twin changed: a finding
    assert verify_artifact(folder).ok is False
    assert _sign(folder, env, "Ann Lee", "reviewer", "--catalog", trap_catalog).exit_code == 1


def _erasure_certificate(trap_catalog: Path, out: Path) -> Path:
    from dsar import open_engine
    from dsar.rights import apply_plan, plan_erasure

    catalog = load_catalog(trap_catalog)
    request = SubjectRequest("ER-1", (parse_key("email=ann@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS)
        result = apply_plan(plan, catalog, engine, out=out, keys=KEYS, dry_run=False)
    assert result.certificate is not None
    return result.certificate


def test_a_certificate_whose_mac_fails_is_not_signed_off(
    trap_catalog: Path, tmp_path: Path
) -> None:
    """The sign-off checks a certificate with the register's key: an edited MAC blocks it,
    from the Python API without a verification and with one made without the key."""
    from dsar.review.certificate import verify_certificate

    certificate = _erasure_certificate(trap_catalog, tmp_path / "certs")
    data = json.loads(certificate.read_text())
    assert data["mac"], "written with the key: it carries a MAC"
    data["mac"] = data["mac"][:-1] + ("0" if data["mac"][-1] != "0" else "1")
    certificate.write_text(json.dumps(data, indent=2))
    unkeyed = verify_certificate(certificate)
    assert unkeyed.ok, "without the key the MAC is only a notice"
    reg = Register(tmp_path / "r.db", KEYS)
    catalog = load_catalog(trap_catalog)
    for artifact in (certificate, certificate.parent):
        with pytest.raises(SignOffRefusedError, match="finding"):
            sign_off(artifact, "Ann Lee", "reviewer", register=reg, catalog=catalog)
    with pytest.raises(SignOffRefusedError, match="finding"):
        sign_off(
            certificate,
            "Ann Lee",
            "reviewer",
            register=reg,
            verification=unkeyed,
            catalog=catalog,
        )
    assert reg.audit.entries() == []
    reg.close()


def test_a_certificate_is_checked_against_the_catalog_given(
    trap_catalog: Path, tmp_path: Path
) -> None:
    """With the export's catalog, a file the erasure put in place and changed since blocks
    the sign-off (without it, only a notice says the export was not checked)."""
    certificate = _erasure_certificate(trap_catalog, tmp_path / "certs")
    catalog = load_catalog(trap_catalog)
    change = json.loads(certificate.read_text())["files_replaced"][0]
    [replaced] = [p for p in catalog.files(change["table"]) if p.name == change["file"]]
    reg = Register(tmp_path / "r.db", KEYS)
    assert sign_off(certificate, "Ann Lee", "reviewer", register=reg, catalog=catalog).entry
    with replaced.open("ab") as handle:
        handle.write(b"\n")  # changed after the erasure
    with pytest.raises(SignOffRefusedError, match="finding"):
        sign_off(certificate, "Bob Roe", "approver", register=reg, catalog=catalog)
    assert [e.action for e in reg.audit.entries()] == ["artifact.reviewed"]
    reg.close()


def test_concurrent_sign_offs_are_serialised(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review paused between its checks and its entry holds the log: an approval started
    meanwhile waits, then sees the review (without the lock it checked a log with no review
    in it and was refused, or two sign-offs each checked a log without the other's entry)."""
    import threading

    import dsar.review.signoff as signoff
    from dsar.review.signoff import ThirdPartyDecision, verify_artifact

    checking, release = threading.Event(), threading.Event()
    digest = artifact_digest

    def paused(path: str | Path) -> str:
        if threading.current_thread().name == "review":
            checking.set()
            release.wait(10)
        return digest(path)

    monkeypatch.setattr(signoff, "artifact_digest", paused)
    decisions = {
        i.id: ThirdPartyDecision.model_validate(DECISION) for i in third_party_items(bundle)
    }
    checked = verify_artifact(bundle)  # the approval reaches its checks at once
    outcome: dict[str, object] = {}

    def run(name: str, role: str, **extra: Any) -> None:
        reg = Register(tmp_path / "r.db", KEYS)
        try:
            outcome[role] = sign_off(bundle, name, role, register=reg, **extra)
        except SignOffRefusedError as exc:
            outcome[role] = exc
        finally:
            reg.close()

    review = threading.Thread(target=run, args=("Ann Lee", "reviewer"), name="review")
    review.start()
    assert checking.wait(30)
    approval = threading.Thread(
        target=run,
        args=("Bob Roe", "approver"),
        kwargs={"decisions": decisions, "verification": checked},
        name="approval",
    )
    approval.start()
    approval.join(1.5)
    assert approval.is_alive(), "the approval waits for the review that holds the log"
    release.set()
    review.join(30)
    approval.join(30)
    assert not isinstance(outcome["reviewer"], Exception), outcome["reviewer"]
    assert not isinstance(outcome["approver"], Exception), outcome["approver"]
    reg = Register(tmp_path / "r.db", KEYS)
    actions = [e.action for e in reg.audit.entries()]
    assert actions[0] == "artifact.reviewed" and actions[-1] == "artifact.approved"
    assert reg.audit.verify() == []
    reg.close()
    assert not (tmp_path / "r.db.audit.jsonl.lock").exists()


def test_one_persons_bundle_cannot_answer_another_request(bundle: Path, env: Path) -> None:
    """A red team reviewed and approved the first request's bundle `--request` the second,
    someone else's, and marked that one sent: the sign-off never read which request the
    bundle answers. Now the manifest's request must be the one signed for."""
    first = _new_request(env)
    other = _new_request(env)
    assert first != other
    refused = _sign(bundle, env, "Ann Lee", "reviewer", "--request", other)
    assert refused.exit_code == 1
    assert f"the artifact answers {first}, not request {other}" in refused.output
    assert not [e for e in _entries(env) if e["action"].startswith("artifact.")]
    assert _sign(bundle, env, "Ann Lee", "reviewer", "--request", first).exit_code == 0


@pytest.mark.parametrize(
    "spelling",
    [
        "AnnLee",
        "Lee, Ann",
        "Ann Lee.",
        "Ann L\u00e9e",
        "A\u0301nn Lee",
        "\u0410nn Lee",  # a Cyrillic A
        "Ann Le\u0435",  # a Cyrillic e
        "Ann\u200bLee",
        "Ann Lee\u2060",
        "\ufeffAnn Lee",
        "Ann\u00adLee",
        "Ann\u3164Lee",
        "\uff21\uff4e\uff4e \uff2c\uff45\uff45",
    ],
)
def test_the_reviewer_under_another_spelling_is_no_second_pair_of_eyes(
    bundle: Path, env: Path, tmp_path: Path, spelling: str
) -> None:
    """Approvals the red team got recorded as a second person: the reviewer's name without
    its space, in another order, with an accent, a look-alike letter of another script or
    an invisible character."""
    request = _new_request(env)
    assert _sign(bundle, env, "Ann Lee", "reviewer", "--request", request).exit_code == 0
    decisions = _decisions(tmp_path / "d.yml", [i.id for i in third_party_items(bundle)])
    again = _sign(bundle, env, spelling, "approver", "--request", request, "--decisions", decisions)
    assert again.exit_code == 1, again.output
    assert not [e for e in _entries(env) if e["action"] == "artifact.approved"]


def test_a_zip_answering_another_request_is_refused(bundle: Path, env: Path) -> None:
    """The request check reads a zip's manifest as the bundle's folder, unpacked safely."""
    first = _new_request(env)
    other = _new_request(env)
    archive = Path(shutil.make_archive(str(bundle), "zip", bundle.parent, bundle.name))
    refused = _sign(archive, env, "Ann Lee", "reviewer", "--request", other)
    assert refused.exit_code == 1
    assert f"the artifact answers {first}, not request {other}" in refused.output
