"""Four-eyes sign-off: a reviewer, then someone else, approve the same bytes of an artifact.

`sign_off` checks the artifact (the same checks as `dsar verify`, or the result given), and
only when nothing blocks records in the register's keyed audit log who signed, as which role,
when, the artifact's kind and digest (`dsar.records.signoffs.artifact_digest`: its manifest
and every file) and the findings count; with a request, it moves the request to `reviewed`
or `approved`. An approval is refused before a review of the same digest, by the reviewer
themselves (names compared case- and whitespace-insensitively), or when the artifact changed
after its review.

Third parties in an access bundle: each person the redaction replaced with a placeholder
(`<PERSON_1>`, `<EMAIL_ADDRESS_1>`, listed in the manifest's `redacted` counts) is one item,
`third_party_items`. Each needs a recorded decision (disclose, redact, withhold) with the
factors the ICO lists: the third party's consent, a duty of confidence owed to them, and
whether disclosing without consent is reasonable. Decisions come in a YAML file
(`load_decisions`) and are recorded with the sign-off; a bundle with an undecided item is not
approved. The reason is recorded as written: write the grounds, never the people (an email
address or a phone number in it is refused).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dsar.catalog.strict import load_yaml_model
from dsar.errors import (
    ConfigError,
    ConfigProblem,
    RequestStateError,
    SignOffRefusedError,
    UnreadableArtifactError,
    UsageError,
    WorkbenchError,
)
from dsar.lock import file_lock
from dsar.records.audit import os_account
from dsar.records.signoffs import (
    APPROVED,
    REVIEWED,
    THIRD_PARTY_DECIDED,
    SignOffEntry,
    artifact_digest,
    current_since,
    decided_items,
    file_sha256,
    kind_problem,
    links_in,
    name_letters,
    same_signer,
    sign_offs,
    zip_beside,
)
from dsar.review.snapshot import copy_artifact, stated_bytes
from dsar.review.unzip import MAX_UNPACKED_BYTES, unzip_bundle
from dsar.text.detectors import phones

if TYPE_CHECKING:
    from dsar.catalog import Catalog
    from dsar.keys import Keys
    from dsar.records.register import Register
    from dsar.review.bundle import Verification

_PLACEHOLDER = re.compile(r"<([A-Z][A-Z_]*?)_(\d+)>")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class SignOffRole(StrEnum):
    """Who signs: the reviewer first, then an approver who is someone else."""

    REVIEWER = "reviewer"
    APPROVER = "approver"


class DisclosureDecision(StrEnum):
    """What happens to a third party's details in the bundle."""

    DISCLOSE = "disclose"  # give them to the person (consent, or reasonable without it)
    REDACT = "redact"  # keep the placeholder the redaction wrote
    WITHHOLD = "withhold"  # leave the record that names them out of what is sent


class ThirdPartyConsent(StrEnum):
    """The third party's consent to the disclosure."""

    GIVEN = "given"
    REFUSED = "refused"
    NOT_ASKED = "not_asked"
    CANNOT_BE_ASKED = "cannot_be_asked"


