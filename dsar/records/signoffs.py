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
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from dsar.errors import RequestStateError
from dsar.records.audit import AuditEntry, AuditLog

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
    """Whether two sign-off names are the same person's, as a reader of the log would take
    them: compared by `normalise_name` (case, spaces, punctuation, word order, accents,
    invisible characters and look-alike letters of other scripts left out). A red team
    approved its own review as "AnnLee", "Lee, Ann", "Ann Lée", "Ann Lee" with a Cyrillic A and
    "Ann Lee" with a zero-width space: each is the reviewer's name here."""
    return normalise_name(a) == normalise_name(b)


# letters of other scripts drawn like Latin ones (Unicode's confusables, the common ones)
_LOOK_ALIKES = str.maketrans(
    "аеорсухіјѕԁԛԝһӏаъвмнктαβεικνορτυχζ",
    "aeopcyxijsdqwhlabbmhktabeiknoptuxz",
)


def normalise_name(name: str) -> str:
    """A sign-off name as compared: NFKD without marks (accents), case-folded, characters
    that draw nothing (format, control, fillers) dropped, look-alike letters as Latin, and
    the words (runs of letters and digits) sorted and joined."""
    text = unicodedata.normalize("NFKD", name).casefold()
    kept = "".join(
        ch
        for ch in text
        if unicodedata.category(ch)[0] not in "MC" and ch not in "\u3164\u115f\u1160\uffa0"
    )
    words = "".join(ch if ch.isalnum() else " " for ch in kept.translate(_LOOK_ALIKES)).split()
    return "".join(sorted(words)) or kept.strip()


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
        )


def sign_offs(audit: AuditLog) -> list[SignOffEntry]:
    """Every review and approval in the log, in order (no checks of the chain: callers that
    rely on them check it first, see `check_ready_to_send`)."""
    return [SignOffEntry.of(e) for e in audit.entries() if e.action in (REVIEWED, APPROVED)]


def decided_items(audit: AuditLog, sha256: str) -> dict[str, str]:
    """Each third-party item of the artifact with this digest that has a recorded decision,
    and the latest decision."""
    decided: dict[str, str] = {}
    for entry in audit.entries():
        if entry.action == THIRD_PARTY_DECIDED and entry.details.get("sha256") == sha256:
            decided[str(entry.details.get("item"))] = str(entry.details.get("decision"))
    return decided


def check_ready_to_send(audit: AuditLog, request_id: str, status: str) -> SignOffEntry:
    """The approval that lets request `request_id` be marked sent; raises when there is none.

    The log's chain must verify (an entry edited or forged proves nothing); the request's
    latest approval must follow a review of the same digest by someone else, and the artifact
    it names must still have that digest on disk.

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
    every = sign_offs(audit)
    entries = [s for s in every if s.request == request_id]
    approvals = [s for s in entries if s.role == "approver"]
    if not approvals:
        reviewed = any(s.role == "reviewer" for s in entries)
        raise RequestStateError(
            request_id,
            status,
            "cannot be marked sent: its artifact was reviewed but not approved"
            if reviewed
            else "cannot be marked sent: its artifact was not reviewed and approved",
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
        and not same_person(s.name, approval.name)
        for s in every  # a review of these bytes, whether or not it named the request
    ):
        raise RequestStateError(
            request_id,
            status,
            "cannot be marked sent: its approval has no review of the same artifact by"
            " someone else",
            fix_sign,
        )
    _check_approved_bytes(approval, request_id, status, fix_sign)
    return approval


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
