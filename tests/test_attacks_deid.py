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
from dsar.review.manifest import ExtractManifest
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


def _owner(frame: pd.DataFrame, source: pd.DataFrame, link: str) -> pd.Series:
    """The source user id of each output row: only the key holder can map it back (hashes
    are keyed by the extract's link name, its name by default)."""
    back = {python_hash(u, KEYS, Hash(op="hash"), link): u for u in source["user_id"]}
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
    owners = _owner(output, source, result.manifest.name)
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
    # no pseudonym released (test_attacks_linked_rows): each ticket's person, through the
    # keyed ticket id, with the key (the attacker's stand-in for the source)
    source = duckdb.execute(
        f"SELECT ticket_id, user_id FROM read_json('{demo.parent / 'support_tickets.jsonl'}')"
    ).fetchall()
    owner = {python_hash(t, KEYS, Hash(op="hash"), m.name): u for t, u in source}
    output["person"] = output["ticket_id"].map(owner)
    assert m.people_out is not None and "user_id" not in output.columns
    assert m.rows_out == len(output) > m.people_out == output["person"].nunique() > 0
    people = output.groupby(list(m.risk.quasi_identifiers))["person"].nunique()
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
    owners = _owner(output, source, result.manifest.name)
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
    truth = source.set_index("user_id")["last_login_at"][
        _owner(output, source, result.manifest.name)
    ]
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
    # every person is suppressed whole: the named users, and the users an anonymous row
    # reaches through its device (whose row it is follows the catalog's identity links)
    assert m.people_in is not None
    assert sum(m.suppressed_people.values()) == m.people_in >= named["user_id"].nunique()
    assert verify_derived(result.folder).ok
    # the user agent alone: its classes of single rows hold 5 people or more each; but the
    # released user and device pseudonyms link each one's rows, and over each one's
    # combination of user agents people are alone (test_attacks_linked_rows): refused
    by_agent = WEB.replace("ip: {op: generalize, ip: 24}", "ip: drop").replace(
        "device_id: drop", "device_id: hash"
    )
    with pytest.raises(ExtractRejectedError, match="combination of rows") as refused:
        _run(demo, by_agent, tmp_path / "agent")
    folder = refused.value.folder
    m = ExtractManifest.model_validate_json((folder / "manifest.json").read_text())
    assert m.risk.linked_by == ("user_id", "device_id") and m.risk.k == 1
    output = pq.read_table(folder / "web_logs.parquet").to_pandas()
    # the attacker's people: a row's user, else the user its device is seen with in the
    # source (the least by MD5 where several are), else the device, else one unknown
    seen = duckdb.execute(
        "SELECT device_id, arg_min(user_id, md5(user_id)) AS owner FROM ("
        f" SELECT device_id, user_id FROM read_csv('{demo.parent / 'web_logs.csv'}')"
        " UNION ALL SELECT device_id, user_id FROM"
        f" read_parquet('{demo.parent / 'usage_events.parquet'}'))"
        " WHERE user_id IS NOT NULL AND device_id IS NOT NULL GROUP BY device_id"
    ).df()
    device_of = {
        python_hash(d, KEYS, Hash(op="hash"), m.name): d for d in logs["device_id"].dropna()
    }
    owner = dict(zip(seen["device_id"], seen["owner"], strict=True))
    user_of = {python_hash(u, KEYS, Hash(op="hash"), m.name): u for u in named["user_id"]}
    person = [
        user_of[u] if isinstance(u, str) else owner.get(device_of.get(d, ""), f"~{d}")
        if isinstance(d, str) else "?"
        for u, d in zip(output["user_id"], output["device_id"], strict=True)
    ]  # fmt: skip
    people = output.assign(person=person).groupby("user_agent")["person"].nunique()
    assert m.risk.k_rows is not None
    assert people.min() == m.risk.k_rows >= 5 and len(people) > 100
    # suppression removed people with all their rows: everyone kept has all their rows
    kept = set(output["user_id"].dropna())
    hashed = named["user_id"].map(lambda u: python_hash(u, KEYS, Hash(op="hash"), m.name))
    assert int(hashed.isin(kept).sum()) == int(output["user_id"].notna().sum())
    assert m.people_in is not None and m.people_out is not None
    assert m.people_in >= named["user_id"].nunique() and m.people_out == len(set(person))
    assert m.people_out < m.people_in  # some were suppressed, whole
    assert not verify_derived(folder).ok


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
    with pytest.raises(ConfigError, match=r"its hierarchy maps 1 value\(s\) to a group that"):
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
    with pytest.raises(ConfigError, match=r"picture_url is unique to almost every person"):
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
insensitive:
  action: "what was done in the app: known to nobody outside"
  object_type: "the kind of object acted on: known to nobody outside"
  object_id: "the object acted on: known to nobody outside"
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
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forgotten on accounts alone, the other tables' emails give it away before the run;
    forgotten everywhere, the sample finds them unique per person before the run; where the
    sample shows nothing (too few rows), the extract's own check sets it aside as
    <name>.REJECTED."""
    one = _forgetful(demo, tmp_path / "one", ("accounts",))
    with pytest.raises(ConfigError, match=r"email holds google_profiles\.email values"):
        _run(one, EMAIL_POLICY, tmp_path / "out1")
    tables = tuple(t for t in load_catalog(demo).tables if t != "staff")  # staff's own
    every = _forgetful(demo, tmp_path / "every", tables)
    with pytest.raises(ConfigError, match=r"email is unique to almost every person"):
        _run(every, EMAIL_POLICY, tmp_path / "out2")
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())
    import anonymize.sampling

    monkeypatch.setattr(anonymize.sampling, "SAMPLE", anonymize.sampling.UNIQUE_ROWS - 1)
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
        "insensitive: {"
        + "".join(
            f"{c}: 'for this test alone: said to be unknown outside', "
            for c in (
                "country",
                "plan",
                "signup_method",
                "created_at",
                "closed_at",
                "last_login_at",
            )
        )
        + "status:",
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
    owners = list(_owner(output, source, result.manifest.name))
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
    link = result.manifest.name
    back = {
        python_hash(t, KEYS, Hash(op="hash"), link): i for i, t in enumerate(source["ticket_id"])
    }
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


# -- bypasses the red team found (briefed with README and SECURITY alone) ----------------

EVENTS = """\
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
  object_id: OP