class ThirdPartyDecision(BaseModel):
    """One third-party item's decision with the ICO's factors (UK DPA 2018 Sch. 2 para 16)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: DisclosureDecision = Field(description="disclose, redact or withhold")
    consent: ThirdPartyConsent = Field(
        description="the third party's consent: given, refused, not_asked or cannot_be_asked"
    )
    duty_of_confidence: bool = Field(
        description="whether a duty of confidence is owed to the third party"
    )
    reasonable_without_consent: bool = Field(
        description="whether disclosing without their consent is reasonable in all the"
        " circumstances"
    )
    reason: str = Field(
        min_length=3, description="the grounds, in words (never the third party's details)"
    )

    @model_validator(mode="after")
    def _factors_agree(self) -> ThirdPartyDecision:
        """A decision its own factors contradict is refused, with the rule (the ICO's: disclose
        with the third party's consent, or where disclosing without it is reasonable in all the
        circumstances, which a duty of confidence owed to them without their consent is not)."""
        if len(self.reason.strip()) < 3:
            raise ValueError("the reason is blank: write the grounds in words")
        if (
            self.decision is DisclosureDecision.DISCLOSE
            and self.consent is not ThirdPartyConsent.GIVEN
        ):
            if not self.reasonable_without_consent:
                raise ValueError(
                    f"disclose without consent (consent: {self.consent.value}) needs"
                    " reasonable_without_consent: true; else redact or withhold"
                )
            if self.duty_of_confidence:
                raise ValueError(
                    f"disclose without consent (consent: {self.consent.value}) where a duty of"
                    " confidence is owed is not reasonable; redact or withhold, or ask for"
                    " consent"
                )
        return self


class DecisionsFile(BaseModel):
    """A decisions file: `items:` mapping each item id (PERSON_1, ...) to its decision."""

    model_config = ConfigDict(extra="forbid")

    items: dict[str, ThirdPartyDecision] = Field(
        description="each third-party item id (as `dsar verify` lists them) and its decision"
    )


def load_decisions(path: str | Path) -> dict[str, ThirdPartyDecision]:
    """Read a decisions file (YAML), e.g.::

        items:
          PERSON_1:
            decision: redact
            consent: not_asked
            duty_of_confidence: true
            reasonable_without_consent: false
            reason: a colleague named in passing; the ticket is about the person's login

    Raises:
        ConfigError: every problem in the file, each with its line.
    """
    try:
        return dict(load_yaml_model(path, DecisionsFile, what="third-party decisions").items)
    except ConfigError as exc:  # never the values typed: an item id or a value can be an address
        raise ConfigError(exc.source, [_unquoted(p) for p in exc.problems], exc.what) from None


def _unquoted(problem: ConfigProblem) -> ConfigProblem:
    """A decisions file's problem without what was typed in it: the item id in its place
    (`items.<an item>.decision (line 3)`), a quoted value or key in its message or fix
    (`(not shown)`) unless it is a field name or a choice the file may hold."""
    known = set(ThirdPartyDecision.model_fields) | {"items"}
    known |= {m.value for m in (*DisclosureDecision, *ThirdPartyConsent)}
    where, line, rest = problem.location.partition(" (line ")
    if where.startswith("items."):
        field = where.rpartition(".")[2]
        where = f"items.<an item>.{field}" if field in known else "items.<an item>"
    location = f"{where}{line}{rest}"

    def hide(text: str) -> str:
        return re.sub(r"'([^']*)'", lambda m: m[0] if m[1] in known else "(not shown)", text)

    return ConfigProblem(location, hide(problem.message), hide(problem.fix))


@dataclass(frozen=True)
class ThirdPartyItem:
    """Someone other than the person, named in their records and replaced by a placeholder.

    `id` is the placeholder's name (PERSON_1); `places` where it stands ("support_tickets.body
    row 1"); `decision` the latest recorded for this artifact's digest, if any."""

    id: str
    entity: str
    places: tuple[str, ...]
    decision: str | None = None


@dataclass(frozen=True)
class SignOff:
    """A recorded sign-off."""

    artifact: Path
    kind: str
    sha256: str
    role: SignOffRole
    name: str
    at: str
    findings: int
    notices: int
    entry: int  # the audit entry's number
    request: str | None
    status: str | None  # the request's status after the sign-off
    third_party: tuple[ThirdPartyItem, ...]  # with their decisions, a bundle's only

    @property
    def undecided(self) -> list[str]:
        """The third-party items with no recorded decision."""
        return [i.id for i in self.third_party if i.decision is None]

    def __str__(self) -> str:
        request = f", request {self.request} now {self.status}" if self.request else ""
        return (
            f"{self.role.value} sign-off recorded (audit entry {self.entry}): {self.kind}"
            f" sha256 {self.sha256[:16]}..., {self.findings} finding(s){request}"
        )


def artifact_kind(path: str | Path) -> str:
    """The kind the artifact's manifest declares (a zip is an access bundle; a folder of
    audience manifests an audience; a folder of certificates' JSON files "certificates")."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return "access_bundle"
    manifest = path if path.is_file() else path / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if isinstance(data, dict) and data.get("kind"):
        return str(data["kind"])
    if path.is_dir() and any(path.glob("*.manifest.json")):
        return "audience"
    if path.is_dir() and _certificates(path):
        return "certificates"
    return "unknown"


def answered_requests(path: str | Path, passphrase: str | None = None) -> set[str]:
    """The requests the artifact's manifests say it answers: a bundle's `request.label` (in
    its folder or its zip, unpacked as `third_party_items` unpacks it, within the same size
    limit), a certificate's `request` (each of a folder's); empty for artifacts that answer
    none (extracts, aggregates, audiences)."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="signoff-") as tmp:
            try:
                folder = unzip_bundle(path, Path(tmp), passphrase, MAX_UNPACKED_BYTES)
            except UnreadableArtifactError:
                return set()  # unreadable or too large: verify has said so
            return answered_requests(folder)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path] if path.is_file() else []
    certificate = _is_certificate(path)
    found: set[str] = set()
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8", errors="replace"))
        except ValueError:
            continue
        request = data.get("request") if isinstance(data, dict) else None
        if isinstance(request, dict) and isinstance(request.get("label"), str):
            found.add(request["label"])
        elif isinstance(request, str) and (certificate or data.get("kind")):
            found.add(request)
    return found


