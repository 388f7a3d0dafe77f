"""Four-eyes sign-off as the audit log records it: who reviewed and who approved which bytes.

A sign-off (`dsar verify ARTIFACT --sign-off NAME --role reviewer|approver`, or
`dsar.review.sign_off`) is one keyed entry in the register's audit log, naming the artifact
by its digest (`artifact_digest`: its manifest and every file). A third-party decision on a
bundle is one entry too. This module reads those entries back: `signed_off` for one digest,
and `check_ready_to_send`, the check `Register.update(status=SENT)` makes, which trusts only
entries of a log whose chain verifies and recomputes the digest of the artifact on disk.
Entries hold names of staff, kinds, digests, counts and the artifact's path, never the
person's data.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dsar.errors import RequestStateError
from dsar.records.audit import AuditEntry, AuditLog

if TYPE_CHECKING:
    from dsar.catalog.models import Catalog
    from dsar.keys import Keys

REVIEWED = "artifact.reviewed"
APPROVED = "artifact.approved"
THIRD_PARTY_DECIDED = "third_party.decided"


def artifact_digest(path: str | Path) -> str:
    """SHA-256 over an artifact's manifest and files, in hex.

    A folder (a bundle, an extract, an aggregate run, an audience): every file under it,
    manifest included, each as its path relative to the folder and its own SHA-256, in path
    order; so a changed byte, an added, removed or renamed file changes the digest. A file
    (a bundle's zip, a certificate's JSON, one audience manifest): its bytes, whose manifest
    holds the checksums of the files it names (`dsar verify` checks them).
    """
    path = Path(path)
    outer = hashlib.sha256()
    if path.is_dir():
        outer.update(b"folder\n")
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = file.relative_to(path).as_posix()
            outer.update(f"{rel}\0{_file_sha256(file)}\n".encode())
    else:
        outer.update(f"file\n{_file_sha256(path)}\n".encode())
    return outer.hexdigest()


def links_in(path: str | Path) -> list[str]:
    """The symbolic links an artifact is or holds, by position ("the artifact itself", or its
    path relative to the folder): a sign-off and `sent` refuse any, so the bytes approved are
    the ones under the path that leaves, not a link's target of the moment."""
    path = Path(path)
    if path.is_symlink():
        return ["the artifact itself"]
    if not path.is_dir():
        return []
    found = []
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            entry = Path(folder) / name
            if entry.is_symlink():
                found.append(entry.relative_to(path).as_posix())
    return sorted(found)


def zip_beside(path: str | Path) -> Path:
    """Where `dsar access` writes a bundle folder's zip, the file that leaves: `<folder>.zip`."""
    path = Path(path)
    return path.with_name(path.name + ".zip")


def file_sha256(path: Path) -> str:
    """A file's SHA-256 in hex."""
    return _file_sha256(path)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def same_person(a: str, b: str) -> bool:
    """Whether two sign-off names may be the same person's (`same_person_rule` finds a rule
    that folds one onto the other). When in doubt, the same person."""
    return same_person_rule(a, b) is not None


# letters of other scripts drawn like Latin ones (Unicode's confusables, the common ones)
_LOOK_ALIKES = str.maketrans(
    "аеорсухіјѕԁԛԝһӏаъвмнктαβεικνορτυχζ",
    "aeopcyxijsdqwhlabbmhktabeiknoptuxz",
)
# words that say nothing of who signs: titles before a name, suffixes after it
_TITLES = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "prof",
        "professor",
        "sir",
        "dame",
        "lord",
        "lady",
        "rev",
        "fr",
        "herr",
        "frau",
        "mme",
        "mlle",
    ]
)
_SUFFIXES = frozenset(
    ["jr", "jnr", "sr", "snr", "ii", "iii", "iv", "phd", "md", "esq", "msc", "bsc", "cpa", "cipp"]
)
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")