insensitive:
  action: "what was done in the app: known to nobody outside"
  object_type: "the kind of object acted on: known to nobody outside"
  object_id: "the object acted on: known to nobody outside"
privacy: {k: 1}
output: {path: events.parquet}
"""


@pytest.mark.parametrize(
    ("op", "released", "kept"),
    [
        ("{op: generalize, prefix: 7}", "left(object_id, 7)", "keeps 7 characters"),
        ("{op: mask, keep_last: 4}", "right(object_id, 4)", "keeps 4 characters"),
        ("{op: redact}", "object_id", "releases them as they are"),
    ],
)
def test_operators_that_keep_user_ids_in_object_id_are_refused(
    demo: Path, tmp_path: Path, op: str, released: str, kept: str
) -> None:
    """object_id holds user ids (invite_member): `keep` was refused, but a prefix of 7, a
    mask keeping 4 or redact (which finds names, not ids) gave them back all the same."""
    accounts = f"read_csv('{demo.parent / 'accounts.csv'}')"
    part = released.replace("object_id", "user_id")
    most = duckdb.execute(
        f"SELECT max(n) FROM (SELECT count(*) AS n FROM {accounts} WHERE {part} IN (SELECT"
        f" {released} FROM '{demo.parent / 'usage_events.parquet'}' WHERE object_type = 'user')"
        f" GROUP BY {part})"
    ).fetchone()
    assert most is not None and most[0] <= 10  # each released value: 10 accounts at most
    with pytest.raises(ConfigError) as refused:
        _run(demo, EVENTS.replace("OP", op), tmp_path / "out")
    message = str(refused.value)
    assert "object_id holds accounts.user_id values (user_id)" in message and kept in message
    assert "use hash, suppress or drop; or declare it in the catalog" in message
    # what destroys the value passes: two characters of eight
    result = _run(demo, EVENTS.replace("OP", "{op: mask, keep_last: 2}"), tmp_path / "ok")
    assert pq.read_table(result.file).column("object_id").to_pylist()[0].startswith("******")


NAME = "Valérie Boulanger"


@pytest.mark.parametrize(
    "form",
    [
        "Valérie_Boulanger",
        "Boulanger, Valérie",
        "valerie boulanger",
        "BOULANGER VALERIE",
        "ValerieBoulanger",
        "Boulanger",  # the surname alone names her family
    ],
)
def test_a_hierarchy_copying_a_name_in_another_form_is_refused(
    demo: Path, tmp_path: Path, form: str
) -> None:
    names = _accounts(demo)["full_name"].tolist()
    assert NAME in names
    hierarchy = {n: (form if n == NAME else "*") for n in names}
    path = tmp_path / "policy.yml"
    path.write_text(
        _accounts_policy(full_name=json.dumps({"op": "generalize", "hierarchy": hierarchy}))
    )
    with pytest.raises(ConfigError, match=r"maps 1 value\(s\) to a group that still carries"):
        load_policy(path, load_catalog(demo))
    # a group that does not carry it: her initial, or her given name alone
    for group in ("V.", "Valérie"):
        hierarchy[NAME] = group
        path.write_text(
            _accounts_policy(full_name=json.dumps({"op": "generalize", "hierarchy": hierarchy}))
        )
        load_policy(path, load_catalog(demo))


def test_a_hierarchy_keeping_a_phone_s_digits_is_refused(demo: Path, tmp_path: Path) -> None:
    """A catalog that gives the phone `personal: phone` (no identity): its digits in another
    format are the phone."""
    root = tmp_path / "copy"
    shutil.copytree(demo.parent, root)
    catalog = root / "catalog.yml"
    catalog.write_text(
        catalog.read_text().replace(
            "phone: {identity: phone, type: string", "phone: {personal: phone, type: string", 1
        )
    )
    phones = list(_accounts(demo)["phone"].dropna().unique())
    hierarchy = dict.fromkeys(phones, "*")
    hierarchy[phones[0]] = "0" + re.sub(r"\D", "", phones[0])[-9:]  # +31 647 217900: 0647217900
    path = tmp_path / "policy.yml"
    path.write_text(
        _accounts_policy(phone=json.dumps({"op": "generalize", "hierarchy": hierarchy}))
    )
    with pytest.raises(ConfigError, match=r"phone names or identifies a person: its hierarchy"):
        load_policy(path, load_catalog(catalog))
    hierarchy[phones[0]] = "+" + re.sub(r"\D", "", phones[0])[:2]  # the country code: a group
    path.write_text(
        _accounts_policy(phone=json.dumps({"op": "generalize", "hierarchy": hierarchy}))
    )
    load_policy(path, load_catalog(catalog))


PROFILES = """\
version: 1
name: profiles
table: google_profiles
person: user_id
columns:
  google_sub: drop
  user_id: hash
  email: drop
  given_name: drop
  family_name: drop
  picture_url: OP
  locale: keep
  email_verified: keep
  linked_at: drop
