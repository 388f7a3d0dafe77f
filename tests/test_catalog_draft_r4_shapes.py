"""Red team, issue 27 round 4, findings 3-7 and 12 (`dsar catalog draft`): what a column holds.

3. A key-value table's value column (WordPress `wp_usermeta.meta_value`) holding session
   tokens inside PHP-serialized blobs, 1 value in 10, was given no role ("too few to mark
   it", 0.90): a live token reached the access bundle in clear. A column where any sampled
   value is or holds a secret by shape is `secret`, whatever the share.
4. `wp_postmeta` (a fifth of its values billing emails, a fifth customer IPs) was
   `personal: false`: never searched, the person's email left after erasure. A key-value
   table's value column is read per key (`meta_key` names the field): personal by its most
   telling key, and `identity: email` where a key's values are emails, so a request finds
   those rows.
5. A CSV with one extra field on one line: DuckDB's sniffer, finding no delimiter every line
   agrees on, read it as one column (`|`, no header), and the draft called it reference data
   at 0.95; the person's orders were never searched. It is NOT READ, naming the line.
6. A HubSpot-shaped JSONL (a `properties` object of many keys, which DuckDB reads as a MAP,
   an email under one key in every row) was drafted `personal: false`: the map's values were
   pooled, the emails 1 in 31 of them. A map's keys named like fields, present in a tenth of
   the rows, are read as fields: `properties.email.value` is judged as a column of its own.
7. Phones written as whole numbers (the `+` lost: 31612345678) in a column named as a phone
   (phone, telefoon) were plain `{type: integer}`, and a customer table of them reference
   data. They are `identity: phone` with `type: string` proposed, and a request by the
   number finds the rows.
12. Stripe's `created` (Unix epoch seconds) was not seen as a time: "no date column to count
    from". The catalog counts a retention period only from a date, timestamp or text column
    (`retention.after` on an integer column is refused), so the draft says so instead.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from dsar.catalog import load_catalog
from dsar.catalog.models import ColumnType, IdentityKind
from dsar.cli import app
from dsar.draft import Draft, draft, draft_catalog
from dsar.draft.shapes import phone_named
from dsar.text.engine import TextEngine
from tests.test_catalog_draft import _filled

runner = CliRunner()
FIRST = ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
LAST = ["Smith", "Jones", "Garcia", "Müller", "Rossi", "Dubois", "Novak", "Silva", "Kim", "Berg"]
# Dutch mobiles (316 + 8 digits) and US numbers (1 + area code + 7 digits), numbers in use
NL = [31612345678 + 7919 * i for i in range(40)]
US = [12062828946 + 1000 * i for i in range(40)]


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def _draft(root: Path) -> Draft:
    return draft(root, sample=400, text_engine=TextEngine(nlp=None))


def _fill(tmp_path: Path, out: Path) -> Path:
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    filled = tmp_path / "filled.yml"
    filled.write_text(yaml.safe_dump(_filled(written), sort_keys=False), encoding="utf-8")
    checked = runner.invoke(app, ["catalog", "check", str(filled)])
    assert checked.exit_code == 0, checked.output
    return filled


def test_f7_phone_names_word_by_word() -> None:
    for name in ("phone", "telefoon", "Telefon", "tel", "mobile", "msisdn", "billingPhone",
                 "telefoonnummer", "tel_nr", "mobile_number"):  # fmt: skip
        assert phone_named(name), name
    for name in ("hotel_id", "cancelled", "total", "intelligence", "telemetry_id"):
        assert not phone_named(name), name


def test_f7_integer_phones_named_as_phones_are_identity_phone_typed_string(
    tmp_path: Path,
) -> None:
    root = tmp_path / "export"
    _csv(
        root / "customer_nl.csv",
        [{"klant_id": i + 1, "naam": f"Klant {i + 1}", "telefoon": p} for i, p in enumerate(NL)],
    )
    _csv(
        root / "customer.csv",
        [{"customer_id": i + 1, "first_name": FIRST[i % 10], "phone": p} for i, p in enumerate(US)],
    )
    # the same digits under a name that says nothing of phones: no phone
    _csv(root / "accounts.csv", [{"id": i + 1, "account_no": p} for i, p in enumerate(NL)])
    d = _draft(root)
    for table, column in (("customer_nl", "telefoon"), ("customer", "phone")):
        col = d.tables[table].columns[column]
        assert col.identity is IdentityKind.PHONE, (table, col.notes)
        assert col.kind is ColumnType.STRING
        assert d.tables[table].personal
    assert d.tables["accounts"].columns["account_no"].identity is None


def test_f7_a_request_by_the_number_finds_the_integer_phone_rows(tmp_path: Path) -> None:
    from dsar import open_engine
    from dsar.subjects.collect import collect
    from dsar.subjects.identity import SubjectRequest, parse_key

    root = tmp_path / "export"
    _csv(
        root / "customer_nl.csv",
        [{"klant_id": i + 1, "naam": f"Klant {i + 1}", "telefoon": p} for i, p in enumerate(NL)],
    )
    out = tmp_path / "catalog.yml"
    draft_catalog(root, out, sample=400, text_engine=TextEngine(nlp=None))
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert written["tables"]["customer_nl"]["columns"]["telefoon"]["type"] == "string"
    assert "a request finds them by the number written the same way" in out.read_text()
    catalog = load_catalog(_fill(tmp_path, out))
    with open_engine(catalog) as engine:
        [got] = collect(engine, catalog, [SubjectRequest("r", (parse_key(f"phone={NL[7]}"),))])
    rows = got.tables["customer_nl"].to_pylist()
    assert [r["klant_id"] for r in rows] == [8]
    assert rows[0]["telefoon"] == str(NL[7])  # read as text, as written


def _hubspot(root: Path, rows: int = 120) -> None:
    """Contacts as HubSpot's API exports them: `properties` of ~20 keys out of 400, each
    `{"value": ..., "timestamp": ...}`, and `email` in every row."""
    rng = random.Random(6)
    root.mkdir(parents=True, exist_ok=True)
    with (root / "contacts.jsonl").open("w", encoding="utf-8") as fh:
        for vid in range(1, rows + 1):
            props = {
                f"custom_prop_{k}": {"value": str(rng.randint(0, 9)), "timestamp": 1700000000}
                for k in rng.sample(range(400), 20)
            }
            props["email"] = {"value": f"contact{vid}@corp{vid % 7}.example", "timestamp": 1}
            fh.write(json.dumps({"vid": vid, "properties": props}) + "\n")
    # a map keyed by the people themselves: its keys are values, never a field's name
    with (root / "scores.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(rows):
            keyed = {f"u{rng.randint(0, 10**6)}_{j}": rng.randint(0, 9) for j in range(300)}
            fh.write(json.dumps({"id": i, "by_user": keyed}) + "\n")


def test_f6_a_map_of_many_keys_is_read_per_key(tmp_path: Path) -> None:
    from dsar.draft.profile import map_fields, nested_leaves

    root = tmp_path / "export"
    _hubspot(root)
    d = _draft(root)
    table = d.tables["contacts"]
    assert table.profile.columns["properties"].arrow_type.startswith("map")
    assert table.personal
    col = table.columns["properties"]
    assert col.personal is not None and col.personal.value == "email", col.notes
    assert any("properties.email.value" in n for n in col.notes)
    values = table.profile.values("properties")
    assert "email" in map_fields("properties", values)["properties"]
    leaves = nested_leaves("properties", values)
    assert len(leaves["properties.email.value"]) == len(values)
    # keys that are values (one a row) stay pooled: no path names one
    scores = d.tables["scores"].profile
    assert scores.columns["by_user"].arrow_type.startswith("map")
    paths = nested_leaves("by_user", scores.values("by_user"))
    assert list(paths) == ["by_user{}"]


def test_f5_a_ragged_line_read_as_one_column_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "export"
    _csv(
        root / "users.csv",
        [{"user_id": i, "email": f"user{i}@mail.example"} for i in range(1, 41)],
    )
    lines = ["order_id,user_id,amount,note"]
    for i in range(1, 80):
        lines.append(f"{i},{i % 40 + 1},{10 + i}.50,paid")
    lines[60] = "60,21,70.50,call me,eva@example.org +31612345678"  # line 61: 5 fields
    (root / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # a file of one column is still read as one
    (root / "tags.csv").write_text("tag\n" + "\n".join(f"t{i}" for i in range(30)) + "\n")
    d = _draft(root)
    assert "orders" not in d.tables
    [unread] = [n for n in d.not_read if n.name == "orders"]
    assert "line 61 has 5 fields where the header has 4" in unread.reason
    assert "eva" not in unread.reason and "3161" not in unread.reason
    assert list(d.tables["tags"].columns) == ["tag"]
    out = tmp_path / "catalog.yml"
    draft_catalog(root, out, sample=400, text_engine=TextEngine(nlp=None))
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert written["tables"]["orders"]["personal"] == "TODO"


def _serialized_session(token: str, ip: str) -> str:
    """WordPress's session_tokens meta value: a PHP-serialized array keyed by the token."""
    return (
        f'a:1:{{s:64:"{token}";a:3:{{s:10:"expiration";i:1700000000;s:2:"ip";'
        f's:{len(ip)}:"{ip}";s:2:"ua";s:11:"Mozilla/5.0";}}}}'
    )


