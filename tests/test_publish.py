"""Published support requests (`anonymize publish`, `dsar verify` of the folder): surrogates
keyed and consistent across a thread and the corpus, every format round-trips, unsure texts
held back, a review file without values, and the linkage attack finds nothing."""

from __future__ import annotations

import csv
import difflib
import json
import logging
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from anonymize.publish import PublishRejectedError, run_publish
from anonymize.publish_find import publishing_engine
from anonymize.surrogates import Surrogates, iban_valid, is_documentation_ip, luhn_valid
from dsar import Keys, load_catalog, open_engine
from dsar.errors import InputFileError, OutputExistsError
from dsar.io import sha256_file
from dsar.review.published import verify_published
from dsar.text import Span, TextEngine

KEY = Keys(b"p" * 32)
OTHER = Keys(b"q" * 32)

# (message id, thread, text): Maria Keller in two threads, alone by her given name in one
MESSAGES = [
    (
        "m1",
        "A",
        "Hi, this is Maria Keller. Mail me at maria.keller@kellerbau.de or call +49 30 1234567.",
    ),
    (
        "m2",
        "A",
        "Maria again: card 4111 1111 1111 1111 was charged twice, IBAN DE89 3704 0044 0532 0130 00.",
    ),
    ("m3", "A", "Thanks Maria, refunded. Regards, Jonas Weber"),
    ("m4", "B", "Jonas Weber here. Maria Keller told me our server 10.1.2.3 rejects logins."),
    (
        "m5",
        "C",
        "Reset link https://app.example.io/reset?token=ab12cd34ef56gh78ij90 fails, says Olusegun Adeyemi.",
    ),
    ("m6", "C", "Hello Olusegun, try again please."),
    ("m7", "D", "Nothing personal in this one, the export just times out."),
]
ORIGINAL_NAMES = ["Maria Keller", "Jonas Weber", "Olusegun Adeyemi"]
ORIGINAL_VALUES = [
    *ORIGINAL_NAMES,
    "maria.keller@kellerbau.de",
    "+49 30 1234567",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "10.1.2.3",
    "ab12cd34ef56gh78ij90",
]


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    records = [{"msg_id": m, "ticket": t, "body": b, "email": "x@kellerbau.de"} for m, t, b in rows]
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    elif path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, list(records[0]))
            writer.writeheader()
            writer.writerows(records)
    else:
        pq.write_table(pa.Table.from_pylist(records), path)
    return path