privacy: {k: 1}
output: {path: profiles.parquet}
"""


@pytest.mark.parametrize(
    ("op", "how", "released"),
    [
        ("{op: mask, keep_last: 30}", "mask keep_last: 30", "right(picture_url, 30)"),
        ("{op: mask, keep_last: 4}", "mask keep_last: 4", "right(picture_url, 4)"),
        ("{op: generalize, prefix: 45}", "prefix: 45", "left(picture_url, 45)"),
    ],
)
def test_a_mask_or_prefix_of_a_unique_url_is_refused(
    demo: Path, tmp_path: Path, op: str, how: str, released: str
) -> None:
    """What is left of a unique URL is often as unique as the URL."""
    profiles = f"read_json('{demo.parent / 'google_profiles.jsonl'}')"
    people, distinct = duckdb.execute(
        f"SELECT count(DISTINCT user_id), count(DISTINCT {released}) FROM {profiles}"
    ).fetchone() or (0, 0)
    assert distinct == people > 200  # every released value points at one person
    with pytest.raises(ConfigError) as refused:
        _run(demo, PROFILES.replace("OP", op), tmp_path / "out")
    assert (
        f"picture_url is unique to almost every person after {how}: {people} of {people}"
        " sampled people (100%) hold a value no other holds" in str(refused.value)
    )
    # what repeats passes: the host alone, or one character
    for fine in ("{op: generalize, prefix: 36}", "{op: mask, keep_last: 1}"):
        result = _run(demo, PROFILES.replace("OP", fine), tmp_path / fine[5:13])
        values = pq.read_table(result.file).column("picture_url").to_pylist()
        assert len(set(values)) <= 16


BIRTHS = """\
version: 1
controller: {name: Clinic, contact: dpo@clinic.example, supervisory_authority: DPC}
tables:
  patients:
    path: patients.jsonl
    format: jsonl
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
      geboortedatum: {}
      bday: {}
      fecha_nacimiento: {}
      dob_text: {}
      d1: {}
      d2: {}
      visit: {}
      signed: {}
      signed_iso: {}
      note_code: {}
