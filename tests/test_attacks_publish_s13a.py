"""Red team s13 on published support requests, findings F1, F2 and F4: what leaves beside
the texts, and what the check sees.

- F1: a `--keep` column holding an email, a name or a nested object of them was published
  raw, and `dsar verify --source` said OK; Parquet wrote the kept column's min and max.
- F2: a value replaced in one text stayed in another written form (percent-encoded,
  full-width, base64, a soft hyphen or zero-width space inside the name, a phone's bare
  digits, "Surname, Given", the surname alone), and the check did not decode them.
- F4: the company's ids written otherwise (u 0000001, u-0000001, user id 0000001,
  cus-3075e26a50, 3075e26a50) were published, and `dsar verify --catalog` said OK.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import anonymize.publish as publish
from anonymize.publish import PublishRejectedError, run_publish
from anonymize.publish_find import CompanyIds
from dsar import Keys, load_catalog, open_engine
from dsar.errors import InputFileError
from dsar.review.published import verify_published

KEY = Keys(b"s" * 32)
EMAIL = "karl.hale@moonwells.co.uk"


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _bodies(result: Any) -> list[str]:
    if result.file.suffix == ".parquet":
        return [r["body"] for r in pq.read_table(result.file).to_pylist()]
    return [json.loads(line)["body"] for line in result.file.read_text("utf-8").splitlines()]


# -- F1: kept columns ------------------------------------------------------------------------

KEPT = [
    {
        "rid": "r0",
        "user_id": "u1",
        "email": EMAIL,
        "status": "open",
        "body": "Karl Hale here, call +44 7337 444845",
        "meta": {"from": "Karl Hale", "cc": [EMAIL]},
    },
    {
        "rid": "r1",
        "user_id": "u2",
        "email": "nathaliej@gmail.com",
        "status": "closed",
        "body": "Nathalie Jacob: my invoice is wrong, call 06-12345678",
        "meta": {"from": "x", "cc": []},
    },
]


@pytest.mark.parametrize("kept", ["email", "meta"])
def test_a_kept_column_with_personal_data_is_refused_naming_kinds_not_values(
    tmp_path: Path, kept: str
) -> None:
    source = _jsonl(tmp_path / "in.jsonl", KEPT)
    with pytest.raises(InputFileError) as refused:
        run_publish(source, "body", tmp_path / "o", keys=KEY, thread="user_id", keep=["rid", kept])
    message = str(refused.value)
    assert repr(kept) in message and "EMAIL_ADDRESS" in message
    if kept == "meta":
        assert "PERSON" in message  # a nested object, read leaf by leaf
    for value in (EMAIL, "Karl Hale", "nathaliej"):
        assert value not in message
    assert not (tmp_path / "o" / "in").exists()
    # a plain kept column still goes through
    done = run_publish(
        source, "body", tmp_path / "ok", keys=KEY, thread="user_id", keep=["rid", "status"]
    )
    assert verify_published(done.folder, source=source).ok


def test_the_check_reads_every_column_so_a_kept_email_rejects_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the screen off, the folder's own check (every column, not only the texts)
    finds the kept email and the nested name, and sets the folder aside."""
    monkeypatch.setattr(publish, "_screen_kept", lambda *args: None)
    source = _jsonl(tmp_path / "in.jsonl", KEPT)
    with pytest.raises(PublishRejectedError) as rejected:
        run_publish(
            source, "body", tmp_path / "o", keys=KEY, thread="user_id", keep=["rid", "email"]
        )
    found = " ".join(rejected.value.findings)
    assert "column 'email'" in found and "EMAIL_ADDRESS" in found
    assert EMAIL not in found
    aside = next((tmp_path / "o").glob("*.REJECTED"))
    assert not verify_published(aside, source=source).ok


def test_parquet_has_no_column_statistics_and_the_check_refuses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{k: v for k, v in r.items() if k != "meta"} for r in KEPT]
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), source, write_statistics=True)
    done = run_publish(
        source, "body", tmp_path / "o", keys=KEY, thread="user_id", keep=["rid", "status"]
    )
    meta = pq.ParquetFile(done.file).metadata
    for group in range(meta.num_row_groups):
        for i in range(meta.num_columns):
            stats = meta.row_group(group).column(i).statistics
            assert stats is None or not stats.has_min_max
    # a writer that keeps statistics is caught by the folder's own check
    real = pq.write_table

    def with_stats(table: pa.Table, where: Path, **_: Any) -> None:
        real(table, where, write_statistics=True)

    monkeypatch.setattr(pq, "write_table", with_stats)
    with pytest.raises(PublishRejectedError, match="column statistics"):
        run_publish(
            source, "body", tmp_path / "o2", keys=KEY, thread="user_id", keep=["rid", "status"]
        )


