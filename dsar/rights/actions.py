"""Erasure actions as small classes registered by name: delete, nullify, pseudonymize, retain.

Each catalog table names one action (`erasure: {action: ...}`). The class for that name
says, in SQL over one table, which of the person's rows the action would change now, how a
rewrite of the table's files changes them, and how the plan and the certificate word it.
Adding an action is one class here; nothing else switches on the name. The de-identification
operators of `anonymize` take the same shape (`name`, validation, work on whole columns).

    action = erasure_action(table.erasure.action)
    sql, params = action.change_sql(PersonRows(table, predicate, params, today))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, TypeVar

from dsar.catalog.models import ErasureAction, Table
from dsar.engine.base import quote_identifier
from dsar.errors import InternalError
from dsar.keys import PSEUDONYM_PREFIX as PSEUDO


@dataclass(frozen=True)
class TableAction:
    """What erasure does to one table for this person (a row of the plan)."""

    table: str
    action: ErasureAction
    rows: int  # the person's rows in the table
    to_change: int  # rows the apply step would delete or change now (0: nothing to do)
    columns: tuple[str, ...] = ()
    retained: int = 0  # rows kept under a legal obligation
    retained_until: str | None = None  # the latest date a retained row is kept to
    retained_open: int = 0  # retained rows whose end is not known yet (no date to count from)
    reason: str | None = None
    legal_basis: str | None = None
    unlinked: int = 0  # anonymous rows on an identifier shared with someone else: unlinked
    # rows owned through a parent whose rows are retained (`dsar.rights.children`)
    parent: str | None = None  # the table this one is owned through
    kept_with_parent: int = 0  # rows kept, unchanged, with their retained parent rows
    parent_rows: int = 0  # the parent rows the kept rows (or those changed anyway) belong to
    kept_until: str | None = None  # the latest date those parent rows are kept to
    kept_open: int = 0  # kept rows whose parent's end of retention is not known yet
    changed_anyway: int = 0  # rows of retained parents changed all the same (the catalog's
    #   erasure.even_if_parent_retained)


SqlPart = tuple[str, list[object]]
PseudonymSql = Callable[[str], SqlPart]


@dataclass(frozen=True)
class PersonRows:
    """The person's rows in one table, as SQL: `predicate` with its bound `params`."""

    table: Table
    predicate: str
    params: list[object]
    today: date  # the day retention is judged on


class EraseAction(ABC):
    """One erasure action: the rows it changes and how, as SQL over one table.

    `{source}` in a rewrite stands for one file of the table.
    """

    name: ClassVar[ErasureAction]
    removes_rows: ClassVar[bool] = False  # rows leave the files (row accounting counts them)
    needs_key: ClassVar[bool] = False  # the rewrite computes keyed values
    keeps_rows: ClassVar[bool] = False  # rows are kept under a legal obligation, not erased

    def kept_columns(self, rows: PersonRows) -> tuple[list[str], list[object]]:
        """SQL aggregate columns `retained` and `until` for rows kept under an obligation.

        The plan counts them in the same pass as the rows to change; actions that keep
        nothing add no columns.
        """
        return [], []

    def change_sql(self, rows: PersonRows) -> SqlPart:
        """SQL true for the person's rows that applying would delete or change now."""
        return rows.predicate, list(rows.params)

    @abstractmethod
    def rewrite_sql(self, rows: PersonRows, pseudonym: PseudonymSql | None) -> SqlPart:
        """A SELECT over `{source}` giving the file as it is after the action."""

    @abstractmethod
    def planned(self, a: TableAction) -> str:
        """The dry run's words for this table: what applying would do."""

    @abstractmethod
    def done(self, a: TableAction) -> str:
        """The certificate's words for this table: what was done."""


_ACTIONS: dict[ErasureAction, EraseAction] = {}
A = TypeVar("A", bound=type[EraseAction])


def register(cls: A) -> A:
    """Class decorator: make an action available under its `name`."""
    _ACTIONS[cls.name] = cls()
    return cls


def erasure_action(name: ErasureAction) -> EraseAction:
    """The registered action called `name`."""
    try:
        return _ACTIONS[name]
    except KeyError:
        raise InternalError(f"no erasure action is registered as {name.value!r}") from None


def _columns_replaced(table: Table, case: Callable[[str], SqlPart]) -> SqlPart:
    replaces, params = [], []
    for col in table.erasure.columns:
        sql, ps = case(quote_identifier(col))
        replaces.append(sql)
        params += ps
    return f"SELECT * REPLACE ({', '.join(replaces)}) FROM {{source}}", params


@register
class Delete(EraseAction):
    """Delete the person's rows."""

    name = ErasureAction.DELETE
    removes_rows = True

    def rewrite_sql(self, rows: PersonRows, pseudonym: PseudonymSql | None) -> SqlPart:
        return f"SELECT * FROM {{source}} WHERE NOT {rows.predicate}", list(rows.params)

    def planned(self, a: TableAction) -> str:
        return f"delete {a.to_change} row(s)"

    def done(self, a: TableAction) -> str:
        return f"{a.to_change} row(s) deleted"