def _folded(name: str) -> str:
    """NFKD without marks (accents), case-folded, characters that draw nothing (format,
    control, fillers) dropped, look-alike letters as Latin."""
    text = unicodedata.normalize("NFKD", name).casefold()
    kept = "".join(
        ch
        for ch in text
        if unicodedata.category(ch)[0] not in "MC" and ch not in "\u3164\u115f\u1160\uffa0"
    )
    return kept.translate(_LOOK_ALIKES)


def name_letters(name: str) -> int:
    """How many letters a sign-off name holds once punctuation and invisible characters are
    left out: a name needs two at least ("." or a zero-width space names nobody)."""
    return sum(1 for ch in _folded(name) if ch.isalpha())


def name_words(name: str) -> list[str]:
    """The words that name someone: an email's local part for an address, parenthesised
    parts, titles (Dr., Ms.), suffixes (Jr, II) and numbers left out; words split at any
    punctuation ("ann.lee" is ann lee)."""
    text = _folded(name)
    if "@" in text:
        text = text.rsplit("@", 1)[0]
    for _ in range(3):  # nested brackets
        text = _BRACKETS.sub(" ", text)
    words = "".join(ch if ch.isalnum() else " " for ch in text).split()
    kept = [w for w in words if w not in _TITLES and w not in _SUFFIXES and not w.isdigit()]
    return [w for w in kept if not any(c.isdigit() for c in w)] or kept


def _matches_in_order(short: list[str], long: list[str]) -> bool:
    """Each word of `short` matches a word of `long`, in order: the same word, or an
    initial of it ("a" ~ "ann")."""
    at = 0
    for word in short:
        while at < len(long) and not (
            word == long[at]
            or (len(word) == 1 and long[at].startswith(word))
            or (len(long[at]) == 1 and word.startswith(long[at]))
        ):
            at += 1
        if at == len(long):
            return False
        at += 1
    return True


def _compact_forms(words: list[str]) -> set[str]:
    """How a name is written as one word (an email's local part): annlee, leeann, alee,
    annl."""
    from itertools import permutations

    forms: set[str] = set()
    for order in permutations(words[:4]):
        forms.add("".join(order))
        if len(order) > 1:
            forms.add(order[0][0] + "".join(order[1:]))
            forms.add("".join(order[:-1]) + order[-1][0])
    return forms


def same_person_rule(a: str, b: str) -> str | None:
    """The rule under which names `a` and `b` are taken as one person's, or None.

    Compared as a reader of the log would take them: case, spaces, punctuation, accents,
    invisible characters and look-alike letters of other scripts left out; titles, suffixes,
    numbers and parenthesised parts folded ("Dr. Ann Lee (approver) Jr" is Ann Lee); word
    order free; an initial matches its full word and a middle name may be left out ("A. Lee",
    "Ann L.", "Ann B. Lee" are Ann Lee); an email's local part is compared with the name
    ("annlee@...", "alee@..."). A red team approved its own review under each of these."""
    wa, wb = name_words(a), name_words(b)
    if not wa or not wb:
        return "a name with no words is anyone's"
    if sorted(wa) == sorted(wb):
        return "the same words (case, punctuation, accents, titles, suffixes left out)"
    short, long = sorted((wa, wb), key=len)
    for order in (short, short[::-1]):
        if _matches_in_order(order, long) or _matches_in_order(order, long[::-1]):
            return "the same name with initials or a middle name left out"
    for one, other in ((wa, wb), (wb, wa)):
        if len(one) == 1 and one[0] in _compact_forms(other):
            return "an email's local part or a name written as one word"
    return None


def normalise_name(name: str) -> str:
    """A sign-off name as compared: its words (`name_words`) sorted and joined."""
    return "".join(sorted(name_words(name))) or _folded(name).strip()