"""
DATED = (
    *("geboortedatum", "bday", "fecha_nacimiento", "dob_text", "d1", "d2"),
    *("visit", "signed", "signed_iso", "note_code"),
)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 patients: birth dates under many names (ISO, and DD/MM/YYYY text in dob_text
    and d2),
    visit dates of the last year, and the days their forms were signed as DD/MM/YYYY text."""
    root = tmp_path_factory.mktemp("clinic")
    rng = random.Random(5)
    with (root / "patients.jsonl").open("w") as f:
        for i in range(1000):
            born = datetime(1935, 1, 1) + timedelta(days=rng.randint(0, 365 * 65))
            visit = datetime(2026, 1, 1) + timedelta(days=rng.randint(0, 330))
            signed = datetime(2019, 1, 1) + timedelta(days=rng.randint(0, 365 * 6))
            row = {
                "patient": f"p{i:04d}",
                "geboortedatum": born.date().isoformat(),
                "bday": born.date().isoformat(),
                "fecha_nacimiento": born.date().isoformat(),
                "dob_text": born.strftime("%d/%m/%Y"),
                "d1": born.date().isoformat(),
                "d2": born.strftime("%d/%m/%Y"),
                "visit": visit.date().isoformat(),
                "signed": signed.strftime("%d/%m/%Y"),
                "signed_iso": signed.strftime("%Y%m%d"),
                "note_code": f"N-{rng.randint(0, 20)}",
            }
            f.write(json.dumps(row) + "\n")
    (root / "catalog.yml").write_text(BIRTHS)
    return root / "catalog.yml"


def _patients(column: str, op: str) -> str:
    lines = "".join(f"  {c}: {op if c == column else 'drop'}\n" for c in DATED)
    return (
        "version: 1\nname: patients\ntable: patients\nperson: patient\ncolumns:\n"
        f"  patient: hash\n{lines}privacy: {{k: 1}}\noutput: {{path: patients.parquet}}\n"
    )


@pytest.mark.parametrize(
    ("column", "found"),
    [
        ("geboortedatum", "is a date of birth"),
        ("bday", "is a date of birth"),
        ("fecha_nacimiento", "is a date of birth"),
        ("dob_text", "is a date of birth"),
        ("d1", "looks like a date of birth: 1000 of 1000 sampled dates fall between 1900"),
        ("d2", "looks like a date of birth: 1000 of 1000 sampled dates fall between 1900"),
    ],
)
def test_a_date_of_birth_under_another_name_is_refused(
    clinic: Path, tmp_path: Path, column: str, found: str
) -> None:
    """Found by its name in several languages, or by its values (nearly all between 1900
    and 14 years ago, spread over decades); refused finer than the year."""
    for op in ("keep", "{op: generalize, to: month}", "{op: date_shift}"):
        if op != "keep" and column in ("dob_text", "d2"):
            continue  # text: to: month and date_shift are refused for their type
        with pytest.raises(ConfigError, match=f"{column} {found}"):
            _run(clinic, _patients(column, op), tmp_path / "out")
    result = _run(clinic, _patients(column, "{op: generalize, to: year}"), tmp_path / "ok")
    released = pq.read_table(result.file).column(column).to_pylist()
    assert {(d.month, d.day) for d in released} == {(1, 1)} and len(set(released)) > 50