def _is_certificate(path: Path, kind: str | None = None) -> bool:
    """True for what `verify_artifact` checks as a certificate or a folder of them."""
    kind = artifact_kind(path) if kind is None else kind
    if kind in ("audience", "extract", "aggregate", "published"):
        return False
    return (path.is_file() and path.suffix == ".json") or kind == "certificates"


def _certificates(folder: Path) -> bool:
    from dsar.review.certificate import certificates_in

    return not (folder / "manifest.json").exists() and bool(certificates_in(folder))


def verify_artifact(
    path: str | Path,
    passphrase: str | None = None,
    *,
    keys: Keys | None = None,
    catalog: Catalog | None = None,
    export: str | Path | None = None,
) -> Verification:
    """The checks `dsar verify` runs on this artifact, chosen by its kind (without the
    options only the command line gives: a sent record, a ledger, a source).

    With `keys`, the MACs of a bundle, a certificate, an extract or aggregate run, an
    audience and a published folder are checked (a MAC that fails is a finding); with
    `catalog` (or `export`), the files a certificate put in place are compared with the
    export's, and with both the erased person's keyed reference is looked for in them."""
    from dsar.review.bundle import verify_bundle

    path = Path(path)
    kind = artifact_kind(path)
    if kind == "audience":
        from dsar.review.audience import verify_audience

        return verify_audience(path, keys=keys)
    if kind in ("extract", "aggregate"):
        from dsar.review.derived import verify_derived

        return verify_derived(path, keys=keys)
    if kind == "published":
        from dsar.review.published import verify_published

        return verify_published(path, keys=keys)
    if _is_certificate(path, kind):
        from dsar.review.certificate import verify_certificate

        return verify_certificate(path, export, keys=keys, catalog=catalog)
    return verify_bundle(path, passphrase, keys=keys)


def third_party_items(artifact: str | Path, passphrase: str | None = None) -> list[ThirdPartyItem]:
    """Each third party an access bundle (folder or zip) names, by placeholder, with where
    it stands; [] for any other artifact."""
    path = Path(artifact)
    if path.is_file() and zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="signoff-") as tmp:
            folder = unzip_bundle(path, Path(tmp), passphrase, MAX_UNPACKED_BYTES)
            return _items_in(folder)
    return _items_in(path) if path.is_dir() else []


def _items_in(folder: Path) -> list[ThirdPartyItem]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(manifest, dict) or manifest.get("kind") != "access_bundle":
        return []
    redacted = manifest.get("redacted") or {}
    entities = {e for kinds in redacted.values() if isinstance(kinds, dict) for e in kinds}
    columns = {str(c) for c in redacted}
    places: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for table_column in sorted(columns):
        table, _, column = table_column.partition(".")
        file = folder / "data" / f"{table}.parquet"
        if not file.is_file():
            continue
        try:
            data = pq.read_table(file, columns=[column]).column(0)
        except (pa.ArrowException, OSError, KeyError):
            continue
        for row, value in enumerate(data.to_pylist(), start=1):
            for match in _PLACEHOLDER.finditer(value if isinstance(value, str) else ""):
                if match.group(1) not in entities:
                    continue
                item = f"{match.group(1)}_{match.group(2)}"
                kinds[item] = match.group(1)
                where = f"{table_column} row {row}"
                if where not in places.setdefault(item, []):
                    places[item].append(where)
    return [
        ThirdPartyItem(item, kinds[item], tuple(places[item]))
        for item in sorted(places, key=lambda i: (kinds[i], int(i.rsplit("_", 1)[1])))
    ]


