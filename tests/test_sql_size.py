"""The SQL that normalises an identifier stays small, whatever the kind and the rules.

Each normalising step reads its input several times (a CASE, a placeholder test); written
by copying, the steps multiplied, and a query normalising a handful of columns reached
350 KB: an erasure's plan spent ten seconds parsing and planning its own SQL, and the test
suite took 77 minutes. `identity.sql_let` writes a value once; this is its regression test.
"""

from __future__ import annotations

import itertools

import duckdb
import pytest

from dsar.catalog.models import IdentityKind
from dsar.subjects.identity import MatchRules, sql_let, sql_normalize, sql_placeholder
from dsar.subjects.people import identity_sql

RULES = [
    MatchRules(plus_addressing=plus, gmail_dots=dots, phone_region=region)
    for plus, dots, region in itertools.product((False, True), (False, True), (None, "GB"))
]
LIMIT = 8_000  # characters for one column; 17,000 to 88,000 before sql_let


@pytest.mark.parametrize("kind", list(IdentityKind), ids=lambda k: k.value)
def test_one_column_normalised_is_a_few_kilobytes(kind: IdentityKind) -> None:
    column = '"a column"'
    for rules in RULES:
        for sql in (
            sql_normalize(kind, column, rules),
            sql_normalize(kind, column, rules, for_match=True),
            sql_placeholder(kind, column, rules),
        ):
            assert len(sql) < LIMIT, (kind, rules, len(sql))
    assert len(identity_sql(kind, column)) < LIMIT


def test_a_let_binds_the_value_once_and_reads_as_the_copies() -> None:
    value = "lower(v)"
    body = "(CASE WHEN {0} = 'none' THEN NULL ELSE {0} || '!' END)"
    bound = sql_let(value, lambda name: body.format(name))
    assert bound.count(value) == 1
    con = duckdb.connect()
    for cell in ("NONE", "Ann", None):
        got = con.execute(f"SELECT {bound}, {body.format(value)} FROM (SELECT ? AS v)", [cell])
        assert got.fetchone() == ({"NONE": None, "Ann": "ann!"}.get(cell or ""),) * 2
