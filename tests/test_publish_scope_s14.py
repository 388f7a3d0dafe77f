"""Red team s14 F6: surrogates per publication. An attacker who files a ticket naming someone
(or themselves) learns that name's surrogate in that publication only: under one key, another
publication gives the person another surrogate and another thread token, and a re-run with
the same inputs differs; a `series` shares them on purpose, and its manifest says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anonymize.publish import run_publish
from dsar import Keys
from dsar.review.published import REVIEW_FILE, verify_published

KEY = Keys(b"f" * 32)

# the attacker's own ticket names the victim (and the attacker), so the attacker can read
# the victim's surrogate off publication 1 by where their own text lies
FIRST = [
    ("a1", "attacker", "Hello, my name is Dmitri Volkov and I write for Sabine Hartmann."),
    ("a2", "victim", "Sabine Hartmann here: the March invoice is wrong."),
    ("a3", "other", "The export times out every night."),
]
SECOND = [
    ("b1", "victim", "This is Sabine Hartmann again, my refund has not arrived."),
    ("b2", "other", "Nothing personal in this one, the export just times out."),
]


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(json.dumps({"rid": r, "user_id": u, "body": b}) + "\n" for r, u, b in rows),
        encoding="utf-8",
    )
    return path


def _publish(
    tmp_path: Path, rows: list[tuple[str, str, str]], name: str, **options: Any
) -> tuple[Any, dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Publish the rows; the result, the published rows by rid, and per rid the published
    text of each PERSON replacement (what the review file's positions point at)."""
    source = _write(tmp_path / name / "in.jsonl", rows)
    result = run_publish(
        source, "body", tmp_path / name / "out", keys=KEY, thread="user_id", keep=["rid"], **options
    )
    lines = [json.loads(line) for line in result.file.read_text(encoding="utf-8").splitlines()]
    by_rid = {r["rid"]: r for r in lines}
    names: dict[str, list[str]] = {}
    for line in (result.folder / REVIEW_FILE).read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["kind"] == "PERSON":
            row = lines[entry["row"] - 1]
            names.setdefault(row["rid"], []).append(row["body"][entry["start"] : entry["end"]])
    return result, by_rid, names


def _victim_surrogate(names: dict[str, list[str]], rid: str) -> str:
    full = [n for n in names[rid] if len(n.split()) == 2]
    assert full, "the victim's full name was replaced"
    return full[-1]


def test_a_name_learnt_in_one_publication_decodes_no_other(tmp_path: Path) -> None:
    one, rows1, names1 = _publish(tmp_path, FIRST, "one")
    two, rows2, names2 = _publish(tmp_path, SECOND, "two")
    # the attacker reads the victim's surrogate off their own ticket in publication 1
    learnt = _victim_surrogate(names1, "a1")
    assert learnt in rows1["a2"]["body"]  # within one publication: one person, one surrogate
    # publication 2 names the victim too, under the same key: another surrogate
    assert "Sabine Hartmann" not in rows2["b1"]["body"]
    assert learnt not in rows2["b1"]["body"]
    assert learnt.split()[-1] not in rows2["b1"]["body"]
    assert _victim_surrogate(names2, "b1") != learnt
    # and the victim's thread token links nothing across them
    assert rows1["a2"]["user_id"] != rows2["b1"]["user_id"]
    assert {r["user_id"] for r in rows1.values()}.isdisjoint(r["user_id"] for r in rows2.values())
    for result in (one, two):
        assert result.manifest.series is None
        assert len(result.manifest.publication_id or "") == 32
        assert verify_published(result.folder, keys=KEY).ok
    assert one.manifest.publication_id != two.manifest.publication_id


def test_a_run_again_with_the_same_inputs_differs(tmp_path: Path) -> None:
    first, rows1, names1 = _publish(tmp_path, FIRST, "1")
    again, rows2, names2 = _publish(tmp_path, FIRST, "2")
    assert _victim_surrogate(names1, "a2") != _victim_surrogate(names2, "a2")
    assert rows1["a2"]["user_id"] != rows2["a2"]["user_id"]
    assert first.file.read_bytes() != again.file.read_bytes()
    manifest = (first.folder / "manifest.json").read_text(encoding="utf-8")
    assert first.manifest.publication_id is not None and first.manifest.publication_id in manifest
    assert KEY.legacy_ledger_secret() not in manifest and "f" * 32 not in manifest


def test_a_series_shares_surrogates_and_says_so(tmp_path: Path) -> None:
    one, rows1, names1 = _publish(tmp_path, FIRST, "one", series="weekly")
    two, rows2, names2 = _publish(tmp_path, SECOND, "two", series="weekly")
    _, _, names3 = _publish(tmp_path, SECOND, "three", series="monthly")
    learnt = _victim_surrogate(names1, "a1")
    assert _victim_surrogate(names2, "b1") == learnt  # the cost: one name decodes the series
    assert rows1["a2"]["user_id"] == rows2["b1"]["user_id"]
    assert _victim_surrogate(names3, "b1") != learnt  # another series: another key
    for result in (one, two):
        assert result.manifest.series == "weekly" and result.manifest.publication_id is None
        checked = verify_published(result.folder, keys=KEY)
        assert checked.ok
        assert any("series 'weekly'" in n for n in checked.notices)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"publication_id": "0" * 32, "series": "weekly"}, "both a publication id and a series"),
        ({"publication_id": "not-an-id"}, "not 32 hexadecimal digits"),
        ({"publication_id": None, "series": "a/../b"}, "not a plain name"),
    ],
)
def test_verify_finds_a_malformed_scope(
    tmp_path: Path, edit: dict[str, str | None], message: str
) -> None:
    result, _, _ = _publish(tmp_path, SECOND, "p")
    path = result.folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(manifest | edit), encoding="utf-8")
    found = verify_published(result.folder).findings
    assert any(message in str(f) for f in found)


def test_a_series_name_must_be_plain(tmp_path: Path) -> None:
    from dsar.errors import UnsafeNameError

    with pytest.raises(UnsafeNameError):
        _publish(tmp_path, SECOND, "p", series="../x")


def test_cli_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from anonymize.cli import app

    monkeypatch.setenv("WORKBENCH_KEY", "f" * 32)
    source = _write(tmp_path / "in.jsonl", SECOND)
    outs = []
    for out in ("o1", "o2"):
        got = CliRunner().invoke(
            app,
            [
                "publish",
                "--input",
                str(source),
                "--column",
                "body",
                "--thread",
                "user_id",
                "--out",
                str(tmp_path / out),
                "--series",
                "weekly",
            ],
        )
        assert got.exit_code == 0, got.output
        assert "series 'weekly'" in got.output
        outs.append((tmp_path / out / "in" / "in.jsonl").read_bytes())
    assert outs[0] == outs[1]