def sign_off(
    artifact: str | Path,
    name: str,
    role: SignOffRole | str,
    *,
    register: Register,
    request: str | None = None,
    decisions: Mapping[str, ThirdPartyDecision] | None = None,
    verification: Verification | None = None,
    passphrase: str | None = None,
    catalog: Catalog | None = None,
    export: str | Path | None = None,
    shared_account: bool = False,
) -> SignOff:
    """Verify `artifact` and record `name`'s sign-off as `role` in `register`'s audit log.

    Args:
        artifact: a bundle folder or zip, an extract, aggregate, audience or published
            folder, a certificate's JSON.
        name: who signs (recorded as written; compared case- and whitespace-insensitively).
        role: `reviewer`, or `approver` (someone other than a reviewer of the same digest).
        register: the request register; its audit log receives the entries.
        request: the request the artifact answers: moved to `reviewed` or `approved`.
        decisions: third-party decisions to record (see `load_decisions`).
        verification: the result of checking the artifact already (`dsar verify` passes
            its own, run with every option it was given, the key included); else
            `verify_artifact` runs, with the register's key and `catalog` / `export`. A
            certificate's MAC is checked under the register's key either way.
        passphrase: an encrypted zip's passphrase.
        catalog: for a certificate, the export's catalog (see `verify_certificate`).
        export: for a certificate, without `catalog`, the export's folder.
        shared_account: two people share the operating-system account this runs under (the
            entry records the account, `os_account`; without this, an approval from the
            reviewer's account is refused).

    The checks of the log (who reviewed which digest) and the entries they allow are made
    under one lock, `<audit log>.lock` (`dsar.lock.file_lock`): a sign-off of the same log
    in another process or thread waits, and its checks then see this one's entries.

    Raises:
        SignOffRefusedError: nothing was recorded: findings, no review of these bytes, the
            approver is the reviewer, an undecided third-party item, or the audit log does
            not verify.
    """
    path = Path(artifact)
    role = SignOffRole(role)
    if _EMAIL.search(name) or any(phones(name)):
        raise UsageError(
            "--sign-off",
            "the signer's name holds an email address or a phone number (not shown): the"
            " audit log keeps the name in clear",
            "give your name as colleagues know it",
        )
    name = " ".join(name.split())
    if name_letters(name) < 2:
        raise UsageError(
            "--sign-off",
            "a sign-off needs the signer's name: this one holds fewer than two letters once"
            " punctuation and invisible characters are left out",
            "give your name as colleagues know it",
        )
    audit = register.audit
    if _is_certificate(path) and catalog is None:
        raise SignOffRefusedError(
            path,
            "a certificate is signed off against the export it changed, and no catalog was"
            " given (an erasure undone since would pass unseen)",
            "give the export's catalog with --catalog: every file the job put in place must"
            " be there unchanged, and the erased person in none of them",
        )
    _refuse_links(path)
    with tempfile.TemporaryDirectory(prefix="signoff-") as tmp:
        copy = _snapshot(path, Path(tmp) / "artifact")
        try:
            checked = verify_artifact(
                copy, passphrase, keys=audit.keys, catalog=catalog, export=export
            )
        except WorkbenchError:
            raise
        except Exception as exc:  # never its message: a reader's quotes what it read
            raise SignOffRefusedError(
                path,
                f"it cannot be checked: a file in it is damaged ({type(exc).__name__})",
                "make the artifact again and verify it before signing",
            ) from None
        for result in (verification, checked):
            if result is not None and not result.ok:
                raise SignOffRefusedError(
                    path,
                    f"the checks found {len(result.findings)} finding(s)",
                    "fix them, make the artifact again and verify it before signing",
                )
        if checked.unauthenticated:  # an unsealed audience, an old certificate accepted
            raise SignOffRefusedError(
                path,
                "it is not authenticated: a manifest carries no MAC the key could check",
                "make the artifact again with the key; only an artifact whose MAC verified is"
                " signed off",
            )
        zipped = _check_zip(path, copy, Path(tmp) / "unzipped", passphrase)
        with file_lock(audit.path.with_name(audit.path.name + ".lock"), holder="a sign-off"):
            return _record(
                path,
                copy,
                zipped,
                name,
                role,
                register,
                request,
                decisions,
                checked,
                passphrase,
                shared_account=shared_account,
                catalog=catalog,
            )


def _refuse_links(path: Path) -> None:
    links = links_in(path)
    if links:
        raise SignOffRefusedError(
            path,
            f"it is or holds a symbolic link ({links[0]}): a sign-off would approve a link's"
            " target of the moment, and what leaves could be another",
            "sign off the real folder or file (the links replaced by the files)",
        )


