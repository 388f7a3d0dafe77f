"""Benchmark: the text engine against Presidio's own loop, side by side in one run.

Texts: the bodies of 20,000 demo support tickets plus the labelled set
(tests/text_eval/labelled.jsonl). Presidio's loop is what its documentation shows:
`AnalyzerEngine.analyze` then `AnonymizerEngine.anonymize` per text, with its default
recognizers and the same spaCy model (built offline by `dsar.text.build_analyzer`). Presidio
runs on a random sample (it takes about 13 ms a text); the engine runs on the same sample and
on all the texts. Model loading is reported apart. Throughput is the median of `--repeats`
runs; recall and words destroyed come from the labelled sets (development and held out
together). The demo tickets are filled-in templates, so the engine's distinct-sentence cache
helps it there; the hand-written labelled texts, each one different, are timed apart.

    .venv/bin/python benchmarks/bench_text.py                    # 20,000 tickets, 3 repeats
    .venv/bin/python benchmarks/bench_text.py --tickets 2000 --presidio-texts 300 --repeats 1
    .venv/bin/python benchmarks/bench_text.py --distinct 1500 --repeats 3

`--distinct N`: unseen texts, each once. Every round generates N new texts
(`varied_texts.py`: Faker in ten locales, many sentence shapes, no two texts alike) and
times Presidio's loop and the engine on them, each seeing every text once; the open labelled
sets (development, held out, fresh, dev_unseen) go through both once more, once. Texts per
second and the ratio are taken within each round, then the median. Nothing is timed twice
on the same texts, so no cache of earlier texts can help.

`--cpu`: time this process's CPU seconds instead of wall time. Presidio's loop and the engine
both run in this one process on one core (the engine starts a second process only past 4,000
sentences for the model), so on a machine other work loads the CPU ratio is the steadier one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import pyarrow as pa
from report import Ratio, report

from dsar.text.evaluation import EVALUATED as ENTITIES, evaluate, read_labelled

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out"


def ticket_texts(n: int) -> list[str]:
    """Bodies of demo tickets, n texts (generated once into bench-out/)."""
    from dsar.demo import generate

    users = max(400, n * 2)  # about 0.6 tickets a user
    folder = OUT / f"text-demo-{users}"
    if not (folder / "catalog.yml").exists():
        generate(folder, users=users, seed=7, as_of=date(2026, 11, 29))
    path = next(folder.glob("support_tickets.*"))
    import duckdb

    relation = duckdb.sql(f"SELECT body FROM '{path}' WHERE body <> ''")
    assert relation is not None
    texts = [t for t in relation.to_arrow_table().column("body").to_pylist() if t]
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} ticket texts in {folder}; raise the user count")
    return random.Random(1).sample(texts, n)


CLOCK = time.perf_counter  # --cpu: time.process_time, this process's CPU time


def timed(fn: Callable[[], object]) -> float:
    t = CLOCK()
    fn()
    return CLOCK() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--presidio-texts", type=int, default=1_500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--distinct", type=int, default=0, help="N unseen texts a round, each timed once"
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time CPU seconds of this process, not wall time (on a machine others load)",
    )
    args = parser.parse_args(argv)
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    if args.distinct:
        return distinct(args.distinct, args.repeats)

    labelled = read_labelled(ROOT / "tests" / "text_eval" / "labelled.jsonl")
    holdout_path = ROOT / "tests" / "text_eval" / "holdout.jsonl"
    holdout = read_labelled(holdout_path) if holdout_path.exists() else []
    # hand-written texts, each one different: no template or repeated sentence to lean on
    written = [r.text for r in labelled + holdout]
    texts = ticket_texts(args.tickets) + [r.text for r in labelled]
    sample = random.Random(2).sample(texts, min(args.presidio_texts, len(texts)))
    print(f"{len(texts)} texts ({len(set(texts))} distinct); Presidio sample {len(sample)}")

    from dsar.text.engine import TextEngine
    from dsar.text.nlp import build_analyzer

    load_engine = timed(lambda: TextEngine().analyze(["warm up, Ann ann@example.com"]))
    engine = TextEngine()
    load_presidio = timed(lambda: build_analyzer())
    analyzer, _ = build_analyzer()
    from presidio_anonymizer import AnonymizerEngine

    anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]

    def presidio_loop(batch: Sequence[str]) -> list[str]:
        out = []
        for text in batch:
            results = analyzer.analyze(text, language="en")
            out.append(anonymizer.anonymize(text, results).text)  # type: ignore[arg-type]
        return out

    def engine_run(batch: Sequence[str]) -> pa.Array:
        return engine.redact(pa.array(batch, pa.string())).texts

    presidio_loop(sample[:20])  # first-call loading outside the timings
    engine_run(sample[:20])
    batches = {
        "presidio_sample": (presidio_loop, sample),
        "engine_sample": (engine_run, sample),
        "engine_all": (engine_run, texts),
        "presidio_written": (presidio_loop, written),
        "engine_written": (engine_run, written),
    }
    runs: dict[str, list[float]] = {name: [] for name in batches}
    for _ in range(args.repeats):
        for name, (fn, batch) in batches.items():
            runs[name].append(timed(lambda fn=fn, batch=batch: fn(batch)))  # type: ignore[misc]
    rate = {
        name: len(batch) / statistics.median(runs[name]) for name, (_, batch) in batches.items()
    }

    engine_report = evaluate(
        labelled + holdout,
        lambda batch: [[(s.start, s.end, s.entity) for s in x] for x in engine.analyze(batch)],
        ENTITIES,
    )
    presidio_report = evaluate(
        labelled + holdout,
        lambda batch: [
            [(r.start, r.end, r.entity_type) for r in analyzer.analyze(t, language="en")]
            for t in batch
        ],
        ENTITIES,
    )
    # words destroyed by the anonymised output on the ticket sample: tokens that vanished
    pres_out = presidio_loop(sample)
    eng_out = engine_run(sample).to_pylist()
    lost_presidio = sum(_lost(a, b) for a, b in zip(sample, pres_out, strict=True))
    lost_engine = sum(_lost(a, b) for a, b in zip(sample, eng_out, strict=True))

    result = {
        "texts": len(texts),
        "presidio_sample": len(sample),
        "repeats": args.repeats,
        "model_load_seconds": {"engine": load_engine, "presidio": load_presidio},
        "texts_per_second": rate,
        "speedup_same_sample": rate["engine_sample"] / rate["presidio_sample"],
        "speedup_all_vs_presidio_sample": rate["engine_all"] / rate["presidio_sample"],
        "speedup_hand_written_texts": rate["engine_written"] / rate["presidio_written"],
        "hand_written_texts": len(written),
        "recall": {
            "engine": {e: round(s.recall, 3) for e, s in engine_report.scores.items()},
            "presidio": {e: round(s.recall, 3) for e, s in presidio_report.scores.items()},
        },
        "precision": {
            "engine": {e: round(s.precision, 3) for e, s in engine_report.scores.items()},
            "presidio": {e: round(s.precision, 3) for e, s in presidio_report.scores.items()},
        },
        "labelled_ordinary_words_destroyed": {
            "engine": engine_report.destroyed,
            "presidio": presidio_report.destroyed,
            "of": engine_report.words,
        },
        "ticket_sample_words_lost": {"engine": lost_engine, "presidio": lost_presidio},
    }
    print(json.dumps(result, indent=1))
    report(
        Ratio(
            f"free text, {len(written)} hand-written texts",
            rate["engine_written"],
            "texts/s",
            "Presidio's analyze + anonymize loop, same texts",
            rate["engine_written"] / rate["presidio_written"],
            target=10.0,
        ),
        Ratio(
            f"free text, {len(texts):,} texts with the demo's repetition",
            rate["engine_all"],
            "texts/s",
            "Presidio's loop on a sample of them",
            rate["engine_all"] / rate["presidio_sample"],
            target=10.0,
        ),
    )
    return 0


def distinct(n: int, rounds: int) -> int:
    """Unseen texts, each once: Presidio's loop against the engine, round by round."""
    from presidio_anonymizer import AnonymizerEngine
    from varied_texts import varied_texts

    from dsar.text.engine import TextEngine
    from dsar.text.nlp import build_analyzer

    engine = TextEngine()
    analyzer, _ = build_analyzer()
    anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]

    def presidio_loop(batch: Sequence[str]) -> None:
        for text in batch:
            results = analyzer.analyze(text, language="en")
            anonymizer.anonymize(text, results)  # type: ignore[arg-type]

    def engine_run(batch: Sequence[str]) -> None:
        engine.redact(pa.array(batch, pa.string()))

    # first-call loading (the model, lexicons, phone metadata) outside the timings, on texts
    # never timed
    warm = varied_texts(40, seed=10_000)
    presidio_loop(warm)
    engine_run(warm)
    sets = ("labelled", "holdout", "fresh", "dev_unseen")
    written = [
        r.text
        for name in sets
        if (ROOT / "tests" / "text_eval" / f"{name}.jsonl").exists()
        for r in read_labelled(ROOT / "tests" / "text_eval" / f"{name}.jsonl")
    ]
    batches = [(f"round {i + 1}", varied_texts(n, seed=i + 1)) for i in range(rounds)]
    batches.append((f"open labelled sets ({len(set(written))} distinct)", written))
    rates: list[tuple[float, float]] = []
    for label, batch in batches:
        presidio = len(batch) / timed(lambda batch=batch: presidio_loop(batch))  # type: ignore[misc]
        ours = len(batch) / timed(lambda batch=batch: engine_run(batch))  # type: ignore[misc]
        rates.append((presidio, ours))
        print(
            f"{label}: {len(batch)} texts, Presidio {presidio:.0f} texts/s,"
            f" the engine {ours:.0f} texts/s ({ours / presidio:.1f}x)",
            flush=True,
        )
    generated = rates[:-1]
    ratio = statistics.median(o / p for p, o in generated)
    engine_rate = statistics.median(o for _, o in generated)
    presidio_rate = statistics.median(p for p, _ in generated)
    print(
        f"\nunseen generated texts, each once, {rounds} rounds of {n}: Presidio"
        f" {presidio_rate:.0f} texts/s, the engine {engine_rate:.0f} texts/s, {ratio:.1f}x"
        f" (median of the rounds' ratios); open labelled sets {rates[-1][1] / rates[-1][0]:.1f}x"
    )
    report(
        Ratio(
            f"free text, {rounds} x {n} unseen generated texts, each once",
            engine_rate,
            "texts/s",
            "Presidio's analyze + anonymize loop, same texts, each once",
            ratio,
            target=10.0,
        )
    )
    return 0


def _lost(before: str, after: str) -> int:
    """Words of the original text missing from the anonymised one (a multiset difference)."""
    from collections import Counter

    a = Counter(before.split())
    b = Counter(after.split())
    return sum((a - b).values())


if __name__ == "__main__":
    sys.exit(main())
