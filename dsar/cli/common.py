"""What the command lines of both packages share (`dsar` and `anonymize`): option types,
identifier parsing, the export lock for a command, and `run_cli`, which turns every failure a
person can act on into one line."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dsar.catalog.models import IdentityKind
from dsar.errors import IdentifierError

if TYPE_CHECKING:
    from dsar.keys import Keys
    from dsar.records.deadlines import RequestType
    from dsar.records.ledger import Ledger
    from dsar.records.register import Register, RequestRecord
    from dsar.records.sent import SentRecord
    from dsar.subjects.identity import MatchRules, SubjectKey, SubjectRequest
    from dsar.subjects.index import IdentityIndex

LedgerOpt = Annotated[
    Path,
    typer.Option("--ledger", envvar="WORKBENCH_LEDGER", help="The suppression ledger file."),
]

RegisterOpt = Annotated[
    Path,
    typer.Option(
        "--register",
        envvar="WORKBENCH_REGISTER",
        help="The register's SQLite file (its audit log sits beside it).",
    ),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="File holding the secret key for keyed references"
        " (default: $WORKBENCH_KEY). Keep it away from the register.",
    ),
]

SentOpt = Annotated[
    Path | None,
    typer.Option(
        "--sent-record",
        envvar="WORKBENCH_SENT_RECORD",
        help="The record of ad audiences sent (anonymize audience --record): the platforms"
        " holding the person are named as recipients to notify.",
    ),
]


EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        envvar="WORKBENCH_ENGINE",
        help="Where the tables are read: duckdb (this machine) or spark (the spark extra).",
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        envvar="SPARK_MASTER",
        help="With --engine spark: the cluster, e.g. spark://host:7077 (default: the session"
        " spark-submit made, else local mode on every core).",
    ),
]


PhoneRegionOpt = Annotated[
    str | None,
    typer.Option(
        "--phone-region",
        help="Read a phone written without a country code (030 123456) as a number of this"
        " region (ISO code, e.g. DE), so that it meets its international writing; default:"
        " the catalog's phone_region, else such a number meets only the same national"
        " writing.",
    ),
]


IndexOpt = Annotated[
    Path | None,
    typer.Option(
        "--index",
        envvar="WORKBENCH_INDEX",
        help="The identity index (dsar index build): read only the rows it names in files"
        " unchanged since; a rewrite refreshes it.",
    ),
]


AcceptWarningsOpt = Annotated[
    bool,
    typer.Option(
        "--accept-catalog-warnings",
        help="Run although `dsar catalog check` warns that the catalog can give one person's"
        " rows to another (after checking that it cannot); the bundle, certificate or"
        " manifest records each warning accepted.",
    ),
]


def open_index(path: Path | None, key_file: Path | None) -> IdentityIndex | None:
    """The identity index at `path` (None when not given); it must exist and needs the key."""
    if path is None:
        return None
    from dsar.errors import MissingFileError
    from dsar.keys import load_keys
    from dsar.subjects.index import IdentityIndex

    if not path.is_file():
        raise MissingFileError(path, "the identity index", "build it with `dsar index build`")
    return IdentityIndex(path, load_keys(key_file), key_file)


def existing_ledger(path: Path, keys: Keys, key_file: Path | None) -> Ledger:
    """The suppression ledger at `path`, to leave its people out: it must exist. A path
    with a typo would otherwise open a new, empty ledger that leaves nobody out."""
    from dsar.errors import MissingFileError
    from dsar.records.ledger import Ledger

    if not path.is_file():
        raise MissingFileError(
            path,
            "the suppression ledger",
            "check the path (a ledger is made by `dsar ledger add` or an applied erasure;"
            " a new, empty one would leave nobody out)",
        )
    return Ledger(path, keys, key_file)


def optional_keys(key_file: Path | None) -> Keys | None:
    """The keys when the user gave one (a key file, or $WORKBENCH_KEY set), else None: for
    the jobs that work without a key (planning; an extract with no keyed operator). A key
    given but unusable (missing file, too short) is an error, never quietly ignored."""
    from dsar.keys import KEY_ENV, load_keys

    if key_file is None and not os.environ.get(KEY_ENV):
        return None
    return load_keys(key_file)


def engine_options(kind: str, spark_master: str | None) -> dict[str, object]:
    """`open_engine`'s options for the kind of engine the user chose: Spark's settings are
    read from the environment here, at the command line, never inside the library."""
    if kind != "spark":
        return {}
    from dsar.engine.spark import SparkSettings

    return {"settings": SparkSettings.from_env(os.environ, master=spark_master)}


def open_sent(path: Path | None, keys: Keys | None) -> SentRecord | None:
    """The sent record at `path` (None when not given); it must exist and needs the key."""
    if path is None:
        return None
    from dsar.errors import MissingFileError, MissingKeyError
    from dsar.records.sent import SentRecord

    if not path.is_file():
        raise MissingFileError(path, "the record of sent audiences", "check --sent-record")
    if keys is None:
        raise MissingKeyError("reading the sent record needs the secret key: give --key-file")
    return SentRecord(path, keys, read_only=True)


WaitOpt = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="When another change holds the export, wait for it instead of refusing.",
    ),
]


def export_held(
    catalog: Path, holder: str, wait: bool, *, exclusive: bool = True
) -> AbstractContextManager[None]:
    """The lock on the export of `catalog` (a context manager), for the whole command."""
    from dsar.lock import export_lock

    return export_lock(catalog.resolve().parent, exclusive=exclusive, holder=holder, wait=wait)


CatalogArg = Annotated[Path, typer.Argument(help="Path of the catalog YAML file.")]
CatalogOpt = Annotated[Path, typer.Option(help="Path of the catalog YAML file.")]
EmailOpt = Annotated[str | None, typer.Option(help="The person's email address.")]
IdsOpt = Annotated[
    list[str] | None,
    typer.Option("--id", help="Another identifier as TYPE=VALUE, e.g. user_id=u0000042."),
]


def err(text: str) -> None:
    typer.echo(text, err=True)


def keys_from(
    email: str | None,
    ids: list[str] | None,
    rules: MatchRules | None = None,
    *,
    canonical: bool = False,
) -> list[SubjectKey]:
    """The keys given; with `canonical` (a record), each value read as an audience reads a
    list (`canonical_identifier`), and refused when it cannot be."""
    from dsar.subjects.identity import make_key, parse_key

    try:
        keys = [make_key(IdentityKind.EMAIL, email, rules, canonical=canonical)] if email else []
        keys += [parse_key(t, rules, canonical=canonical) for t in ids or []]
    except IdentifierError as exc:
        raise typer.BadParameter(str(exc)) from None
    if not keys:
        raise typer.BadParameter("give the person's --email or an --id TYPE=VALUE")
    return keys


def resolve_person(
    *,
    email: str | None,
    ids: list[str] | None,
    request: str | None,
    register: Path,
    key_file: Path | None,
    allowed: tuple[RequestType, ...],
    prefix: str,
    label: str | None = None,
    rules: MatchRules | None = None,
    read_only: bool = False,
) -> tuple[SubjectRequest, Register | None]:
    """The person a command acts on, and the register when the request is registered.

    With `request`, the registered request's identifiers and id are used (its type must be
    one of `allowed`, and a refused or withdrawn request is not carried out); otherwise
    `email` and `ids` name the person under `label` or a new random reference. With
    `read_only` (planning), the request is read without the key and no register is returned.
    """
    from dsar.access.batch import new_label
    from dsar.records.register import Status
    from dsar.subjects.identity import SubjectRequest

    if request is None:
        keys = keys_from(email, ids, rules)
        return SubjectRequest(label or new_label(prefix=prefix), tuple(keys)), None
    if email or ids:
        raise typer.BadParameter("give --request, or --email/--id, not both")
    if read_only:
        from dsar.records.register import read_request

        reg, record = None, read_request(register, request)
    else:
        reg = open_register(register, key_file)
        record = reg.get(request)
    if record.type not in allowed:
        wanted = " or ".join(t.value for t in allowed)
        raise typer.BadParameter(f"{request} is a {record.type.value} request, not {wanted}")
    if record.status in (Status.DENIED, Status.WITHDRAWN):
        why = f" ({record.denial_reason.value})" if record.denial_reason else ""
        raise typer.BadParameter(
            f"{request} is {record.status.value}{why}: it is not carried out; reopen it with"
            f" dsar requests update {request} --status in_progress if that was a mistake"
        )
    return SubjectRequest(record.id, record.identifiers), reg


def open_register(path: Path, key_file: Path | None, *, create: bool = False) -> Register:
    """The register at `path`; a path with no register is refused (a mistyped --register
    would otherwise start an empty one silently) unless the command makes one (`create`)."""
    from dsar.errors import UsageError
    from dsar.keys import load_keys
    from dsar.records.register import Register

    if not create and not path.exists():
        raise UsageError(
            "--register",
            f"no register at {path}",
            "check the path (--register); `dsar requests add` starts a new register",
        )
    return Register(path, load_keys(key_file))


def request_line(r: RequestRecord, today: date) -> str:
    due = r.deadlines.due
    left = r.days_left(today)
    flag = "OVERDUE" if r.overdue(today) else (f"{left}d left" if r.is_open else r.status.value)
    ext = " (extended)" if r.extension_notified else ""
    return (
        f"{r.id}  {r.type.value:<11} {r.jurisdiction.value:<7} received {r.received}"
        f"  due {due}{ext}  {r.status.value:<11} {flag}"
    )


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; write YYYY-MM-DD") from None


def passphrase_from(env: str | None) -> str | None:
    """The passphrase in environment variable `env` (never taken on the command line, where
    it would land in the shell history); None when no variable is named."""
    if not env:
        return None
    passphrase = os.environ.get(env)
    if not passphrase:
        raise typer.BadParameter(f"environment variable {env} is not set")
    return passphrase


def _interrupted() -> None:
    import sys

    err(
        "interrupted: a change to the export that was under way was rolled back, or is"
        " finished by its recover command (which says which)"
    )
    sys.exit(130)


def run_cli(app: typer.Typer) -> None:
    """Run a command line app: every failure a person can act on is one line and exit 1,
    never a traceback (a bug in the workbench still shows one)."""
    import errno
    import logging
    import sys

    from dsar.errors import ConfigError, WorkbenchError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        app()
    except ConfigError as exc:
        err(str(exc))
        sys.exit(1)
    except WorkbenchError as exc:
        err(f"error: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        _interrupted()
    except RuntimeError as exc:  # DuckDB turns Ctrl-C inside a query into this
        if type(exc).__name__ != "InterruptException" and "interrupted" not in str(exc):
            raise
        _interrupted()
    except (FileExistsError, NotADirectoryError) as exc:
        err(f"error: {exc.filename} is a file where a folder is needed (check --out)")
        sys.exit(1)
    except IsADirectoryError as exc:
        err(f"error: {exc.filename} is a folder where a file is needed")
        sys.exit(1)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        where = f" with {exc.filename}" if exc.filename else ""
        err(f"error{where}: {exc.strerror}")
        sys.exit(1)