def test_dates_of_recent_events_are_not_taken_for_births(clinic: Path, tmp_path: Path) -> None:
    for column in ("visit", "signed_iso"):
        result = _run(clinic, _patients(column, "keep"), tmp_path / column)
        assert result.manifest.rows_out == 1000
    # a time the system recorded, as the catalog says, is no birth whatever its years
    root = tmp_path / "observed"
    shutil.copytree(clinic.parent, root)
    catalog = root / "catalog.yml"
    catalog.write_text(clinic.read_text().replace("      d1: {}", "      d1: {origin: observed}"))
    # kept whole, d1 is no birth but a value almost nobody shares: refused for that alone
    with pytest.raises(ConfigError) as refused:
        _run(catalog, _patients("d1", "keep"), tmp_path / "d1")
    assert "d1 is unique to almost every person" in str(refused.value)
    assert "birth" not in str(refused.value)
    result = _run(catalog, _patients("d1", "{op: generalize, to: month}"), tmp_path / "d1m")
    assert result.manifest.rows_out == 1000


def test_generalize_reads_text_dates(clinic: Path, tmp_path: Path) -> None:
    """`to: year` on DD/MM/YYYY text once showed DuckDB's binder error; now the text is read
    as dates. The day and month of DD/MM/YYYY and MM/DD/YYYY differ: finer than the year it
    is refused, naming the column and the formats read; text holding no dates too."""
    source = duckdb.execute(f"SELECT signed FROM read_json('{clinic.parent}/patients.jsonl')")
    years = {int(s[-4:]) for (s,) in source.fetchall()}
    result = _run(clinic, _patients("signed", "{op: generalize, to: year}"), tmp_path / "ok")
    released = pq.read_table(result.file).column("signed").to_pylist()
    assert {d.year for d in released} == years and {(d.month, d.day) for d in released} == {(1, 1)}
    compact = _run(clinic, _patients("signed_iso", "{op: generalize, to: month}"), tmp_path / "c")
    assert {d.day for d in pq.read_table(compact.file).column("signed_iso").to_pylist()} == {1}
    with pytest.raises(ConfigError) as refused:
        _run(clinic, _patients("signed", "{op: generalize, to: month}"), tmp_path / "month")
    message = str(refused.value)
    assert "signed holds 1000 of 1000 sampled dates as DD/MM/YYYY or MM/DD/YYYY" in message
    assert "to: month cannot read them" in message and "Binder Error" not in message
    with pytest.raises(ConfigError) as refused:
        _run(clinic, _patients("note_code", "{op: generalize, to: year}"), tmp_path / "code")
    message = str(refused.value)
    assert "note_code is text, and 1000 of 1000 sampled values are no date in a format" in message
    assert "YYYY-MM-DD (a time may follow), YYYYMMDD" in message and "Error" not in message


HASHED_NAME = """\
version: 1
name: accounts-hashed-name
table: accounts
person: user_id
columns:
  user_id: hash
  customer_id: drop
  email: drop
  full_name: hash
  phone: drop
  company: drop
  country: keep
  city: drop
  plan: keep
  signup_method: drop
  password_hash: drop
  account_manager_id: drop
  status: drop
  created_at: drop
  closed_at: drop
  last_login_at: drop
privacy: {k: 1}
output: {path: accounts.parquet}
"""