def _snapshot(path: Path, into: Path) -> Path:
    """A private copy of the artifact, made once: it is what is checked, digested and
    recorded, so a folder swapped while the checks run cannot be approved in their stead.
    A certificate's or an audience manifest's files named beside it are copied with it."""
    into.mkdir(mode=0o700)
    copy = into / path.name
    cap = stated_bytes(path)  # a device, FIFO or socket is refused unread; no byte past this
    try:
        if path.is_dir():
            copy_artifact(path, copy, cap)
        elif path.is_file():
            copy_artifact(path, copy, cap)
            for name in _named_beside(path):
                source = path.parent / name
                if source.is_file() and not source.is_symlink():
                    (copy.parent / name).parent.mkdir(parents=True, exist_ok=True)
                    copy_artifact(source, copy.parent / name, cap)
        else:
            raise UnreadableArtifactError(path, "no such file or folder", "give the artifact")
    except OSError as exc:
        raise SignOffRefusedError(
            path,
            f"it could not be read whole ({type(exc).__name__}): it changed while being copied",
            "sign off again once nothing is changing it",
        ) from None
    _refuse_links(copy)
    return copy


def _named_beside(path: Path) -> list[str]:
    """The relative paths a JSON manifest's `outputs` name (a certificate's Markdown twin)."""
    if path.suffix != ".json":
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    outputs = data.get("outputs") if isinstance(data, dict) else None
    names = []
    for output in outputs if isinstance(outputs, list) else []:
        name = output.get("path") if isinstance(output, dict) else None
        if (
            isinstance(name, str)
            and name
            and not name.startswith("/")
            and ".." not in name.split("/")
        ):
            names.append(name)
    return names


def _check_zip(
    path: Path, copy: Path, into: Path, passphrase: str | None
) -> tuple[Path, str] | None:
    """A folder's zip beside it (`<folder>.zip`, what `dsar access` makes and what is mailed):
    it must unpack to the very files approved; returns the zip and its SHA-256, recorded so
    that `sent` checks the file that leaves. None when there is no zip beside."""
    beside = zip_beside(path)
    if not copy.is_dir() or not (beside.exists() or beside.is_symlink()):
        return None
    if beside.is_symlink() or not beside.is_file():
        raise SignOffRefusedError(
            path,
            f"the zip beside it, {beside.name}, is a symbolic link or not a file",
            "remove it, or put the zip `dsar access` made there",
        )
    zipped = into.parent / beside.name
    shutil.copyfile(beside, zipped, follow_symlinks=False)
    into.mkdir(mode=0o700)
    try:
        folder = unzip_bundle(zipped, into, passphrase, MAX_UNPACKED_BYTES)
    except (UnreadableArtifactError, zipfile.BadZipFile, OSError) as exc:
        problem = exc.problem if isinstance(exc, UnreadableArtifactError) else "not a zip"
        raise SignOffRefusedError(
            path,
            f"the zip beside it, {beside.name}, which is what leaves, cannot be checked"
            f" against it: {problem}",
            "give its passphrase (--passphrase-env) if it is encrypted, or remove a zip that"
            " is not this bundle's",
        ) from None
    if artifact_digest(folder) != artifact_digest(copy):
        raise SignOffRefusedError(
            path,
            f"the zip beside it, {beside.name}, which is what leaves, does not hold the files"
            " of this folder",
            "make the bundle again (`dsar access`), or sign off the zip itself",
        )
    return beside, file_sha256(zipped)


