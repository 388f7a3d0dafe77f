"""De-identified extracts, attacked as issue 22 attacked them, with the source export as the
attacker's background knowledge: the linkage attack, the time-of-day attack on date_shift,
rows against people, and every policy that once published an identity. Each test counts."""

from __future__ import annotations

import json
import random
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from anonymize.cli import app
from anonymize.extract import ExtractResult, run_extract
from anonymize.operators import python_hash, python_shift_days
from anonymize.params import DateShift, Hash
from anonymize.policy import load_policy
from dsar import Keys, load_catalog, open_engine, verify_derived
from dsar.errors import ConfigError, ExtractRejectedError
from tests.conftest import AS_OF

KEY = b"k" * 40
KEYS = Keys(KEY)
EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's export: 1,000 users, seed 7."""
    from dsar.demo import generate

    return generate(tmp_path_factory.mktemp("demo7"), users=1000, seed=7, as_of=AS_OF).catalog_path


def _run(catalog: Path, policy: str | Path, out: Path) -> ExtractResult:
    if isinstance(policy, str):
        path = out.parent / f"{out.name}.policy.yml"
        path.write_text(policy)
        policy = path
    with open_engine(load_catalog(catalog)) as engine:
        return run_extract(policy, engine, out, keys=KEYS)


def _accounts(catalog: Path) -> pd.DataFrame:
    return duckdb.execute(f"SELECT * FROM read_csv('{catalog.parent / 'accounts.csv'}')").df()


def _owner(frame: pd.DataFrame, source: pd.DataFrame) -> pd.Series:
    """The source user id of each output row: only the key holder can map it back."""
    back = {python_hash(u, KEYS, Hash(op="hash")): u for u in source["user_id"]}
    return frame["user_id"].map(back)


