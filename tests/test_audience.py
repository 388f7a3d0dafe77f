"""Ad audiences: each platform's normalisation, the SQL twin, the files and their counts."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymize.audience import PLATFORMS, build_audience_file
from anonymize.audience.platforms import platform

EMAILS = st.builds(
    lambda local, domain, pad: f"{pad}{local}@{domain}{pad}",
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+ -]{0,15}", fullmatch=True),
    st.sampled_from(["gmail.com", "GoogleMail.com", "example.co.uk", "Mail.Example.org"]),
    st.sampled_from(["", " ", "  "]),
)


@settings(max_examples=200, deadline=None)
@given(value=EMAILS, name=st.sampled_from(sorted(PLATFORMS)))
def test_email_normalisation_is_idempotent_and_the_sql_twin_agrees(value: str, name: str) -> None:
    p = PLATFORMS[name]
    once = p.email(value)
    if once is not None:
        assert p.email(once) == once
        assert once == once.strip().lower() and "@" in once
    got = duckdb.execute(
        f"SELECT {p.email_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [value]
    ).fetchone()
    assert got is not None and got[0] == once


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("uid2", "Jane.Doe+promo@Gmail.com", "janedoe@gmail.com"),  # gmail: dots and +tag
        ("uid2", "jane.doe+promo@example.com", "jane.doe+promo@example.com"),  # others: kept
        ("google_ec", "Jane.Doe+promo@googlemail.com", "janedoe+promo@googlemail.com"),
        ("google", "  Jane.Doe@Gmail.com ", "jane.doe@gmail.com"),
        ("tiktok", "jane doe+shop@example.com", "janedoe@example.com"),
        ("meta", "not an email", None),
    ],
)
def test_platform_rules(name: str, given: str, expected: str | None) -> None:
    assert platform(name).email(given) == expected


def test_phones_to_each_platforms_form() -> None:
    assert platform("google").phone("+1 (616) 954-78 88") == "+16169547888"
    assert platform("meta").phone("+1 (616) 954-78 88") == "16169547888"
    assert platform("meta").phone("020 7946 0958", "GB") == "442079460958"
    assert platform("snap").phone("0044 20 7946 0958") == "442079460958"
    assert platform("uid2").phone("12") is None


def test_unknown_platform() -> None:
    with pytest.raises(Exception, match="unknown ad platform 'myspace'"):
        platform("myspace")


def test_files_counts_and_nothing_readable(tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    emails = [f"Person{i}@Example.com" for i in range(50)] + ["person1@example.com ", "bad", ""]
    source.write_text("email\n" + "\n".join(emails) + "\n")
    result = build_audience_file(source, "email", ["google", "uid2", "x"], tmp_path / "out")
    for name, files in result.files.items():
        counts = result.manifests[name].counts
        assert counts == {"rows_in": 53, "empty": 1, "invalid": 1, "duplicates": 1, "written": 50}
        rows = list(csv.reader(files[0].open()))
        body = rows[1:] if PLATFORMS[name].header else rows
        assert len(body) == 50 and len({r[0] for r in body}) == 50
        for (cell,) in body:  # no email and no phone-like digit run survives
            assert ("@" not in cell and not re.search(r"\d{7,}", cell.replace("=", ""))) or (
                PLATFORMS[name].encoding == "hex" and re.fullmatch(r"[0-9a-f]{64}", cell)
            )
    assert result.files["x"][0].read_text().count("\n") == 50  # no header line


def test_large_audiences_are_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import anonymize.audience.platforms as platforms

    monkeypatch.setitem(platforms.PLATFORMS, "meta", replace(PLATFORMS["meta"], max_rows=20))
    source = tmp_path / "list.csv"
    source.write_text("email\n" + "\n".join(f"p{i}@example.com" for i in range(45)) + "\n")
    result = build_audience_file(source, "email", ["meta"], tmp_path / "out")
    assert [f.name for f in result.files["meta"]] == [
        "meta-001.csv",
        "meta-002.csv",
        "meta-003.csv",
    ]
    assert sum(o.rows or 0 for o in result.manifests["meta"].outputs) == 45
