"""DuckDB's SQL, as the workbench writes it, translated for Spark SQL.

Every query in the workbench is written once, in DuckDB's dialect. The Spark engine
translates it with sqlglot and then corrects the few places where the two engines would
not give the same answer for the same text:

- `?` parameters become named ones (`:p0`, `:p1`, ...), because Spark binds five or more
  positional parameters wrongly from 4.1 on (SPARK-58341), and named ones cannot be
  reordered by the translation;
- `strlen` (bytes of UTF-8) becomes `octet_length`, which Spark has for strings;
- `chr(n)` becomes the character itself: Spark's `chr` takes n modulo 256, so that the
  zero-width space (8203) would come out as a vertical tab and 8289 as the letter 'a';
- `lower` first folds the two letters whose lower case differs between the engines (a
  dotted capital I: Java gives 'i' with a combining dot, DuckDB a plain 'i'; a capital
  sigma: Java picks the final form at a word's end, DuckDB never does), so that identifiers
  and hashed emails are the same on both;
- a group in `regexp_replace`'s replacement (`\\1`, RE2's way) becomes `$1` (Java's);
- a `CASE WHEN typeof(x) = 'JSON'` branch (DuckDB's JSON columns: a JSON field of mixed
  value types read as the text it holds) is dropped: Spark reads such a field as text.

Whether the answers are the same is tested by running the workbench's queries on both
engines over the same files (`tests/test_engines.py`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType  # type: ignore[attr-defined]

__all__ = ["to_spark"]

_FOLD_FROM, _FOLD_TO = "\u0130\u03a3", "i\u03c3"  # as dsar.subjects.identity.lower_as_sql


def _fix(tree: exp.Expr) -> exp.Expr:
    """Correct, in place, the functions whose Spark namesake answers differently."""
    for call in list(tree.find_all(exp.Anonymous)):
        if str(call.this).lower() == "strlen":
            call.replace(exp.Anonymous(this="octet_length", expressions=call.expressions))
    for char in list(tree.find_all(exp.Chr)):
        codes = char.expressions
        if len(codes) == 1 and isinstance(codes[0], exp.Literal) and not codes[0].is_string:
            char.replace(exp.Literal.string(chr(int(codes[0].this))))
    for replace in list(tree.find_all(exp.RegexpReplace)):
        rep = replace.args.get("replacement")
        if isinstance(rep, exp.Literal) and rep.is_string and "\\" in rep.this:
            java = re.sub(r"\\(\d)", r"$\1", rep.this.replace("$", "\\$"))
            replace.set("replacement", exp.Literal.string(java))
    for case in list(tree.find_all(exp.Case)):
        # `CASE WHEN typeof(x) = 'JSON' THEN ...`: DuckDB's JSON type, which Spark never
        # gives a column (a field of mixed types is read as its text); the branch is dropped
        ifs = [
            branch
            for branch in case.args.get("ifs", [])
            if not (
                isinstance(branch.this, exp.EQ)
                and isinstance(branch.this.this, exp.Typeof)
                and isinstance(branch.this.expression, exp.Literal)
                and branch.this.expression.this == "JSON"
            )
        ]
        if len(ifs) != len(case.args.get("ifs", [])):
            if ifs:
                case.set("ifs", ifs)
            else:
                case.replace(case.args["default"])
    for lower in list(tree.find_all(exp.Lower)):
        fold = [lower.this, exp.Literal.string(_FOLD_FROM), exp.Literal.string(_FOLD_TO)]
        lower.replace(exp.Lower(this=exp.Anonymous(this="translate", expressions=fold)))
    return tree


@lru_cache(maxsize=512)
def to_spark(sql: str) -> tuple[str, int]:
    """Spark SQL for a DuckDB query, and how many parameters it binds (`:p0` .. `:pN-1`).

    Raises:
        sqlglot.errors.ParseError: the text is not SQL sqlglot can read as DuckDB's.
    """
    duckdb = sqlglot.Dialect.get_or_raise("duckdb")
    # name each `?` by its place in the text (a string holding '?' is a STRING token)
    cuts = [t.start for t in duckdb.tokenize(sql) if t.token_type is TokenType.PLACEHOLDER]
    named, last = [], 0
    for i, at in enumerate(cuts):
        named.append(sql[last:at] + f"$p{i}")
        last = at + 1
    named.append(sql[last:])
    tree = sqlglot.parse_one("".join(named), read=duckdb)
    return _fix(tree).sql(dialect="spark"), len(cuts)
