"""Red team 24 round 3 (24c) on published support requests, findings F4, F8, F9, F10 and F13:
kept columns, linking rows back, and surrogates that copy the original's shape.

- F4: a `--keep` column published a person's name in lower case ("from hope summerfield",
  "siobhán ó súilleabháin"), a given name the texts replaced ("ottilie"), its surname
  ("brandvold") or the given name and an initial ("OTTILIE B.", decoding the surrogate in
  the same row); publish and `dsar verify --source` passed them.
- F9: `--keep created_at` (a time to the second) was accepted: every published row joined
  back to its source row, and two publications joined row by row.
- F10: two publications of the same texts without `--series` pair up row by row by their
  masked text: the README and SECURITY.md say so, and `--series` is the way.
- F8: an email's surrogate copied the original's word lengths, separators, apostrophe and
  capitals ("O'Brien.Kate" gave "Y'Kahgp.Dnvy"); a URL slug's its words' lengths.
- F13: an IPv6 address with zero-padded groups or a /64 suffix kept its last group (read as a
  port); "fe80::1%eth0" became an IPv4 address glued to IPv6 text.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from anonymize.publish import run_publish
from anonymize.surrogates import Surrogates
from dsar import Keys
from dsar.errors import InputFileError, UsageError
from dsar.review.published import verify_published

KEY = Keys(b"r" * 32)
ROOT = Path(__file__).resolve().parents[1]


def _csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# -- F4: a kept column holding a name ------------------------------------------------------------

TEXTS = [
    ("A", "Contact Ottilie Brandvold please, she set up the sync."),
    ("B", "Maya Reinhardt opened this, the export fails every night."),
    ("C", "hello, is there any news on the refund?"),
    ("D", "The invoice still shows the wrong amount."),
]
NAMED = [
    "from hope summerfield",  # lower case, no list holds the surname
    "siobhán ó súilleabháin",  # a particle between two words of no language
    "fergal",  # a listed given name no language uses as a word
    "ottilie",  # the given name of a person the texts replace
    "OTTILIE B.",  # the same, upper case, with an initial: decodes the surrogate
    "brandvold",  # the surname alone
    "Maria K.",  # a listed given name and an initial
]


@pytest.mark.parametrize("named", NAMED)
def test_f4_a_kept_column_reading_as_a_name_is_refused_naming_column_and_count(
    tmp_path: Path, named: str
) -> None:
    notes = ["web", "email", "chat", named]
    rows = [
        {"ticket": t, "text": text, "note": note}
        for (t, text), note in zip(TEXTS, notes, strict=True)
    ]
    source = _csv(tmp_path / "in.csv", rows)
    with pytest.raises(InputFileError) as refused:
        run_publish(source, "text", tmp_path / "o", keys=KEY, thread="ticket", keep=["note"])
    message = str(refused.value)
    assert "'note'" in message and "PERSON 1 distinct" in message
    for word in re.findall(r"\w+", named):
        if len(word) > 1:
            assert word.casefold() not in message.casefold()
    assert not (tmp_path / "o" / "in").exists()


def test_f4_plain_kept_columns_still_go_through(tmp_path: Path) -> None:
    statuses = ["open", "closed", "pending", "open"]
    channels = ["web", "email", "chat", "phone"]
    priorities = ["Webhook timeouts", "low", "normal", "will grant"]  # no names
    rows = [
        {"ticket": t, "text": text, "status": s, "channel": c, "priority": p}
        for (t, text), s, c, p in zip(TEXTS, statuses, channels, priorities, strict=True)
    ]
    source = _csv(tmp_path / "in.csv", rows)
    done = run_publish(
        source,
        "text",
        tmp_path / "o",
        keys=KEY,
        thread="ticket",
        keep=["status", "channel", "priority"],
        series="t",
    )
    published = _rows(done.file)
    assert sorted(r["status"] for r in published) == sorted(statuses)
    assert verify_published(done.folder, source=source).ok


def test_f4_the_command_line_says_the_column_and_never_the_value(tmp_path: Path) -> None:
    from anonymize.cli import app

    rows = [
        {"ticket": t, "text": text, "agent": agent}
        for (t, text), agent in zip(TEXTS, ["web", "OTTILIE B.", "web", "brandvold"], strict=True)
    ]
    source = _csv(tmp_path / "in.csv", rows)
    got = CliRunner().invoke(
        app,
        [
            "publish",
            *("--input", str(source), "--column", "text", "--thread", "ticket"),
            *("--keep", "agent", "--out", str(tmp_path / "o")),
        ],
        env={"WORKBENCH_KEY": "r" * 40},
    )
    said = f"{got.output} {got.exception}"  # `main` prints a workbench error; the runner keeps it
    assert got.exit_code != 0
    assert "'agent'" in said and "PERSON 2" in said
    assert "ottilie" not in said.casefold() and "brandvold" not in said.casefold()


# -- F9: a kept column that links rows back ------------------------------------------------------


def _timed(n: int) -> list[dict[str, Any]]:
    start = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
    return [
        {
            "ticket": f"T{i // 2}",
            "text": f"The sync failed again on run {i}, please check.",
            "created_at": (start + timedelta(hours=7 * i, seconds=i)).isoformat(),
            "ref": f"v{i}",
            "status": ["open", "closed"][i % 2],
        }
        for i in range(n)
    ]


def test_f9_a_kept_time_of_day_is_refused_and_coarsened_on_request(tmp_path: Path) -> None:
    rows = _timed(120)
    source = _csv(tmp_path / "in.csv", rows)
    with pytest.raises(InputFileError) as refused:
        run_publish(source, "text", tmp_path / "o", keys=KEY, thread="ticket", keep=["created_at"])
    message = str(refused.value)
    assert "'created_at'" in message and "120 time(s) of day" in message
    assert "--keep-coarse created_at=day" in message
    assert rows[0]["created_at"] not in message
    done = run_publish(
        source,
        "text",
        tmp_path / "o",
        keys=KEY,
        thread="ticket",
        keep=["status"],
        coarse={"created_at": "week"},
    )
    published = _rows(done.file)
    weeks = {date.fromisoformat(r["created_at"]) for r in published}
    assert all(w.weekday() == 0 for w in weeks) and len(weeks) < 10
    assert {r["created_at"] for r in published}.isdisjoint(r["created_at"] for r in rows)
    assert done.manifest.parameters["kept_coarse"] == {"created_at": "week"}
    assert "created_at" in done.manifest.kept
    assert verify_published(done.folder, source=source).ok


def test_f9_a_kept_value_almost_every_thread_holds_alone_is_refused(tmp_path: Path) -> None:
    source = _csv(tmp_path / "in.csv", _timed(120))
    with pytest.raises(InputFileError) as refused:
        run_publish(source, "text", tmp_path / "o", keys=KEY, thread="ticket", keep=["ref"])
    assert "'ref' is unique to almost every thread or row: 60 of 60" in str(refused.value)
    # a day is coarse enough here: three tickets a day
    done = run_publish(
        source, "text", tmp_path / "o", keys=KEY, thread="ticket", coarse={"created_at": "day"}
    )
    assert len({r["created_at"] for r in _rows(done.file)}) <= 36


def test_f9_parquet_timestamps_and_bad_units(tmp_path: Path) -> None:
    rows = _timed(60)
    for r in rows:
        r["created_at"] = datetime.fromisoformat(r["created_at"])
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), source)
    with pytest.raises(InputFileError, match="time\\(s\\) of day"):
        run_publish(source, "text", tmp_path / "o", keys=KEY, thread="ticket", keep=["created_at"])
    with pytest.raises(UsageError, match="day, week, month, year"):
        run_publish(source, "text", tmp_path / "o", keys=KEY, coarse={"created_at": "hour"})
    with pytest.raises(InputFileError, match="no date or time"):
        run_publish(source, "text", tmp_path / "o", keys=KEY, coarse={"status": "day"})
    done = run_publish(
        source, "text", tmp_path / "o", keys=KEY, thread="ticket", coarse={"created_at": "month"}
    )
    assert set(pq.read_table(done.file).column("created_at").to_pylist()) == {"2026-01-01"}


def test_f9_the_command_line_takes_keep_coarse(tmp_path: Path) -> None:
    from anonymize.cli import app

    source = _csv(tmp_path / "in.csv", _timed(60))
    base = ["publish", "--input", str(source), "--column", "text", "--thread", "ticket"]
    env = {"WORKBENCH_KEY": "r" * 40}
    runner = CliRunner()
    refused = runner.invoke(
        app, [*base, "--keep", "created_at", "--out", str(tmp_path / "a")], env=env
    )
    assert refused.exit_code != 0 and "--keep-coarse created_at=day" in str(refused.exception)
    done = runner.invoke(
        app, [*base, "--keep-coarse", "created_at=day", "--out", str(tmp_path / "b")], env=env
    )
    assert done.exit_code == 0, done.output
    published = _rows(tmp_path / "b" / "in" / "in.csv")
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["created_at"]) for r in published)


# -- F10: the same texts published twice -----------------------------------------------------------


def test_f10_readme_and_security_say_two_publications_of_one_text_pair_up() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    security = " ".join((ROOT / "SECURITY.md").read_text(encoding="utf-8").split())
    assert "pair up row by row" in readme and "pair up row by row" in security
    assert "--earlier" in readme


LINKED = [
    ("T1", "Darragh McBride asked about the invoice for March, call +353 87 123 4567."),
    ("T2", "sabina here, the export to the warehouse fails every night since Tuesday"),
    ("T3", "Please reset the password for Ines Carvalho, she is locked out."),
    ("T4", "ok"),
]


def _masked(folder: Path) -> list[str]:
    rows = _rows(next(folder.glob("*.csv")))
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for line in (folder / "review.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if "row" in entry and entry["kind"] != "rare_term":
            spans.setdefault(entry["row"], []).append((entry["start"], entry["end"], entry["kind"]))
    out = []
    for row, r in enumerate(rows, 1):
        text = r["text"]
        for a, b, kind in sorted(spans.get(row, ()), reverse=True):
            text = text[:a] + f"<{kind}>" + text[b:]
        out.append(text)
    return out


def test_f10_texts_published_before_under_another_key_are_refused(tmp_path: Path) -> None:
    rows = [{"ticket": t, "text": text} for t, text in LINKED]
    source = _csv(tmp_path / "in.csv", rows)
    first = run_publish(source, "text", tmp_path / "pub", keys=KEY, thread="ticket")
    # what the attacker does: the second publication pairs up with the first row by row
    second = run_publish(source, "text", tmp_path / "pub", keys=KEY, thread="ticket", name="in2")
    assert sorted(_masked(first.folder)) == sorted(_masked(second.folder))
    with pytest.raises(UsageError) as refused:
        run_publish(
            source,
            "text",
            tmp_path / "pub",
            keys=KEY,
            thread="ticket",
            name="in3",
            earlier=[first.folder],
        )
    message = str(refused.value)
    shared = re.search(r"(\d+) text\(s\) were published before in 'in'", message)
    counted = [t for t in _masked(first.folder) if "<" in t or len(t) >= 20]  # not "ok"
    assert shared and 1 <= int(shared.group(1)) <= len(counted) and "--series" in message
    assert "McBride" not in message and "sabina" not in message
    assert not (tmp_path / "pub" / "in3").exists()
    assert not list((tmp_path / "pub").glob(".in3*"))
    # other texts go through; so does one series published again on purpose
    other = _csv(tmp_path / "other.csv", [{"ticket": "T9", "text": "The app crashes on start."}])
    run_publish(other, "text", tmp_path / "pub", keys=KEY, earlier=[first.folder])
    one = run_publish(source, "text", tmp_path / "s", keys=KEY, thread="ticket", series="w")
    again = run_publish(
        source,
        "text",
        tmp_path / "s",
        keys=KEY,
        thread="ticket",
        series="w",
        name="in2",
        earlier=[one.folder],
    )
    assert verify_published(again.folder, source=source).ok


def test_f10_the_command_line_takes_earlier(tmp_path: Path) -> None:
    from anonymize.cli import app

    source = _csv(tmp_path / "in.csv", [{"ticket": t, "text": text} for t, text in LINKED])
    base = ["publish", "--input", str(source), "--column", "text", "--out", str(tmp_path / "p")]
    env = {"WORKBENCH_KEY": "r" * 40}
    runner = CliRunner()
    assert runner.invoke(app, base, env=env).exit_code == 0
    got = runner.invoke(
        app, [*base, "--name", "again", "--earlier", str(tmp_path / "p" / "in")], env=env
    )
    assert got.exit_code != 0 and "published before in 'in'" in str(got.exception)


# -- F8: email and URL surrogates of no shape of the original's --------------------------------


def _lengths(value: str) -> list[int]:
    return [len(w) for w in re.findall(r"[A-Za-z0-9]+", value)]


def test_f8_email_and_slug_surrogates_copy_no_lengths_apostrophes_or_capitals() -> None:
    email, slug = "O'Brien.Kate@outlook.com", "marta-oyelaran-brisk-4a2b1c"
    obfuscated = "marta[at]oyelaran[dot]nl"
    same_email = same_slug = 0
    shapes = set()
    for scope in range(20):
        made = Surrogates(KEY, scope=f"series:{scope}")
        new = made.value("EMAIL_ADDRESS", email, email.casefold())
        local = new.rsplit("@", 1)[0]
        assert "'" not in new and new == new.lower()
        assert re.fullmatch(r"[a-z]+(?:[._][a-z]+)?@example\.(?:com|org|net)", new)
        same_email += _lengths(local) == [1, 5, 4]
        shapes.add(tuple(_lengths(local)))
        hidden = made.value("EMAIL_ADDRESS", obfuscated, obfuscated.casefold())
        assert "[" not in hidden and hidden.endswith((".com", ".org", ".net"))
        new_slug = made.value("URL_TOKEN", slug, slug)
        assert new_slug == new_slug.lower()
        same_slug += _lengths(new_slug) == [5, 8, 5, 6]
    assert same_email == 0 and same_slug == 0 and len(shapes) > 5


def test_f8_a_published_email_beside_its_name_has_a_shape_of_its_own(tmp_path: Path) -> None:
    rows = [
        {"ticket": "A", "text": "Kate O'Brien here, write to O'Brien.Kate@outlook.com please."},
        {"ticket": "B", "text": "See https://www.linkedin.com/in/marta-oyelaran-brisk-4a2b1c ok"},
    ]
    source = _csv(tmp_path / "in.csv", rows)
    for series in ("a", "b", "c"):
        done = run_publish(
            source, "text", tmp_path / series, keys=KEY, thread="ticket", series=series
        )
        published = " ".join(r["text"] for r in _rows(done.file))
        email = re.search(r"\S+@example\.(?:com|org|net)", published)
        assert email is not None and "'" not in email.group() and email.group().islower()
        assert "O'Brien" not in published and "oyelaran" not in published
        assert verify_published(done.folder, source=source).ok


# -- F13: IPv6 surrogates keep no group of the original -----------------------------------------


IPS = {
    "2a02:0a46:ff52:0000:1c3e:9b11:4e7a:0042/64": "/64",
    "2001:0db8:0000:0000:0000:ff00:0042:8329": "",
    "fe80::1c3e:77d1%eth0": "%eth0",
    "[2a02:a46:ff52::1c3e:9b11:4e7a:77d1]:443": "]:443",
    "172.18.4.7:8080": ":8080",
}


@pytest.mark.parametrize(("original", "tail"), IPS.items())
def test_f13_an_ip_surrogate_keeps_no_group_and_only_its_port_zone_or_prefix(
    original: str, tail: str
) -> None:
    import ipaddress

    address = original[: len(original) - len(tail)]
    groups = set(re.findall(r"[0-9a-f]{3,4}", address)) - {"2001", "0db8"}
    for scope in range(20):
        new = Surrogates(KEY, scope=f"series:{scope}").value(
            "IP_ADDRESS", original, original.casefold()
        )
        assert new.endswith(tail)
        written = new[: len(new) - len(tail)].lstrip("[")
        ip = ipaddress.ip_address(written)
        assert ip.version == (6 if original.count(":") > 1 else 4)
        assert not any(g in re.findall(r"[0-9a-f]+", written) for g in groups)


def test_f13_published_ipv6_addresses_keep_no_group(tmp_path: Path) -> None:
    text = (
        "from [2a02:0a46:ff52:0000:1c3e:9b11:4e7a:77d1]:443 and"
        " 2a02:0a46:ff52:0000:1c3e:9b11:4e7a:0042/64, IP 2001:0db8:0000:0000:0000:ff00:0042:8329"
    )
    source = _csv(tmp_path / "in.csv", [{"ticket": "A", "text": text}])
    for series in ("a", "b"):
        done = run_publish(source, "text", tmp_path / series, keys=KEY, series=series)
        published = _rows(done.file)[0]["text"]
        for group in ("0042", "77d1", "4e7a", "8329", "ff52", "0a46"):
            assert group not in published
        assert "/64" in published and "]:443" in published
        assert verify_published(done.folder, source=source).ok
