"""Benchmark: de-identification operators and the risk measures, against their baselines.

1. Structured operators (keyed hash of an id, a date generalised to the month, a keyed date
   shift per person) on N rows read from Parquet and written to Parquet: the workbench's SQL
   operators (`anonymize.operators`, as `run_extract` runs them) against the same operators
   written as pandas `apply` calls with `hmac`, the usual hand-written way. Both in this
   process, on the same file; rows per second per core (DuckDB limited to one thread, and
   again with every core).
2. k and l over 5 quasi-identifiers on M rows (`anonymize.risk.measure`), against DuckDB
   reading those six columns once.

    .venv/bin/python benchmarks/bench_anonymize.py                       # 2 M and 20 M rows
    .venv/bin/python benchmarks/bench_anonymize.py --rows 200000 --risk-rows 1000000 --repeats 1
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
from report import Ratio, report

from anonymize.operators import Context, apply_python, select_list
from anonymize.params import DateShift, Generalize, Hash, Keep
from anonymize.risk import measure
from dsar.keys import Keys, Purpose

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out"
KEY = b"bench-key-" * 4


def make_rows(path: Path, rows: int) -> None:
    """A people-like table: id, person, event time, amount; deterministic."""
    if path.exists():
        return
    duckdb.execute(
        f"COPY (SELECT 'u' || lpad(CAST(i AS VARCHAR), 9, '0') AS user_id,"
        f" 'p' || CAST(hash(i * 31) % {max(rows // 7, 1)} AS VARCHAR) AS person,"
        " TIMESTAMP '2020-01-01' + to_seconds(CAST(hash(i) % 157680000 AS BIGINT)) AS ts,"
        " CAST(hash(i * 7) % 100000 AS DOUBLE) / 100 AS amount"
        f" FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet)"
    )


def make_qi_rows(path: Path, rows: int) -> None:
    """Five quasi-identifiers and one sensitive column."""
    if path.exists():
        return
    duckdb.execute(
        "COPY (SELECT CAST(hash(i) % 80 AS INTEGER) AS age,"
        " ['F', 'M', 'X'][1 + CAST(hash(i * 3) % 3 AS INTEGER)] AS sex,"
        " 'D' || CAST(hash(i * 5) % 24 AS VARCHAR) AS postcode,"
        " CAST(2000 + hash(i * 11) % 25 AS INTEGER) AS year,"
        " ['free', 'team', 'business'][1 + CAST(hash(i * 13) % 3 AS INTEGER)] AS plan,"
        " ['flu', 'asthma', 'diabetes', 'migraine'][1 + CAST(hash(i * 17) % 4 AS INTEGER)]"
        " AS diagnosis"
        f" FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet)"
    )


def workbench_ops(src: Path, dst: Path, threads: int, only: str | None = None) -> None:
    """What `run_extract` does with these operators: DuckDB streams Arrow batches of the
    SQL operators' output, the Python operators run per batch, Parquet is written per batch."""
    keys = Keys(KEY)
    columns = {
        "user_id": Hash(op="hash"),
        "person": Keep(op="keep"),
        "ts": Generalize(op="generalize", to="month"),
        "ts_shifted": DateShift(op="date_shift"),
        "amount": Keep(op="keep"),
    }
    if only == "hash_repeated":  # a person id repeated 7 times, far apart (a foreign key)
        columns = {c: Keep(op="keep") for c in columns}
        columns["person"] = Hash(op="hash")
    elif only is not None:  # one operator alone, the other columns kept
        keep = {"hash": "user_id", "generalize": "ts", "date_shift": "ts_shifted"}[only]
        columns = {c: (op if c == keep else Keep(op="keep")) for c, op in columns.items()}
    ctx = Context(keys, '"person"', {"ts": "timestamp[us]", "ts_shifted": "timestamp[us]"})
    exprs, params, python = select_list(columns, ctx)
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    relation = f"(SELECT *, ts AS ts_shifted FROM read_parquet('{src}'))"
    relation_sql = con.sql(f"SELECT {', '.join(exprs)} FROM {relation}", params=params)
    assert relation_sql is not None
    reader = relation_sql.to_arrow_reader(65_536)
    writer = None
    for batch in reader:
        out = apply_python(batch, python, ctx)
        if writer is None:
            writer = pq.ParquetWriter(dst, out.schema)
        writer.write_batch(out)
    if writer is not None:
        writer.close()
    con.close()


