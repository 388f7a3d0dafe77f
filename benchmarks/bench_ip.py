"""Benchmark: normalising an IP address column in DuckDB, one form for every writing (RFC 5952
for IPv6, an IPv4-mapped address as its IPv4 address) against the lower-casing it replaced.

Three columns of 1,000,000 values: all IPv4 (most logs), half IPv6 in mixed writings, and
all IPv6. Each expression is timed over the same in-memory table (best of `--repeats`), as
`sql_normalize` writes it (placeholder test included) and as a scan's filter
(`for_match`); the ratio is the new time over the old. Then a scan for one address as a
request makes it: the raw text's prefilter (`ip_pattern`) and the form of the rows it keeps,
against the old lower-casing (which missed the IPv4-mapped forms).

    .venv/bin/python benchmarks/bench_ip.py
    .venv/bin/python benchmarks/bench_ip.py --rows 200000 --repeats 3
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence

import duckdb

from dsar.catalog.models import IdentityKind
from dsar.subjects.identity import (
    MatchRules,
    _sql_placeholder,
    ip_pattern,
    normalize,
    sql_let,
    sql_normalize,
)


def _writing(rng: random.Random) -> str:
    """An IPv6 address written one of the ways an export may hold it."""
    groups = [rng.choice([0, 0, rng.randrange(0x10000)]) for _ in range(8)]
    style = rng.randrange(4)
    if style == 0:  # full, leading zeros, upper case
        return ":".join(f"{g:04X}" for g in groups)
    if style == 1:  # IPv4-mapped, dotted
        return f"::ffff:{rng.randrange(256)}.{rng.randrange(256)}.0.{rng.randrange(256)}"
    text = ":".join(f"{g:x}" for g in groups)
    return text.replace(":0:0:", "::", 1) if style == 2 else text


def _column(rows: int, share_v6: float, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        _writing(rng)
        if rng.random() < share_v6
        else ".".join(
            str(rng.randrange(1, 224) if i == 0 else rng.randrange(256)) for i in range(4)
        )
        for _ in range(rows)
    ]


def _old(column: str, *, for_match: bool) -> str:
    """The IP normalisation before the one form: the text cleaned and lower-cased."""
    text = f"lower({sql_normalize(IdentityKind.DEVICE_ID, column, MatchRules(), for_match=True)})"
    if for_match:
        return text
    return sql_let(text, lambda t: f"(CASE WHEN {_sql_placeholder(t)} THEN NULL ELSE {t} END)")


def _time(con: duckdb.DuckDBPyConnection, expr: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        con.execute(f"SELECT count(DISTINCT {expr}) FROM ips").fetchone()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute("SET threads = 1")  # one core: the figures do not depend on the machine's
    print(f"{args.rows:,} values, DuckDB {duckdb.__version__}, one thread, best of {args.repeats}")
    print(f"{'column':<14} {'expression':<10} {'before':>8} {'now':>8} {'ratio':>6}")
    for label, share in (("IPv4 only", 0.0), ("half IPv6", 0.5), ("IPv6 only", 1.0)):
        con.execute(
            "CREATE OR REPLACE TABLE ips AS SELECT unnest(?::VARCHAR[]) AS ip",
            [_column(args.rows, share)],
        )
        for for_match in (False, True):
            old = _time(con, _old("ip", for_match=for_match), args.repeats)
            new = _time(
                con,
                sql_normalize(IdentityKind.IP_ADDRESS, "ip", MatchRules(), for_match=for_match),
                args.repeats,
            )
            name = "filter" if for_match else "normalise"
            print(f"{label:<14} {name:<10} {old:>7.3f}s {new:>7.3f}s {new / old:>5.2f}x")
        # a scan for one person's address, as collect writes it: the raw text's prefilter
        # (ip_pattern), then the form of only the rows it keeps
        value = normalize(IdentityKind.IP_ADDRESS, _column(1000, share)[500], MatchRules())
        match = sql_normalize(IdentityKind.IP_ADDRESS, "ip", MatchRules(), for_match=True)
        scans = {
            "lower": (f"{_old('ip', for_match=True)} = ?", [value]),
            "form": (f"{match} = ?", [value]),
            "prefilter": (
                f"regexp_matches(CAST(ip AS VARCHAR), ?) AND {match} = ?",
                [ip_pattern([value or ""]), value],
            ),
        }
        took = {}
        for key, (where, params) in scans.items():
            took[key] = min(
                _timed(con, f"SELECT count(*) FROM ips WHERE {where}", params)
                for _ in range(args.repeats)
            )
        print(
            f"{label:<14} {'scan':<10} {took['lower']:>7.3f}s {took['prefilter']:>7.3f}s"
            f" {took['prefilter'] / took['lower']:>5.2f}x  (the form without prefilter:"
            f" {took['form']:.3f}s)"
        )


def _timed(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object]) -> float:
    started = time.perf_counter()
    con.execute(sql, list(params)).fetchone()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
