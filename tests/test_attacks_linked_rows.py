"""Extracts that release the person's pseudonym in a table of several rows per person, attacked
as the red team of issue 22 (third pass, finding 2) attacked them: the attacker, holding the
source, groups the extract's rows by pseudonym and matches each person's multiset of released
rows against the source's. The manifest's k, uniqueness and risks are now those of this linked
view, and an extract whose linked k is below its target is refused (set aside as REJECTED),
with the fix; released free text that is unique per row is refused beside a pseudonym. Each
test counts the attack's own matches and compares them with the manifest."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from anonymize.cli import app
from anonymize.extract import ExtractResult, run_extract
from anonymize.operators import python_hash
from anonymize.params import Hash
from anonymize.risk import measure
from dsar import Keys, load_catalog, open_engine, verify_derived
from dsar.errors import ExtractRejectedError
from dsar.review.manifest import ExtractManifest
from tests.conftest import AS_OF

KEY = b"k" * 40
KEYS = Keys(KEY)
EXAMPLES = Path(__file__).parents[1] / "examples"

USAGE = """\
version: 1
name: usage-actions
table: usage_events
person: user_id
columns:
  event_id: drop
  ts: drop
  user_id: USER
  device_id: drop
  action: keep
  object_type: keep
  object_id: drop
privacy: {k: 5, max_suppression: 0.05}
output: {path: usage.parquet}
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's export: 1,000 users, seed 7."""
    from dsar.demo import generate

    return generate(tmp_path_factory.mktemp("demo7"), users=1000, seed=7, as_of=AS_OF).catalog_path


def _hashed(value: str, extract: str) -> str:
    """A user id's pseudonym in the extract named `extract` (the key holder's stand-in for the
    attacker's match being right): keyed by the extract's link name where hashes are."""
    try:
        return python_hash(value, KEYS, Hash(op="hash"), link=extract)  # type: ignore[call-arg,unused-ignore]
    except TypeError:  # hashes keyed by the key alone
        return python_hash(value, KEYS, Hash(op="hash"))


def _run(catalog: Path, policy: str | Path, out: Path) -> ExtractResult:
    if isinstance(policy, str):
        path = out.parent / f"{out.name}.policy.yml"
        path.write_text(policy)
        policy = path
    with open_engine(load_catalog(catalog)) as engine:
        return run_extract(policy, engine, out, keys=KEYS)


def _refused(catalog: Path, policy: str | Path, out: Path) -> tuple[Path, ExtractManifest, str]:
    """Run an extract that must fail its own check: its set-aside folder, manifest, message."""
    with pytest.raises(ExtractRejectedError) as refused:
        _run(catalog, policy, out)
    folder = refused.value.folder
    assert folder.name.endswith(".REJECTED")
    manifest = ExtractManifest.model_validate_json((folder / "manifest.json").read_text())
    return folder, manifest, str(refused.value)


def _unique_matches(
    released: dict[str, tuple[object, ...]], source: dict[str, tuple[object, ...]]
) -> dict[str, str]:
    """The attack: each pseudonym whose multiset equals exactly one source person's, with
    that person."""
    owners: dict[tuple[object, ...], list[str]] = defaultdict(list)
    for person, sig in source.items():
        owners[sig].append(person)
    return {p: owners[s][0] for p, s in released.items() if len(owners.get(s, [])) == 1}