@dataclass(frozen=True)
class SignOffEntry:
    """A review or approval read back from the audit log."""

    seq: int
    at: str
    role: str  # "reviewer" or "approver"
    name: str
    kind: str
    sha256: str
    artifact: str
    findings: int
    request: str | None
    given: str = ""  # the path as signed (absolute, links not followed); "" in older entries
    zip: str = ""  # a bundle folder's zip beside it, the file that leaves, when there was one
    zip_sha256: str = ""
    os_account: str = ""  # the real uid's account name at the sign-off; "" in older entries
    shared_account: bool = False  # the signer stated that two people share the OS account
    catalog: str = ""  # a certificate's: the catalog it was checked against

    @classmethod
    def of(cls, entry: AuditEntry) -> SignOffEntry:
        d = entry.details
        return cls(
            seq=entry.seq,
            at=entry.at,
            role="reviewer" if entry.action == REVIEWED else "approver",
            name=str(d.get("name", "")),
            kind=str(d.get("kind", "")),
            sha256=str(d.get("sha256", "")),
            artifact=str(d.get("artifact", "")),
            findings=int(d.get("findings", 0)),
            request=entry.request,
            given=str(d.get("given", "")),
            zip=str(d.get("zip", "")),
            zip_sha256=str(d.get("zip_sha256", "")),
            os_account=str(d.get("os_account", "")),
            shared_account=d.get("shared_account") is True,
            catalog=str(d.get("catalog", "")),
        )


def sign_offs(audit: AuditLog) -> list[SignOffEntry]:
    """Every review and approval in the log, in order (no checks of the chain: callers that
    rely on them check it first, see `check_ready_to_send`)."""
    return [SignOffEntry.of(e) for e in audit.entries() if e.action in (REVIEWED, APPROVED)]


# the artifact kind that answers each request type; a type absent has no artifact to sign off
ANSWERED_BY = {
    "access": frozenset({"access_bundle"}),
    "portability": frozenset({"access_bundle"}),
    "erasure": frozenset({"erasure_certificate"}),
    "correction": frozenset({"correction_certificate"}),
}
_REOPENED = frozenset({"open", "in_progress"})


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def kind_problem(request_type: str, kind: str) -> str | None:
    """Why an artifact of `kind` cannot answer a request of `request_type` (None when it
    can): an access request is answered by a bundle, an erasure or a correction by its
    certificate."""
    wanted = ANSWERED_BY.get(request_type)
    if wanted is None:
        return (
            f"{_a(request_type)} request is answered by a change recorded in the register, not"
            f" by an artifact sent to the person (this one is {kind})"
        )
    if kind not in wanted:
        return (
            f"{_a(request_type)} request is answered by {' or '.join(sorted(wanted))}, and this"
            f" artifact is {kind}"
        )
    return None


def current_since(audit: AuditLog, request_id: str) -> int:
    """The audit entry after which a request's sign-offs count: the latest reopening (a move
    to open or in_progress) or bundle written for it. A review or approval before it was of
    another round of work (an approval before a second bundle, a review before a withdrawal)
    and counts for nothing."""
    since = 0
    for entry in audit.entries():
        if entry.request != request_id:
            continue
        if (
            entry.action == "request.updated" and entry.details.get("status") in _REOPENED
        ) or entry.action == "access.bundle_written":
            since = entry.seq
    return since


def applied_change(audit: AuditLog, request_id: str, job: str) -> bool:
    """Whether the log records `job` (erasure, correction) applied for this request."""
    return any(e.action == f"{job}.applied" and e.request == request_id for e in audit.entries())


def same_signer(review: SignOffEntry, approval: SignOffEntry) -> str | None:
    """Why a review and an approval may be one person's (the rule), or None: the names
    (`same_person_rule`), or the same operating-system account unless the approver stated
    that two people share it."""
    rule = same_person_rule(review.name, approval.name)
    if rule is not None:
        return f"the names are one person's ({rule})"
    if (
        review.os_account
        and review.os_account == approval.os_account
        and not approval.shared_account
    ):
        return (
            f"both were signed from the operating-system account {review.os_account}"
            " (two people sharing an account say so with --shared-account)"
        )
    return None