def _as_released(value: Any, level: str) -> str:
    """A source value as the manifest says the extract released it (the attacker's view)."""
    if level == "*":
        return "*"
    if value is None or pd.isna(value):
        return "NULL"
    if level in ("to: year", "to: month"):
        stamp = pd.Timestamp(value)
        stamp = stamp.replace(month=1) if level == "to: year" else stamp
        return str(stamp.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    return str(value)


def _linkage(
    output: pd.DataFrame, source: pd.DataFrame, manifest: Any, levels: dict[str, str]
) -> pd.Series:
    """The linkage attack: for each output row, how many source people share its released
    values (the attacker generalises the source as the manifest says, then joins)."""
    qis = list(manifest.risk.quasi_identifiers)
    seen = pd.DataFrame({q: [_as_released(v, levels.get(q, "")) for v in source[q]] for q in qis})
    released = pd.DataFrame({q: [_as_released(v, "") for v in output[q]] for q in qis})
    candidates = seen.groupby(qis).size().rename("candidates").reset_index()
    return released.merge(candidates, on=qis, how="left")["candidates"].fillna(0).astype(int)


ACCOUNTS_K1 = """\
version: 1
name: accounts-k1
table: accounts
person: user_id
columns:
  user_id: hash
  customer_id: drop
  email: drop
  full_name: drop
  phone: drop
  company: drop
  country: keep
  city: drop
  plan: keep
  signup_method: keep
  password_hash: drop
  account_manager_id: drop
  status: keep
  created_at: {op: generalize, to: year}
  closed_at: {op: generalize, to: year}
  last_login_at: {op: generalize, to: month}
quasi_identifiers: [country, plan]        # what the example once declared
insensitive: {status: "an account state, known to nobody outside"}
privacy: {k: 1}
output: {path: accounts.parquet}
"""


def test_the_linkage_attack_finds_whom_the_manifest_says(demo: Path, tmp_path: Path) -> None:
    """The example once released signup_method and three dates beside its two declared
    quasi-identifiers; the manifest said k = 24 where 252 of 964 rows were unique. Now every
    released column counts: the attack's unique matches are the manifest's."""
    source = _accounts(demo)
    result = _run(demo, ACCOUNTS_K1, tmp_path / "out")
    m = result.manifest
    assert m.risk.quasi_identifiers == (
        "country",
        "plan",
        "signup_method",
        "created_at",
        "closed_at",
        "last_login_at",
    )
    output = pq.read_table(result.file).to_pandas()
    levels = {"created_at": "to: year", "closed_at": "to: year", "last_login_at": "to: month"}
    candidates = _linkage(output, source, m, levels)
    unique = int((candidates == 1).sum())
    assert m.uniqueness is not None and m.people_out is not None
    assert unique == round(m.uniqueness.released * m.people_out)
    assert unique > 200  # the attack has something to find: most are unique on the dates
    assert candidates.min() == m.risk.k == 1
    assert m.risk.prosecutor_average == pytest.approx((1 / candidates).mean())
    # the source values alone single out everyone (second-level timestamps)
    assert m.uniqueness.source == 1.0
    assert verify_derived(result.folder).ok


def test_the_accounts_example_holds_against_the_linkage_attack(demo: Path, tmp_path: Path) -> None:
    source = _accounts(demo)
    result = _run(demo, EXAMPLES / "extract_accounts.yml", tmp_path / "out")
    m = result.manifest
    output = pq.read_table(result.file).to_pandas()
    candidates = _linkage(output, source, m, dict(m.generalisation))
    assert int((candidates == 1).sum()) == 0 == m.uniqueness.released  # type: ignore[union-attr]
    assert candidates.min() >= m.risk.k >= 10
    # every output row's own person is among its candidates: the attack is the right one
    owners = _owner(output, source)
    assert owners.notna().all() and owners.nunique() == len(output) == m.people_out
    # people-level: the extract's own k, recomputed
    assert output.groupby(list(m.risk.quasi_identifiers))["user_id"].nunique().min() == m.risk.k
    assert m.people_in == 1000 and m.people_out == 1000 - sum(m.suppressed_people.values())
    assert m.uniqueness is not None and m.uniqueness.below_k * 1000 == pytest.approx(
        sum(m.suppressed_people.values())
    )


def test_the_support_tickets_example_counts_people(demo: Path, tmp_path: Path) -> None:
    result = _run(demo, EXAMPLES / "extract_support_tickets.yml", tmp_path / "out")
    m = result.manifest
    output = pq.read_table(result.file).to_pandas()
    assert m.people_out is not None
    assert m.rows_out == len(output) > m.people_out == output["user_id"].nunique() > 0
    people = output.groupby(list(m.risk.quasi_identifiers))["user_id"].nunique()
    assert people.min() == m.risk.k >= 5
    assert verify_derived(result.folder).ok


SHIFTED = ACCOUNTS_K1.replace("accounts-k1", "accounts-shifted").replace(
    "  last_login_at: {op: generalize, to: month}\n",
    "  last_login_at: {op: date_shift, max_days: 30}\n",
)


def _time_of_day_attack(shifted: pd.Series, source: pd.Series, days: int) -> pd.Series:
    """For each shifted timestamp, the source rows with the same time of day within the
    shift window: the attacker's candidates."""
    by_time: dict[str, list[datetime]] = {}
    for stamp in source.dropna():
        by_time.setdefault(stamp.strftime("%H:%M:%S"), []).append(stamp)
    window = timedelta(days=days)
    return shifted.map(
        lambda s: sum(abs(s - t) <= window for t in by_time.get(s.strftime("%H:%M:%S"), []))
    )


def test_the_time_of_day_attack_on_date_shift(demo: Path, tmp_path: Path) -> None:
    """A shift of whole days kept HH:MM:SS: 995 of 1,000 people matched back within the
    window. The shift now includes the time of day."""
    source = _accounts(demo)
    result = _run(demo, SHIFTED, tmp_path / "out")
    output = pq.read_table(result.file).to_pandas()
    owners = _owner(output, source)
    truth = source.set_index("user_id")["last_login_at"]
    candidates = _time_of_day_attack(output["last_login_at"], source["last_login_at"], 30)
    found = [
        c == 1 and t.strftime("%H:%M:%S") == s.strftime("%H:%M:%S")
        for c, s, t in zip(candidates, output["last_login_at"], truth[owners], strict=True)
    ]
    assert sum(found) <= 2  # chance: a shared second of the day
    moved = (output["last_login_at"].values - truth[owners].values).astype("timedelta64[s]")
    assert (moved.astype(int) % 86_400 != 0).mean() > 0.99  # the time of day moved
    # the same attack on the old shift (whole days per person) finds nearly everyone
    days = owners.map(lambda u: python_shift_days(u, KEYS, DateShift(op="date_shift", max_days=30)))
    old = truth[owners].reset_index(drop=True) + pd.to_timedelta(days.values, unit="D")
    old_candidates = _time_of_day_attack(old, source["last_login_at"], 30)
    assert (old_candidates == 1).sum() > 900


def test_date_shift_truncated_to_the_day_publishes_no_time(demo: Path, tmp_path: Path) -> None:
    text = SHIFTED.replace("{op: date_shift, max_days: 30}", "{op: date_shift, truncate: day}")
    result = _run(demo, text, tmp_path / "out")
    column = pq.read_table(result.file).column("last_login_at")
    assert column.type == pa.date32()
    source = _accounts(demo)
    output = pq.read_table(result.file).to_pandas()
    truth = source.set_index("user_id")["last_login_at"][_owner(output, source)]
    shift = [(a - b.date()).days for a, b in zip(output["last_login_at"], truth, strict=True)]
    assert max(abs(d) for d in shift) <= 30 and len(set(shift)) > 30


WEB = """\
version: 1
name: web-logs
table: web_logs
person: user_id
columns:
  ts: drop
  ip: {op: generalize, ip: 24}
  device_id: drop
  user_id: hash
  method: drop
  path: drop
  status: drop
  bytes: drop
  user_agent: keep
privacy: {k: 5, max_suppression: 1.0}
output: {path: web_logs.parquet}
"""


def test_k_counts_people_not_rows(demo: Path, tmp_path: Path) -> None:
    """[user_agent, ip] at k = 5 by rows: the classes of 5 rows or more held one user. By
    people, no such class is published."""
    logs = duckdb.execute(
        "SELECT *, regexp_replace(ip, '\\.\\d+$', '.0/24') AS ip24 FROM"
        f" read_csv('{demo.parent / 'web_logs.csv'}')"
    ).df()
    named = logs[logs["user_id"].notna()]
    by_rows = named.groupby(["user_agent", "ip24"]).agg(
        rows=("user_id", "size"), people=("user_id", "nunique")
    )
    lonely = by_rows[(by_rows["rows"] >= 5) & (by_rows["people"] == 1)]
    assert len(lonely) > 200  # what "k = 5" over rows published: one user each
    with pytest.raises(ConfigError, match="several rows per person"):
        _run(demo, WEB.replace("person: user_id\n", ""), tmp_path / "no-person")
    result = _run(demo, WEB, tmp_path / "out")
    m = result.manifest
    # by people, no (user agent, network) holds 5 users: nothing is published
    assert m.rows_out == 0 and m.people_out == 0
    assert sum(m.suppressed_people.values()) == m.people_in == named["user_id"].nunique()
    assert verify_derived(result.folder).ok
    # the user agent alone: its classes are published, each holding 5 people or more
    by_agent = WEB.replace("ip: {op: generalize, ip: 24}", "ip: drop")
    result = _run(demo, by_agent, tmp_path / "agent")
    m = result.manifest
    output = pq.read_table(result.file).to_pandas()
    # rows without a user count as one person in their class (they may all be one)
    people = output["user_id"].fillna("anonymous").groupby(output["user_agent"]).nunique()
    assert people.min() == m.risk.k >= 5 and len(people) == m.risk.classes > 100
    assert m.risk.prosecutor_highest == pytest.approx(1 / m.risk.k)
    # suppression removed people with all their rows: everyone kept has all their rows
    kept = set(output["user_id"].dropna())
    hashed = named["user_id"].map(lambda u: python_hash(u, KEYS, Hash(op="hash")))
    assert int(hashed.isin(kept).sum()) == int(output["user_id"].notna().sum())
    assert m.people_in == named["user_id"].nunique() and m.people_out == len(kept)
    assert m.people_out < m.people_in  # some were suppressed, whole
    assert verify_derived(result.folder).ok


# -- the policies that once published an identity --------------------------------------


def _accounts_policy(**edits: str) -> str:
    text = ACCOUNTS_K1
    for column, op in edits.items():
        line = f"  {column}: {op}"
        text = re.sub(rf"(?m)^  {column}: .*$", lambda _: line, text)  # noqa: B023 - used now
    return text


def test_a_hierarchy_keeping_a_name_whole_is_refused(demo: Path, tmp_path: Path) -> None:
    names = _accounts(demo)["full_name"].tolist()
    hierarchy = {n: ("Lise Stook" if n == "Lise Stook" else "*") for n in names}
    text = _accounts_policy(full_name=json.dumps({"op": "generalize", "hierarchy": hierarchy}))
    path = tmp_path / "policy.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"its hierarchy maps 1 value\(s\) to themselves"):
        load_policy(path, load_catalog(demo))


def test_a_mask_keeping_more_than_a_third_of_a_name_is_refused(demo: Path, tmp_path: Path) -> None:
    names = duckdb.execute(
        f"SELECT DISTINCT given_name FROM read_json('{demo.parent / 'google_profiles.jsonl'}')"
    ).df()["given_name"]
    whole = int((names.str.len() <= 4).sum())  # keep_last: 4 left these whole
    over = int((names.str.len() < 12).sum())
    assert whole > 10
    policy = """\
version: 1
name: profiles
table: google_profiles
person: user_id
columns:
  google_sub: drop
  user_id: hash
  email: drop
  given_name: {op: mask, keep_last: 4}
  family_name: drop
  picture_url: drop
  locale: keep
  email_verified: keep
  linked_at: drop
privacy: {k: 1}
output: {path: profiles.parquet}
"""
    with pytest.raises(ConfigError, match=f"more than a third of {over} of {len(names)} sampled"):
        _run(demo, policy, tmp_path / "out")
    with pytest.raises(ConfigError, match=r"picture_url is unique to almost every row"):
        unique = policy.replace("picture_url: drop", "picture_url: keep")
        _run(demo, unique.replace("{op: mask, keep_last: 4}", "drop"), tmp_path / "o2")


DOB_CATALOG = """\
version: 1
controller: {name: Clinic, contact: dpo@clinic.example, supervisory_authority: DPC}
tables:
  patients:
    path: patients.csv
    format: csv
    description: Patients.
    category: account
    origin: provided
    purposes: [care]
    legal_basis: contract
    source: the patient
    retention: {criteria: ten years}
    erasure: {action: delete}
    primary_key: [patient]
    columns:
      patient: {identity: user_id, type: string}
      date_of_birth: {type: date}
      born: {personal: date_of_birth, type: date}
"""


@pytest.mark.parametrize("column", ["date_of_birth", "born"])
def test_a_date_of_birth_finer_than_the_year_is_refused(tmp_path: Path, column: str) -> None:
    root = tmp_path / "clinic"
    root.mkdir()
    rng = random.Random(3)
    days = [
        f"19{rng.randint(40, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        for _ in range(1000)
    ]
    pd.DataFrame(
        {"patient": [f"p{i}" for i in range(1000)], "date_of_birth": days, "born": days}
    ).to_csv(root / "patients.csv", index=False)
    (root / "catalog.yml").write_text(DOB_CATALOG)
    other = "born" if column == "date_of_birth" else "date_of_birth"
    policy = (
        "version: 1\nname: patients\ntable: patients\nperson: patient\ncolumns:\n"
        f"  patient: hash\n  {other}: drop\n  {column}: OP\n"
        "privacy: {k: 1}\noutput: {path: patients.parquet}\n"
    )
    for op in (
        "{op: generalize, to: day}",
        "{op: date_shift}",
        "keep",
        "{op: generalize, to: month}",
    ):
        with pytest.raises(ConfigError, match=f"{column} is a date of birth"):
            _run(root / "catalog.yml", policy.replace("OP", op), tmp_path / "out")
    result = _run(
        root / "catalog.yml", policy.replace("OP", "{op: generalize, to: year}"), tmp_path / "ok"
    )
    released = pq.read_table(result.file).column(column).to_pylist()
    assert len(set(days)) > 900 and len(set(released)) == 60  # 1940-1999: years only


def test_a_column_holding_user_ids_is_refused_until_the_catalog_says(
    demo: Path, tmp_path: Path
) -> None:
    events = demo.parent / "usage_events.parquet"
    sample, matched = duckdb.execute(
        f"SELECT count(DISTINCT object_id), count(DISTINCT object_id) FILTER (WHERE object_id IN"
        f" (SELECT user_id FROM read_csv('{demo.parent / 'accounts.csv'}'))) FROM '{events}'"
    ).fetchone() or (0, 0)
    assert matched > 600
    policy = """\
version: 1
name: events
table: usage_events
person: user_id
columns:
  event_id: drop
  ts: drop
  user_id: hash
  device_id: drop
  action: keep
  object_type: keep
  object_id: keep
insensitive: {action: a test, object_type: a test, object_id: a test}
privacy: {k: 1}
output: {path: events.parquet}
"""
    with pytest.raises(ConfigError) as refused:
        _run(demo, policy, tmp_path / "out")
    assert f"object_id holds accounts.user_id values (user_id): {matched} of {sample}" in str(
        refused.value
    )
    # declared in the catalog, the identifier rules apply: hashed, it is released
    text = demo.read_text().replace(
        "      object_id:\n", "      object_id:\n        references: accounts.user_id\n", 1
    )
    declared = tmp_path / "declared"
    shutil.copytree(demo.parent, declared)
    (declared / "catalog.yml").write_text(text)
    with pytest.raises(ConfigError, match="object_id identifies a person"):
        _run(declared / "catalog.yml", policy, tmp_path / "o2")
    result = _run(
        declared / "catalog.yml",
        policy.replace("object_id: keep", "object_id: hash"),
        tmp_path / "o3",
    )
    assert pq.read_table(result.file).column("object_id").null_count < result.manifest.rows_out


EMAILS = ("email", "billing_email", "requester_email")


def _forgetful(demo: Path, root: Path, tables: tuple[str, ...]) -> Path:
    """A copy of the demo whose catalog forgets `identity:` on the email columns of `tables`."""
    shutil.copytree(demo.parent, root)
    catalog = load_catalog(root / "catalog.yml")
    lines = (root / "catalog.yml").read_text().splitlines(keepends=True)
    table = None
    for i, line in enumerate(lines):
        if re.match(r"^  \w+:$", line):
            table = line.strip()[:-1]
        name = line.strip().split(":")[0]
        if table in tables and name in EMAILS and name in catalog.tables[table].columns:
            lines[i] = line.replace("identity: email, ", "")
    (root / "catalog.yml").write_text("".join(lines))
    return root / "catalog.yml"


EMAIL_POLICY = _accounts_policy(email="{op: mask, keep_last: 64}").replace(
    "accounts-k1", "accounts-emails"
)


def test_a_catalog_that_forgets_identity_on_email_lands_no_email(
    demo: Path, tmp_path: Path
) -> None:
    """Forgotten on accounts alone, the other tables' emails give it away before the run;
    forgotten everywhere, the extract's own check sets it aside as <name>.REJECTED."""
    one = _forgetful(demo, tmp_path / "one", ("accounts",))
    with pytest.raises(ConfigError, match=r"email holds google_profiles\.email values"):
        _run(one, EMAIL_POLICY, tmp_path / "out1")
    tables = tuple(t for t in load_catalog(demo).tables if t != "staff")  # staff's own
    every = _forgetful(demo, tmp_path / "every", tables)
    out = tmp_path / "out"
    with pytest.raises(ExtractRejectedError) as rejected:
        _run(every, EMAIL_POLICY, out)
    assert not (out / "accounts-emails").exists()  # never under its name
    assert rejected.value.folder == out / "accounts-emails.REJECTED"
    flagged = [f for f in rejected.value.findings if "accounts.parquet email row" in f]
    assert len(flagged) == 1000 and all(f.endswith("emails in clear") for f in flagged)
    runner = CliRunner()
    cli = runner.invoke(
        app,
        [
            "extract",
            str(tmp_path / "out.policy.yml"),
            "--catalog",
            str(every),
            "--out",
            str(tmp_path / "cli"),
        ],
        env={"WORKBENCH_KEY": KEY.decode()},
    )
    assert cli.exit_code == 1  # `anonymize` prints it as one line: "error: ..."
    assert isinstance(cli.exception, ExtractRejectedError)
    assert "failed its own check, 1000 finding(s)" in str(cli.exception)
    assert "accounts.parquet email row 1: emails in clear" in str(cli.exception)
    assert (tmp_path / "cli" / "accounts-emails.REJECTED").is_dir()


def test_a_keyed_hash_is_checked_as_a_hash_not_read_as_an_iban(demo: Path, tmp_path: Path) -> None:
    """`be97d2c7e87abf32` is hex, and a valid Belgian IBAN to the detector: dsar verify failed
    notebook 03's own extract on such a hash."""
    from dsar.text.detectors import ibans

    assert list(ibans("be97d2c7e87abf32"))
    result = _run(demo, ACCOUNTS_K1, tmp_path / "out")
    table = pq.read_table(result.file)
    rows = table.to_pylist()
    rows[0]["user_id"] = "be97d2c7e87abf32"
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), result.file)
    _rehash(result.folder, result.file.name)
    assert verify_derived(result.folder).ok
    rows[1]["user_id"] = "BE97 D2C7 E87A BF32"  # not a hash: found
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), result.file)
    _rehash(result.folder, result.file.name)
    found = [str(f) for f in verify_derived(result.folder).findings]
    assert found == ["[personal data] accounts.parquet user_id row 2: not a keyed hash"]