def _woo(root: Path, users: int = 30) -> dict[int, str]:
    """A WooCommerce export: users, their meta (names, email, address, a session token),
    orders (posts) and their meta (billing email, first name, total, customer IP). The
    session token of each user."""
    rng = random.Random(3)
    tokens: dict[int, str] = {}
    _csv(
        root / "wp_users.csv",
        [
            {"ID": u, "user_login": f"user{u}", "user_email": f"person{u}@mail.example"}
            for u in range(1, users + 1)
        ],
    )
    meta: list[dict[str, Any]] = []
    for u in range(1, users + 1):
        tokens[u] = "".join(rng.choice("0123456789abcdef") for _ in range(64))
        for key, value in (
            ("first_name", FIRST[u % 10]),
            ("last_name", LAST[u % 10]),
            ("billing_email", f"person{u}@mail.example"),
            ("billing_address_1", f"{u + 10} Main Street"),
            ("session_tokens", _serialized_session(tokens[u], f"203.0.113.{u}")),
            ("wp_capabilities", 'a:1:{s:8:"customer";b:1;}'),
            ("show_admin_bar_front", "true"),
            ("locale", "en_US"),
            ("rich_editing", "true"),
            ("_woocommerce_persistent_cart_1", 'a:1:{s:4:"cart";a:0:{}}'),
        ):
            meta.append({"umeta_id": len(meta) + 1, "user_id": u, "meta_key": key,
                         "meta_value": value})  # fmt: skip
    _csv(root / "wp_usermeta.csv", meta)
    posts: list[dict[str, Any]] = []
    postmeta: list[dict[str, Any]] = []
    for p in range(100, 100 + 2 * users):
        u = p % users + 1
        posts.append({"ID": p, "post_type": "shop_order", "post_status": "wc-completed"})
        for key, value in (
            ("_billing_email", f"person{u}@mail.example"),
            ("_billing_first_name", FIRST[u % 10]),
            ("_order_total", f"{p % 90 + 10}.00"),
            ("_customer_ip_address", f"198.51.100.{u}"),
            ("_payment_method", "stripe"),
        ):
            postmeta.append({"meta_id": len(postmeta) + 1, "post_id": p, "meta_key": key,
                             "meta_value": value})  # fmt: skip
    _csv(root / "wp_posts.csv", posts)
    _csv(root / "wp_postmeta.csv", postmeta)
    return tokens