@register
class Nullify(EraseAction):
    """Empty the catalog's erasure columns in the person's rows; the rows stay."""

    name = ErasureAction.NULLIFY

    def change_sql(self, rows: PersonRows) -> SqlPart:
        columns = rows.table.erasure.columns
        cols = " OR ".join(f"{quote_identifier(c)} IS NOT NULL" for c in columns)
        return f"({rows.predicate} AND ({cols}))", list(rows.params)

    def rewrite_sql(self, rows: PersonRows, pseudonym: PseudonymSql | None) -> SqlPart:
        return _columns_replaced(
            rows.table,
            lambda c: (f"CASE WHEN {rows.predicate} THEN NULL ELSE {c} END AS {c}", rows.params),
        )

    def planned(self, a: TableAction) -> str:
        return f"empty {', '.join(a.columns)} in {a.to_change} row(s)"

    def done(self, a: TableAction) -> str:
        return f"{', '.join(a.columns)} emptied in {a.to_change} row(s)"


@register
class Pseudonymize(EraseAction):
    """Replace the erasure columns with a keyed pseudonym: joins survive, re-running is a no-op."""

    name = ErasureAction.PSEUDONYMIZE
    needs_key = True

    def change_sql(self, rows: PersonRows) -> SqlPart:
        cols = " OR ".join(
            f"NOT coalesce(starts_with(CAST({quote_identifier(c)} AS VARCHAR), '{PSEUDO}'), true)"
            for c in rows.table.erasure.columns
        )
        return f"({rows.predicate} AND ({cols}))", list(rows.params)

    def rewrite_sql(self, rows: PersonRows, pseudonym: PseudonymSql | None) -> SqlPart:
        if pseudonym is None:
            raise InternalError("a pseudonymizing rewrite needs the keyed pseudonym function")

        def case(c: str) -> SqlPart:
            # the same value gives the same pseudonym (joins survive), and a value already
            # pseudonymized is left alone (applying twice changes nothing)
            value_sql, value_params = pseudonym(f"CAST({c} AS VARCHAR)")
            return (
                f"CASE WHEN {rows.predicate} AND {c} IS NOT NULL AND NOT starts_with(CAST({c} AS"
                f" VARCHAR), '{PSEUDO}') THEN {value_sql} ELSE {c} END AS {c}",
                [*rows.params, *value_params],
            )

        return _columns_replaced(rows.table, case)

    def planned(self, a: TableAction) -> str:
        return f"pseudonymize {', '.join(a.columns)} in {a.to_change} row(s)"

    def done(self, a: TableAction) -> str:
        return f"{', '.join(a.columns)} pseudonymized in {a.to_change} row(s)"


@register
class Retain(EraseAction):
    """Keep the rows under a legal obligation until their retention ends; delete those past it."""

    name = ErasureAction.RETAIN
    removes_rows = True
    keeps_rows = True

    def kept_columns(self, rows: PersonRows) -> tuple[list[str], list[object]]:
        until = self.until_sql(rows.table)
        keep, keep_params = self.stays_sql(rows)
        if until is None:  # kept for good
            return [f"count(*) FILTER (WHERE {keep}) AS retained", "NULL AS until"], keep_params
        return [
            f"count(*) FILTER (WHERE {keep}) AS retained",
            f"max({until}) FILTER (WHERE {keep}) AS until",
            f"count(*) FILTER (WHERE {keep} AND {until} IS NULL) AS open_ended",
        ], keep_params * 3

    @staticmethod
    def until_sql(table: Table) -> str | None:
        """SQL for the date until which a row is kept (no time of day); None: kept for good."""
        period, after = table.erasure.retain_for, table.retention.after
        if period is None or after is None:
            return None
        until = f"CAST({quote_identifier(after)} AS DATE) + INTERVAL {period.amount} {period.unit}"
        return f"CAST({until} AS DATE)"

    def stays_sql(self, rows: PersonRows) -> SqlPart:
        """SQL true for the rows kept now: not past their retention (or kept for good)."""
        expired = self.expired_sql(rows.table)
        if expired is None:
            return rows.predicate, list(rows.params)
        # a row whose date is empty (an employment not yet ended) is kept until it is known
        return f"({rows.predicate} AND NOT coalesce({expired}, false))", [
            *rows.params,
            rows.today.isoformat(),
        ]

    def expired_sql(self, table: Table) -> str | None:
        """SQL true for rows whose retention has ended (today bound as the one parameter)."""
        until = self.until_sql(table)
        return None if until is None else f"({until} < CAST(? AS DATE))"

    def change_sql(self, rows: PersonRows) -> SqlPart:
        expired = self.expired_sql(rows.table)
        if expired is None:
            return "false", []
        return f"({rows.predicate} AND {expired})", [*rows.params, rows.today.isoformat()]

    def rewrite_sql(self, rows: PersonRows, pseudonym: PseudonymSql | None) -> SqlPart:
        change, change_params = self.change_sql(rows)
        return f"SELECT * FROM {{source}} WHERE NOT {change}", change_params

    def planned(self, a: TableAction) -> str:
        return f"{_kept(a)} delete {a.to_change} past retention"

    def done(self, a: TableAction) -> str:
        return (
            f"{a.to_change} row(s) past retention deleted; {_kept(a)[:-1]}, under"
            f" {a.legal_basis}, restricted to that purpose"
        )


def _kept(a: TableAction) -> str:
    """'retain 3 row(s) until 2033-06-17 (reason);', with the rows that have no end date."""
    if not a.retained:
        return "nothing left to retain;"
    dated = a.retained - a.retained_open
    parts = [f"{dated} until {a.retained_until}"] if dated else []
    if a.retained_open:
        parts.append(f"{a.retained_open} until their end date is known")
    return f"retain {a.retained} row(s): {', '.join(parts)} ({a.reason});"


__all__ = [
    "EraseAction",
    "PersonRows",
    "TableAction",
    "erasure_action",
    "register",
]