# -- F2: other written forms ------------------------------------------------------------------

FORMS = [
    (
        "a",
        f"Hello, I am Anna Kowalska, my email is {EMAIL} and phone +31 6 1234 5678,"
        " card 4111 1111 1111 1111, IBAN NL91 ABNA 0417 1643 00.",
    ),
    ("d", "Anna\u00adKowalska wrote this"),
    ("e", "Anna Kowal\u200bska wrote this"),
    ("f", "Kowalska, Anna wrote this"),
    ("i", "mailto:karl.hale%40moonwells.co.uk"),
    ("j", "KARL.HALE\uff20MOONWELLS\uff0eCO\uff0eUK"),
    ("l", "a2FybC5oYWxlQG1vb253ZWxscy5jby51aw=="),
    ("m", "31612345678"),
    ("o", "+31 (0)6 1234 5678"),
    ("r", "4111.1111.1111.1111"),
    ("t", "nl91 abna 0417 1643 00"),
    ("u", "Kowalska said hi"),
]


def _forms_source(tmp_path: Path) -> Path:
    return _jsonl(
        tmp_path / "in.jsonl",
        [{"rid": f"r{i:02d}", "thread": t, "body": b} for i, (t, b) in enumerate(FORMS)],
    )


def _leaks(text: str) -> list[str]:
    """The originals a published text still holds, in any of the red team's forms."""
    import base64
    import unicodedata
    from urllib.parse import unquote

    plain = unicodedata.normalize("NFKC", unquote(text)).casefold()
    plain = re.sub("[\u00ad\u200b]", "", plain)
    for run in re.findall(r"[A-Za-z0-9+/]{12,}={0,2}", text):
        with contextlib.suppress(ValueError):
            plain += " " + base64.b64decode(run + "=" * (-len(run) % 4)).decode().casefold()
    digits = re.sub(r"\D", "", plain)
    found = [v for v in (EMAIL, "kowalska", "anna") if v in plain]
    found += [v for v in ("612345678", "4111111111111111") if v in digits]
    found += ["iban"] if "nl91abna0417164300" in re.sub(r"[^0-9a-z]", "", plain) else []
    return found


def test_every_written_form_of_a_replaced_value_is_replaced(tmp_path: Path) -> None:
    source = _forms_source(tmp_path)
    done = run_publish(source, "body", tmp_path / "o", keys=KEY, thread="thread", keep=["rid"])
    bodies = _bodies(done)
    assert len(bodies) == len(FORMS)  # none held back, none rejected
    for body in bodies:
        assert _leaks(body) == [], body
    assert any(re.fullmatch(r"[A-Za-z0-9+/]+=*", b) for b in bodies)  # base64 stays base64
    assert verify_published(done.folder, source=source).ok


def test_the_check_decodes_the_forms_and_reads_phones_and_names_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With publish's own forms off, the folder's check (and `verify --source` later) finds
    each form: percent, full-width, base64, invisible characters, bare digits, "Surname,
    Given" and the surname alone."""
    monkeypatch.setattr(publish, "_other_forms", lambda items, export: None)
    source = _forms_source(tmp_path)
    with pytest.raises(PublishRejectedError):
        run_publish(source, "body", tmp_path / "o", keys=KEY, thread="thread", keep=["rid"])
    aside = next((tmp_path / "o").glob("*.REJECTED"))
    found = [str(f) for f in verify_published(aside, source=source).findings]
    said = " ".join(found)
    for what in (
        "email is published (percent-encoded)",
        "email is published (in base64)",
        "email is published (in full-width",
        "an original phone",
        "an original surname is published alone",
    ):
        assert what in said, what
    assert EMAIL not in said and "Kowalska" not in said
    published = (aside / "in.jsonl").read_text("utf-8").splitlines()  # not review.jsonl
    bodies = [json.loads(line)["body"] for line in published]
    hidden = next((n for n, b in enumerate(bodies, 1) if "\u00ad" in b), 0)
    if hidden:  # the soft hyphen's surname, read through it
        assert f"row {hidden}: an original" in said
    else:  # publish's own re-read found the surname beside some surrogates and held it back
        review = [json.loads(line) for line in (aside / "review.jsonl").read_text().splitlines()]
        assert {"input_row": 2, "kind": "held_back", "reason": "REREAD"} in review
    turned = next((n for n, b in enumerate(bodies, 1) if b == "Kowalska, Anna wrote this"), 0)
    if turned:  # the engine left "Surname, Given" whole: the check reads it
        assert f"row {turned}: an original name" in said


