"""Red team s14 F9: a nested text cell (a JSON object or list; a Parquet struct or list) was
published as its Python rendering (`{'a': 'b'}`). It is published in its own shape, valid
JSON, with every string inside replaced, and the folder verifies against its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anonymize.publish import run_publish
from dsar import Keys
from dsar.review.published import HELD_BACK, REVIEW_FILE, cell_text, verify_published

KEY = Keys(b"n" * 32)
ORIGINALS = [
    "Maria Keller",
    "maria.keller@kellerbau.de",
    "+49 30 1234567",
    "Jonas Weber",
    "Keller",
]
ROWS: list[dict[str, Any]] = [
    {
        "rid": "n1",
        "user_id": "u1",
        "body": {
            "subject": "Refund for Maria Keller",
            "messages": [
                "Hi, this is Maria Keller. Mail me at maria.keller@kellerbau.de please.",
                "Or call me on +49 30 1234567 in the morning.",
            ],
            "meta": {"count": 2, "urgent": True, "score": 1.5, "tags": ["billing", None]},
        },
    },
    {
        "rid": "n2",
        "user_id": "u2",
        "body": ["Jonas Weber wrote: the export fails.", "Thanks, the export works now."],
    },
    {"rid": "n3", "user_id": "u3", "body": "A plain text from Jonas Weber about the export."},
]


def _shape(value: Any) -> Any:
    """The value with every string blanked: what must not change."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "" if isinstance(value, str) else value


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _published(result: Any) -> dict[str, Any]:
    if result.file.suffix == ".parquet":
        return {r["rid"]: r["body"] for r in pq.read_table(result.file).to_pylist()}
    lines = result.file.read_text(encoding="utf-8").splitlines()
    return {r["rid"]: r["body"] for r in (json.loads(line) for line in lines)}


def test_nested_json_is_published_as_json_in_its_shape_with_names_replaced(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    result = run_publish(source, "body", tmp_path / "out", keys=KEY, thread="user_id", keep=["rid"])
    raw = result.file.read_text(encoding="utf-8")
    assert "{'" not in raw and "['" not in raw  # no Python rendering
    got = _published(result)
    assert set(got) == {"n1", "n2", "n3"}
    for row in ROWS:
        original, published = row["body"], got[row["rid"]]
        assert type(published) is type(original)
        assert _shape(published) == _shape(original)
        strings = " ".join(_strings(published)) if not isinstance(published, str) else published
        for value in ORIGINALS:
            assert value not in strings
    # the same person keeps one surrogate across the leaves and the cells
    subject = got["n1"]["subject"].removeprefix("Refund for ")
    assert subject in got["n1"]["messages"][0]
    assert got["n1"]["messages"][1].startswith("Or call me on +49 ")
    assert "@example." in got["n1"]["messages"][0]
    assert got["n1"]["meta"] == ROWS[0]["body"]["meta"]  # numbers, booleans and tags kept
    assert verify_published(result.folder, source=source, keys=KEY).ok


def test_the_review_positions_point_into_the_cells_text(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    result = run_publish(source, "body", tmp_path / "out", keys=KEY, keep=["rid"])
    lines = [json.loads(line) for line in result.file.read_text(encoding="utf-8").splitlines()]
    replaced = []
    for line in (result.folder / REVIEW_FILE).read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["kind"] == "EMAIL_ADDRESS":
            text = cell_text(lines[entry["row"] - 1]["body"])
            assert text is not None
            replaced.append(text[entry["start"] : entry["end"]])
    assert len(replaced) == 1 and replaced[0].endswith(
        ("example.com", "example.org", "example.net")
    )


def test_a_nested_parquet_column_keeps_its_type(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    table = pa.table(
        {
            "rid": ["p1", "p2"],
            "body": pa.array(
                [
                    {"subject": "Refund for Maria Keller", "lines": ["Call +49 30 1234567"]},
                    {"subject": "The export fails", "lines": ["Thanks"]},
                ],
                pa.struct([("subject", pa.string()), ("lines", pa.list_(pa.string()))]),
            ),
        }
    )
    pq.write_table(table, source)
    result = run_publish(source, "body", tmp_path / "out", keys=KEY, keep=["rid"])
    assert pq.read_table(result.file).schema.field("body").type == table.schema.field("body").type
    got = _published(result)
    assert "Maria Keller" not in got["p1"]["subject"] and got["p1"]["subject"].startswith("Refund")
    assert "1234567" not in got["p1"]["lines"][0]
    assert got["p2"] == {"subject": "The export fails", "lines": ["Thanks"]}
    assert verify_published(result.folder, source=source, keys=KEY).ok


@pytest.mark.parametrize(
    ("body", "held"),
    [
        ({"card": 4111111111111111, "note": "Call Maria Keller back."}, True),  # a number
        (["Call Maria Keller on", "+49 30 1234567"], False),  # each value in its own leaf
    ],
)
def test_a_number_leaf_the_engine_reads_is_held_back_never_turned_into_text(
    tmp_path: Path, body: Any, held: bool
) -> None:
    source = tmp_path / "in.jsonl"
    rows = [{"rid": "h1", "body": body}, {"rid": "h2", "body": "The export fails."}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = run_publish(source, "body", tmp_path / "out", keys=KEY, keep=["rid"])
    got = _published(result)
    assert ("h1" not in got) == held
    if held:  # a card as a JSON number: replacing it would make it text
        review = [json.loads(line) for line in (result.folder / REVIEW_FILE).open()]
        assert [(e["kind"], e["reason"]) for e in review if e["kind"] == HELD_BACK] == [
            (HELD_BACK, "NESTED")
        ]
    else:
        assert _shape(got["h1"]) == _shape(body)
        assert "Maria Keller" not in json.dumps(got["h1"])
        assert "1234567" not in json.dumps(got["h1"])
    assert verify_published(result.folder, source=source, keys=KEY).ok
