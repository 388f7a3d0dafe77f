"""The red team's third pass on audiences (issue 23), through the command line:

- F1, Limited Use by value missed Gmail folding: a copy of a Google sign-in address with its
  dots removed, at googlemail.com, in capitals or with a `+tag` passed the Limited Use gate
  on both paths (a spec's table, an `--input` list), and google_ec and uid2 uploaded
  byte for byte the hash of the Limited Use address;
- F2, `dsar ledger add` recorded an objection as typed: a phone with an extension, an
  address in `<...>`, `"..."`, `mailto:` or `Name <...>` answered "1 identifier(s)
  recorded" and matched nobody (the person stayed in every audience, `withdraw` found 0).
  Now read as an audience reads a list, or refused when it cannot be.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from anonymize.audience import platform
from anonymize.cli import app as anonymize_app
from dsar.catalog.models import IdentityKind
from dsar.cli import app as dsar_app
from dsar.errors import IdentifierError
from dsar.keys import Keys
from dsar.records.ledger import Ledger, Reason
from dsar.review.manifest import AudienceManifest
from dsar.subjects.identity import SubjectKey

KEY = "k" * 40
ENV = {"WORKBENCH_KEY": KEY, "WORKBENCH_LEDGER": None, "WORKBENCH_SENT_RECORD": None}
BASIS = ["--consent-basis", "legitimate interests: existing customers, told at sign-up"]
PLATFORMS = "google,google_ec,meta,uid2,tiktok,amazon"
runner = CliRunner()

TABLE = """\
  {name}:
    path: {name}.csv
    format: csv
    description: {description}
    category: {category}
    origin: provided
    purposes: [{purposes}]
    legal_basis: {basis}
    source: {source}
    retention: {{criteria: while the account is open}}
    erasure: {{action: delete}}
    primary_key: [{key}]
{extra}    columns:
{columns}"""
CATALOG = (
    "version: 1\n"
    "controller: {name: Shop Ltd, contact: privacy@shop.example, supervisory_authority: DPC}\n"
    "tables:\n"
    + TABLE.format(
        name="accounts",
        description="Accounts.",
        category="account",
        purposes="provide the service",
        basis="contract",
        source="the person",
        key="user_id",
        extra="",
        columns="      user_id: {identity: user_id, type: string}\n"
        "      email: {identity: email, type: string}\n"
        "      phone: {identity: phone, type: string}\n",
    )
    + TABLE.format(
        name="google",
        description="Profile data received from Google at sign-in.",
        category="third_party_profile",
        purposes="sign-in with Google",
        basis="contract",
        source="Google (Sign in with Google)",
        key="google_sub",
        extra="    limited_use: true\n",
        columns="      google_sub: {identity: oauth_subject, type: string}\n"
        "      user_id: {identity: user_id, type: string, references: accounts.user_id}\n"
        "      email: {identity: email, type: string}\n",
    )
    + TABLE.format(
        name="prefs",
        description="Advertising choices.",
        category="marketing_preferences",
        purposes="advertising audiences",
        basis="consent",
        source="the person",
        key="user_id",
        extra="",
        columns="      user_id: {identity: user_id, type: string, references: accounts.user_id}\n"
        "      email: {identity: email, type: string}\n"
        "      ads: {type: boolean}\n"
        "      opted_out_at: {type: timestamp}\n",
    )
)
SPEC = "version: 1\nname: shop\ntable: prefs\nemail: email\nconsent: ads\nopted_out: opted_out_at\n"
GOOGLE = "ann.lee@gmail.com"  # Ann's Google sign-in address: held only under Limited Use
OTHERS = [(f"u{n}", f"customer{n}@shop-customers.example") for n in range(1, 8)]
PHONES = {"u1": "+1 415 555 0123", "u2": "+44 7700 900123"}

# F1: the Limited Use address as it reached the marketing table (or a list)
COPIES = {
    "dots removed": "annlee@gmail.com",
    "googlemail": "ann.lee@googlemail.com",
    "googlemail, dots removed, capitals": "AnnLee@GoogleMail.com",
    "dots moved": "a.n.n.lee@gmail.com",
    "+tag": "ann.lee+ads@gmail.com",
    "+tag, dots removed": "annlee+ads@googlemail.com",
    "full-width": "".join(chr(ord(c) + 0xFEE0) for c in "annlee")[:3] + ".lee@gmail.com",
}


def _shop(root: Path, ann_prefs: str, ann_account: str = "ann@shop-customers.example") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    people = [("u0", ann_account), *OTHERS]
    (root / "accounts.csv").write_text(
        "user_id,email,phone\n" + "".join(f"{u},{e},{PHONES.get(u, '')}\n" for u, e in people)
    )
    (root / "google.csv").write_text(f"google_sub,user_id,email\ng0,u0,{GOOGLE}\n")
    rows = [("u0", ann_prefs), *OTHERS]
    (root / "prefs.csv").write_text(
        "user_id,email,ads,opted_out_at\n" + "".join(f"{u},{e},true,\n" for u, e in rows)
    )
    (root / "catalog.yml").write_text(CATALOG)
    (root / "spec.yml").write_text(SPEC)
    (root / "list.csv").write_text("email\n" + "".join(f"{e}\n" for _, e in rows))
    return root / "catalog.yml"


def _invoke(app: object, *args: str) -> Result:
    return runner.invoke(app, list(args), env=ENV)  # type: ignore[arg-type]


def _build(catalog: Path, out: Path, path: str, *args: str, platforms: str = PLATFORMS) -> Result:
    source = (
        ["--spec", str(catalog.parent / "spec.yml")]
        if path == "spec"
        else ["--input", str(catalog.parent / "list.csv"), "--column", "email", *BASIS]
    )
    return _invoke(
        anonymize_app,
        *("audience", "--catalog", str(catalog), "--out", str(out), "--platform", platforms),
        *source,
        *args,
    )


def _cells(folder: Path) -> set[str]:
    found: set[str] = set()
    for file in folder.glob("*.csv"):
        found |= {cell for row in csv.reader(file.open(encoding="utf-8-sig")) for cell in row}
    return found


def _hashes(value: str, platforms: str = PLATFORMS, kind: str = "email") -> set[str]:
    """What each platform would upload for `value`."""
    found = set()
    for name in platforms.split(","):
        p = platform(name)
        normalised = p.email(value) if kind == "email" else p.phone(value)
        if normalised is not None:
            found.add(p.hash(normalised))
    return found


def _counts(folder: Path, name: str = "meta") -> dict[str, int]:
    text = (folder / f"{name}.manifest.json").read_text()
    return dict(AudienceManifest.model_validate_json(text).counts)


# -- F1: Limited Use, folded as people are matched --------------------------------------------


@pytest.mark.parametrize("path", ["spec", "list"])
@pytest.mark.parametrize("copy", list(COPIES.values()), ids=list(COPIES))
def test_a_folded_copy_of_a_limited_use_address_is_never_uploaded(
    tmp_path: Path, path: str, copy: str
) -> None:
    """The Limited Use address in any writing Gmail or a platform folds alike is left out
    (`limited_use`), on the spec's table and on a list; the others are built."""
    catalog = _shop(tmp_path / "shop", copy)
    built = _build(catalog, tmp_path / "out", path)
    assert built.exit_code == 0, built.output
    written = _cells(tmp_path / "out")
    assert not written & (_hashes(GOOGLE) | _hashes(copy))
    assert _counts(tmp_path / "out")["limited_use"] == 1
    for _, other in OTHERS:
        assert _hashes(other, "meta") <= written