def test_a_hashed_name_is_no_pseudonym_of_the_person(demo: Path, tmp_path: Path) -> None:
    """A hashed full name was counted as the person's pseudonym and left out of k (743
    claimed, 2 measured). Namesakes share its hash and it joins across extracts: it is a
    quasi-identifier, and the manifest's k is the one measured over every released column."""
    result = _run(demo, HASHED_NAME, tmp_path / "out")
    m = result.manifest
    assert "full_name" in m.risk.quasi_identifiers
    output = pq.read_table(result.file).to_pandas()
    people = output.groupby(["country", "plan", "full_name"])["user_id"].nunique()
    assert people.min() == m.risk.k == 1
    assert m.uniqueness is not None and m.uniqueness.released > 0.99
    assert verify_derived(result.folder).ok


@pytest.mark.parametrize(
    "reason",
    [
        *("x", "n/a", "todo", "-", "none", "ok", "a test", "it is ok"),
        *("zzzz zzzz zzzz zzzz", "qwer asdf zxcv uiop", "the the the the"),
    ],
)
def test_an_insensitive_column_needs_a_reason_in_words(
    demo: Path, tmp_path: Path, reason: str
) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(
        ACCOUNTS_K1.replace('"an account state, known to nobody outside"', f"'{reason}'")
    )
    with pytest.raises(ConfigError, match="the reason nobody outside could know status"):
        load_policy(path, load_catalog(demo))


TWO_COPIES = """\
version: 1
name: invoices-names
table: invoices
person: customer_id
columns:
  invoice_id: drop
  customer_id: hash
  billing_email: drop
  billing_name: {op: generalize, prefix: 4}
  billing_address: drop
  vat_id: drop
  amount_cents: drop
  currency: drop
  card_last4: drop
  status: drop
  issued_at: drop
join:
  - table: accounts
    prefix: a_
    columns:
      full_name: {op: mask, keep_last: 2}
sensitive: [billing_name, a_full_name]
privacy: {k: 1}
output: {path: invoices.parquet}
"""


def test_a_name_rebuilt_from_two_copies_is_refused(demo: Path, tmp_path: Path) -> None:
    """The billing name's first 4 letters beside the account name's length and last 2 were
    unique for nearly everyone (655 of 676), and, listed sensitive, the manifest said risk
    0.001. A name is never a sensitive attribute; and released columns derived from names
    are checked together, per person, as one column is."""
    source = duckdb.execute(
        f"SELECT i.customer_id, left(i.billing_name, 4) AS b, length(a.full_name) AS n,"
        f" right(a.full_name, 2) AS r FROM read_parquet('{demo.parent / 'invoices.parquet'}') i"
        f" JOIN read_csv('{demo.parent / 'accounts.csv'}') a USING (customer_id)"
        " WHERE i.billing_name IS NOT NULL"
    ).df()
    people = source.drop_duplicates(["customer_id", "b", "n", "r"])
    alone = people.groupby(["b", "n", "r"])["customer_id"].transform("nunique") == 1
    assert int(alone.sum()) > 0.9 * people["customer_id"].nunique()  # the attack works
    with pytest.raises(ConfigError) as refused:
        _run(demo, TWO_COPIES, tmp_path / "out")
    message = str(refused.value)
    assert "billing_name is derived from a name, an identifier or a contact" in message
    assert "a_full_name is derived from a name" in message
    together = TWO_COPIES.replace("sensitive: [billing_name, a_full_name]\n", "")
    with pytest.raises(ConfigError, match="together are unique to almost every person"):
        _run(demo, together, tmp_path / "o2")
    alone_ok = together.replace("      full_name: {op: mask, keep_last: 2}", "      plan: keep")
    assert _run(demo, alone_ok, tmp_path / "o3").manifest.rows_out > 0


def test_a_sensitive_column_must_be_an_attribute_of_few_values(demo: Path, tmp_path: Path) -> None:
    """`company: keep, sensitive: [company]` took company out of k (the manifest said 17)
    where country, plan and company single out 97 people: refused, with the fix; a status of
    a few values stays sensitive."""
    accounts = _accounts(demo)
    alone = accounts.dropna(subset=["company"]).groupby(["country", "plan", "company"]).size()
    assert int((alone == 1).sum()) > 50  # the attack works
    policy = ACCOUNTS_K1.replace("  company: drop", "  company: keep").replace(
        "quasi_identifiers: [country, plan]        # what the example once declared",
        "sensitive: [company]",
    )
    with pytest.raises(ConfigError) as refused:
        _run(demo, policy, tmp_path / "out")
    message = str(refused.value)
    assert "company is listed sensitive, which takes it out of k" in message
    assert "list it as a quasi-identifier" in message
    status = ACCOUNTS_K1.replace(
        'insensitive: {status: "an account state, known to nobody outside"}', "sensitive: [status]"
    )
    assert _run(demo, status, tmp_path / "ok").manifest.rows_out > 0