def test_f3_f4_key_value_tables_are_read_per_key(tmp_path: Path) -> None:
    root = tmp_path / "export"
    _woo(root)
    d = _draft(root)
    usermeta = d.tables["wp_usermeta"].columns["meta_value"]
    assert usermeta.secret, usermeta.notes  # a tenth of the values hold a token
    assert usermeta.personal is not None and usermeta.identity is None
    assert any("inside a longer value" in n for n in usermeta.notes)
    assert not d.tables["wp_usermeta"].columns["meta_key"].secret  # field names: no tokens
    postmeta = d.tables["wp_postmeta"]
    assert postmeta.personal
    value = postmeta.columns["meta_value"]
    assert value.identity is IdentityKind.EMAIL and not value.secret, value.notes
    [note] = [n for n in value.notes if n.startswith("a key-value table")]
    for key in ("_billing_email", "_customer_ip_address", "_billing_first_name"):
        assert key in note
    assert "@" not in note and "198.51" not in note


def test_f3_f4_the_token_stays_out_of_the_bundle_and_the_billing_email_is_erased(
    tmp_path: Path,
) -> None:
    root = tmp_path / "export"
    tokens = _woo(root)
    out = tmp_path / "catalog.yml"
    draft_catalog(root, out, sample=400, text_engine=TextEngine(nlp=None))
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    for table in written["tables"].values():
        if table.get("retention", {}).get("criteria") == "TODO":
            table["retention"]["criteria"] = "while the account is open"
    for name in ("wp_usermeta", "wp_postmeta"):
        assert written["tables"][name].get("personal") is not False, name
    out.write_text(yaml.safe_dump(written, sort_keys=False), encoding="utf-8")
    filled = _fill(tmp_path, out)
    bundles = tmp_path / "bundles"
    got = runner.invoke(
        app,
        ["access", "--catalog", str(filled), "--email", "person3@mail.example",
         "--out", str(bundles), "--label", "AR-3"],
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    written_files = [p for p in bundles.rglob("*") if p.is_file()]
    assert written_files
    for path in written_files:
        assert tokens[3].encode() not in path.read_bytes(), path
    plan = runner.invoke(
        app, ["erase", "plan", "--catalog", str(filled), "--email", "person3@mail.example"]
    )
    assert plan.exit_code == 0, plan.output
    # person 3's two orders each hold their billing email in wp_postmeta
    [line] = [x for x in plan.output.splitlines() if x.strip().startswith("wp_postmeta")]
    assert "2 row(s) of the person" in line


def test_f3_a_few_tokens_in_a_column_make_it_secret(tmp_path: Path) -> None:
    root = tmp_path / "export"
    rng = random.Random(9)
    rows = [
        {
            "id": i,
            "reference": "".join(rng.choice("ABCDEFGHJKabcdefgh0123456789") for _ in range(40))
            if i % 20 == 0
            else f"order-{i}",
        }
        for i in range(200)
    ]
    _csv(root / "payments.csv", rows)
    col = _draft(root).tables["payments"].columns["reference"]
    assert col.secret, col.notes
    assert any("one live token is enough" in n for n in col.notes)


def test_f12_epoch_integers_are_named_where_no_date_column_is(tmp_path: Path) -> None:
    root = tmp_path / "export"
    root.mkdir()
    with (root / "customers.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(40):
            fh.write(json.dumps({"id": f"cus_{i:04d}", "email": f"c{i}@post.example",
                                 "created": 1700000000 + 3600 * i}) + "\n")  # fmt: skip
    _csv(
        root / "events.csv",
        [
            {"user_email": f"c{i}@post.example", "updatedAt": 1700000000000 + 1000 * (i // 2)}
            for i in range(40)
        ],
    )
    # a count named like a time is no epoch (values far below 2000's)
    _csv(root / "visits.csv", [{"email": f"c{i}@post.example", "time_spent": i} for i in range(40)])
    out = tmp_path / "catalog.yml"
    d = draft_catalog(root, out, sample=400, text_engine=TextEngine(nlp=None))
    assert any("created (Unix epoch seconds)" in n for n in d.tables["customers"].notes)
    assert any("updatedAt (Unix epoch milliseconds)" in n for n in d.tables["events"].notes)
    assert not any(n.startswith("epoch time:") for n in d.tables["visits"].notes)
    text = out.read_text(encoding="utf-8")
    assert text.count("its epoch integers (see above) are no date the catalog counts from") == 2
    # the engine cannot count from them: the check refuses retention.after on an integer
    written = yaml.safe_load(text)
    written["tables"]["customers"]["retention"] = {"period": "2 years", "after": "created"}
    out.write_text(yaml.safe_dump(written, sort_keys=False), encoding="utf-8")
    filled = tmp_path / "filled.yml"
    filled.write_text(yaml.safe_dump(_filled(written), sort_keys=False), encoding="utf-8")
    refused = runner.invoke(app, ["catalog", "check", str(filled)])
    assert refused.exit_code != 0
    assert "retention counts from 'created', an integer column" in refused.output + str(
        refused.exception
    )


def test_f6_map_keys_that_may_be_values_are_never_a_path() -> None:
    from dsar.draft.profile import map_fields

    # votes keyed by username, the same people in every row: values, not fields
    rows = [[("alice", 1), ("bob", 0), ("email", "x@example.org")] for _ in range(10)]
    assert map_fields("votes", rows) == {"votes": {"email"}}


def test_f4_a_key_value_table_keyed_by_field_ids_is_read_per_id(tmp_path: Path) -> None:
    """Magento's EAV tables name the field by a whole-number attribute_id."""
    root = tmp_path / "export"
    rows: list[dict[str, Any]] = []
    for entity in range(1, 41):
        for attribute, value in (
            (5, FIRST[entity % 10]),
            (7, LAST[entity % 10]),
            (9, f"buyer{entity}@shop.example"),
            (11, f"group-{entity % 3}"),
            (13, "default"),
        ):
            rows.append({"value_id": len(rows) + 1, "attribute_id": attribute,
                         "entity_id": entity, "value": value})  # fmt: skip
    _csv(root / "customer_entity_varchar.csv", rows)
    d = _draft(root)
    table = d.tables["customer_entity_varchar"]
    col = table.columns["value"]
    assert table.personal
    assert col.identity is IdentityKind.EMAIL, col.notes
    [note] = [n for n in col.notes if n.startswith("a key-value table")]
    assert "attribute_id 9: 100% of 40 sampled values are emails" in note
