"""The release log: every aggregate table and every extract published from a data set, kept so
later runs can be checked against it.

Two published tables of the same data can give back together what each hides alone (a
coarser table's cell minus the published cells of a finer one is a suppressed cell), and
differentially private answers spend a privacy budget that must be counted across runs. So
every aggregate run records here, before its folder takes its name: the data set (the base
table), a keyed fingerprint of each source table's files (the data version) and of its rows
whatever their order or the table's name (its content), the joins, each
published table's columns and which cells it published and which it suppressed (their group
values, never their counts), the checksum of each file, and under differential privacy what
each table's query charged against the budget. An extract records the same way what its rows
give away (`anonymize.extract_log`): the combinations of the columns it releases as they are
(group values, never counts), which of them it released whole, the released columns' forms,
its k, and keyed references of the people the suppression ledger left out of it.

The log is a SQLite file, owner-only, whose rows are keyed like the register's
(`dsar.records.sealed`: a MAC per row, a seal per table): a row edited, added or deleted by
hand is found when the log is opened, and nothing is published against it
(`RecordTamperedError`). What a seal cannot tell: the whole file swapped for an earlier copy,
which forgets the releases since; keep backups where a run cannot write. Writes are
exclusive: one run at a time reads the log, computes, and records, so two runs cannot both
spend the last of a budget.

Where it lives is the caller's choice (`anonymize aggregate --release-log`, by default
`releases.db` in the working folder, like the register), never beside the key file.
"""

from __future__ import annotations