KIDS = """\
version: 1
controller: {name: School, contact: dpo@school.example, supervisory_authority: DPC}
tables:
  pupils:
    path: pupils.jsonl
    format: jsonl
    description: Pupils and their parents.
    category: account
    origin: provided
    purposes: [care]
    legal_basis: contract
    source: the parent
    retention: {criteria: ten years}
    erasure: {action: delete}
    primary_key: [pupil]
    columns:
      pupil: {identity: user_id, type: string}
COLUMNS"""
KID_COLUMNS = (
    *("kid_birth", "d_o_b", "nascita", "d3", "enrolled"),
    *("birth_year", "birth_month", "age_days", "age"),
)


@pytest.fixture(scope="module")
def kids(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 pupils: children's dates of birth (under 14 years old) under names the red team
    tried and a neutral one (d3), parents' under d_o_b and nascita, the day each enrolled
    (the last 8 years), the birth's year and month as two columns, and ages in days."""
    root = tmp_path_factory.mktemp("kids")
    rng = random.Random(11)
    today = datetime.now()
    with (root / "pupils.jsonl").open("w") as f:
        for i in range(1000):
            kid = today - timedelta(days=rng.randint(30, 365 * 14 - 30))
            parent = datetime(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 25))
            enrolled = today - timedelta(days=rng.randint(1, 365 * 8))
            row = {
                "pupil": f"p{i:04d}",
                "kid_birth": kid.date().isoformat(),
                "d_o_b": parent.date().isoformat(),
                "nascita": parent.date().isoformat(),
                "d3": kid.date().isoformat(),
                "enrolled": enrolled.date().isoformat(),
                "birth_year": kid.year,
                "birth_month": kid.month,
                "age_days": (today - kid).days,
                "age": (today - kid).days,
            }
            f.write(json.dumps(row) + "\n")
    (root / "catalog.yml").write_text(
        KIDS.replace("COLUMNS", "".join(f"      {c}: {{}}\n" for c in KID_COLUMNS))
    )
    return root / "catalog.yml"


def _pupils(**ops: str) -> str:
    lines = "".join(f"  {c}: {ops.get(c, 'drop')}\n" for c in KID_COLUMNS)
    return (
        "version: 1\nname: pupils\ntable: pupils\nperson: pupil\ncolumns:\n"
        f"  pupil: hash\n{lines}privacy: {{k: 1}}\noutput: {{path: pupils.parquet}}\n"
    )


@pytest.mark.parametrize(
    ("column", "found"),
    [
        ("kid_birth", "is a date of birth"),
        ("d_o_b", "is a date of birth"),
        ("nascita", "is a date of birth"),
        ("d3", "looks like a date of birth: 1000 of 1000 sampled dates fall between 1900 and"),
    ],
)
def test_a_date_of_birth_at_any_age_under_any_name_is_refused(
    kids: Path, tmp_path: Path, column: str, found: str
) -> None:
    """d_o_b, nascita and kid_birth were not recognised, and children's dates of birth (under
    14 years old) passed the value test: refused finer than the year, and released by year."""
    with pytest.raises(ConfigError, match=f"{column} {found}"):
        _run(kids, _pupils(**{column: "keep"}), tmp_path / "out")
    result = _run(kids, _pupils(**{column: "{op: generalize, to: year}"}), tmp_path / "ok")
    released = pq.read_table(result.file).column(column).to_pylist()
    assert {(d.month, d.day) for d in released} == {(1, 1)}
    # the days of a recent event, spread over the last 8 years, are no births
    assert _run(kids, _pupils(enrolled="keep"), tmp_path / "e").manifest.rows_out == 1000