def _rehash(folder: Path, name: str) -> None:
    import hashlib

    manifest = json.loads((folder / "manifest.json").read_text())
    for out in manifest["outputs"]:
        if out["path"] == name:
            data = (folder / name).read_bytes()
            out["sha256"], out["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_the_review_counts_every_released_column(demo: Path, tmp_path: Path) -> None:
    """A manifest that leaves a released column out of its quasi-identifiers (as extracts
    did) fails review, with k recomputed over all of them."""
    result = _run(demo, ACCOUNTS_K1, tmp_path / "out")
    manifest = json.loads((result.folder / "manifest.json").read_text())
    manifest["risk"]["quasi_identifiers"] = ["country", "plan"]
    manifest["classification"]["signup_method"] = "insensitive: "  # no reason given
    (result.folder / "manifest.json").write_text(json.dumps(manifest))
    found = [str(f) for f in verify_derived(result.folder).findings]
    assert any("not counted as quasi-identifiers: signup_method, created_at" in f for f in found)


def test_no_quasi_identifier_means_no_k(demo: Path, tmp_path: Path) -> None:
    """k over no column is the whole table: refused as a target, and never printed as k."""
    text = ACCOUNTS_K1.replace("quasi_identifiers: [country, plan]", "").replace(
        "insensitive: {status:",
        "insensitive: {country: t, plan: t, signup_method: t, created_at: t, closed_at: t,"
        " last_login_at: t, status:",
    )
    path = tmp_path / "policy.yml"
    path.write_text(text.replace("{k: 1}", "{k: 5}"))
    with pytest.raises(ConfigError, match="k over no quasi-identifier counts the whole extract"):
        load_policy(path, load_catalog(demo))
    path.write_text(text)
    cli = CliRunner().invoke(
        app,
        ["extract", str(path), "--catalog", str(demo), "--out", str(tmp_path / "out")],
        env={"WORKBENCH_KEY": KEY.decode()},
    )
    assert cli.exit_code == 0, cli.output
    assert "no quasi-identifier, so the whole table is one class" in cli.output
    assert "k = 1000" not in cli.output


def test_policy_check_names_the_unclassified_columns(demo: Path, tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(ACCOUNTS_K1)
    cli = CliRunner().invoke(app, ["policy", "check", str(path), "--catalog", str(demo)])
    assert cli.exit_code == 0, cli.output
    assert (
        "not classified, so quasi-identifiers by default: signup_method, created_at,"
        " closed_at, last_login_at" in cli.output
    )
    draft = CliRunner().invoke(
        app, ["policy", "draft", "--catalog", str(demo), "--table", "accounts"]
    )
    assert (
        "quasi_identifiers: [company, country, plan, signup_method, account_manager_id,"
        in draft.output
    )
    drafted = tmp_path / "draft.yml"
    drafted.write_text(draft.output)
    classified = CliRunner().invoke(app, ["policy", "check", str(drafted), "--catalog", str(demo)])
    assert classified.exit_code == 0, classified.output
    assert "not classified" not in classified.output


def test_the_review_recomputes_t(demo: Path, tmp_path: Path) -> None:
    text = ACCOUNTS_K1.replace(
        'insensitive: {status: "an account state, known to nobody outside"}',
        "sensitive: [status]",
    ).replace("{k: 1}", "{k: 1, t: 1.0}")
    result = _run(demo, text, tmp_path / "out")
    claimed = result.manifest.risk.t_closeness["status"]
    assert 0 < claimed < 1 and verify_derived(result.folder).ok
    manifest = json.loads((result.folder / "manifest.json").read_text())
    manifest["risk"]["t_closeness"]["status"] = claimed / 2
    manifest["targets"]["t"] = claimed / 2
    (result.folder / "manifest.json").write_text(json.dumps(manifest))
    found = [str(f) for f in verify_derived(result.folder).findings]
    assert (
        f"[risk] accounts.parquet status: t recomputed is {claimed:.4f}, the manifest says {claimed / 2}"
        in found
    )
    assert any(f.endswith(f"t is {claimed:.4f}, above {claimed / 2:g}") for f in found)


def _in_order_links(released: list[tuple[str, ...]], seen: list[tuple[str, ...]]) -> list[int]:
    """The alignment attack: the extract taken as an in-order subsequence of the source on
    the released columns; each output row linked to the next source row that matches it
    (-1 once the source runs out)."""
    links, j = [], 0
    for row in released:
        while j < len(seen) and seen[j] != row:
            j += 1
        links.append(j if j < len(seen) else -1)
        j += 1
    return links


def _trend(places: pd.Series) -> float:
    """Spearman's correlation of source places with their rank in the output."""
    ranks = pd.Series(range(len(places)), index=places.index, dtype=float)
    return float(places.rank().corr(ranks))


def test_the_row_order_links_no_row_back_to_the_source(demo: Path, tmp_path: Path) -> None:
    """The example once kept the source's row order: aligned with the source as an in-order
    subsequence on its released columns, every one of its rows was linked to its person
    (the manifest said k = 10). Now the order is a keyed shuffle: the alignment links rows
    at chance, and the same key, policy and data give the same bytes."""
    source = _accounts(demo)
    result = _run(demo, EXAMPLES / "extract_accounts.yml", tmp_path / "out")
    m = result.manifest
    output = pq.read_table(result.file).to_pandas()
    qis = list(m.risk.quasi_identifiers)
    levels = dict(m.generalisation)
    seen = [
        tuple(_as_released(v, levels.get(q, "")) for v, q in zip(row, qis, strict=True))
        for row in source[qis].itertuples(index=False)
    ]
    released = [
        tuple(_as_released(v, "") for v in row) for row in output[qis].itertuples(index=False)
    ]
    links = _in_order_links(released, seen)
    owners = list(_owner(output, source))
    right = sum(j >= 0 and source["user_id"][j] == o for j, o in zip(links, owners, strict=True))
    assert right <= 2 * len(output) / m.risk.k  # chance: one in k (all of them, before)
    # the owners' source places, in the extract's order: no trend
    places = pd.Series(owners).map({u: i for i, u in enumerate(source["user_id"])})
    assert abs(_trend(places)) < 0.1
    # deterministic under the same key
    again = _run(demo, EXAMPLES / "extract_accounts.yml", tmp_path / "again")
    assert again.file.read_bytes() == result.file.read_bytes()


def test_placeholders_are_numbered_in_no_source_order(demo: Path, tmp_path: Path) -> None:
    """<PERSON_1>, <PERSON_2>… are numbered as texts come: once in the source's order, so
    the rows where each first appears were in the source's order. Now in the shuffled one."""
    source = duckdb.execute(
        f"SELECT * FROM read_json_auto('{demo.parent / 'support_tickets.jsonl'}')"
    ).df()
    result = _run(demo, EXAMPLES / "extract_support_tickets.yml", tmp_path / "out")
    output = pq.read_table(result.file).to_pandas()
    back = {python_hash(t, KEYS, Hash(op="hash")): i for i, t in enumerate(source["ticket_id"])}
    place = output["ticket_id"].map(back)
    assert place.notna().all()
    first: dict[str, int] = {}
    for i, text in enumerate(output["subject"].fillna("") + " " + output["body"].fillna("")):
        for tag in re.findall(r"<[A-Z_]+_\d+>", text):
            first.setdefault(tag, int(place[i]))
    assert len(first) > 20
    order = list(first.values())
    assert order != sorted(order)
    assert abs(_trend(pd.Series(order))) < 0.2
    # the output's own order is not the source's
    assert abs(_trend(place)) < 0.1


WEB_LOGS_BY = """\
version: 1
name: web-logs
table: web_logs
person: {person}
columns:
  ts: {{op: generalize, to: day}}
  ip: drop
  device_id: drop
  user_id: hash
  method: keep
  path: keep
  status: keep
  bytes: drop
  user_agent: drop
quasi_identifiers: [ts, method, path, status]
privacy: {{k: 5, max_suppression: 1.0}}
output: {{path: web_logs.parquet}}
"""


@pytest.mark.parametrize("person", ["ts", "path"])
def test_person_must_be_an_identity_of_the_table(demo: Path, tmp_path: Path, person: str) -> None:
    """`person: ts` (or path) once made k, people counts and DP contributions count rows or
    paths: every row a 'person'. Now person: must be a column the catalog says names one."""
    policy = WEB_LOGS_BY.format(person=person)
    with pytest.raises(ConfigError, match=rf"person: {person} is no identity") as refused:
        _run(demo, policy, tmp_path / "out")
    assert "name one of device_id, user_id" in str(refused.value)
    spec = tmp_path / "agg.yml"
    spec.write_text(
        "version: 1\nname: by-path\ntable: web_logs\n"
        f"person: {person}\nmin_count: 5\naggregates:\n"
        "  - name: by_method\n    group_by: [method]\n"
        "    measures:\n      - {name: people, op: count}\n"
    )
    from anonymize.aggregate_spec import load_aggregate_spec

    with pytest.raises(ConfigError, match=rf"person: {person} is no identity"):
        load_aggregate_spec(spec, load_catalog(demo))
    spec.write_text(spec.read_text().replace(f"person: {person}", "person: user_id"))
    assert load_aggregate_spec(spec, load_catalog(demo)).person == "user_id"


def test_an_empty_table_gives_an_empty_extract(demo: Path, tmp_path: Path) -> None:
    """A header-only table once crashed with a TypeError in the suppression; now it gives an
    extract of no rows, its manifest saying 0 rows in and out."""
    copy = tmp_path / "empty"
    shutil.copytree(demo.parent, copy)
    accounts = copy / "accounts.csv"
    accounts.write_text(accounts.read_text().split("\n", 1)[0] + "\n")
    with open_engine(load_catalog(copy / "catalog.yml")) as engine:
        result = run_extract(
            EXAMPLES / "extract_accounts.yml",
            engine,
            tmp_path / "out",
            keys=KEYS,
            accept_catalog_warnings=True,
        )
    assert result.manifest.rows_in == result.manifest.rows_out == 0
    assert pq.read_table(result.file).num_rows == 0