def _record(
    path: Path,
    copy: Path,
    zipped: tuple[Path, str] | None,
    name: str,
    role: SignOffRole,
    register: Register,
    request: str | None,
    decisions: Mapping[str, ThirdPartyDecision] | None,
    verification: Verification,
    passphrase: str | None,
    *,
    shared_account: bool = False,
    catalog: Catalog | None = None,
) -> SignOff:
    """`sign_off`'s checks of the log and its entries, under the log's sign-off lock."""
    audit = register.audit
    problems = audit.verify() if audit.path.is_file() else []
    if problems:
        raise SignOffRefusedError(
            path,
            f"the audit log does not verify ({problems[0]})",
            "run `dsar audit verify` and restore the log before signing",
        )
    from dsar.records.register import Status, check_transition

    record = register.get(request) if request else None
    target = Status.REVIEWED if role is SignOffRole.REVIEWER else Status.APPROVED
    if record is not None:
        try:
            check_transition(record.id, record.status, target)
        except RequestStateError as exc:
            raise SignOffRefusedError(
                path, f"request {record.id} {exc.problem}", "sign off an open request's artifact"
            ) from None
    kind = artifact_kind(copy)
    answers = answered_requests(copy, passphrase)
    if record is not None and answers and record.id not in answers:
        raise SignOffRefusedError(  # one person's bundle signed off as another's answer
            path,
            f"the artifact answers {', '.join(sorted(answers))}, not request {record.id}",
            f"sign off the artifact made for {record.id}, or give --request for the one it answers",
        )
    if record is not None:
        if problem := kind_problem(record.type.value, kind):
            raise SignOffRefusedError(
                path,
                f"request {record.id}: {problem}",
                "sign off, for this request, the artifact that answers it (an access request:"
                " its bundle; an erasure or a correction: its certificate)",
            )
        if kind == "access_bundle":
            _check_same_person(path, copy, passphrase, register, record)
    digest = artifact_digest(copy)  # the bytes checked, copied once
    if links_in(path) or artifact_digest(path) != digest:
        raise SignOffRefusedError(
            path,
            "it changed while it was being checked (the bytes there now are not the ones checked)",
            "sign off again once nothing is changing it",
        )
    items = third_party_items(copy, passphrase)
    decisions = dict(decisions or {})
    _check_decisions(path, decisions, {i.id for i in items})
    account = os_account()
    if role is SignOffRole.APPROVER:
        since = current_since(audit, record.id) if record is not None else 0
        _check_approval(
            path,
            SignOffEntry(
                0,
                "",
                "approver",
                name,
                kind,
                digest,
                "",
                0,
                request,
                "",
                "",
                "",
                account,
                shared_account,
            ),
            since,
            audit_entries=sign_offs(audit),
        )
        decided = decided_items(audit, digest)
        undecided = [i.id for i in items if i.id not in decided and i.id not in decisions]
        if undecided:
            raise SignOffRefusedError(
                path,
                f"{len(undecided)} third-party item(s) have no decision: {', '.join(undecided)}",
                "record one for each (disclose, redact or withhold, with consent, duty of"
                " confidence and reasonableness) with --decisions FILE",
            )
    for item, choice in sorted(decisions.items()):
        audit.append(
            THIRD_PARTY_DECIDED,
            request=request,
            subject=record.subject_ref if record else None,
            details={
                "sha256": digest,
                "kind": kind,
                "item": item,
                "name": name,
                **choice.model_dump(mode="json"),
            },
        )
    entry = audit.append(
        REVIEWED if role is SignOffRole.REVIEWER else APPROVED,
        request=request,
        subject=record.subject_ref if record else None,
        details={
            "name": name,
            "role": role.value,
            "kind": kind,
            "sha256": digest,
            "artifact": str(path.resolve()),
            "given": os.path.abspath(path),  # noqa: PTH100 - as given: links not followed
            **({"zip": str(zipped[0].resolve()), "zip_sha256": zipped[1]} if zipped else {}),
            "findings": len(verification.findings),
            "notices": len(verification.notices),
            "os_account": account,
            **({"shared_account": True} if shared_account else {}),
            **(
                {"catalog": str(catalog.source.resolve())}
                if catalog is not None and catalog.source is not None
                else {}
            ),
        },
    )
    status = None
    if record is not None:
        status = register.update(record.id, status=target, signed_off=True).status.value
    decided = decided_items(audit, digest)
    return SignOff(
        artifact=path,
        kind=kind,
        sha256=digest,
        role=role,
        name=name,
        at=entry.at,
        findings=len(verification.findings),
        notices=len(verification.notices),
        entry=entry.seq,
        request=request,
        status=status,
        third_party=tuple(
            ThirdPartyItem(i.id, i.entity, i.places, decided.get(i.id)) for i in items
        ),
    )