def test_a_birth_month_beside_its_year_and_an_age_in_days_are_refused(
    kids: Path, tmp_path: Path
) -> None:
    """birth_year and birth_month as two columns are the month of birth; an age in days (by
    its name, or by values no age in years reaches) is the date of birth."""
    with pytest.raises(ConfigError, match="birth_month is the month or day of a birth"):
        _run(kids, _pupils(birth_year="keep", birth_month="keep"), tmp_path / "m")
    assert _run(kids, _pupils(birth_year="keep"), tmp_path / "y").manifest.rows_out == 1000
    for op in ("keep", "{op: generalize, bin: 1}", "{op: generalize, bin: 30}"):
        with pytest.raises(ConfigError, match="age_days is an age finer than a year"):
            _run(kids, _pupils(age_days=op), tmp_path / "d")
    with pytest.raises(
        ConfigError, match=r"age is an age finer than a year: \d+ of 1000 sampled values exceed 150"
    ):
        _run(kids, _pupils(age="keep"), tmp_path / "a")
    years = _run(kids, _pupils(age_days="{op: generalize, bin: 365}"), tmp_path / "ok")
    assert len(set(pq.read_table(years.file).column("age_days").to_pylist())) <= 14


def test_the_extract_leaves_out_a_person_the_ledger_holds_under_a_gmail_spelling(
    demo: Path, tmp_path: Path
) -> None:
    """A ledger entry kaitlinsalazar+news@googlemail.com once removed nobody from the accounts
    extract where kaitlin.salazar@gmail.com removed 1: the extract matches the ledger's folded
    emails too, as an audience does."""
    from dsar.catalog.models import IdentityKind
    from dsar.records.ledger import Ledger, Reason
    from dsar.subjects.identity import SubjectKey

    accounts = _accounts(demo)
    email = next(e for e in accounts["email"] if str(e).endswith("@gmail.com") and "." in e[:-10])
    local = email.split("@")[0]
    for spelling, request in (
        (f"{local.replace('.', '')}+news@googlemail.com", "R-1"),
        (f"{local.upper()}@gmail.com", "R-2"),
    ):
        ledger = Ledger(tmp_path / request / "ledger.db", KEYS)
        ledger.add(
            [SubjectKey(IdentityKind.EMAIL, spelling)], Reason.OBJECTED_DIRECT_MARKETING, request
        )
        path = tmp_path / f"{request}.yml"
        path.write_text(ACCOUNTS_K1)
        with open_engine(load_catalog(demo)) as engine:
            result = run_extract(path, engine, tmp_path / request / "out", keys=KEYS, ledger=ledger)
        ledger.close()
        assert result.manifest.suppressed["ledger"] == 1, spelling


def test_bins_on_a_text_column_are_refused_before_the_run(demo: Path, tmp_path: Path) -> None:
    """`generalize: {bin: 10}` on text the catalog gives no type once stopped the run with
    DuckDB's Binder Error: refused before, naming the column."""
    policy = TWO_COPIES.replace("sensitive: [billing_name, a_full_name]\n", "").replace(
        "  currency: drop", "  currency: {op: generalize, bin: 10}"
    )
    policy = policy.replace("  billing_name: {op: generalize, prefix: 4}", "  billing_name: drop")
    with pytest.raises(ConfigError) as refused:
        _run(demo, policy, tmp_path / "out")
    message = str(refused.value)
    assert "currency holds string: bin and bands need a number column" in message
    assert "Binder" not in message and "Error" not in message
    sensitive = policy.replace("privacy: {k: 1}", "sensitive: [currency]\nprivacy: {k: 1}")
    with pytest.raises(ConfigError, match="currency holds string: bin and bands need a number"):
        _run(demo, sensitive, tmp_path / "s")
    numbers = policy.replace("  currency: {op: generalize, bin: 10}", "  currency: drop").replace(
        "  amount_cents: drop", "  amount_cents: {op: generalize, bin: 1000}"
    )
    assert _run(demo, numbers, tmp_path / "ok").manifest.rows_out > 0