def pandas_ops(src: Path, dst: Path) -> None:
    """The same three operators as most people would write them: `apply` with `hmac`."""
    keys = Keys(KEY)
    hash_key = keys._subkeys[Purpose.EXTRACT_HASH]
    shift_key = keys._subkeys[Purpose.EXTRACT_PSEUDONYM]
    df = pd.read_parquet(src)

    def hashed(v: str) -> str:
        return hmac.new(hash_key, v.strip().lower().encode(), hashlib.sha256).hexdigest()[:16]

    def shift(person: str) -> pd.Timedelta:
        d = hmac.new(shift_key, ("date-shift:" + person).encode(), hashlib.sha256).hexdigest()
        return pd.Timedelta(days=int(d[:8], 16) % 61 - 30)

    df["user_id"] = df["user_id"].apply(hashed)
    df["ts_shifted"] = df["ts"] + df["person"].apply(shift)
    df["ts"] = df["ts"].apply(lambda t: t.replace(day=1, hour=0, minute=0, second=0))
    df.to_parquet(dst)


def timed(fn: Callable[[], object], repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--pandas-rows", type=int, default=200_000)
    parser.add_argument("--risk-rows", type=int, default=20_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    cores = os.cpu_count() or 1
    result: dict[str, object] = {"cores": cores}

    src = OUT / f"anon-ops2-{args.rows}.parquet"  # 2: persons spread at random
    small = OUT / f"anon-ops2-{args.pandas_rows}.parquet"
    make_rows(src, args.rows)
    make_rows(small, args.pandas_rows)
    dst = OUT / "anon-ops-out.parquet"
    one = timed(lambda: workbench_ops(src, dst, 1), args.repeats)
    every = timed(lambda: workbench_ops(src, dst, cores), args.repeats)
    alone = {
        op: args.rows / timed(lambda op=op: workbench_ops(src, dst, 1, op), args.repeats)  # type: ignore[misc]
        for op in ("hash", "hash_repeated", "generalize", "date_shift")
    }
    small_wb = timed(lambda: workbench_ops(small, dst, 1), args.repeats)
    small_pd = timed(lambda: pandas_ops(small, dst), args.repeats)
    result["operators"] = {
        "rows": args.rows,
        "workbench_rows_per_s_one_core": args.rows / one,
        "workbench_rows_per_s_all_cores": args.rows / every,
        "one_operator_alone_rows_per_s_one_core": alone,
        "pandas_rows": args.pandas_rows,
        "workbench_rows_per_s_one_core_same_rows_as_pandas": args.pandas_rows / small_wb,
        "pandas_apply_rows_per_s": args.pandas_rows / small_pd,
        "ratio_one_core_same_rows": small_pd / small_wb,
    }

    qi = OUT / f"anon-qi-{args.risk_rows}.parquet"
    make_qi_rows(qi, args.risk_rows)
    relation = f"read_parquet('{qi}')"
    cols = ["age", "sex", "postcode", "year", "plan", "diagnosis"]
    con = duckdb.connect()

    def read_once() -> None:
        con.execute(f"SELECT count(*) FROM {relation} WHERE hash({', '.join(cols)}) = 0").fetchone()

    def risk() -> None:
        measure(con, relation, cols[:5], ["diagnosis"])

    floor = timed(read_once, args.repeats)
    measured = timed(risk, args.repeats)
    measured_risk = measure(con, relation, cols[:5], ["diagnosis"])
    result["risk"] = {
        "rows": args.risk_rows,
        "read_six_columns_once_s": floor,
        "k_l_t_over_5_quasi_identifiers_s": measured,
        "ratio": measured / floor,
        "k": measured_risk.k,
        "classes": measured_risk.classes,
        "input_bytes": qi.stat().st_size,
        "parquet_rows": pq.ParquetFile(qi).metadata.num_rows,
    }
    print(json.dumps(result, indent=1))
    ops = result["operators"]
    assert isinstance(ops, dict)
    per_core = [  # one operator alone, against the absolute target
        Ratio(
            f"{name.replace('_', ' ')}, rows/s on one core",
            rate,
            "rows/s",
            "the target: 1,000,000 rows/s per core",
            rate / 1_000_000,
            target=1.0,
        )
        for name, rate in ops["one_operator_alone_rows_per_s_one_core"].items()
    ]
    report(
        *per_core,
        Ratio(
            "hash + generalise + date shift, one core",
            ops["workbench_rows_per_s_one_core_same_rows_as_pandas"],
            "rows/s",
            "the same operators as pandas apply with hmac",
            ops["ratio_one_core_same_rows"],
        ),
        Ratio(
            f"k, l, t over 5 quasi-identifiers, {args.risk_rows:,} rows",
            measured,
            "s",
            "DuckDB reading the six columns once",
            measured / floor,
            target=3.0,
            lower_is_better=True,
        ),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