# -- F4: the company's ids written otherwise ------------------------------------------------


def test_company_ids_in_variant_forms_are_replaced_and_checked(
    tmp_path: Path, demo_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = load_catalog(demo_export)
    with open_engine(catalog) as engine:
        row = engine.query(
            "SELECT user_id, customer_id FROM accounts WHERE customer_id IS NOT NULL LIMIT 1"
        ).to_pylist()[0]
        user, customer = row["user_id"], row["customer_id"]
        prefix, tail = re.fullmatch(r"([a-z]+)_?(\w+)", customer).groups()  # type: ignore[union-attr]
        digits = user[1:]
        texts = [
            f"my account is {user}",
            f"account u {digits} / u-{digits} / u_{digits}",
            f"user id {digits}",
            f"customer {prefix}-{tail} please",
            f"customer {tail} please",
            f"customer {customer.upper()} please",
        ]
        source = _jsonl(
            tmp_path / "ids.jsonl",
            [{"rid": f"r{i}", "thread": f"t{i}", "body": b} for i, b in enumerate(texts)],
        )
        done = run_publish(
            source, "body", tmp_path / "o", keys=KEY, thread="thread", keep=["rid"], engine=engine
        )
        bodies = _bodies(done)
        assert len(bodies) == len(texts)
        for body in bodies:
            assert digits not in body and tail.casefold() not in body.casefold(), body
        assert any(re.search(r"\bu-\d{7}\b", b) for b in bodies)  # the separator kept
        assert any(re.search(rf"\b{prefix}-\w{{{len(tail)}}}\b", b) for b in bodies)
        # with publish's variants off, the folder's own check rejects it
        monkeypatch.setattr(CompanyIds, "variants", lambda self, text: [])
        with pytest.raises(PublishRejectedError, match="an original identifier"):
            run_publish(
                source,
                "body",
                tmp_path / "o2",
                keys=KEY,
                thread="thread",
                keep=["rid"],
                engine=engine,
            )
    aside = next((tmp_path / "o2").glob("*.REJECTED"))
    # and `dsar verify --source --catalog` finds it too (it reads the catalog's ids)
    from dsar.cli import app

    runner = CliRunner()
    args = ["verify", str(aside), "--source", str(source)]
    checked = runner.invoke(app, [*args, "--catalog", str(demo_export)])
    assert checked.exit_code != 0 and "an original identifier" in checked.output
    assert digits not in checked.output and tail not in checked.output
    clean = runner.invoke(
        app, ["verify", str(done.folder), *args[2:], "--catalog", str(demo_export)]
    )
    assert clean.exit_code in (0, 3) and "[original]" not in clean.output  # 3: no key given


def test_an_address_written_only_encoded_is_replaced_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No plain writing anywhere (red team c3): percent-encoded, full-width and base64
    addresses are addresses all the same, replaced, and found by the check."""
    rows = [
        {"rid": "r0", "thread": "a", "body": "mailto:karl.hale%40moonwells.co.uk"},
        {"rid": "r1", "thread": "b", "body": "mail: karl\uff0ehale\uff20moonwells\uff0eco\uff0euk"},
        {"rid": "r2", "thread": "c", "body": "a2FybC5oYWxlQG1vb253ZWxscy5jby51aw=="},
    ]
    source = _jsonl(tmp_path / "in.jsonl", rows)
    done = run_publish(source, "body", tmp_path / "o", keys=KEY, thread="thread", keep=["rid"])
    for body in _bodies(done):
        assert _leaks(body) == [], body
    assert verify_published(done.folder, source=source).ok
    monkeypatch.setattr(publish, "_other_forms", lambda items, export: None)
    with pytest.raises(PublishRejectedError, match="an email outside the reserved domains"):
        run_publish(source, "body", tmp_path / "o2", keys=KEY, thread="thread", keep=["rid"])
    aside = next((tmp_path / "o2").glob("*.REJECTED"))
    said = " ".join(str(f) for f in verify_published(aside).findings)  # without the source
    for how in ("percent-encoded", "full-width", "base64"):
        assert how in said, how
