"""Issue 22, red team round 4 (/tmp/redteam22d): each attack on extracts, made again.

F1: identifiers inside nested values (a struct holding another member's id, an email and a
phone; a list holding a phone; the same as JSON text) were released by `keep`, and the
extract's self-check and `dsar verify --catalog` said OK. F3: with no identity column in the
table (a `subject_requests: false` catalog), visits were counted as people (k = 7 over 60
patients; classes of 3 and 4 patients); the draft kept `patient_ref`. F5: two policies of
the same name (no `link:`) gave the same hashed user ids, joined into k = 1.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anonymize.draft import draft_policy
from anonymize.extract import run_extract
from anonymize.policy import load_policy
from anonymize.sampling import sampled_problems
from dsar import Keys, load_catalog, open_engine, verify_derived
from dsar.errors import ConfigError
from dsar.review.derived import source_identities

KEYS = Keys(bytes(range(32)))

CONTROLLER = (
    "controller: {name: Test Co, contact: privacy@test.example, dpo: dpo@test.example,"
    " supervisory_authority: AP, automated_decisions: none}\n"
)
TABLE = """    description: Rows.
    category: account
    origin: provided
    purposes: [membership]
    legal_basis: contract
    source: the person
    retention: {criteria: while a member}
    erasure: {action: delete}
