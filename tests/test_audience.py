"""Ad audiences: each platform's normalisation, the SQL twin, the files and their counts."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings, strategies as st

from anonymize.audience import PLATFORMS, build_audience_file
from anonymize.audience.platforms import platform
from dsar import open_engine
from dsar.keys import Keys

EMAILS = st.builds(
    lambda local, domain, pad: f"{pad}{local}@{domain}{pad}",
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+ \t\x0b\x0c\xa0-]{0,15}", fullmatch=True),
    st.sampled_from(["gmail.com", "GoogleMail.com", "example.co.uk", "Mail.Example.org"]),
    st.sampled_from(["", " ", "  ", "\t", "\n ", "\x0b", "\x0c\r"]),
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
        f"SELECT __email FROM {p.email_relation('(SELECT ?::VARCHAR AS v)', 'v')}", [value]
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


# -- each platform's own published examples ------------------------------------------------

PUBLISHED = [
    # Meta, Conversions API customer information parameters
    # https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
    (
        "meta",
        "email",
        "John_Smith@gmail.com",
        None,
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
    ),
    (
        "meta",
        "phone",
        "(650)555-1212",
        "US",
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176",
    ),
    # Snap, Conversions API parameters
    # https://developers.snap.com/api/marketing-api/Conversions-API/Parameters
    (
        "snap",
        "email",
        "Person@Example.com",
        None,
        "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345",
    ),
    (
        "snap",
        "phone",
        "+44 844 412 4653",
        None,
        "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383",
    ),
    # TikTok, supported IDs for a customer file (the hash on the page is of 37493828222,
    # without the '+' printed beside it)
    # https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file
    (
        "tiktok",
        "phone",
        "374-93-828222",
        None,
        "65b7e6dcf6f4310f8d7cbfbd78289a753062fb054d6664fb9aaac5df66a422d4",
    ),
    # UID2, normalization and encoding (Base64 of the raw digest)
    # https://unifiedid.com/docs/getting-started/gs-normalization-encoding
    ("uid2", "email", "user@example.com", None, "tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ="),
    ("uid2", "email", "MyEmail@example.com", None, "FsGNM28LJQ8OLZB0Us65ZYp07NrovJSGTCMSKnLMJ6U="),
    ("uid2", "email", "My.Email@example.com", None, "4itTvG+HEnTzpiqzejyu1yFPwU1nYhWpaiQvz62hyB8="),
    (
        "uid2",
        "email",
        "JaneSaoirse+Work@example.com",
        None,
        "KKruSBUjDNO069iMUVImVQZm6RrAGZKeOtrD9mwogYA=",
    ),
    (
        "uid2",
        "email",
        "JANE.SAOIRSE@gmail.com",
        None,
        "ku4mBX7Z3qJTXWyLFB1INzkyR2WZGW4ANSJUiW21iI8=",
    ),
    (
        "uid2",
        "email",
        "JaneSaoirse+Work@gmail.com",
        None,
        "ku4mBX7Z3qJTXWyLFB1INzkyR2WZGW4ANSJUiW21iI8=",
    ),
    ("uid2", "phone", "1 (234) 567-8901", "US", "EObwtHBUqDNZR33LNSMdtt5cafsYFuGmuY4ZLenlue4="),
    # Amazon: no published vectors; these are the fixtures of AWS's Amazon Marketing Cloud
    # uploader (source/tests/unit_test/amc_transformation/sample_data/test_us, us_raw.json
    # and us_check.json), https://github.com/aws-solutions/amazon-marketing-cloud-uploader-from-aws
    (
        "amazon",
        "email",
        "fchecketts0@webeden.co.uk",
        None,
        "5bd5f77cb5a05b8a30fb028e800c19207c158772564e485561e5596506aba005",
    ),
    (
        "amazon",
        "phone",
        "5714120599",
        "US",
        "8ae78b78db5e45aff4a0646198a9f1e60270ba153349b29b4ce0bbd2f5ec9cc9",
    ),
]


@pytest.mark.parametrize(("name", "kind", "given", "region", "published"), PUBLISHED)
def test_published_examples(
    name: str, kind: str, given: str, region: str | None, published: str, tmp_path: Path
) -> None:
    p = platform(name)
    normalised = p.email(given) if kind == "email" else p.phone(given, region)
    assert normalised is not None and p.hash(normalised) == published
    # and the same through the vectorised file path
    source = tmp_path / "list.csv"
    source.write_text(f'value\n"{given}"\n')
    result = build_audience_file(
        source,
        "value",
        [name],
        tmp_path / "out",
        kind="email" if kind == "email" else "phone",
        region=region,
    )
    rows = list(csv.reader(result.files[name][0].open()))
    assert rows[-1] == [published]


@pytest.mark.parametrize("value", ["İnci@Example.com", "ΣOFIA@example.gr", "Jane.Doe@Gmail.com"])
def test_the_sql_twin_agrees_on_letters_python_lowers_differently(value: str) -> None:
    for p in PLATFORMS.values():
        got = duckdb.execute(
            f"SELECT __email FROM {p.email_relation('(SELECT ?::VARCHAR AS v)', 'v')}", [value]
        ).fetchone()
        assert got is not None and got[0] == p.email(value), p.name


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        # Google's own test for enhanced conversions: dots go, the +alias stays
        ("google_ec", "user.name+alias@gmail.com", "username+alias@gmail.com"),
        ("google_ec", "first.last.name@gmail.com", "firstlastname@gmail.com"),
        ("google_ec", "another.user.name@googlemail.com", "anotherusername@googlemail.com"),
        ("google_ec", "  User@Example.COM  ", "user@example.com"),
        # UID2: the gmail rules are for gmail.com only
        ("uid2", "jane.saoirse+work@googlemail.com", "jane.saoirse+work@googlemail.com"),
        # X: lowercase, trim
        ("x", "  Someone@Example.com ", "someone@example.com"),
        # Amazon's Events API tag: characters other than letters, digits and ".@_-" removed
        ("amazon", " Jane.Doe+Ads@Example.com ", "jane.doeads@example.com"),
    ],
)
def test_published_rules(name: str, given: str, expected: str) -> None:
    assert platform(name).email(given) == expected


# -- from the catalog: who may be in an audience ------------------------------------------

EXAMPLE_SPEC = Path(__file__).parents[1] / "examples" / "audience_marketing.yml"


def _expected(root: Path, p_name: str, leave_out: set[str]) -> set[str]:
    """Written by hand over the files: consented, not opted out, account not closed."""
    rows = duckdb.execute(
        f"SELECT m.email FROM read_json('{root}/marketing_preferences.json') m"
        f" LEFT JOIN read_csv('{root}/accounts.csv') a USING (user_id)"
        " WHERE m.ads_personalization AND m.opted_out_at IS NULL"
        " AND coalesce(a.status, '') <> 'closed'"
    ).fetchall()
    p = platform(p_name)
    out = set()
    for (email,) in rows:
        normalised = p.email(email)
        if normalised is not None and normalised not in leave_out:
            out.add(p.hash(normalised))
    return out


def _written(path: Path) -> set[str]:
    return {r[0] for r in list(csv.reader(path.open()))[1:]}


def test_an_audience_holds_exactly_the_people_who_may_be_in_it(
    demo_export: Path, tmp_path: Path, engine_kind: str
) -> None:
    from anonymize.audience import build_audience
    from dsar import load_catalog
    from dsar.catalog.models import IdentityKind
    from dsar.records.ledger import Ledger, Reason
    from dsar.subjects.identity import SubjectKey

    catalog = load_catalog(demo_export)
    with open_engine(catalog, engine_kind) as engine:
        result = build_audience(EXAMPLE_SPEC, engine, ["meta", "uid2"], tmp_path / "a")
    root = demo_export.parent
    for name in ("meta", "uid2"):
        assert _written(result.files[name][0]) == _expected(root, name, set())
    counts = result.manifests["meta"].counts
    assert (
        counts["rows_read"]
        == counts["no_consent"] + counts["opted_out"] + counts["closed_account"] + counts["rows_in"]
    )
    assert counts["no_consent"] > 0
    # someone objects to direct marketing: gone from the next audience
    someone = sorted(_expected(root, "meta", set()))[0]
    person = next(
        e
        for (e,) in duckdb.execute(
            f"SELECT email FROM read_json('{root}/marketing_preferences.json')"
        ).fetchall()
        if platform("meta").email(e) and platform("meta").hash(platform("meta").email(e)) == someone  # type: ignore[arg-type]
    )
    ledger = Ledger(tmp_path / "ledger.db", Keys(b"k" * 40))
    ledger.add(
        [SubjectKey(IdentityKind.EMAIL, person.strip().lower())],
        Reason.OBJECTED_DIRECT_MARKETING,
        "OB-1",
    )
    with open_engine(catalog, engine_kind) as engine:
        again = build_audience(EXAMPLE_SPEC, engine, ["meta"], tmp_path / "b", ledger=ledger)
    assert someone not in _written(again.files["meta"][0])
    assert again.manifests["meta"].counts["in_ledger"] == 1


@pytest.mark.parametrize(
    ("table", "column", "rule"),
    [
        ("google_profiles", "email", "Limited Use"),
        ("accounts", "email", "purpose limitation"),
    ],
)
def test_data_that_may_not_feed_advertising_is_refused(
    demo_export: Path, tmp_path: Path, table: str, column: str, rule: str
) -> None:
    from anonymize.audience import build_audience
    from dsar import load_catalog

    spec = tmp_path / "spec.yml"
    spec.write_text(f"version: 1\nname: ads\ntable: {table}\nemail: {column}\n")
    with pytest.raises(Exception, match=rule), open_engine(load_catalog(demo_export)) as engine:
        build_audience(spec, engine, ["google"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_spec_made_in_python_is_checked_as_a_loaded_one(
    demo_export: Path, tmp_path: Path
) -> None:
    """An unknown table or column is the workbench's error with every problem, not a
    KeyError (the audience used to skip the check the extract and aggregate run)."""
    from anonymize.audience import AudienceSpec, build_audience
    from dsar import ConfigError, load_catalog

    spec = AudienceSpec(version=1, name="ads", table="acounts", email="email")
    with (
        pytest.raises(ConfigError, match=r"no table 'acounts' in the catalog"),
        open_engine(load_catalog(demo_export)) as engine,
    ):
        build_audience(spec, engine, ["google"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_opted_out_and_closed_accounts_never_appear(demo_copy: Path, tmp_path: Path) -> None:
    """Everyone consents here, so only the opt-outs and closed accounts hold people back."""
    from anonymize.audience import build_audience
    from dsar import load_catalog

    root = demo_copy.parent
    prefs = root / "marketing_preferences.json"
    moved = root / "prefs-original.json"
    prefs.rename(moved)
    duckdb.execute(
        "COPY (SELECT * REPLACE (true AS ads_personalization, CASE WHEN user_id IN (SELECT"
        f" user_id FROM read_csv('{root}/accounts.csv') WHERE status = 'closed') THEN NULL"
        f" ELSE opted_out_at END AS opted_out_at) FROM read_json('{moved}'))"
        f" TO '{prefs}' (FORMAT json, ARRAY true)"
    )
    moved.unlink()
    with open_engine(load_catalog(demo_copy)) as engine:
        result = build_audience(EXAMPLE_SPEC, engine, ["meta"], tmp_path / "a")
    counts = result.manifests["meta"].counts
    assert counts["no_consent"] == 0 and counts["opted_out"] > 0 and counts["closed_account"] > 0
    assert _written(result.files["meta"][0]) == _expected(root, "meta", set())


def test_what_was_sent_is_recorded_and_withdrawn_after_an_objection(
    demo_export: Path, tmp_path: Path
) -> None:
    from anonymize.audience import SentRecord, build_audience, person_ref
    from dsar import load_catalog
    from dsar.catalog.models import IdentityKind
    from dsar.records.ledger import Ledger, Reason
    from dsar.subjects.identity import SubjectKey

    keys = Keys(b"k" * 40)
    record = SentRecord(tmp_path / "records" / "sent.db", keys)
    catalog = load_catalog(demo_export)
    with open_engine(catalog) as engine:
        first = build_audience(
            EXAMPLE_SPEC, engine, ["meta", "uid2"], tmp_path / "a", record=record
        )
    sent = _written(first.files["meta"][0])
    emails = [
        e
        for (e,) in duckdb.execute(
            f"SELECT email FROM read_json('{demo_export.parent}/marketing_preferences.json')"
        ).fetchall()
    ]
    meta = platform("meta")
    person = next(e for e in emails if (n := meta.email(e)) and meta.hash(n) in sent)
    ref = person_ref(record.keys, person)
    assert ref is not None and record.holding(ref) == [
        ("meta", "ads-lookalike"),
        ("uid2", "ads-lookalike"),
    ]
    # nothing to withdraw until someone objects
    ledger = Ledger(tmp_path / "ledger" / "ledger.db", keys)
    assert record.withdrawals("meta", ledger) == []
    ledger.add(
        [SubjectKey(IdentityKind.EMAIL, person.strip().lower())],
        Reason.OBJECTED_DIRECT_MARKETING,
        "OB-2",
    )
    path = record.write_withdrawal("meta", ledger, tmp_path / "withdraw", "email")
    assert path.read_text().splitlines() == ["email", meta.hash(meta.email(person) or "")]
    assert record.withdrawals("meta", ledger) == []  # withdrawn once
    assert record.withdrawals("uid2", ledger) == [
        platform("uid2").hash(platform("uid2").email(person) or "")
    ]
    # the next audience leaves them out, and the audit log holds every run, intact
    with open_engine(catalog) as engine:
        again = build_audience(
            EXAMPLE_SPEC, engine, ["meta"], tmp_path / "b", ledger=ledger, record=record
        )
    assert meta.hash(meta.email(person) or "") not in _written(again.files["meta"][0])
    actions = [e.action for e in record.audit.entries()]
    assert actions == ["audience.sent", "audience.sent", "audience.withdrawn", "audience.sent"]
    assert record.audit.verify() == []
    assert all("@" not in json.dumps(e.details) for e in record.audit.entries())


PHONE_CATALOG = """\
version: 1
controller: {name: Shop Ltd, contact: privacy@shop.example, supervisory_authority: DPC}
tables:
  prefs:
    path: prefs.csv
    format: csv
    description: Marketing choices.
    category: marketing_preferences
    origin: provided
    purposes: [advertising audiences]
    legal_basis: consent
    source: the person
    retention: {criteria: while consent lasts}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      phone: {identity: phone, type: string}
      ads: {type: boolean}