def _check_decisions(
    path: Path, decisions: Mapping[str, ThirdPartyDecision], items: set[str]
) -> None:
    unknown = [n for n, item in enumerate(decisions, start=1) if item not in items]
    if unknown:  # by position in the file, never as typed (an id can be an address)
        known = ", ".join(sorted(items)) or "none"
        raise SignOffRefusedError(
            path,
            f"the decisions name {len(unknown)} item(s) the artifact does not hold (item"
            f" {', '.join(map(str, unknown))} of {len(decisions)} in the file; not shown)",
            f"use the item ids `dsar verify` lists (this artifact: {known})",
        )
    for item, choice in decisions.items():
        if _EMAIL.search(choice.reason) or any(phones(choice.reason)):
            raise SignOffRefusedError(
                path,
                f"the reason for {item} holds an email address or a phone number",
                "write the grounds, not the people's details: the audit log keeps the reason",
            )


def _manifest_of(copy: Path, passphrase: str | None) -> dict[str, object]:
    """A bundle's manifest (its folder's, or its zip's unpacked); {} when unreadable."""
    if copy.is_file() and zipfile.is_zipfile(copy):
        with tempfile.TemporaryDirectory(prefix="signoff-") as tmp:
            try:
                folder = unzip_bundle(copy, Path(tmp), passphrase, MAX_UNPACKED_BYTES)
            except UnreadableArtifactError:
                return {}
            return _manifest_of(folder, None)
    try:
        data = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _refs(keys: Keys, texts: list[str]) -> set[str]:
    """Keyed references of identifiers written `kind=value`, each as written and as read
    again (`parse_key`); one that cannot be read gives none."""
    from dsar.records.audit import subject_ref
    from dsar.subjects.identity import parse_key

    refs: set[str] = set()
    for text in texts:
        try:
            key = parse_key(text)
        except WorkbenchError:
            continue
        refs.add(subject_ref(keys, key))
    return refs


def _check_same_person(
    path: Path, copy: Path, passphrase: str | None, register: Register, record: object
) -> None:
    """A bundle answers a registered request only when it was made for the person the
    register holds: the identifiers its request was answered with are the register's (as
    `dsar access --request` gives them), compared by keyed reference, never printed."""
    from dsar.records.register import RequestRecord

    assert isinstance(record, RequestRecord)
    manifest = _manifest_of(copy, passphrase)
    request = manifest.get("request")
    given = request.get("identifiers_given") if isinstance(request, dict) else None
    texts = [str(t) for t in given] if isinstance(given, list) else []
    from dsar.records.audit import subject_ref

    registered = {subject_ref(register.keys, k) for k in record.identifiers}
    made_for = _refs(register.keys, texts)
    if not made_for or made_for != registered:
        raise SignOffRefusedError(
            path,
            f"it was not made for the person request {record.id} registers: the identifiers"
            f" it was answered with ({len(texts)}) are not the register's"
            f" ({len(record.identifiers)}), compared by keyed reference",
            f"answer the request with `dsar access --request {record.id} --register ...`"
            " (which takes the person from the register), then sign off that bundle",
        )


def _check_approval(
    path: Path, approval: SignOffEntry, since: int, *, audit_entries: list[SignOffEntry]
) -> None:
    """An approval needs a review of the same digest for the same request (none: a review
    with no request), made since the request was last reopened or a bundle last written for
    it, by someone else (`same_signer`: another name, another OS account)."""
    digest, request = approval.sha256, approval.request
    reviews = [
        s for s in audit_entries if s.role == "reviewer" and s.request == request and s.seq > since
    ]
    same = [s for s in reviews if s.sha256 == digest]
    if not same:
        where = str(path.resolve())
        earlier = [s for s in reviews if s.artifact == where or (request and s.request == request)]
        if earlier:
            raise SignOffRefusedError(
                path,
                "its bytes changed after the review (its SHA-256 is not the one reviewed:"
                f" {earlier[-1].sha256[:16]}... reviewed, {digest[:16]}... now)",
                "review this version first (`--role reviewer`), then approve it",
            )
        raise SignOffRefusedError(
            path,
            "it has not been reviewed"
            + (
                f" for request {request} since it was last reopened or answered (a review"
                " without --request, or before then, does not count)"
                if request
                else " without a request"
            )
            + ": approving before a review is refused",
            "have a reviewer sign it off first with `--sign-off NAME --role reviewer`"
            + (f" --request {request}" if request else ""),
        )
    rules = [same_signer(s, approval) for s in same]
    if all(rules):
        raise SignOffRefusedError(
            path,
            f"the approver may be the one who reviewed it: {rules[-1]}; four eyes need two people",
            "ask someone other than the reviewer to approve it",
        )