@pytest.mark.parametrize("path", ["spec", "list"])
def test_an_address_beside_the_google_one_stays_usable(tmp_path: Path, path: str) -> None:
    """The value, not the person: Ann's own shop address is uploaded, her Google one not."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    built = _build(catalog, tmp_path / "out", path, platforms="meta")
    assert built.exit_code == 0, built.output
    assert _hashes("ann@shop-customers.example", "meta") <= _cells(tmp_path / "out")
    assert _counts(tmp_path / "out")["limited_use"] == 0


@pytest.mark.parametrize(("path", "left"), [("spec", 0), ("list", 1)])
def test_the_google_mailbox_given_at_sign_up_too(tmp_path: Path, path: str, left: int) -> None:
    """Ann gave `annlee@gmail.com` at sign-up, Google says `ann.lee@gmail.com`: one mailbox.
    A spec's table keeps it (the account holds it: she gave it); a list, which cannot show
    where its value came from, leaves it out, as it does the Google value as written."""
    catalog = _shop(tmp_path / "shop", "annlee@gmail.com", ann_account="annlee@gmail.com")
    built = _build(catalog, tmp_path / "out", path, platforms="meta")
    assert built.exit_code == 0, built.output
    assert bool(_hashes("annlee@gmail.com", "meta") & _cells(tmp_path / "out")) == (left == 0)
    assert _counts(tmp_path / "out")["limited_use"] == left


# -- F2: an objection as typed -----------------------------------------------------------------

ANN = "customer3@shop-customers.example"
BEN_PHONE, CAT_PHONE = PHONES["u1"], PHONES["u2"]
EMAILS = {
    "quoted local part": '"customer3"@shop-customers.example',
    "whole address quoted": f'"{ANN}"',
    "angle brackets": f"<{ANN}>",
    "mailto": f"mailto:{ANN}",
    "mailto, capitals, a subject": f"MAILTO:{ANN.upper()}?subject=stop",
    "display name": f"Customer Three <{ANN}>",
    "zero-width space": "customer3\u200b@shop-customers.example",
}
PHONE_FORMS = {
    "+1 ext.": ("u1", f"{BEN_PHONE} ext. 12"),
    "digits x12": ("u1", "14155550123x12"),
    "tel: uri": ("u1", "tel:+1-415-555-0123"),
    "national, ext": ("u2", "07700 900123 ext 5"),
    "0044": ("u2", "00447700900123"),
    "full-width": ("u2", "".join(chr(ord(c) + 0xFEE0) for c in "447700900123")),
    "#ext": ("u2", "+44 7700 900123 #45"),
}
REFUSED = {
    "space inside": "customer3 @shop-customers.example",
    "two addresses": f"{ANN}, other@shop-customers.example",
    "two '@'": "customer3@shop@customers.example",
    "no domain": "customer3@",
    "an extension alone": "phone=ext. 12",
    "too few digits": "phone=+1 555 ext 0123456",
}


def _ledger_add(ledger: Path, *given: str, extra: tuple[str, ...] = ()) -> Result:
    named = ["--id", given[0]] if given[0].startswith("phone=") else ["--email", given[0]]
    return _invoke(
        dsar_app,
        *("ledger", "add", "--reason", "objected_direct_marketing", "--request", "R-1"),
        *("--ledger", str(ledger), *named, *extra),
    )


@pytest.mark.parametrize("path", ["spec", "list"])
@pytest.mark.parametrize("typed", list(EMAILS.values()), ids=list(EMAILS))
def test_an_objection_typed_wrapped_leaves_the_person_out(
    tmp_path: Path, path: str, typed: str
) -> None:
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    ledger = tmp_path / "ledger.db"
    added = _ledger_add(ledger, typed)
    assert added.exit_code == 0 and "1 identifier(s) recorded" in added.output, added.output
    built = _build(catalog, tmp_path / "out", path, "--ledger", str(ledger), platforms="meta")
    assert built.exit_code == 0, built.output
    assert not _cells(tmp_path / "out") & _hashes(ANN, "meta")
    assert _counts(tmp_path / "out")["in_ledger"] == 1


@pytest.mark.parametrize("typed", list(PHONE_FORMS.values()), ids=list(PHONE_FORMS))
def test_an_objection_under_a_phone_with_an_extension_leaves_the_person_out(
    tmp_path: Path, typed: tuple[str, str]
) -> None:
    """The person is found through the phone (the account row), and their email leaves."""
    user, phone = typed
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    ledger = tmp_path / "ledger.db"
    added = _ledger_add(ledger, f"phone={phone}")
    assert added.exit_code == 0 and "1 identifier(s) recorded" in added.output, added.output
    built = _build(catalog, tmp_path / "out", "spec", "--ledger", str(ledger), platforms="meta")
    assert built.exit_code == 0, built.output
    email = dict(OTHERS)[user]
    assert not _cells(tmp_path / "out") & _hashes(email, "meta")
    assert _counts(tmp_path / "out")["in_ledger"] == 1


@pytest.mark.parametrize("typed", list(REFUSED.values()), ids=list(REFUSED))
def test_an_objection_that_can_match_nobody_is_refused(tmp_path: Path, typed: str) -> None:
    ledger = tmp_path / "ledger.db"
    refused = _ledger_add(ledger, typed)
    assert refused.exit_code != 0, refused.output
    assert "recorded" not in refused.output
    value = typed.partition("=")[2] or typed
    assert value not in refused.output  # the reason names the shape, never the value
    assert not ledger.exists()  # read before the ledger is opened: nothing written


def test_withdraw_finds_the_upload_for_an_objection_typed_with_an_extension(
    tmp_path: Path,
) -> None:
    """The issue's chain: an upload recorded, then the objection typed with an extension and
    another in `<...>`: `ledger add --sent-record --catalog` names the platform and
    `withdraw` writes both people."""
    catalog = _shop(tmp_path / "shop", "ann@shop-customers.example")
    record, ledger = tmp_path / "sent.db", tmp_path / "ledger.db"
    built = _build(catalog, tmp_path / "up", "spec", "--record", str(record))
    assert built.exit_code == 0, built.output
    for given in (f"phone={BEN_PHONE} ext. 12", f"<{ANN}>"):
        extra = ("--sent-record", str(record), "--catalog", str(catalog))
        added = _ledger_add(ledger, given, extra=extra)
        assert added.exit_code == 0, added.output
        assert "held by ad platform meta" in added.output, added.output
    withdrawn = _invoke(
        anonymize_app,
        *("withdraw", "--platform", "meta", "--record", str(record), "--ledger", str(ledger)),
        *("--out", str(tmp_path / "wd")),
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    removed = _cells(tmp_path / "wd")
    assert _hashes(ANN, "meta") | _hashes(dict(OTHERS)["u1"], "meta") <= removed


def test_the_python_api_records_the_canonical_form_or_refuses(tmp_path: Path) -> None:
    book = Ledger(tmp_path / "ledger.db", Keys(b"k" * 40))
    wrapped = SubjectKey(IdentityKind.EMAIL, f"Customer Three <{ANN}>")
    extension = SubjectKey(IdentityKind.PHONE, f"{BEN_PHONE} ext. 12")
    book.add([wrapped, extension], Reason.OBJECTED_DIRECT_MARKETING, "R-1")
    assert book.is_suppressed(SubjectKey(IdentityKind.EMAIL, ANN))
    # the whole number (no longer its last nine digits, 155550123: red team 26c F1)
    assert book.is_suppressed(SubjectKey(IdentityKind.PHONE, "+14155550123"))
    with pytest.raises(IdentifierError):
        book.add(
            [SubjectKey(IdentityKind.EMAIL, "customer3 @x.example")],
            Reason.OBJECTED_DIRECT_MARKETING,
            "R-2",
        )
    assert len(book.entries()) == 2


def test_ledger_check_counts_an_entry_recorded_as_typed(tmp_path: Path) -> None:
    """A ledger written before: the objection kept as typed (`<...>`, as `ledger add`
    recorded it) is still found by `ledger check`, which says how many such entries match
    nobody (a count, never the value)."""
    ledger, typed = tmp_path / "ledger.db", f"<{ANN}>"
    book = Ledger(ledger, Keys(KEY.encode()))  # the CLI's key (WORKBENCH_KEY)
    old = SubjectKey(IdentityKind.EMAIL, typed.lower())  # as the old normaliser kept it
    book.add([old], Reason.OBJECTED_DIRECT_MARKETING, "R-0", as_found=True)
    book.close()
    checked = _invoke(dsar_app, "ledger", "check", "--ledger", str(ledger), "--email", typed)
    assert checked.exit_code == 1 and "objected_direct_marketing" in checked.output
    assert "1 identifier(s) recorded as typed" in checked.output
    assert ANN not in checked.output
    fresh = _invoke(dsar_app, "ledger", "check", "--ledger", str(ledger), "--email", ANN)
    assert fresh.exit_code == 0 and "not in the ledger" in fresh.output, fresh.output