def _read(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def _publish(tmp_path: Path, suffix: str = ".jsonl", keys: Keys = KEY, **options: Any) -> Any:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = _write(tmp_path / f"tickets{suffix}", MESSAGES)
    out = tmp_path / f"out-{suffix.strip('.')}-{id(keys)}"
    return run_publish(source, "body", out, keys=keys, thread="ticket", keep=["msg_id"], **options)


def _by_id(result: Any) -> dict[str, str]:
    return {r["msg_id"]: r["body"] for r in _read(result.file)}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _publish(tmp_path_factory.mktemp("pub"), series="s")  # compared with other runs


def _names_at(result: Any) -> dict[str, list[str]]:
    """The published text of every PERSON replacement, per message id (by the review file)."""
    rows = _read(result.file)
    out: dict[str, list[str]] = {}
    for line in (result.folder / "review.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["kind"] == "PERSON":
            row = rows[entry["row"] - 1]
            out.setdefault(row["msg_id"], []).append(row["body"][entry["start"] : entry["end"]])
    return out


def test_a_person_keeps_one_surrogate_in_the_thread_and_the_corpus(published: Any) -> None:
    names = _names_at(published)
    maria = names["m1"][0]
    assert len(maria.split()) == 2 and maria != "Maria Keller"
    assert maria in names["m4"]  # another thread: the same surrogate
    jonas = names["m3"][-1]
    assert jonas in names["m4"] and jonas != maria


def test_the_given_name_alone_becomes_the_surrogates_given_name(published: Any) -> None:
    names = _names_at(published)
    given = names["m1"][0].split()[0]
    assert names["m2"] == [given]  # "Maria again": the thread knows Maria Keller
    assert given in names["m3"]  # "Thanks Maria"
    assert names["m6"] == [names["m5"][0].split()[0]]  # "Hello Olusegun"


def test_shapes_are_kept_and_valid(published: Any) -> None:
    texts = _by_id(published)
    assert re.search(r"[a-z.]+@example\.(com|org|net)", texts["m1"])
    assert re.search(r"\+49 \d\d \d{7}", texts["m1"]) and "+49 30 1234567" not in texts["m1"]
    card = re.search(r"4\d{3} \d{4} \d{4} \d{4}", texts["m2"])
    assert card and luhn_valid(card.group()) and card.group() != "4111 1111 1111 1111"
    iban = re.search(r"DE\d\d \d{4} \d{4} \d{4} \d{4} \d\d", texts["m2"])
    assert iban and iban_valid(iban.group())
    ip = re.search(r"server (\S+) rejects", texts["m4"])
    assert ip and is_documentation_ip(ip.group(1))
    token = re.search(r"token=(\w+)", texts["m5"])
    assert token and len(token.group(1)) == 20 and token.group(1) != "ab12cd34ef56gh78ij90"
    assert texts["m7"] == MESSAGES[6][2]


def test_only_the_columns_named_are_published(published: Any) -> None:
    rows = _read(published.file)
    assert set(rows[0]) == {"msg_id", "ticket", "body"}  # the email column is left out
    assert all(re.fullmatch(r"t-[0-9a-f]{16}", r["ticket"]) for r in rows)
    assert len({r["ticket"] for r in rows}) == 4


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_every_format_round_trips_with_the_same_surrogates(
    tmp_path: Path, published: Any, suffix: str
) -> None:
    result = _publish(tmp_path, suffix, series="s")
    assert result.file.suffix == suffix and result.manifest.format == suffix.strip(".")
    assert _by_id(result) == _by_id(published)
    assert verify_published(result.folder).ok


def test_the_same_key_and_series_give_the_same_output_and_another_key_another(
    tmp_path: Path,
) -> None:
    first = _publish(tmp_path / "1", series="s")
    again = _publish(tmp_path / "2", series="s")
    other = _publish(tmp_path / "3", keys=OTHER, series="s")
    assert first.file.read_bytes() == again.file.read_bytes()
    assert (first.folder / "review.jsonl").read_bytes() == (
        again.folder / "review.jsonl"
    ).read_bytes()
    mine, theirs = _by_id(first), _by_id(other)
    assert mine["m1"] != theirs["m1"] and mine["m4"] != theirs["m4"]


def test_the_review_file_and_manifest_hold_no_original_value(published: Any) -> None:
    review = (published.folder / "review.jsonl").read_text(encoding="utf-8")
    manifest = (published.folder / "manifest.json").read_text(encoding="utf-8")
    for value in ORIGINAL_VALUES + [w for n in ORIGINAL_NAMES for w in n.split()]:
        assert value.casefold() not in review.casefold()
        assert value.casefold() not in manifest.casefold()
    for line in review.splitlines():
        entry = json.loads(line)
        assert set(entry) <= {"row", "input_row", "kind", "reason", "start", "end"}
    m = published.manifest
    assert m.rows_in == 7 and m.rows_out + m.held_back == 7
    assert m.replaced["PERSON"] >= 8 and m.people >= 3


def test_linkage_attack_finds_no_original_by_exact_or_fuzzy_name(published: Any) -> None:
    """The attacker holds the original names and reads the published texts: every run of
    two capitalised words, compared exactly and by similarity, links to no one."""
    text = " ".join(_by_id(published).values())
    runs = re.findall(r"\b[A-ZÀ-Ý][\w'-]+ [A-ZÀ-Ý][\w'-]+", text)
    assert runs  # the surrogates are there to attack
    for original in ORIGINAL_NAMES:
        for run in runs:
            assert difflib.SequenceMatcher(None, run.casefold(), original.casefold()).ratio() < 0.8
    for value in ORIGINAL_VALUES:
        assert value.casefold() not in text.casefold()
    for word in {w for n in ORIGINAL_NAMES for w in n.split()}:
        assert not re.search(rf"\b{word}\b", text, re.IGNORECASE)


def test_a_surrogate_is_never_a_forbidden_name() -> None:
    first = Surrogates(KEY).person(("Maria", "Keller"), "de")
    taken = " ".join(first.parts).casefold()
    again = Surrogates(KEY, forbidden={taken}).person(("Maria", "Keller"), "de")
    assert " ".join(again.parts).casefold() != taken
    assert Surrogates(KEY).person(("Maria", "Keller"), "de") == first  # keyed, stable


def test_the_culture_of_a_name_is_kept() -> None:
    s = Surrogates(KEY)
    russian = s.person(("Иван", "Петров"), "en")
    assert all(re.fullmatch(r"[\u0400-\u04ff-]+", p) for p in russian.parts)
    chinese = s.person(("王伟",), "en")
    assert chinese.joined and all("\u4e00" <= ch <= "\u9fff" for ch in chinese.written("王伟"))
    german = s.person(("Jürgen", "Schmidt"), "de")
    assert german.parts != ("Jürgen", "Schmidt")


class _UnsureEngine(TextEngine):
    """The publishing engine, reporting a phone declined by a close margin (scored 0.4) in
    any text that says 'ring me'."""

    def analyze(self, texts: Any, entities: Any = None) -> list[list[Span]]:
        found = super().analyze(texts, entities)
        values = texts.to_pylist() if hasattr(texts, "to_pylist") else list(texts)
        for text, spans in zip(values, found, strict=True):
            if text and "ring me" in text:
                spans.append(
                    Span(text.index("ring me"), text.index("ring me") + 7, "PHONE_NUMBER", 0.4)
                )
        return found


def test_an_unsure_text_is_held_back_and_listed_without_its_value(tmp_path: Path) -> None:
    rows = [
        *MESSAGES,
        ("m8", "E", "Please ring me, Maria Keller."),
        ("m9", "F", "Talk to Okonkwo Logistics."),
    ]
    source = _write(tmp_path / "t.jsonl", rows)
    base = publishing_engine()
    engine = _UnsureEngine(policy=base.policy)
    result = run_publish(
        source,
        "body",
        tmp_path / "out",
        keys=KEY,
        thread="ticket",
        keep=["msg_id"],
        text_engine=engine,
    )
    published_ids = set(_by_id(result))
    assert "m8" not in published_ids and "m9" not in published_ids
    assert result.manifest.held_back == 2 and result.manifest.rows_out == 7
    held = [json.loads(x) for x in (result.folder / "review.jsonl").read_text().splitlines()]
    held = [e for e in held if e["kind"] == "held_back"]
    assert {e["input_row"] for e in held} == {8, 9}
    assert {e["reason"] for e in held} == {"PHONE_NUMBER", "DECLINED_NAME"}
    assert "Okonkwo" not in (result.folder / "review.jsonl").read_text()
    assert verify_published(result.folder).ok


def test_verify_passes_a_clean_folder_with_and_without_its_source(tmp_path: Path) -> None:
    result = _publish(tmp_path)
    assert verify_published(result.folder).ok
    assert verify_published(result.folder, source=tmp_path / "tickets.jsonl").ok


def test_verify_fails_an_edited_byte(tmp_path: Path) -> None:
    result = _publish(tmp_path)
    data = bytearray(result.file.read_bytes())
    data[10] = ord("X") if data[10] != ord("X") else ord("Y")
    result.file.write_bytes(bytes(data))
    findings = [str(f) for f in verify_published(result.folder).findings]
    assert any("SHA-256 differs" in f for f in findings)


def _reinsert(result: Any, old: str, new: str) -> None:
    """Put an original back and fix the checksums, as someone covering it up would."""
    text = result.file.read_text(encoding="utf-8").replace(old, new)
    result.file.write_text(text, encoding="utf-8")
    path = result.folder / "manifest.json"
    manifest = json.loads(path.read_text())
    for out in manifest["outputs"]:
        if out["path"] == result.file.name:
            out["sha256"], out["bytes"] = sha256_file(result.file), result.file.stat().st_size
    path.write_text(json.dumps(manifest))


def test_verify_fails_a_reinserted_original(tmp_path: Path) -> None:
    result = _publish(tmp_path)
    maria = _names_at(result)["m1"][0]
    _reinsert(result, maria, "Maria Keller")
    findings = [
        str(f) for f in verify_published(result.folder, source=tmp_path / "tickets.jsonl").findings
    ]
    assert any("an original name is published" in f for f in findings), findings
    assert not any("Maria" in f or "Keller" in f for f in findings)


def test_verify_fails_a_reinserted_email_without_the_source(tmp_path: Path) -> None:
    result = _publish(tmp_path)
    email = re.search(r"\S+@example\.\w+", _by_id(result)["m1"])
    assert email
    _reinsert(result, email.group(), "maria.keller@kellerbau.de")
    findings = [str(f) for f in verify_published(result.folder).findings]
    assert any("email outside the reserved domains" in f for f in findings), findings


def test_refusals(tmp_path: Path, published: Any) -> None:
    source = _write(tmp_path / "support.jsonl", MESSAGES)
    with pytest.raises(OutputExistsError, match="never overwritten"):
        run_publish(source, "body", published.folder.parent, keys=KEY, name=published.folder.name)
    with pytest.raises(InputFileError, match="no column 'text'"):
        run_publish(tmp_path / "support.jsonl", "text", tmp_path / "o", keys=KEY)
    with pytest.raises(TypeError, match=r"dsar\.Keys"):
        run_publish(tmp_path / "support.jsonl", "body", tmp_path / "o", keys=b"k" * 32)  # type: ignore[arg-type]


def test_no_original_value_in_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _publish(tmp_path)
    for value in ORIGINAL_VALUES:
        assert value not in caplog.text


def test_the_catalogs_identifiers_and_people_are_never_published(
    tmp_path: Path, demo_export: Path
) -> None:
    """With the catalog: an account id in a text becomes an id of the same shape that no
    account has, and no surrogate is the name of a person of the export."""
    catalog = load_catalog(demo_export)
    with open_engine(catalog) as engine:
        ids = set(engine.query("SELECT user_id FROM accounts").column(0).to_pylist())
        names = {
            " ".join(n.casefold().split())
            for n in engine.query("SELECT full_name FROM accounts").column(0).to_pylist()
            if n
        }
        rows = [("i1", "X", "Account u0000042 cannot sync, says the owner.")]
        source = _write(tmp_path / "ids.jsonl", rows)
        result = run_publish(
            source, "body", tmp_path / "out", keys=KEY, engine=engine, keep=["msg_id"]
        )
        text = _by_id(result)["i1"]
        new = re.search(r"\bu\d{7}\b", text)
        assert new and new.group() != "u0000042" and new.group() not in ids
        tickets = demo_export.parent / "support_tickets.jsonl"
        full = run_publish(
            tickets, "body", tmp_path / "full", keys=KEY, thread="user_id", engine=engine
        )
    published = _read(full.file)
    for line in (full.folder / "review.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["kind"] == "PERSON":
            value = published[entry["row"] - 1]["body"][entry["start"] : entry["end"]]
            assert " ".join(value.casefold().split()) not in names
    assert verify_published(full.folder, source=tickets).ok


def test_cli_publish_then_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from anonymize.cli import app
    from dsar.cli import app as dsar_app

    source = _write(tmp_path / "t.csv", MESSAGES)
    runner = CliRunner()
    monkeypatch.delenv("WORKBENCH_KEY", raising=False)
    refused = runner.invoke(
        app, ["publish", "--input", str(source), "--column", "body", "--out", str(tmp_path / "o")]
    )
    assert refused.exit_code != 0
    monkeypatch.setenv("WORKBENCH_KEY", "k" * 40)
    done = runner.invoke(
        app,
        [
            "publish",
            "--input",
            str(source),
            "--column",
            "body",
            "--thread",
            "ticket",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "Maria" not in done.output
    checked = runner.invoke(
        dsar_app, ["verify", str(tmp_path / "o" / "t"), "--source", str(source)]
    )
    assert checked.exit_code == 0, checked.output


def test_rejected_publication_is_set_aside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder whose own check finds an original is never published under its name."""
    from anonymize.surrogates import Surrogates as Made

    monkeypatch.setattr(Made, "value", lambda self, kind, original, normalised: original)
    with pytest.raises(PublishRejectedError, match="failed its own check"):
        _publish(tmp_path)
    assert not any(p.name == "tickets" for p in tmp_path.glob("out-*/*"))
    assert any(p.name.endswith(".REJECTED") for p in tmp_path.glob("out-*/*"))


def test_a_text_read_anew_after_replacing_is_held_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the reviewer's engine reads, in a published text, an identifier where no
    replacement stands (a word beside a surrogate now reads as a name), the text is held
    back with reason REREAD and the rest is published."""
    import anonymize.publish as publish

    class Rereading(TextEngine):
        def analyze(self, texts: Any, entities: Any = None) -> list[list[Span]]:
            found = super().analyze(texts, entities)
            values = texts.to_pylist() if hasattr(texts, "to_pylist") else list(texts)
            for text, spans in zip(values, found, strict=True):
                if text and text.startswith("Nothing personal"):
                    spans.append(Span(0, 7, "PERSON", 0.9))
            return found

    monkeypatch.setattr(publish, "TextEngine", Rereading)
    result = _publish(tmp_path)
    assert "m7" not in _by_id(result) and result.manifest.held_back == 1
    entries = [json.loads(x) for x in (result.folder / "review.jsonl").read_text().splitlines()]
    assert [e for e in entries if e["kind"] == "held_back"] == [
        {"input_row": 7, "kind": "held_back", "reason": "REREAD"}
    ]
    assert verify_published(result.folder).ok
