"""The red team's fourth pass on audiences (issue 23), through the command line:

- F3, a no given in the export after an upload was never withdrawn: someone uploaded while
  consenting who later opts out, withdraws consent or closes their account in the company's
  own export (not in the ledger) stayed in the platform's audience, and `anonymize withdraw`
  said "0 people to remove". Now `withdraw --catalog --spec` reads the export again through
  the audience's gate and removes them, under every address of theirs; without the export
  (no `--catalog`, or one it cannot read) it says what was not checked; a new build warns
  about earlier uploads of people it now leaves out;
- F4, `dsar verify` of an audience folder without the key said "OK" for rows added by hand
  (with the manifest's counts and checksum edited to match): it now says the files are not
  authenticated and exits 3; with the key, a row added, edited or deleted is a finding;
- a copy of the Google sign-in table whose emails were re-cased, padded, dot-folded,
  `+tagged` or hashed is still that table (Limited Use);
- round 4 (/tmp/redteam23d): F1, an objection under a login address changed after the upload
  was withdrawn only with --spec (now through the person, with or without it; `ledger add`
  prints a command with --catalog; without the export the unmatched entries are counted);
  F2, a malformed list crashed with DuckDB's text quoting a row (now one line, exit 2);
  F3, `mailto:`/quoted list values were hashed as written (now read as `ledger add` reads
  them, or counted invalid).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from anonymize.cli import app as anonymize_app
from dsar.cli import app as dsar_app
from tests.test_attacks_audience_r3 import (
    BASIS,
    GOOGLE,
    OTHERS,
    _build,
    _cells,
    _counts,
    _hashes,
    _invoke,
    _shop,
)

ENV_NO_KEY = {"WORKBENCH_KEY": None, "WORKBENCH_LEDGER": None, "WORKBENCH_SENT_RECORD": None}
C1, C2, C3 = (dict(OTHERS)[u] for u in ("u1", "u2", "u3"))


def _prefs(root: Path, changes: dict[str, str]) -> None:
    """Rewrite prefs.csv: `changes` maps a user id to its row's `ads,opted_out_at` (or
    'delete' to drop the row)."""
    path = root / "prefs.csv"
    lines = path.read_text().splitlines()
    kept = [lines[0]]
    for line in lines[1:]:
        user, email, _ = line.split(",", 2)
        change = changes.get(user)
        if change == "delete":
            continue
        kept.append(f"{user},{email},{change}" if change else line)
    path.write_text("\n".join(kept) + "\n")


def _withdraw(tmp: Path, *args: str, platform: str = "meta") -> Result:
    ledger = tmp / "ledger.db"
    if not ledger.exists():
        made = _invoke(dsar_app, "ledger", "add", "--reason", "erased", "--request", "R-0",
                       "--ledger", str(ledger), "--email", "nobody@elsewhere.example")  # fmt: skip
        assert made.exit_code == 0, made.output
    return _invoke(
        anonymize_app,
        *("withdraw", "--platform", platform, "--record", str(tmp / "sent.db")),
        *("--ledger", str(ledger), "--out", str(tmp / "wd"), *args),
    )


def _uploaded(tmp: Path, path: str = "spec", platforms: str = "meta") -> Path:
    catalog = _shop(tmp / "shop", "ann@shop-customers.example")
    built = _build(catalog, tmp / "up", path, "--record", str(tmp / "sent.db"), platforms=platforms)
    assert built.exit_code == 0, built.output
    assert _hashes(C1, "meta") <= _cells(tmp / "up")
    return catalog


# -- F3: a no given in the export after the upload ---------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("true,2026-12-01T10:00:00", "opted_out"),
        ("false,", "no_consent"),
        ("delete", "not_in_table"),
    ],
    ids=["opted out", "consent withdrawn", "row deleted"],
)
def test_withdraw_removes_who_said_no_in_the_export_since(
    tmp_path: Path, change: str, reason: str
) -> None:
    catalog = _uploaded(tmp_path)
    _prefs(tmp_path / "shop", {"u1": change})
    spec = str(catalog.parent / "spec.yml")
    done = _withdraw(tmp_path, "--catalog", str(catalog), "--spec", spec)
    assert done.exit_code == 0, done.output
    removed = _cells(tmp_path / "wd")
    assert _hashes(C1, "meta") <= removed
    assert not removed & (_hashes(C2, "meta") | _hashes(C3, "meta"))
    assert "1 people to remove" in done.output and f"({reason})" in done.output
    assert "NOT CHECKED" not in done.output
    again = _withdraw(tmp_path, "--catalog", str(catalog), "--spec", spec)  # once only
    assert again.exit_code == 0 and "0 people to remove" in again.output, again.output


def test_withdraw_without_the_export_says_what_it_did_not_check(tmp_path: Path) -> None:
    """Before: "0 people to remove", and nothing else. Now the warning names the export."""
    _uploaded(tmp_path)
    _prefs(tmp_path / "shop", {"u1": "true,2026-12-01T10:00:00"})
    done = _withdraw(tmp_path)
    assert done.exit_code == 0, done.output
    assert "0 people to remove" in done.output
    assert "NOT CHECKED: the export was not read again (no --catalog)" in done.output


def test_withdraw_names_an_export_it_cannot_read_and_exits_3(tmp_path: Path) -> None:
    catalog = _uploaded(tmp_path)
    (tmp_path / "shop" / "prefs.csv").unlink()
    done = _withdraw(
        tmp_path, "--catalog", str(catalog), "--spec", str(catalog.parent / "spec.yml")
    )
    assert done.exit_code == 3, done.output
    assert "NOT CHECKED: the export could not be read" in done.output
    assert "people to remove" in done.output  # the ledger's part is still written


def test_an_opt_out_in_another_table_withdraws_every_address_of_the_person(
    tmp_path: Path,
) -> None:
    """Uploaded from a list under their account address; they opt out in prefs, under their
    marketing address: the person, not the string, leaves (no --spec: the person's no is
    read wherever the export records it, and the list's audience is named as not re-read)."""
    root = tmp_path / "shop"
    catalog = _shop(root, "ann@shop-customers.example")
    (root / "list.csv").write_text("email\n" + "".join(f"{e.upper()}\n" for _, e in OTHERS))
    built = _build(catalog, tmp_path / "up", "list", "--record", str(tmp_path / "sent.db"),
                   platforms="meta")  # fmt: skip
    assert built.exit_code == 0, built.output
    # u2 keeps their account address in accounts; in prefs they now write another one
    prefs = (
        (root / "prefs.csv")
        .read_text()
        .replace(f"u2,{C2},true,", "u2,cat.marketing@elsewhere.example,true,2026-12-02T09:00:00")
    )
    (root / "prefs.csv").write_text(prefs)
    done = _withdraw(tmp_path, "--catalog", str(catalog))
    assert done.exit_code == 0, done.output
    removed = _cells(tmp_path / "wd")
    assert _hashes(C2, "meta") <= removed
    assert not removed & _hashes(C1, "meta")
    assert "(said_no)" in done.output
    assert "NOT CHECKED: the consent and opt-out columns of the table of list" in done.output


def test_a_new_build_warns_about_earlier_uploads_now_left_out(tmp_path: Path) -> None:
    catalog = _uploaded(tmp_path)
    _prefs(tmp_path / "shop", {"u1": "true,2026-12-01T10:00:00", "u2": "delete"})
    again = _build(catalog, tmp_path / "up2", "spec", "--record", str(tmp_path / "sent.db"),
                   platforms="meta")  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "warning: meta still holds 2 earlier upload(s)" in again.output
    assert "1 not_in_table" in again.output and "1 opted_out" in again.output
    assert C1 not in again.output  # counts, never a value


# -- F4: verify without the key -----------------------------------------------------------------


def _verify(folder: Path, key: bool = True) -> Result:
    from typer.testing import CliRunner

    env = None if key else ENV_NO_KEY
    from tests.test_attacks_audience_r3 import ENV

    return CliRunner().invoke(dsar_app, ["verify", str(folder)], env=env or ENV)


def _add_row(folder: Path, value: str, *, fix_manifest: bool) -> None:
    """A row added by hand to meta.csv; with `fix_manifest`, the manifest's counts and
    checksum edited to match (the MAC cannot be)."""
    data = folder / "meta.csv"
    digest = hashlib.sha256(value.encode()).hexdigest()
    data.write_text(data.read_text() + digest + "\n")
    if fix_manifest:
        _match_manifest(folder, 1)


def _match_manifest(folder: Path, more: int) -> None:
    data = folder / "meta.csv"
    m = json.loads((folder / "meta.manifest.json").read_text())
    for key in ("written", "rows_in", "rows_read"):
        m["counts"][key] += more
    for o in m["outputs"]:
        if o["path"] == "meta.csv":
            o["sha256"] = hashlib.sha256(data.read_bytes()).hexdigest()
            o["bytes"] = data.stat().st_size
            o["rows"] = o["rows"] + more
    (folder / "meta.manifest.json").write_text(json.dumps(m))


def test_verify_without_the_key_says_the_rows_are_not_authenticated(tmp_path: Path) -> None:
    _uploaded(tmp_path)
    folder = tmp_path / "up"
    _add_row(folder, "added.by.hand@example.com", fix_manifest=True)
    plain = _verify(folder, key=False)
    assert plain.exit_code == 3, plain.output
    assert "NOT AUTHENTICATED" in plain.output
    assert f"{folder}: OK (" not in plain.output


@pytest.mark.parametrize("change", ["added", "edited", "deleted"])
def test_verify_with_the_key_finds_a_row_changed_by_hand(tmp_path: Path, change: str) -> None:
    _uploaded(tmp_path)
    folder = tmp_path / "up"
    assert _verify(folder).exit_code == 0
    data = folder / "meta.csv"
    lines = data.read_text().splitlines()
    if change == "added":
        lines.append(hashlib.sha256(b"added@example.com").hexdigest())
    elif change == "edited":
        lines[1] = hashlib.sha256(b"edited@example.com").hexdigest()
    else:
        del lines[1]
    data.write_text("\n".join(lines) + "\n")
    _match_manifest(folder, {"added": 1, "edited": 0, "deleted": -1}[change])
    found = _verify(folder)
    assert found.exit_code == 1, found.output
    assert "its MAC does not match" in found.output


# -- Limited Use: a copy of the Google table, rewritten --------------------------------------


def _gmail_fold(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local.replace('.', '')}@{domain}"


REWRITES: dict[str, Callable[[str], str]] = {
    "re-cased": str.upper,
    "padded": lambda v: f"  {v}\t",
    "dot-folded": _gmail_fold,
    "plus-tagged": lambda v: v.replace("@", "+promo@"),
    "sha256": lambda v: hashlib.sha256(v.strip().lower().encode()).hexdigest(),
}
GOOGLE_PEOPLE = [(f"u{n}", f"first.last{n}@gmail.com") for n in range(1, 8)]


@pytest.mark.parametrize("rewrite", list(REWRITES), ids=list(REWRITES))
def test_a_rewritten_copy_of_the_google_table_is_still_limited_use(
    tmp_path: Path, rewrite: str
) -> None:
    root = tmp_path / "shop"
    catalog = _shop(root, "ann@shop-customers.example")
    (root / "google.csv").write_text(
        "google_sub,user_id,email\n"
        + "".join(f"g{u},{u},{e}\n" for u, e in [("u0", GOOGLE), *GOOGLE_PEOPLE])
    )
    rows = [("u0", GOOGLE), *GOOGLE_PEOPLE]
    with (root / "prefs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "ads", "opted_out_at"])
        for u, e in rows:
            w.writerow([u, REWRITES[rewrite](e), "true", ""])
    built = _build(catalog, tmp_path / "out", "spec", platforms="meta")
    assert built.exit_code != 0, built.output
    assert "Limited Use" in str(built.exception) or "Limited Use" in built.output
    assert not (tmp_path / "out" / "meta.csv").exists()


def test_the_list_path_is_unchanged_by_the_copy_rule(tmp_path: Path) -> None:
    """A list with a consent basis that shares no Google value is built as before."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    built = _build(catalog, tmp_path / "out", "list", platforms="meta")
    assert built.exit_code == 0, built.output
    assert BASIS[0] == "--consent-basis"


# -- shared identifiers, stated -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "shared"), [("phone", 1), ("email", 0)], ids=["landline uploaded", "own emails"]
)
def test_the_manifest_states_who_a_shared_identifier_left_out(
    tmp_path: Path, column: str, shared: int
) -> None:
    """Ann objects under her email; Ben shares her landline. A phone audience leaves the
    landline out from Ben's row too (it would reach Ann): the manifest says 1 row was left
    out through an identifier it could not attribute; an email audience leaves out Ann only,
    and says 0."""
    from tests import test_attacks_audience_identity as ident

    catalog = ident._shop(tmp_path / "shop")
    ledger = tmp_path / "led" / "ledger.db"
    ident._ledger_add(ledger, "R-1", ident.ANN)
    spec = str(catalog.parent / f"spec-{column}.yml")
    built = ident._build(catalog, tmp_path / "out", "--spec", spec, "--ledger", str(ledger))
    assert built.exit_code == 0, built.output
    counts = ident._counts(tmp_path / "out")
    assert counts["shared_unattributed"] == shared
    assert counts["in_ledger"] == 1 + shared
    checked = _verify(tmp_path / "out")  # a stated count, not a reason: the sums still add up
    assert checked.exit_code == 0, checked.output


# -- round 4, F1: an objection under an identifier gained after the upload ---------------------

NEW_LOGIN = "cat.new.login@elsewhere.example"


def _moved_login(tmp: Path, also_prefs: bool = False) -> tuple[Path, Result]:
    """u1 is uploaded (a spec, recorded), then changes their login address in accounts (and,
    with `also_prefs`, their marketing one too) and objects under the new address only,
    with `ledger add --sent-record --catalog`."""
    catalog = _uploaded(tmp)
    root = tmp / "shop"
    for name in ("accounts.csv", *(["prefs.csv"] if also_prefs else [])):
        path = root / name
        path.write_text(path.read_text().replace(f"u1,{C1},", f"u1,{NEW_LOGIN},"))
    added = _invoke(dsar_app, "ledger", "add", "--reason", "objected_direct_marketing",
                    "--request", "R-1", "--ledger", str(tmp / "ledger.db"),
                    "--email", NEW_LOGIN, "--sent-record", str(tmp / "sent.db"),
                    "--catalog", str(catalog))  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "held by ad platform meta" in added.output
    return catalog, added


@pytest.mark.parametrize("also_prefs", [False, True], ids=["login only", "login and marketing"])
@pytest.mark.parametrize("with_spec", [False, True], ids=["no spec", "spec"])
def test_withdraw_finds_an_objector_under_an_address_gained_since(
    tmp_path: Path, also_prefs: bool, with_spec: bool
) -> None:
    """Before: `withdraw --catalog` without --spec removed 0 people (the ledger was matched
    against the identifiers recorded at the upload only). Now the ledger is read through the
    export's identity resolution: the person, under their user id recorded at the upload."""
    catalog, _ = _moved_login(tmp_path, also_prefs)
    spec = ["--spec", str(catalog.parent / "spec.yml")] if with_spec else []
    done = _withdraw(tmp_path, "--catalog", str(catalog), *spec)
    assert done.exit_code == 0, done.output
    removed = _cells(tmp_path / "wd")
    assert _hashes(C1, "meta") <= removed
    assert not removed & (_hashes(C2, "meta") | _hashes(C3, "meta"))
    assert "1 people to remove" in done.output
    assert "(in_ledger)" in done.output
    assert NEW_LOGIN not in done.output and C1 not in done.output


def test_the_withdraw_command_ledger_add_prints_works(tmp_path: Path) -> None:
    """Before: `ledger add --catalog` printed a withdraw command without --catalog, which
    removed 0 people. Now it names the catalog, and run as printed it removes the person."""
    catalog, added = _moved_login(tmp_path)
    line = next(x for x in added.output.splitlines() if x.startswith("to withdraw: "))
    command = line.removeprefix("to withdraw: ").replace("<folder>", str(tmp_path / "wd"))
    words = command.split()
    assert words[:2] == ["anonymize", "withdraw"] and "--catalog" in words
    assert words[words.index("--catalog") + 1] == str(catalog)
    done = _invoke(anonymize_app, *words[1:])
    assert done.exit_code == 0, done.output
    assert _hashes(C1, "meta") <= _cells(tmp_path / "wd")
    assert "1 people to remove" in done.output


def test_withdraw_without_the_export_counts_the_ledger_entries_it_could_not_match(
    tmp_path: Path,
) -> None:
    """Without --catalog the objection under the new address matches nothing recorded at
    the upload: withdraw says so, with the count, and never that the ledger was checked."""
    _moved_login(tmp_path)
    added = _invoke(dsar_app, "ledger", "add", "--reason", "erased", "--request", "R-2",
                    "--ledger", str(tmp_path / "ledger.db"), "--email", C2)  # fmt: skip
    assert added.exit_code == 0, added.output
    done = _withdraw(tmp_path)
    assert done.exit_code == 0, done.output
    assert "1 people to remove" in done.output  # C2, recorded at the upload under C2
    assert _hashes(C2, "meta") <= _cells(tmp_path / "wd")
    assert "NOT CHECKED: 1 ledger entry of 2 matched no identifier recorded" in done.output
    assert "--catalog" in done.output
    assert NEW_LOGIN not in done.output
    with_export = _withdraw(tmp_path, "--catalog", str(tmp_path / "shop" / "catalog.yml"))
    assert with_export.exit_code == 0, with_export.output
    assert "ledger entr" not in with_export.output


# -- round 4, F2: a list DuckDB cannot read is named, never quoted -------------------------------

SECRET = "private.person@secret-mail.example"  # in every malformed file: never in an error

MALFORMED: dict[str, tuple[str, str, str, int | None]] = {
    # name: (file name, content, what the error says, the line it names)
    "duplicate key": (
        "dup.jsonl",
        f'{{"email": "{C1}"}}\n{{"email": "{C2}", "email": "{SECRET}"}}\n',
        "the same key twice",
        2,
    ),
    # DuckDB names the line where the object it could not close ends: the file's end here
    "bad JSON": ("bad.jsonl", f'{{"email": "{C1}"}}\n{{"email": "{SECRET}"\n', "not valid JSON", 3),
    "object, not text": (
        "obj.jsonl",
        f'{{"email": "{C1}"}}\n{{"email": {{"v": "{SECRET}"}}}}\n',
        "an object or a list where text is expected",
        2,
    ),
    "ragged CSV": (
        "ragged.csv",
        "email,name\n"
        + "".join(f"p{n}@shop-customers.example,P{n}\n" for n in range(30000))
        + f"{SECRET},Sec,extra\n",
        "another number of fields than the header",
        30002,
    ),
    "not UTF-8": ("latin.csv", f"email\n{C1}\n{SECRET}\xff\n", "not UTF-8", 3),
    "no header": ("nohead.csv", f"{SECRET}\n{C1}\n", "no column 'email'", None),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_a_malformed_list_is_one_line_naming_the_file_never_a_value(
    tmp_path: Path, case: str
) -> None:
    """Before: a JSON Lines list with a duplicate key crashed with a traceback whose DuckDB
    message quoted the row (an email). Now: one line, the file and the line, exit 2."""
    name, content, says, line = MALFORMED[case]
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    listed = tmp_path / name
    listed.write_bytes(content.encode("utf-8").replace("\xff".encode(), b"\xff"))
    done = _invoke(anonymize_app, "audience", "--catalog", str(catalog), "--out",
                   str(tmp_path / "out"), "--platform", "meta", "--input", str(listed),
                   "--column", "email", *BASIS)  # fmt: skip
    assert done.exit_code == 2, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert "Traceback" not in done.output
    errors = [x for x in done.output.splitlines() if x.startswith("error: ")]
    assert len(errors) == 1, done.output
    assert str(listed) in errors[0] and says in errors[0]
    if line is not None:  # the file's line, or the row of a JSON array or lines file
        assert f"line {line}:" in errors[0] or f"(row {line})" in errors[0]
    assert SECRET not in done.output and "secret-mail" not in done.output
    assert C1 not in done.output and C2 not in done.output
    assert not (tmp_path / "out" / "meta.csv").exists()


# -- round 4, F3: a list's value is read as `ledger add` reads it ------------------------------

WRAPPED = {
    "mailto:": "mailto:{}",
    "single quotes": "'{}'",
    "double quotes": '"{}"',
    "Name <...>": "Cat Customer <{}>",
}


@pytest.mark.parametrize("how", list(WRAPPED), ids=list(WRAPPED))
def test_a_wrapped_list_value_is_the_person_and_leaves_with_their_no(
    tmp_path: Path, how: str
) -> None:
    """Before: `mailto:x@y` and `'x@y'` were hashed as written on Meta (counted written,
    linked to no one). Now each is read as its address: uploaded as that address, and left
    out when its person said no."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    root = tmp_path / "shop"
    wrapped = WRAPPED[how].format(C1)
    with (root / "list.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email"])
        w.writerows([[wrapped], [WRAPPED[how].format(C2)]])
    _prefs(root, {"u1": "true,2026-12-01T10:00:00"})  # u1 opted out; u2 did not
    built = _build(catalog, tmp_path / "out", "list", platforms="meta")
    assert built.exit_code == 0, built.output
    written = _cells(tmp_path / "out")
    assert not written & _hashes(C1, "meta")
    assert hashlib.sha256(wrapped.lower().encode()).hexdigest() not in written
    assert _hashes(C2, "meta") <= written  # the address, not the wrapping
    counts = _counts(tmp_path / "out")
    assert counts["said_no_elsewhere"] == 1 and counts["written"] == 1
    assert counts["invalid"] == 0


def test_an_unreadable_list_value_is_counted_invalid_never_hashed(tmp_path: Path) -> None:
    """An ideographic space inside an address (U+3000) was hashed as written on Meta; it
    cannot be read as one address (as `ledger add` refuses it): counted invalid."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    root = tmp_path / "shop"
    odd = [C1.replace("@", "\u3000@"), C2.replace(".example", "\u3000.example"), f"{C3}, {C1}"]
    (root / "list.csv").write_text("email\n" + "".join(f'"{v}"\n' for v in odd) + f"{C3}\n")
    built = _build(catalog, tmp_path / "out", "list", platforms="meta,google,tiktok")
    assert built.exit_code == 0, built.output
    for name in ("meta", "google", "tiktok"):
        written = _cells(tmp_path / "out") if name == "meta" else set()
        counts = _counts(tmp_path / "out", name)
        assert counts["invalid"] == 3 and counts["written"] == 1, (name, counts)
        assert counts["rows_in"] == counts["empty"] + 3 + counts["duplicates"] + 1
        if written:
            assert not written & {hashlib.sha256(v.lower().encode()).hexdigest() for v in odd}


def test_a_single_quoted_value_in_a_json_list_is_its_address(tmp_path: Path) -> None:
    """`'x@y'` (a JSON Lines list, where no CSV reader takes the quotes off) was hashed with
    its quotes on Meta; it is the address, and its person's no leaves it out."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    _prefs(tmp_path / "shop", {"u1": "true,2026-12-01T10:00:00"})
    listed = tmp_path / "leads.jsonl"
    listed.write_text("".join(json.dumps({"email": f"'{e}'"}) + "\n" for e in (C1, C2)))
    done = _invoke(anonymize_app, "audience", "--catalog", str(catalog), "--out",
                   str(tmp_path / "out"), "--platform", "meta", "--input", str(listed),
                   "--column", "email", *BASIS)  # fmt: skip
    assert done.exit_code == 0, done.output
    written = _cells(tmp_path / "out")
    assert _hashes(C2, "meta") <= written and not written & _hashes(C1, "meta")
    assert hashlib.sha256(f"'{C2}'".encode()).hexdigest() not in written
    counts = _counts(tmp_path / "out")
    assert counts["said_no_elsewhere"] == 1 and counts["written"] == 1 and counts["invalid"] == 0


# -- round 5 (/tmp/redteam5), F3: every way the red team wrote an objection ----------------------

ANN = "customer3@shop-customers.example"  # u3 in _shop's export (C3)
# the red team's 24 forms (b/b2.sh), written for the shop's customer
TYPED = {
    "plain": ANN,
    "Name <...>": f"Customer Three <{ANN}>",
    '"Name" <...>': f'"Customer Three" <{ANN}>',
    "<mailto:...>": f"<mailto:{ANN}>",
    "MAILTO:": f"MAILTO:{ANN}",
    "mailto: ?subject": f"mailto:{ANN}?subject=stop",
    "mailto: %40": "mailto:customer3%40shop-customers.example",
    "final dot": f"{ANN}.",
    "semicolon after": f"{ANN};",
    "comma after": f"{ANN},",
    "comment after": f"{ANN} (Customer)",
    "comment before": f"(Customer) {ANN}",
    "<<...>>": f"<<{ANN}>>",
    "[...]": f"[{ANN}]",
    "single quotes": f"'{ANN}'",
    "backticks": f"`{ANN}`",
    "guillemets": f"\u00ab{ANN}\u00bb",
    "curly double quotes": f"\u201c{ANN}\u201d",
    "zero-width space": f"{ANN}\u200b",
    "full-width @": ANN.replace("@", "\uff20"),
    "ideographic full stop": ANN.replace(".example", "\u3002example"),
    "capital domain": ANN.replace("shop-customers.example", "SHOP-CUSTOMERS.EXAMPLE"),
    "+tag": ANN.replace("customer3@", "Customer3+stop@"),
    "stray >": f"{ANN}>",
}
# more of the same kind: other quotes, a quote on one side only, a control character
TYPED_MORE = {
    "curly single quotes": f"\u2018{ANN}\u2019",
    "German quotes": f"\u201e{ANN}\u201c",
    "guillemets reversed": f"\u00bb{ANN}\u00ab",
    "single guillemets": f"\u2039{ANN}\u203a",
    "opening curly quote only": f"\u201c{ANN}",
    "closing guillemet only": f"{ANN}\u00bb",
    "backtick before only": f"`{ANN}",
    "quote after only": f"{ANN}'",
    "NUL after": f"{ANN}\x00",
    "U+FFFD after": f"{ANN}\ufffd",
    "escape inside": ANN.replace("@", "\x1b@"),
}
# the red team's three (and their kin) are read as the address; refusing would be safe too,
# but each of them is plainly the person's mailbox
READ_AS_THE_ADDRESS = {"backticks", "guillemets", "curly double quotes", "curly single quotes"}


def _objection(tmp: Path, typed: str) -> Result:
    return _invoke(dsar_app, "ledger", "add", "--reason", "objected_direct_marketing",
                   "--request", "R-5", "--ledger", str(tmp / "ledger.db"),
                   "--email", typed)  # fmt: skip


@pytest.mark.parametrize(
    "typed", [*TYPED.values(), *TYPED_MORE.values()], ids=[*TYPED, *TYPED_MORE]
)
def test_an_objection_is_read_as_the_address_or_refused_never_as_something_else(
    tmp_path: Path, typed: str
) -> None:
    """Before: `\\`x@y\\``, `\u00abx@y\u00bb` and `\u201cx@y\u201d` were accepted (exit 0) and recorded as
    typed: a new audience uploaded the objector again. Now every form either leaves the
    person out of the next audience (in the ledger) or is refused (exit 2, nothing
    recorded, the value not echoed)."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    added = _objection(tmp_path, typed)
    assert added.exit_code in (0, 2), added.output
    if added.exit_code == 2:
        assert "recorded" not in added.output
        assert ANN not in added.output and "customer3" not in added.output
        assert not (tmp_path / "ledger.db").exists()
        return
    assert "1 identifier(s) recorded" in added.output, added.output
    built = _build(catalog, tmp_path / "out", "spec", "--ledger", str(tmp_path / "ledger.db"),
                   platforms="meta")  # fmt: skip
    assert built.exit_code == 0, built.output
    assert not _cells(tmp_path / "out") & _hashes(ANN, "meta")
    assert _counts(tmp_path / "out")["in_ledger"] == 1


@pytest.mark.parametrize("how", sorted(READ_AS_THE_ADDRESS))
def test_a_quoted_objection_withdraws_the_upload(tmp_path: Path, how: str) -> None:
    """b2.sh: `withdraw --catalog` removed 0 of 1 upload for an objection in backticks."""
    catalog = _uploaded(tmp_path)
    typed = {**TYPED, **TYPED_MORE}[how].replace(ANN, C1)
    added = _objection(tmp_path, typed)
    assert added.exit_code == 0 and "1 identifier(s) recorded" in added.output, added.output
    done = _withdraw(tmp_path, "--catalog", str(catalog))
    assert done.exit_code == 0, done.output
    assert _hashes(C1, "meta") <= _cells(tmp_path / "wd")
    assert "1 people to remove" in done.output


# -- round 5, F4: a list value holding a control character or U+FFFD; a repeated header ---------


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_list_value_with_a_control_character_or_fffd_is_counted_invalid(
    tmp_path: Path, suffix: str
) -> None:
    """Before: `x@y\\0` and `x@y\ufffd` were hashed as written (the objector's gate missed
    them). Now each is counted invalid, never hashed; a plain value beside them is written."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    odd = [f"{C1}\x00", f"{C2}\ufffd", C3.replace("@", "\x1b@")]
    listed = tmp_path / f"list.{suffix}"
    plain = dict(OTHERS)["u4"]
    if suffix == "csv":
        listed.write_text("email\n" + "".join(f"{v}\n" for v in [*odd, plain]), encoding="utf-8")
    else:
        listed.write_text("".join(json.dumps({"email": v}) + "\n" for v in [*odd, plain]))
    done = _invoke(anonymize_app, "audience", "--catalog", str(catalog), "--out",
                   str(tmp_path / "out"), "--platform", "meta", "--input", str(listed),
                   "--column", "email", *BASIS)  # fmt: skip
    assert done.exit_code == 0, done.output
    counts = _counts(tmp_path / "out")
    assert counts["invalid"] == 3 and counts["written"] == 1, counts
    written = _cells(tmp_path / "out")
    assert _hashes(plain, "meta") <= written
    raw = {hashlib.sha256(v.lower().encode()).hexdigest() for v in odd}
    assert not written & (raw | _hashes(C1, "meta") | _hashes(C2, "meta") | _hashes(C3, "meta"))


@pytest.mark.parametrize(
    "header",
    ["email,email", "Email,name,email", "email,name,EMAIL "],
    ids=["same", "apart", "case"],
)
def test_a_list_whose_header_names_a_column_twice_is_refused(tmp_path: Path, header: str) -> None:
    """Before: `email,email` silently read the first column. Now: one line, the columns'
    positions, exit 2, no value and no file written."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    width = header.count(",") + 1
    listed = tmp_path / "dup.csv"
    rows = [[C1, *[SECRET] * (width - 1)], [C2, *[C3] * (width - 1)]]
    listed.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows))
    done = _invoke(anonymize_app, "audience", "--catalog", str(catalog), "--out",
                   str(tmp_path / "out"), "--platform", "meta", "--input", str(listed),
                   "--column", "email", *BASIS)  # fmt: skip
    assert done.exit_code == 2, done.output
    errors = [x for x in done.output.splitlines() if x.startswith("error: ")]
    assert len(errors) == 1 and "names one column twice" in errors[0], done.output
    assert str(listed) in errors[0]
    assert SECRET not in done.output and C1 not in done.output and C2 not in done.output
    assert not (tmp_path / "out" / "meta.csv").exists()


def test_a_header_that_only_looks_renamed_is_read(tmp_path: Path) -> None:
    """`email,email_1` names two columns: the list is read as before."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    listed = tmp_path / "two.csv"
    listed.write_text(f"email,email_1\n{C1},{C2}\n{C3},{C2}\n")
    done = _invoke(anonymize_app, "audience", "--catalog", str(catalog), "--out",
                   str(tmp_path / "out"), "--platform", "meta", "--input", str(listed),
                   "--column", "email_1", *BASIS)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert _counts(tmp_path / "out")["written"] == 1
    assert _hashes(C2, "meta") <= _cells(tmp_path / "out")