def decided_items(audit: AuditLog, sha256: str) -> dict[str, str]:
    """Each third-party item of the artifact with this digest that has a recorded decision,
    and the latest decision."""
    decided: dict[str, str] = {}
    for entry in audit.entries():
        if entry.action == THIRD_PARTY_DECIDED and entry.details.get("sha256") == sha256:
            decided[str(entry.details.get("item"))] = str(entry.details.get("decision"))
    return decided


CertificateCheck = Callable[[Path, "Catalog", "Keys | None"], tuple[bool, int]]
"""Runs a certificate's checks again (its Markdown twin; the export it changed, against the
catalog): whether it passes, and its number of findings. `dsar.review.certificate_check` is
the one the CLI gives; the records cannot import the review (it imports them)."""


def check_ready_to_send(
    audit: AuditLog,
    request_id: str,
    status: str,
    request_type: str | None = None,
    certificate_check: CertificateCheck | None = None,
) -> SignOffEntry:
    """The approval that lets request `request_id` be marked sent; raises when there is none.

    The log's chain must verify (an entry edited or forged proves nothing); the request's
    latest approval, made since its latest reopening or bundle written (`current_since`), must
    follow a review of the same digest for this request by someone else (another name and
    another OS account, `same_signer`), its kind must answer the request's type
    (`kind_problem`), the artifact it names must still have that digest on disk, and a
    certificate must pass its checks again against the catalog recorded at the sign-off.

    Raises:
        RequestStateError: not reviewed and approved, the log does not verify, or the
            artifact is missing or changed since its approval; the message says what to do.
    """
    fix_sign = (
        f"review it with `dsar verify ARTIFACT --sign-off NAME --role reviewer --request"
        f" {request_id}`, then have someone else approve it with `--role approver`"
    )
    problems = audit.verify() if audit.path.is_file() else []
    if problems:
        raise RequestStateError(
            request_id,
            status,
            f"cannot be marked sent: the audit log does not verify ({problems[0]})",
            "run `dsar audit verify` and restore the log before sending",
        )
    since = current_since(audit, request_id)
    entries = [s for s in sign_offs(audit) if s.request == request_id and s.seq > since]
    approvals = [s for s in entries if s.role == "approver"]
    if not approvals:
        reviewed = any(s.role == "reviewer" for s in entries)
        raise RequestStateError(
            request_id,
            status,
            "cannot be marked sent: its artifact was reviewed but not approved"
            if reviewed
            else "cannot be marked sent: its artifact was not reviewed and approved (since it"
            " was last reopened or a bundle last written for it)",
            f"have someone other than the reviewer approve it with `dsar verify ARTIFACT"
            f" --sign-off NAME --role approver --request {request_id}`"
            if reviewed
            else fix_sign,
        )
    approval = approvals[-1]
    if not any(
        s.role == "reviewer"
        and s.sha256 == approval.sha256
        and s.seq < approval.seq
        and same_signer(s, approval) is None
        for s in entries  # a review of these bytes for this request, this round
    ):
        raise RequestStateError(
            request_id,
            status,
            "cannot be marked sent: its approval has no review of the same artifact for this"
            " request by someone else",
            fix_sign,
        )
    if request_type is not None and (problem := kind_problem(request_type, approval.kind)):
        raise RequestStateError(request_id, status, f"cannot be marked sent: {problem}", fix_sign)
    _check_approved_bytes(approval, request_id, status, fix_sign)
    if approval.kind.endswith("_certificate"):
        _check_certificate_again(audit, approval, request_id, status, fix_sign, certificate_check)
    return approval