import getpass
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsar.errors import UnusableFileError
from dsar.io import private_file
from dsar.keys import Keys, refuse_key_beside
from dsar.records.sealed import Seal, verify_record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, run TEXT NOT NULL,
    folder TEXT NOT NULL, dataset TEXT NOT NULL, method TEXT NOT NULL, body TEXT NOT NULL
)
"""
_COLUMNS = ("seq", "at", "actor", "run", "folder", "dataset", "method", "body")
_WAIT_S = 600.0  # how long a run waits for another run's write to finish

Key = tuple[str | None, ...]  # a cell's group values, as text


@dataclass(frozen=True)
class PublishedTable:
    """One published group-by of a release (a table, or one of its margins)."""

    name: str  # the table, with the margin's columns: "by_country_plan[country]"
    dims: tuple[str, ...]  # the columns of a cell, by source: "table.column"
    published: tuple[Key, ...]  # the cells whose numbers were published
    suppressed: tuple[Key, ...]  # the cells listed with their numbers hidden


@dataclass(frozen=True)
class Charge:
    """What one differentially private query spent: repeating it (the same query on the
    same data version, `query` a keyed id of both) gives the same answer and costs nothing."""

    query: str
    table: str
    epsilon: float
    delta: float


@dataclass(frozen=True)
class Release:
    """One aggregate run or extract, as recorded."""

    run: str  # the spec's name
    folder: str  # the run's folder name
    dataset: str  # the base table
    method: str  # "suppression", "differential_privacy" or "extract"
    versions: dict[str, str]  # per source table, a keyed fingerprint of its files
    joins: tuple[tuple[str, str | None], ...]  # (table, via) of each join, in order
    tables: tuple[PublishedTable, ...]
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    charges: tuple[Charge, ...] = ()
    budget: float | None = None  # the ε budget the spec stated for the data set
    # per source table, a keyed fingerprint of its rows as a multiset, whatever their order,
    # files or table name (`anonymize.history.content_version`); {} in entries made before
    contents: dict[str, str] = field(default_factory=dict)
    # an extract's: each released column's source and form (keyed hashes and pseudonyms left
    # out), keyed references of the people the ledger left out of it, and its k
    released: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()
    k: int | None = None  # an extract's k; a suppression run's min_count
    # per merged column an extract released ("table.column~id"), each source value's group,
    # under keyed references of the values (`anonymize.extract_log`)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)
    # an extract's link name (its keyed hashes are keyed by it), whether its policy wrote
    # `link:`, and each released column's source and form, hashes included
    # (`anonymize.link_check`); "", False and () in entries made before
    link: str = ""
    link_stated: bool = False
    columns: tuple[str, ...] = ()
    seq: int = 0  # set when recorded
    at: str = ""
    actor: str = ""

    def describe(self) -> str:
        """How a message names it: '#3 accounts-fine (2026-12-06)'."""
        return f"#{self.seq} {self.run} ({self.at[:10]})"


def _body(release: Release) -> str:
    data = asdict(release)
    for name in ("seq", "at", "actor", "run", "folder", "dataset", "method"):
        data.pop(name)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _release(row: tuple[Any, ...]) -> Release:
    seq, at, actor, run, folder, dataset, method, body = row
    data = json.loads(body)
    return Release(
        run=run,
        folder=folder,
        dataset=dataset,
        method=method,
        versions=dict(data["versions"]),
        joins=tuple((t, v) for t, v in data["joins"]),
        tables=tuple(
            PublishedTable(
                t["name"],
                tuple(t["dims"]),
                tuple(tuple(k) for k in t["published"]),
                tuple(tuple(k) for k in t["suppressed"]),
            )
            for t in data["tables"]
        ),
        files=dict(data["files"]),
        charges=tuple(Charge(**c) for c in data["charges"]),
        budget=data["budget"],
        contents=dict(data.get("contents", {})),
        released=tuple(data.get("released", ())),
        left_out=tuple(data.get("left_out", ())),
        link=data.get("link", ""),
        link_stated=bool(data.get("link_stated", False)),
        columns=tuple(data.get("columns", ())),
        k=data.get("k"),
        groups={i: dict(g) for i, g in data.get("groups", {}).items()},
        seq=seq,
        at=at,
        actor=actor,
    )


class ReleaseLog:
    """The keyed record of published aggregate tables at `path` (SQLite, owner-only).

    Args:
        path: the log's file (created on first use).
        keys: the workbench's keys: they MAC every row.
        key_file: the key's file, refused when it sits beside the log.

    Raises:
        RecordTamperedError: a row was edited, added or deleted outside the workbench, or the
            log was written with another key.
        UnusableFileError: the path is a folder or not a SQLite file.
    """

    def __init__(self, path: str | Path, keys: Keys, *, key_file: str | Path | None = None):
        self.path = Path(path)
        self._keys = keys
        refuse_key_beside(key_file, self.path, "release log")
        if self.path.is_dir():
            raise UnusableFileError(
                self.path, "a folder, not a release log", "give the release log's file"
            )
        private_file(self.path)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=_WAIT_S)
        try:
            self.db.executescript(_SCHEMA)
            self.seal = Seal(self.db, keys, {"releases": _COLUMNS}, self.path)
            self.seal.check()
        except sqlite3.DatabaseError:
            self.db.close()
            raise UnusableFileError(
                self.path, "not a release log (not SQLite)", "give the release log's file"
            ) from None
        except BaseException:
            self.db.close()
            raise

    def __repr__(self) -> str:
        return f"ReleaseLog({str(self.path)!r})"

    @property
    def keys(self) -> Keys:
        """The key the rows are MACed with (and the noise and fingerprints keyed with)."""
        return self._keys

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ReleaseLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def releases(self, dataset: str | None = None) -> list[Release]:
        """Every release recorded (of `dataset`, when given), oldest first; the log is checked
        first (`RecordTamperedError`)."""
        self.seal.check()
        return self._read(dataset)

    def _read(self, dataset: str | None) -> list[Release]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM releases"
        rows = (
            self.db.execute(sql + " WHERE dataset = ? ORDER BY seq", (dataset,))
            if dataset is not None
            else self.db.execute(sql + " ORDER BY seq")
        )
        return [_release(r) for r in rows.fetchall()]

    @contextmanager
    def recording(self) -> Iterator[ReleaseBook]:
        """One run's turn: the log is locked (other runs wait) and checked, the run reads the
        earlier releases and appends its own, and the append is committed when the block ends
        without an error (rolled back otherwise)."""
        with self.seal.transaction():
            yield ReleaseBook(self)

    def verify(self) -> list[str]:
        """Every row and seal that fails its keyed check; empty: intact."""
        return self.seal.problems()


class ReleaseBook:
    """The log during one run's turn (`ReleaseLog.recording`)."""

    def __init__(self, log: ReleaseLog) -> None:
        self._log = log

    def releases(self, dataset: str | None = None) -> list[Release]:
        """The earlier releases (of the data set, when given), oldest first."""
        return self._log._read(dataset)

    def append(self, release: Release) -> Release:
        """Record a release; returns it with its entry number, time and actor."""
        seq = int(
            self._log.db.execute("SELECT coalesce(max(seq), 0) + 1 FROM releases").fetchone()[0]
        )
        done = replace(
            release,
            seq=seq,
            at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            actor=getpass.getuser(),
        )
        self._log.db.execute(
            f"INSERT INTO releases ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [getattr(done, c) for c in _COLUMNS[:-1]] + [_body(done)],
        )
        return done


def verify_release_log(path: str | Path, keys: Keys) -> list[str]:
    """Check a release log's rows and seal without changing it; empty: intact."""
    return verify_record(Path(path), keys, {"releases": _COLUMNS})


__all__ = [
    "Charge",
    "PublishedTable",
    "Release",
    "ReleaseBook",
    "ReleaseLog",
    "verify_release_log",
]
