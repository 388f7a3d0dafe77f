"""Free-text redaction on every core: finding in worker processes, replacing here, in order.

Finding names, contacts and numbers in text is most of an extract's time when it has free
text, and it holds the GIL. So the batches of text go to worker processes (one per core, each
with its own text engine and model, started with `spawn`: DuckDB's threads are running in
this process), a few batches ahead of the writer. The replacing stays in this process, in the
order of the batches, with the run's one record of replacements: placeholders are numbered in
the order people are met, exactly as a run on one core numbers them, so the extract is the
same byte for byte whatever the number of workers.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import pyarrow as pa

from anonymize.params import Redact
from dsar.text.detectors import Span
from dsar.text.engine import EntityRule, Operator, TextEngine, TextPolicy

PARALLEL_FROM_ROWS = 20_000  # fewer rows do not pay for starting the workers (a model each)
PARALLEL_FROM_CORES = 4  # on two cores one process already runs the model on both (measured:
# 1.01x at 60,000 notes, 0.86x at 20,000 with the workers' start): workers need more cores
Found = dict[str, list[list[Span]]]  # column -> the spans of each of its texts

_ENGINES: dict[tuple[str, tuple[str, ...]], TextEngine] = {}


def redact_policy(names: str, allow: tuple[str, ...]) -> TextPolicy:
    """The text policy of a redact operator's settings."""
    operator = {
        "placeholder": Operator.REPLACE,
        "surrogate": Operator.SURROGATE,
        "hash": Operator.HASH,
    }[names]
    return TextPolicy(rules={"PERSON": EntityRule(operator)}, allow=frozenset(allow))


def _analyze(names: str, allow: tuple[str, ...], texts: list[str | None]) -> list[list[Span]]:
    """In a worker: the spans of each text (the engine is made once per worker)."""
    key = (names, allow)
    if key not in _ENGINES:
        _ENGINES[key] = TextEngine(policy=redact_policy(names, allow), processes=1)
    return _ENGINES[key].analyze(texts)


def workers_for(rows: int, redacted: dict[str, Redact], asked: int | None) -> int:
    """How many workers: `asked`, or every core when there are enough cores and enough text
    to pay for them."""
    if asked is not None:
        return max(asked, 1)
    cores = os.cpu_count() or 1
    enough = redacted and rows >= PARALLEL_FROM_ROWS and cores >= PARALLEL_FROM_CORES
    return cores if enough else 1


def with_spans(
    batches: Iterator[pa.RecordBatch], redacted: dict[str, Redact], workers: int
) -> Iterator[tuple[pa.RecordBatch, Found]]:
    """Each batch with the spans of its free-text columns, found by `workers` processes, in
    the batches' order, at most two batches per worker ahead."""
    context = multiprocessing.get_context("spawn")
    window: deque[tuple[pa.RecordBatch, dict[str, Future[list[list[Span]]]]]] = deque()
    pool = ProcessPoolExecutor(workers, mp_context=context)
    try:
        for batch in batches:
            futures = {
                column: pool.submit(
                    _analyze,
                    spec.names,
                    tuple(spec.allow),
                    batch.column(column).cast(pa.string()).to_pylist(),
                )
                for column, spec in redacted.items()
            }
            window.append((batch, futures))
            if len(window) > 2 * workers:
                yield _ready(window.popleft())
        while window:
            yield _ready(window.popleft())
    finally:  # on an error (or a stop), queued batches are dropped, not waited for
        pool.shutdown(wait=False, cancel_futures=True)


SPANS = "__spans__"  # prefix of the columns that carry a batch's spans through an engine


def spans_columns(schema: pa.Schema, redacted: dict[str, Redact]) -> pa.Schema:
    """`schema` with one text column per redacted column, holding each text's spans."""
    for column in redacted:
        schema = schema.append(pa.field(SPANS + column, pa.string()))
    return schema


def add_spans(batch: pa.RecordBatch, redacted: dict[str, Redact]) -> pa.RecordBatch:
    """The batch with the spans of its free-text columns as JSON text (an engine's workers
    find them, e.g. Spark's through mapInArrow; the replacing stays in order, here)."""
    for column, spec in redacted.items():
        texts = batch.column(column).cast(pa.string()).to_pylist()
        found = _analyze(spec.names, tuple(spec.allow), texts)
        encoded = [json.dumps([dataclasses.astuple(s) for s in spans]) for spans in found]
        batch = batch.append_column(SPANS + column, pa.array(encoded, pa.string()))
    return batch


def take_spans(
    batches: Iterator[pa.RecordBatch], redacted: dict[str, Redact]
) -> Iterator[tuple[pa.RecordBatch, Found]]:
    """Each batch `add_spans` made, without the spans columns, and its spans."""
    for batch in batches:
        found: Found = {}
        for column in redacted:
            encoded = batch.column(SPANS + column).to_pylist()
            found[column] = [[Span(*fields) for fields in json.loads(e)] for e in encoded]
            batch = batch.drop_columns([SPANS + column])
        yield batch, found


def _ready(
    item: tuple[pa.RecordBatch, dict[str, Future[list[list[Span]]]]],
) -> tuple[pa.RecordBatch, Found]:
    batch, futures = item
    return batch, {column: f.result() for column, f in futures.items()}