def _multisets(rows: list[tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
    """Person (first field) -> the sorted tuple of their rows' other fields."""
    got: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for who, *values in rows:
        got[str(who)].append(tuple("" if v is None else str(v) for v in values))
    return {p: tuple(sorted(v)) for p, v in got.items()}


def test_usage_actions_multiset_attack_agrees_and_is_refused(demo: Path, tmp_path: Path) -> None:
    """usage_events with `user_id: hash` and action/object_type kept: by single rows k was
    398 (red team: 699 of 994 people re-identified by their set of actions). The manifest's
    k and uniqueness are now the attack's, and the extract is refused with the fix."""
    folder, m, message = _refused(demo, USAGE.replace("USER", "hash"), tmp_path / "out")
    assert "drop the pseudonym (user_id: drop)" in message
    assert "release one row per person" in message and "coarsen" in message
    assert m.risk.linked_by == ("user_id",) and m.risk.k_rows is not None
    assert m.risk.k_rows >= 5  # what the manifest claimed before: k over single rows
    released = _multisets(
        duckdb.execute(
            f"SELECT user_id, action, object_type FROM '{folder / 'usage.parquet'}'"
        ).fetchall()
    )
    source = _multisets(
        duckdb.execute(
            "SELECT user_id, action, object_type FROM"
            f" '{demo.parent / 'usage_events.parquet'}' WHERE user_id IS NOT NULL"
        ).fetchall()
    )
    matched = _unique_matches(released, source)
    # every match is the right person (the key maps a pseudonym back; the attacker needs none)
    back = {_hashed(u, "usage-actions"): u for u in source}
    assert all(back[p] == u for p, u in matched.items())
    assert len(matched) > 600 and len(released) == m.risk.people == m.people_out
    # the manifest's figures are the attack's
    assert m.risk.unique * m.risk.people == pytest.approx(len(matched))
    # classes: the pseudonyms sharing one multiset; each person's risk 1 / its size
    sizes = Counter(released.values())
    assert m.risk.k == 1 == min(sizes.values()) and m.risk.classes == len(sizes)
    risk = sum(Fraction(1, sizes[s]) for s in released.values())
    assert m.risk.prosecutor_average == pytest.approx(float(risk) / len(released))
    # dsar verify of the set-aside folder says the same
    checked = verify_derived(folder, keys=KEYS)
    assert any("combination of rows" in str(f) and "is 1" in str(f) for f in checked.findings)
    # the fix the message names: no pseudonym, nothing to group the rows by
    fixed = _run(demo, USAGE.replace("USER", "drop"), tmp_path / "fixed")
    assert fixed.manifest.risk.linked_by == () and fixed.manifest.risk.k >= 5
    assert "user_id" not in pq.read_schema(fixed.file).names
    assert verify_derived(fixed.folder, keys=KEYS).ok


def test_the_cli_refuses_a_linked_extract_with_exit_1(demo: Path, tmp_path: Path) -> None:
    policy = tmp_path / "usage.yml"
    policy.write_text(USAGE.replace("USER", "hash"))
    got = CliRunner().invoke(
        app,
        ["extract", str(policy), "--catalog", str(demo), "--out", str(tmp_path / "out")],
        env={"WORKBENCH_KEY": KEY.decode()},
    )
    # `anonymize` (run_cli) prints the error as one line and exits 1
    assert got.exit_code == 1 and isinstance(got.exception, ExtractRejectedError)
    assert "REJECTED" in str(got.exception)
    assert "drop the pseudonym (user_id: drop)" in str(got.exception)
    assert not (tmp_path / "out" / "usage-actions").exists()


def test_an_old_manifest_claiming_single_row_k_is_found(demo: Path, tmp_path: Path) -> None:
    """A manifest written before (k over single rows, no linked view) with the pseudonym
    released: dsar verify recomputes the linked k and reports the difference."""
    folder, m, _ = _refused(demo, USAGE.replace("USER", "hash"), tmp_path / "out")
    data = json.loads((folder / "manifest.json").read_text())
    data["risk"]["k"] = m.risk.k_rows
    del data["risk"]["linked_by"], data["risk"]["k_rows"]
    data.pop("mac", None)
    (folder / "manifest.json").write_text(json.dumps(data))
    found = [str(f) for f in verify_derived(folder).findings]
    assert any(f"k recomputed is 1, the manifest says {m.risk.k_rows}" in f for f in found)


def _ticket_source(demo: Path) -> list[tuple[object, ...]]:
    return duckdb.execute(
        "SELECT t.user_id, t.ticket_id, t.channel, t.status, t.subject, t.body, a.plan FROM"
        f" read_json('{demo.parent / 'support_tickets.jsonl'}') t LEFT JOIN"
        f" read_csv('{demo.parent / 'accounts.csv'}') a USING (user_id)"
        " WHERE t.user_id IS NOT NULL"
    ).fetchall()


def test_the_tickets_example_as_shipped_before_is_refused(demo: Path, tmp_path: Path) -> None:
    """The support-ticket example as it shipped (`user_id: hash`): manifest k = 27 over single
    tickets, but plan and each person's multiset of channels single people out, and the
    redacted bodies are nearly unique per ticket. Both attacks counted; the extract refused."""
    text = (EXAMPLES / "extract_support_tickets.yml").read_text()
    before = re.sub(r"(?m)^  user_id: drop .*$", "  user_id: hash", text)
    assert before != text
    folder, m, message = _refused(demo, before, tmp_path / "out")
    assert m.risk.linked_by == ("user_id",) and m.risk.k_rows is not None and m.risk.k_rows >= 5
    output = pq.read_table(folder / "support_tickets.parquet").to_pylist()
    # the search released created_at as one value: the attack needs plan and channel only
    assert {r["created_at"] for r in output} == {"*"}
    released = _multisets([(r["user_id"], r["channel"], r["plan"]) for r in output])
    source_rows = _ticket_source(demo)
    source = _multisets([(u, ch, pl) for u, _, ch, _, _, _, pl in source_rows])
    matched = _unique_matches(released, source)
    back = {_hashed(u, "support-tickets-analytics"): u for u in source}
    assert all(back[p] == u for p, u in matched.items()) and len(matched) > 5
    assert m.risk.unique * m.risk.people == pytest.approx(len(matched))
    assert m.risk.k == 1
    assert "drop the pseudonym (user_id: drop)" in message
    # the redacted text: what the redaction left, around its placeholders, matched against
    # the source tickets of the same channel and status
    linked = _text_links(output, source_rows)
    assert all(back[p] == u for p, u in linked.items()) and len(linked) > 100
    assert m.risk.text_unique["body"] > 0.5
    assert "body: drop" in message and "redacted texts are unique" in message


PLACEHOLDER = re.compile(r"<[A-Z_]+_\d+>|\*{2,}[\w*]*|\[[^\]]*\]")


def _text_links(
    output: list[dict[str, object]], source: list[tuple[object, ...]]
) -> dict[str, str]:
    """The red team's text attack: each released row's subject and body as patterns (what
    the redaction replaced matches anything), against the source tickets of the same channel
    and status; pseudonyms whose matching rows all point at one source person."""

    def pattern(text: object) -> re.Pattern[str] | None:
        if not isinstance(text, str):
            return None
        parts = PLACEHOLDER.split(text)
        return re.compile("^" + ".+?".join(re.escape(p) for p in parts) + "$", re.S)

    by: dict[tuple[object, object], list[tuple[str, str, str]]] = defaultdict(list)
    for u, _, ch, st, subject, body, _ in source:
        by[(ch, st)].append((str(u), str(subject or ""), str(body or "")))
    links: dict[str, Counter[str]] = defaultdict(Counter)
    for r in output:
        ps, pb = pattern(r["subject"]), pattern(r["body"])
        found = {
            u
            for u, s, b in by[(r["channel"], r["status"])]
            if (pb is None or pb.match(b)) and (ps is None or ps.match(s))
        }
        if len(found) == 1:
            links[str(r["user_id"])][found.pop()] += 1
    return {p: next(iter(c)) for p, c in links.items() if len(c) == 1}


def test_the_tickets_example_releases_no_pseudonym_and_states_its_texts(
    demo: Path, tmp_path: Path
) -> None:
    """The shipped example now drops user_id: nothing groups a person's tickets, its k is
    over single tickets (counted in people), and the manifest states the share of bodies
    that are unique, a link to the source text that k does not cover."""
    result = _run(demo, EXAMPLES / "extract_support_tickets.yml", tmp_path / "out")
    m = result.manifest
    assert m.columns["user_id"] == "drop" and m.risk.linked_by == ()
    assert "user_id" not in pq.read_schema(result.file).names
    assert m.risk.k >= 5 and set(m.risk.text_unique) == {"subject", "body"}
    bodies = [
        " ".join(str(b).lower().split())
        for b in pq.read_table(result.file, columns=["body"]).column("body").to_pylist()
        if b is not None and str(b).strip()
    ]
    once = sum(1 for n in Counter(bodies).values() if n == 1)
    assert m.risk.text_unique["body"] == pytest.approx(once / len(bodies), abs=1e-6)
    assert verify_derived(result.folder, keys=KEYS).ok


def test_one_row_per_person_is_unchanged(demo: Path, tmp_path: Path) -> None:
    """accounts (one row each) with the pseudonym released: the linked view is the rows'."""
    columns = (
        duckdb.execute(f"SELECT * FROM read_csv('{demo.parent / 'accounts.csv'}') LIMIT 0")
        .df()
        .columns
    )
    ops = {
        c: "hash" if c == "user_id" else "keep" if c in ("country", "plan") else "drop"
        for c in columns
    }
    policy = (
        "version: 1\nname: acc\ntable: accounts\nperson: user_id\ncolumns:\n"
        + "".join(f"  {c}: {op}\n" for c, op in ops.items())
        + "quasi_identifiers: [country, plan]\nprivacy: {k: 2, max_suppression: 0.2}\n"
        + "output: {path: acc.parquet}\n"
    )
    result = _run(demo, policy, tmp_path / "out")
    m = result.manifest
    assert m.risk.linked_by == ("user_id",) and m.risk.k_rows is not None
    assert m.risk.k == m.risk.k_rows >= 2
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM '{result.file}'")
    plain = measure(con, "t", ["country", "plan"], person="user_id")
    assert (m.risk.k, m.risk.classes, m.risk.class_sizes) == (
        plain.k,
        plain.classes,
        plain.class_sizes,
    )
    assert m.risk.unique == plain.unique
    assert m.risk.prosecutor_average == pytest.approx(plain.prosecutor_average)
    assert verify_derived(result.folder, keys=KEYS).ok


def test_linked_measure_equals_the_attack_in_python() -> None:
    """measure(linked_by=) against a brute-force count: people with several rows, rows with
    no pseudonym (in their single-row classes), NULL values."""
    rng = random.Random(22)
    rows = []
    for p in range(300):
        for _ in range(rng.choice([1, 1, 2, 3])):
            linked = rng.random() > 0.1
            rows.append(
                (f"p{p}", f"h{p}" if linked else None, rng.choice("ab"), rng.choice(["x", None]))
            )
    con = duckdb.connect()
    con.execute("CREATE TABLE t (who VARCHAR, pseud VARCHAR, q1 VARCHAR, q2 VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    report = measure(con, "t", ["q1", "q2"], person="who", linked_by=["pseud"])
    # the attack: a pseudonym's multiset; a row without one: its single-row class, in people
    sig: dict[str, list[tuple[object, ...]]] = defaultdict(list)
    for who, pseud, q1, q2 in rows:
        if pseud is not None:
            sig[who].append((q1, q2))
    units = {w: tuple(sorted(v, key=repr)) for w, v in sig.items()}
    size = Counter(units.values())
    row_people: dict[tuple[object, ...], set[str]] = defaultdict(set)
    for who, _, q1, q2 in rows:
        row_people[(q1, q2)].add(who)
    exposure: dict[str, int] = {w: size[s] for w, s in units.items()}
    for who, pseud, q1, q2 in rows:
        if pseud is None:
            exposure[who] = min(exposure.get(who, 10**9), len(row_people[(q1, q2)]))
    assert report.k == min(exposure.values())
    assert report.people == len(exposure)
    assert report.unique == pytest.approx(sum(e == 1 for e in exposure.values()) / len(exposure))
    assert report.prosecutor_average == pytest.approx(
        sum(1 / e for e in exposure.values()) / len(exposure)
    )
    assert (
        report.classes == len(size)
        and report.k_rows == measure(con, "t", ["q1", "q2"], person="who").k
    )


def test_anonymize_risk_measures_the_linked_view(tmp_path: Path) -> None:
    """`anonymize risk --linked-by`: a file handed in with a pseudonym column is measured as
    the attacker groups it; without the option, by single rows."""
    rows = [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("c", "x"), ("d", "y")]
    path = tmp_path / "events.parquet"
    duckdb.execute(
        f"COPY (SELECT * FROM (VALUES {', '.join(map(str, rows))}) v(pseud, action))"
        f" TO '{path}' (FORMAT parquet)"
    )
    runner = CliRunner()
    plain = runner.invoke(app, ["risk", str(path), "--quasi", "action", "--json"])
    linked = runner.invoke(
        app, ["risk", str(path), "--quasi", "action", "--linked-by", "pseud", "--json"]
    )
    assert plain.exit_code == 0 == linked.exit_code, plain.output + linked.output
    by_rows, by_people = json.loads(plain.output), json.loads(linked.output)
    assert by_rows["k"] == 3 and by_rows["linked_by"] == []  # 3 rows of x, 3 of y
    # {x, y} twice, {x} once, {y} once: c and d are alone
    assert by_people["k"] == 1 and by_people["k_rows"] == 3 and by_people["people"] == 4
    assert by_people["unique"] == 0.5 and by_people["linked_by"] == ["pseud"]
    shown = runner.invoke(app, ["risk", str(path), "--quasi", "action", "--linked-by", "pseud"])
    assert "linked per person by the released pseud" in shown.output


def test_two_pseudonyms_each_link_their_rows() -> None:
    """A user pseudonym and a device pseudonym (a user with two devices, rows with only one
    of them): each links its rows; a person is as exposed as in their smallest class of
    either, people counted by the person column."""
    rng = random.Random(7)
    rows = []
    for p in range(200):
        devices = [f"d{p}-{i}" for i in range(rng.choice([1, 2]))]
        for _ in range(rng.choice([1, 2, 3])):
            user = f"u{p}" if rng.random() > 0.3 else None
            device = rng.choice(devices) if rng.random() > 0.2 else None
            rows.append((f"p{p}", user, device, rng.choice("abc")))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (who VARCHAR, u VARCHAR, d VARCHAR, q VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    report = measure(con, "t", ["q"], person="who", linked_by=["u", "d"])
    exposure: dict[str, int] = {}
    for i in (1, 2):  # u, then d
        units: dict[str, tuple[str, list[str]]] = {}
        for r in rows:
            if r[i] is not None:
                units.setdefault(str(r[i]), (r[0], []))[1].append(r[3])
        people: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for who, qs in units.values():
            people[tuple(sorted(qs))].add(who)
        for who, qs in units.values():
            n = len(people[tuple(sorted(qs))])
            exposure[who] = min(exposure.get(who, n), n)
    single: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        single[r[3]].add(r[0])
    for r in rows:
        if r[1] is None and r[2] is None:
            exposure[r[0]] = min(exposure.get(r[0], 10**9), len(single[r[3]]))
    assert report.linked_by == ("u", "d") and report.k == min(exposure.values())
    assert report.people == len(exposure)
    assert report.unique == pytest.approx(sum(e == 1 for e in exposure.values()) / len(exposure))
    assert report.prosecutor_average == pytest.approx(
        sum(1 / e for e in exposure.values()) / len(exposure)
    )


def test_a_k1_extract_says_how_many_its_rows_single_out(demo: Path, tmp_path: Path) -> None:
    """At k = 1 nothing is refused, and the single-row figures (k = 398, nobody unique) would
    be a false assurance: the manifest and the command's output give the linked ones."""
    policy = tmp_path / "usage.yml"
    policy.write_text(USAGE.replace("USER", "hash").replace("k: 5,", "k: 1,"))
    got = CliRunner().invoke(
        app,
        ["extract", str(policy), "--catalog", str(demo), "--out", str(tmp_path / "out")],
        env={"WORKBENCH_KEY": KEY.decode()},
    )
    assert got.exit_code == 0, got.output
    m = ExtractManifest.model_validate_json(
        (tmp_path / "out" / "usage-actions" / "manifest.json").read_text()
    )
    assert m.risk.k == 1 and m.risk.k_rows is not None and m.risk.k_rows > 100
    assert m.uniqueness is not None and m.uniqueness.released == 0 < m.risk.unique
    assert "k = 1\n" in got.output
    assert f"(single rows: k = {m.risk.k_rows})" in got.output
    assert (
        f"people unique on their combination of rows (linked by user_id): {m.risk.unique:.1%}"
        in got.output
    )
    # dsar verify without the key: its conservative k combines each person's rows too
    notices = verify_derived(tmp_path / "out" / "usage-actions").notices
    assert any("each person's rows together, is 1 " in n for n in notices), notices