"""


def test_phone_audiences_are_recorded_and_withdrawn(tmp_path: Path) -> None:
    from anonymize.audience import SentRecord, build_audience
    from dsar import load_catalog
    from dsar.catalog.models import IdentityKind
    from dsar.records.ledger import Ledger, Reason
    from dsar.subjects.identity import SubjectKey

    root = tmp_path / "shop"
    root.mkdir()
    (root / "prefs.csv").write_text(
        "user_id,phone,ads\nu1,+44 7700 900001,true\nu2,+44 7700 900002,true\nu3,+44 7700 900003,false\n"
    )
    (root / "catalog.yml").write_text(PHONE_CATALOG)
    spec = tmp_path / "spec.yml"
    spec.write_text(
        "version: 1\nname: ph\ntable: prefs\nphone: phone\nconsent: ads\nopted_out: none\n"
    )
    keys = Keys(b"k" * 40)
    record = SentRecord(tmp_path / "rec" / "sent.db", keys)
    catalog = load_catalog(root / "catalog.yml")
    with open_engine(catalog) as engine:
        result = build_audience(spec, engine, ["meta"], tmp_path / "out", record=record)
    assert result.manifests["meta"].counts["written"] == 2
    from dsar.subjects.identity import MatchRules, normalize

    phone = normalize(IdentityKind.PHONE, "+44 7700 900001", MatchRules())  # as the ledger keeps it
    assert phone is not None
    ledger = Ledger(tmp_path / "led" / "ledger.db", keys)
    ledger.add(
        [SubjectKey(IdentityKind.USER_ID, "u1"), SubjectKey(IdentityKind.PHONE, phone)],
        Reason.ERASED,
        "ER-1",
    )
    path = record.write_withdrawal("meta", ledger, tmp_path / "wd", "phone")
    assert path.read_text().splitlines() == ["phone", platform("meta").hash("447700900001")]