def _check_certificate_again(
    audit: AuditLog,
    approval: SignOffEntry,
    request_id: str,
    status: str,
    fix_sign: str,
    certificate_check: CertificateCheck | None,
) -> None:
    """A certificate's checks run again against the catalog recorded at its sign-off: its
    Markdown twin, and the export it changed (an erasure undone since) as they are now.
    Without `certificate_check` nothing can be checked, so the request is not sent."""
    from dsar.catalog import load_catalog

    def refuse(problem: str, fix: str) -> RequestStateError:
        return RequestStateError(request_id, status, f"cannot be marked sent: {problem}", fix)

    if certificate_check is None:
        raise refuse(
            "a certificate's checks must run again before it leaves, and none was given",
            f"mark it sent with `dsar requests update {request_id} --status sent` (which runs"
            " them), or pass certificate_check=dsar.review.certificate_check",
        )

    if not approval.catalog:
        raise refuse(
            "its certificate's approval records no catalog to check the export against",
            f"sign it off again with --catalog: {fix_sign}",
        )
    try:
        catalog = load_catalog(approval.catalog)
        passes, findings = certificate_check(Path(approval.artifact), catalog, audit.keys)
    except Exception as exc:  # never its message: a reader's quotes what it read
        raise refuse(
            f"its certificate cannot be checked again against {approval.catalog}"
            f" ({type(exc).__name__})",
            "put the catalog and the export back as they were approved, or make and sign off"
            " the change again",
        ) from None
    if not passes:
        raise refuse(
            f"its certificate's checks find {findings} finding(s) now (the"
            " certificate, its Markdown copy or the export it changed differ from what was"
            " approved); run `dsar verify CERTIFICATE --catalog CATALOG`",
            "put back what changed, or make and sign off the change again",
        )


def _check_approved_bytes(
    approval: SignOffEntry, request_id: str, status: str, fix_sign: str
) -> None:
    """The exact artifact that leaves is the one approved: the path signed still leads to
    the real path approved (no link repointed since), no link in it, the same digest, and a
    bundle folder's zip (what is mailed) the zip approved, byte for byte."""

    def refuse(problem: str, fix: str) -> RequestStateError:
        return RequestStateError(request_id, status, f"cannot be marked sent: {problem}", fix)

    artifact = Path(approval.artifact)
    again = f"verify it again, then {fix_sign}"
    if approval.given and os.path.realpath(approval.given) != approval.artifact:
        raise refuse(
            f"the path approved, {approval.given}, now leads to another file or folder (a"
            " symbolic link on it changed since the approval)",
            f"put the approved artifact back under that path, or {fix_sign}",
        )
    if not artifact.exists():
        raise refuse(
            f"the approved artifact {artifact} is not there any more",
            "put the approved artifact back, or review and approve the one you will send",
        )
    links = links_in(artifact)
    if links:
        raise refuse(
            f"{artifact} is or holds a symbolic link ({links[0]}): its bytes are a link's"
            " target of the moment",
            f"replace the links with the files, {again}",
        )
    if artifact_digest(artifact) != approval.sha256:
        raise refuse(
            f"{artifact} changed after its approval (its SHA-256 differs from the one approved)",
            again,
        )
    beside = zip_beside(artifact)
    if approval.zip:
        zipped = Path(approval.zip)
        if not zipped.is_file() or zipped.is_symlink():
            raise refuse(
                f"the approved zip {zipped}, the file that leaves, is not there any more",
                "put it back, or make the bundle again and have it reviewed and approved",
            )
        if _file_sha256(zipped) != approval.zip_sha256:
            raise refuse(
                f"the zip {zipped}, the file that leaves, changed after its approval (its"
                " SHA-256 differs from the one approved)",
                again,
            )
    elif artifact.is_dir() and (beside.exists() or beside.is_symlink()):
        raise refuse(
            f"a zip beside the approved folder, {beside}, was not approved with it (it"
            " appeared after the approval): it would leave unchecked",
            f"remove it if it is not what you send, or {again}",
        )