"""


def _members(folder: Path) -> Path:
    """200 members; `sponsor` a struct (another member's id, an email, a phone), `household`
    a list of a phone, `note` the sponsor as JSON text (the red team's gen2.py, smaller)."""
    random.seed(2)
    rows = []
    for i in range(200):
        mgr, fam = (i // 10) * 10, i // 4
        sponsor = {
            "member": f"m{mgr:05d}",
            "contact": f"sponsor.{mgr}@example.org",
            "phone": f"+3161234{fam:04d}",
        }
        rows.append(
            {
                "member_id": f"m{i:05d}",
                "email": f"member.{i}@example.org",
                "country": ["NL", "DE"][(i // 40) % 2],
                "plan": ["free", "team"][(i // 80) % 2],
                "sponsor": sponsor,
                "household": [f"+3161234{fam:04d}"],
                "note": json.dumps({"by": sponsor}),
            }
        )
    (folder / "members.json").write_text(json.dumps(rows))
    catalog = folder / "catalog.yml"
    catalog.write_text(
        "version: 1\n" + CONTROLLER + "tables:\n  members:\n    path: members.json\n"
        "    format: json\n" + TABLE + "    primary_key: [member_id]\n    columns:\n"
        "      member_id: {identity: user_id, type: string}\n"
        "      email: {identity: email, type: string}\n"
        "      country: {type: string}\n      plan: {type: string}\n"
        "      sponsor: {}\n      household: {}\n      note: {type: string}\n"
    )
    return catalog


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _members(tmp_path_factory.mktemp("nested"))


def _policy(folder: Path, name: str, columns: str, extra: str = "") -> Path:
    path = folder / f"{name}.yml"
    path.write_text(
        f"version: 1\nname: {name}\ntable: members\n{extra}columns: {{{columns}}}\n"
        f"privacy: {{k: 5, max_suppression: 0.5}}\noutput: {{path: {name}.parquet}}\n"
    )
    return path


NESTED_KEEP = (
    "member_id: drop, email: drop, country: keep, plan: keep, sponsor: keep,"
    " household: keep, note: drop"
)


def test_nested_identifiers_are_refused_at_policy_check(members: Path, tmp_path: Path) -> None:
    """F1: the struct's member id and the list's phone were released by keep; the same as
    flat columns were refused. Now each leaf goes through the flat checks."""
    policy = load_policy(
        _policy(tmp_path, "p3", NESTED_KEEP, "person: member_id\n"), load_catalog(members)
    )
    with open_engine(load_catalog(members)) as engine:
        found = {p.location: p.message for p in sampled_problems(policy, engine)}
    assert "sponsor.member holds members.member_id values" in found["columns.sponsor"]
    assert "household[] holds phones" in found["columns.household"]


def test_json_text_leaves_are_checked_and_other_operators_refused(
    members: Path, tmp_path: Path
) -> None:
    """The sponsor as JSON text kept: refused by its leaves; a mask on a struct: refused
    (it works on one value); hash, drop and suppress pass."""
    cols = "member_id: drop, email: drop, country: keep, plan: keep, household: drop"
    catalog = load_catalog(members)
    text = load_policy(
        _policy(tmp_path, "t", cols + ", sponsor: drop, note: keep", "person: member_id\n"),
        catalog,
    )
    masked = load_policy(
        _policy(
            tmp_path,
            "m",
            cols + ", note: drop, sponsor: {op: mask, keep_last: 1}",
            "person: member_id\n",
        ),
        catalog,
    )
    hashed = load_policy(
        _policy(tmp_path, "h", cols + ", note: drop, sponsor: hash", "person: member_id\n"),
        catalog,
    )
    with open_engine(load_catalog(members)) as engine:
        got = {p.location: p.message for p in sampled_problems(text, engine)}
        assert "note holds nested values" in got["columns.note"]
        got = {p.location: p.message for p in sampled_problems(masked, engine)}
        assert "sponsor holds nested values (struct): mask" in got["columns.sponsor"]
        assert not [p for p in sampled_problems(hashed, engine) if "sponsor" in p.location]


def test_verify_and_the_self_check_read_nested_cells(members: Path, tmp_path: Path) -> None:
    """F1: an extract whose nested cells hold an identity value, an email and phones passed
    `dsar verify --catalog` (OK, rc 0). The extract is made with the nested column suppressed
    (sponsor suppressed), then its file is replaced by one carrying the red team's cells: each
    leaf is scanned as a cell of its own, with its row."""
    policy = _policy(
        tmp_path,
        "ok",
        "member_id: drop, email: drop, country: keep, plan: keep, sponsor: suppress,"
        " household: drop, note: drop",
        "person: member_id\n",
    )
    catalog = load_catalog(members)
    with open_engine(catalog) as engine:
        result = run_extract(policy, engine, tmp_path / "out", keys=KEYS)
        identities = source_identities(engine, ["members"])
    assert verify_derived(result.folder, identities=identities).ok
    table = pq.read_table(result.file)
    n = table.num_rows
    sponsor = pa.array(
        [{"member": "m00120", "contact": "sponsor.120@example.org", "phone": "+31612340030"}] * n
    )
    attacked = table.set_column(table.schema.get_field_index("sponsor"), "sponsor", sponsor)
    attacked = attacked.append_column("household", pa.array([["+31612340030"]] * n))
    attacked = attacked.append_column("note", pa.array(['{"by": {"member": "m00120"}}'] * n))
    _rewrite(result.folder, result.file, attacked)
    found = [str(f) for f in verify_derived(result.folder, identities=identities).findings]
    assert any("sponsor.contact row 1: emails in clear" in f for f in found)
    assert any("household[] row 1: phones in clear" in f for f in found)
    assert any(
        "sponsor.member row 1: a value of the source's members.member_id" in f for f in found
    )
    assert any(
        "note.by.member row 1: a value of the source's members.member_id" in f for f in found
    )
    assert not any("m00120" in f or "example.org" in f for f in found)  # never a value


def _rewrite(folder: Path, file: Path, table: pa.Table) -> None:
    """Write `table` over the extract's file and its manifest's checksum (no key: the MAC
    is not checked), as whoever edits an extract would."""
    from dsar.io import sha256_file

    pq.write_table(table, file)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    for out in manifest["outputs"]:
        out["sha256"] = sha256_file(file)
        out["bytes"] = file.stat().st_size
    path.write_text(json.dumps(manifest))


# --- F3: rows counted as people where the catalog declares no person ---------------------


def _visits(folder: Path) -> Path:
    """About 175 visits by 60 patients (5 frequent visitors), `patient_ref` without a role, in a
    catalog of `subject_requests: false` (the red team's noperson/gen.py)."""
    rng = random.Random(3)
    rows: list[dict[str, str]] = []
    for p in range(60):
        ward, band = rng.choice("ABCD"), rng.choice(["20-39", "40-59", "60-79"])
        diag = rng.choice(["flu", "asthma", "diabetes", "hiv"])
        for _ in range(12 if p < 5 else rng.randint(1, 3)):
            rows.append(
                {
                    "visit_id": f"v{len(rows):05d}",
                    "patient_ref": f"P{p:04d}",
                    "ward": ward,
                    "age_band": band,
                    "diagnosis": diag,
                }
            )
    rng.shuffle(rows)
    with (folder / "visits.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    catalog = folder / "catalog.yml"
    catalog.write_text(
        "version: 1\nsubject_requests: false\n" + CONTROLLER + "tables:\n  visits:\n"
        "    path: visits.csv\n    format: csv\n"
        + TABLE.replace("origin: provided", "origin: observed")
        + "    primary_key: [visit_id]\n    columns:\n"
        "      visit_id: {type: string}\n      patient_ref: {type: string}\n"
        "      ward: {type: string}\n      age_band: {type: string}\n"
        "      diagnosis: {type: string}\n"
    )
    return catalog


@pytest.fixture(scope="module")
def visits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _visits(tmp_path_factory.mktemp("visits"))


def _visit_policy(folder: Path, person: str) -> Path:
    path = folder / "v.yml"
    path.write_text(
        f"version: 1\nname: visits-research\ntable: visits\n{person}"
        "columns: {visit_id: drop, patient_ref: drop, ward: keep, age_band: keep,"
        " diagnosis: keep}\nsensitive: [diagnosis]\n"
        "privacy: {k: 5, l: 2, max_suppression: 0.5}\noutput: {path: visits.parquet}\n"
    )
    return path


def test_rows_are_not_counted_as_people_without_a_declared_person(
    visits: Path, tmp_path: Path
) -> None:
    """F3: the extract said 'people 164, k = 7' for 60 patients, classes of 3 and 4. Now
    it is refused until person: names the key, and k then counts patients."""
    with (
        open_engine(load_catalog(visits)) as engine,
        pytest.raises(
            ConfigError, match=r"patient_ref looks like a person's key: 1[0-9]+ rows hold 60"
        ),
    ):
        run_extract(_visit_policy(tmp_path, ""), engine, tmp_path / "a", keys=KEYS)
    with open_engine(load_catalog(visits)) as engine:
        done = run_extract(
            _visit_policy(tmp_path, "person: patient_ref\n"), engine, tmp_path / "b", keys=KEYS
        )
    source: dict[tuple[str, str], set[str]] = {}
    with (visits.parent / "visits.csv").open() as handle:
        for row in csv.DictReader(handle):
            source.setdefault((row["ward"], row["age_band"]), set()).add(row["patient_ref"])
    released = {
        tuple(r.values())
        for r in pq.read_table(done.file, columns=["ward", "age_band"]).to_pylist()
    }
    assert min(len(source[c]) for c in released) >= 5  # every class: 5 patients or more
    assert done.manifest.risk.k >= 5 and done.manifest.people_in == 60


def test_person_none_needs_a_reason_and_the_data_to_agree(visits: Path, tmp_path: Path) -> None:
    """`person: {none: ...}` says each row is a different person: refused without a reason
    in words, and refused where a person-named key repeats (patient_ref)."""
    with pytest.raises(ConfigError, match="give the reason in words"):
        load_policy(_visit_policy(tmp_path, "person: {none: x}\n"), load_catalog(visits))
    policy = _visit_policy(tmp_path, 'person: {none: "one row per patient in this register"}\n')
    with (
        open_engine(load_catalog(visits)) as engine,
        pytest.raises(ConfigError, match="person: none says each row is a different person"),
    ):
        run_extract(policy, engine, tmp_path / "c", keys=KEYS)


def test_person_on_a_category_is_refused(visits: Path, tmp_path: Path) -> None:
    """A column without a role may name the person where the table declares none, but
    not a category: `person: ward` would count 4 wards as people."""
    with (
        open_engine(load_catalog(visits)) as engine,
        pytest.raises(ConfigError, match="person: ward holds 4 distinct values"),
    ):
        run_extract(_visit_policy(tmp_path, "person: ward\n"), engine, tmp_path / "d", keys=KEYS)


def test_draft_names_the_person_key_and_never_keeps_it(visits: Path) -> None:
    """F3: the draft proposed `patient_ref: keep`; now person: patient_ref, hashed."""
    catalog = load_catalog(visits)
    with open_engine(catalog) as engine:
        text = draft_policy(catalog, "visits", engine=engine)
    assert "person: patient_ref" in text
    line = next(x for x in text.splitlines() if x.strip().startswith("patient_ref:"))
    assert line.split()[1] == "hash"
    assert "person: patient_ref" in draft_policy(catalog, "visits")  # by its name alone


# --- F5: two policies of one name join on their hashes -----------------------------------

ACCOUNTS = (
    "version: 1\nname: {name}\n{link}table: accounts\nperson: user_id\ncolumns: {{{columns}}}\n"
    "privacy: {{k: 10, max_suppression: 0.2}}\noutput: {{path: accounts.parquet}}\n"
)
DROPPED = (
    "customer_id: drop, email: drop, full_name: drop, phone: drop, company: drop, city: drop,"
    " password_hash: drop, account_manager_id: drop, closed_at: drop, last_login_at: drop"
)
RELEASE_A = f"user_id: hash, {DROPPED}, country: keep, plan: keep, signup_method: drop,"
RELEASE_A += " status: drop, created_at: drop"
RELEASE_B = f"user_id: hash, {DROPPED}, country: drop, plan: drop, signup_method: keep,"
RELEASE_B += " status: keep, created_at: {op: generalize, to: year}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dsar.demo import generate
    from tests.conftest import AS_OF

    return generate(tmp_path_factory.mktemp("demo7"), users=1000, seed=7, as_of=AS_OF).catalog_path


def _release(demo: Path, folder: Path, name: str, columns: str, link: str = "") -> Path:
    from dsar import ReleaseLog

    policy = folder / f"{name}-{len(list(folder.glob('*.yml')))}.yml"
    policy.write_text(
        ACCOUNTS.format(name=name, link=f"link: {link}\n" if link else "", columns=columns)
    )
    with open_engine(load_catalog(demo)) as engine:
        done = run_extract(
            policy,
            engine,
            folder / f"out-{policy.stem}",
            keys=KEYS,
            release_log=ReleaseLog(folder / "releases.db", KEYS),
        )
    return done.file


def test_two_policies_of_one_name_do_not_join(demo: Path, tmp_path: Path) -> None:
    """F5: A (country, plan) and B (signup method, status, year) under one name, no link:
    both accepted, joined on the hashed user id to k = 1 (59 people alone). Now B is
    refused; under another name it is accepted and its hashes join nothing of A's; the
    same policy run again is not refused by this rule."""
    from dsar.errors import ReleaseConflictError

    a = _release(demo, tmp_path, "acct-share", RELEASE_A)
    with pytest.raises(ReleaseConflictError, match="link name 'acct-share'"):
        _release(demo, tmp_path, "acct-share", RELEASE_B)
    b = _release(demo, tmp_path, "acct-other", RELEASE_B)
    ids_a = set(pq.read_table(a, columns=["user_id"]).column(0).to_pylist())
    ids_b = set(pq.read_table(b, columns=["user_id"]).column(0).to_pylist())
    assert ids_a and ids_b and not ids_a & ids_b  # the join finds no one
    again = tmp_path / "again"
    again.mkdir()
    _release(demo, again, "acct-share", RELEASE_A)
    _release(demo, again, "acct-share", RELEASE_A)  # the same columns: the same release


def test_an_explicit_link_in_both_checks_k_over_the_union(demo: Path, tmp_path: Path) -> None:
    """Both policies write link: acct-join (they are meant to join): k over the columns of
    both is computed, and the join's k = 1 is refused; a link written in one policy only
    is refused as if none were."""
    from dsar.errors import ReleaseConflictError

    _release(demo, tmp_path, "acct-a", RELEASE_A, link="acct-join")
    with pytest.raises(ReleaseConflictError, match=r"over the columns of both k is 1\b"):
        _release(demo, tmp_path, "acct-b", RELEASE_B, link="acct-join")
    other = tmp_path / "one-side"
    other.mkdir()
    _release(demo, other, "acct-join", RELEASE_A)
    with pytest.raises(ReleaseConflictError, match="no link: was written"):
        _release(demo, other, "acct-b", RELEASE_B, link="acct-join")
    coarse = tmp_path / "coarse"
    coarse.mkdir()
    _release(demo, coarse, "acct-c", RELEASE_A.replace("country: keep", "country: drop"), "j")
    country = RELEASE_A.replace("plan: keep", "plan: drop")
    _release(demo, coarse, "acct-d", country, link="j")  # country and plan joined: k = 15


# --- round 5 (red team F2): a person's key recognised by its values, not only its name ---


def _keyed(folder: Path) -> Path:
    """Visits by 30 patients under keys whose names say nothing (`kunde` K0000, `mrn`
    100000), and a register (one row a person) of ordinary quasi-identifiers that repeat:
    a date, a postcode, an age (names that say nothing either where they can)."""
    rng = random.Random(5)
    visits = [(p, rng.choice("ABCD")) for p in range(30) for _ in range(rng.randint(2, 5))]
    (folder / "visits.csv").write_text(
        "visit_no,kunde,mrn,ward\n"
        + "".join(f"{i},K{p:04d},{100000 + p},{w}\n" for i, (p, w) in enumerate(visits))
    )
    (folder / "register.csv").write_text(
        "row_no,seen,plz,leeftijd,ward\n"
        + "".join(
            f"{i},2021-03-{rng.randint(1, 28):02d},{rng.randint(1000, 1080)},"
            f"{rng.randint(18, 90)},{rng.choice('ABCD')}\n"
            for i in range(200)
        )
    )
    table = TABLE.replace("origin: provided", "origin: observed")
    catalog = folder / "catalog.yml"
    catalog.write_text(
        "version: 1\nsubject_requests: false\n" + CONTROLLER + "tables:\n"
        "  visits:\n    path: visits.csv\n    format: csv\n" + table + "    columns:\n"
        "      visit_no: {type: integer}\n      kunde: {type: string}\n"
        "      mrn: {type: integer}\n      ward: {type: string}\n"
        "  register:\n    path: register.csv\n    format: csv\n" + table + "    columns:\n"
        "      row_no: {type: integer}\n      seen: {type: string}\n"
        "      plz: {type: string}\n      leeftijd: {type: integer}\n"
        "      ward: {type: string}\n"
    )
    return catalog


def _keyed_policy(folder: Path, table: str, person: str, drop: list[str]) -> Path:
    path = folder / f"{table}.yml"
    columns = ", ".join(f"{c}: drop" for c in drop)
    path.write_text(
        f"version: 1\nname: {table}-r5\ntable: {table}\n{person}"
        f"columns: {{{columns}, ward: keep}}\nprivacy: {{k: 5, max_suppression: 0.5}}\n"
        f"output: {{path: {table}.parquet}}\n"
    )
    return path


def test_a_person_key_is_recognised_by_its_values(tmp_path: Path) -> None:
    """F2: `kunde` and `mrn` (30 patients over about 100 visits) passed with no person: and
    with a false person: none; the manifest counted visits as people. Now both are refused,
    and person: kunde counts 30 people. A register of dates, postcodes and ages (which
    repeat too) is not taken for keyed."""
    catalog = _keyed(tmp_path)
    none = 'person: {none: "one row per patient: a register"}\n'
    visits = ["visit_no", "kunde", "mrn"]
    for key in ("kunde", "mrn"):
        for person in ("", none):
            policy = _keyed_policy(tmp_path, "visits", person, visits)
            with (
                open_engine(load_catalog(catalog)) as engine,
                pytest.raises(ConfigError, match=r"(kunde|mrn) looks like a person's key"),
            ):
                run_extract(policy, engine, tmp_path / f"out-{key}-{bool(person)}", keys=KEYS)
    with open_engine(load_catalog(catalog)) as engine:
        done = run_extract(
            _keyed_policy(tmp_path, "visits", "person: kunde\n", visits),
            engine,
            tmp_path / "kunde",
            keys=KEYS,
        )
    assert done.manifest.people_in == 30
    register = ["row_no", "seen", "plz", "leeftijd"]
    for person in ("", none):
        with open_engine(load_catalog(catalog)) as engine:
            done = run_extract(
                _keyed_policy(tmp_path, "register", person, register),
                engine,
                tmp_path / f"register-{bool(person)}",
                keys=KEYS,
            )
        assert done.manifest.rows_in == 200
