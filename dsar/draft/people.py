"""Whose rows are these: people tables, identity kinds, identity by link, ownership, reference.

A people table has a key, an email or phone that is (nearly) one per row, and evidence that
its rows are people: a column of people's names, personal emails (not a company's role
mailboxes), 20 rows or more, or a link into its key from a column naming a person's role
(`customer_id`, `owner`); a few offices or carriers with a switchboard number each are no
people table. An email column whose values are all role mailboxes (support@, info@) at one
or two domains is a company's address, not a person's: no identity. One whose link leads to
another people table with the same people (most of its emails found there) extends that
table (a sign-in profile, preferences); the others are roots, ranked by how many tables
point at them. A table whose unique column links to a people table's key (a one-to-one
profile: accounts_profile.user_id -> auth_user.id) is that table's people too, not a people
table of its own. A table with no contact whose text key has the shape of people's handles
and which other tables' rows link to (a forum's members) is a people table known by username
(identity `username`); a handle-shaped key neither linked nor named is personal, to confirm.
Each root's key gets an identity kind of its own (user_id, customer_id, person_id: the roots
whose name says customer or user first, by it; then the others, the first left), so two
people tables never share a kind and their colliding keys never link (a fourth left without
is said and confirmed first); another key of the root that others link to gets one only when
its name says it is an identifier (a postal code copied into orders is no person's key). A
column linked to a key with a kind gets that kind, unless the row already belongs to another
person: a root's link to its account manager, or, where a row links to two people tables (an
order to its customer and to the employee who took it), the person whose key is more
specific to the rows (more distinct values, fewer rows each), the names deciding only where
the counts do not, and the confidence lower where they disagree; where each row names one of
them only (a campaign member is a contact or a lead), each row is its own person's. A table
with no identity that links to the key of a table that has one is owned through it, unless
a column of its own names the row's person (a like's liker_id): then only through that
person's table, never the parent row's owner. A row naming two people of one kind (a
message's sender and recipient) has identity on the one who made it only: two would join
the two people; the names rank them whatever the column order, the one the row is for (a
ticket's requester, reporter, customer) before its maker (submitter, author, created_by,
owner) before one who handled or received it (assignee, agent, updated_by, recipient).
Rows on such a parent (a ticket's comments) written by its person or its handlers only are
that person's conversation: owned through the parent. A column naming a person by their role
in an organisation's row (a store's manager, a team's lead) is no identity and no owner: the
row is the organisation's. A leaf table whose complete link lies in a people table's key,
its contacts of another kind (an address book, a telephone a row), is that person's
entries, not people of its own. A table with no person at all is reference data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from dsar.catalog.models import ColumnType, IdentityKind, PersonalKind
from dsar.draft.confidence import link_confidence, share_floor
from dsar.draft.counts import Share, share
from dsar.draft.keys import dense, generic, name_score, names_table, person_named
from dsar.draft.model import Confidence, Link, TableDraft
from dsar.draft.profile import TableProfile, share_found
from dsar.engine.base import Engine

# the kinds a people table's key takes, one table each: by its name, else the first left
_KEY_KINDS = (IdentityKind.USER_ID, IdentityKind.CUSTOMER_ID, IdentityKind.PERSON_ID)
_CUSTOMER = re.compile(r"(?i)customer|client|cust(?!om)|buyer|shopper|patient|member")
_USER = re.compile(r"(?i)user|account|login|person|people|profile")
_STAFF = re.compile(
    r"(?i)employee|staff|agent|handl|assign|manager|clerk|operator|salesperson|seller"
    r"|(?:^|_|sales|support)rep(?:$|_|id)|(?<=[a-z])Rep(?:Id)?$"
)
# a key is an identifier by its name: ..._id, ...Id, uuid, key, number
_ID_NAME = re.compile(
    r"(?i:(?:^|[_\-. ])(?:id|uuid|guid|key|number|no|num))$|[a-z](?:Id|ID|Uuid|Key|Number|No)$"
)
_SPECIFIC = 2.0  # distinct values: this many times another link's, the more specific owner
_SAME_PEOPLE = 0.5  # share of a table's emails found in another's: the same people
_RETENTION = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (r"created", r"issued", r"^(ts|timestamp|time)$", r"date", r"occurred|sent|sign")
)


def _contact(table: TableDraft) -> str | None:
    """The email (else phone) column that is nearly one per row, in the sample."""
    return contact_of(table.profile, lambda c: table.columns[c].identity)


def contact_of(profile: TableProfile, identity: Callable[[str], IdentityKind | None]) -> str | None:
    """The first email (else phone) column, by `identity`, whose sampled values are nearly
    one per row: a people table's contact."""
    for kind in (IdentityKind.EMAIL, IdentityKind.PHONE):
        col = next((c for c in profile.columns if identity(c) is kind), None)
        if col is None:
            continue
        values = [str(v).strip().lower() for v in profile.values(col)]
        if values and len(set(values)) >= 0.9 * len(values):
            return col
    return None


_MANY = 20  # rows of one contact each that are evidence of people by themselves
_ROLE_LOCAL = re.compile(
    r"(?i)^(?:info|support|help|helpdesk|contact|contactus|hello|hi|sales|service|services"
    r"|customer[._-]?service|customer[._-]?care|care|admin|administrator|office|team|billing"
    r"|invoices?|accounts?|accounting|finance|payments?|privacy|dpo|gdpr|legal|compliance"
    r"|no[._-]?reply|do[._-]?not[._-]?reply|notifications?|alerts?|news|newsletter|marketing"
    r"|press|media|pr|jobs|careers|hr|recruiting|webmaster|postmaster|hostmaster|abuse"
    r"|security|orders?|shop|store|reception|enquiries|inquiries|feedback|mail|general|ops"
    r"|it|tech|techsupport|partners?|events|bookings?|reservations?|returns|shipping)$"
)
_ADDRESS = re.compile(r"([^\s<>\"'@:;,]+)@([^\s<>\"'@:;,]+?)[.;,]*$")
_COMPANY_DOMAINS = 2  # role mailboxes at this many domains or fewer: the company's own


def company_mailboxes(tables: dict[str, TableDraft]) -> None:
    """An email column whose sampled addresses are all role mailboxes (support@, info@,
    noreply@) at one or two domains is the company's own address (a plan's support contact, a
    shop's sender), not a person's: no identity, said with its evidence (counts only). Role
    mailboxes at many domains (B2B customers' info@ addresses) stay people's."""
    for table in tables.values():
        for name, col in table.columns.items():
            if col.identity is not IdentityKind.EMAIL:
                continue
            found = [_ADDRESS.search(str(v).strip()) for v in table.profile.values(name)]
            parts = {(m.group(1).lower().split("+")[0], m.group(2).lower()) for m in found if m}
            if not parts:
                continue
            role = sum(1 for local, _ in parts if _ROLE_LOCAL.match(local))
            domains = {domain for _, domain in parts}
            if role < 0.9 * len(parts) or len(domains) > _COMPANY_DOMAINS:
                continue
            col.identity = None
            col.confidence.pop("identity", None)
            said = (
                f"{role:,} of {len(parts):,} distinct sampled addresses are role mailboxes"
                f" (support@, info@, noreply@ ...) at {len(domains)} domain(s)"
            )
            col.notes.append(
                f"not an identity: {said}, a company's address, not a person's; if a person"
                " reads this mailbox alone, declare identity: email"
            )
            col.confidence["company_contact"] = Confidence(
                0.5 + 0.5 * share_floor(role, len(parts)), said
            )


def _people_evidence(table: TableDraft, contact: str, links: list[Link]) -> str | None:
    """Why a table with a key and one contact per row holds people, or None: a column of
    names, personal emails, many rows, or a link into its key from a person's role."""
    names = [c for c, d in table.columns.items() if d.personal is PersonalKind.NAME]
    if names:
        return f"people's names in {', '.join(names)}"
    if table.columns[contact].identity is IdentityKind.EMAIL:
        return f"personal emails in {contact}"
    if table.profile.rows >= _MANY:
        return f"{table.profile.rows:,} rows, each with its own {contact}"
    roles = sorted(
        f"{lk.child}.{lk.column}"
        for lk in links
        if lk.parent == table.name and lk.child != table.name and person_named(lk.column)
    )
    if roles:
        return f"a person's role links to it ({', '.join(roles)})"
    return None


def _not_people(table: TableDraft, contact: str) -> None:
    """A table with one contact per row but no evidence of people: said, to confirm."""
    why = (
        f"not a people table: {contact} differs in every row, but {table.profile.rows:,} rows,"
        " no column of names, no personal email and no link from a person's role: a"
        " company's numbers (offices, carriers)?"
    )
    table.notes.append(why)
    table.confidence["verdict"] = Confidence(
        0.3, f"{why} Its contacts are kept as identities: confirm whose they are"
    )


def find_people(
    engine: Engine,
    tables: dict[str, TableDraft],
    links: list[Link],
    looked_up: Mapping[Share, int] | None = None,
) -> list[TableDraft]:
    """Mark people tables (root or extension) and return the roots, the most linked first.

    `looked_up`: contacts already looked up in the counting statement (`dsar.draft.counts`);
    one not there is looked up with a query."""
    candidates: dict[str, TableDraft] = {}
    evidence: dict[str, str] = {}
    for n, t in tables.items():
        contact = _contact(t) if t.primary_key else None
        if contact is None:
            continue
        why = _people_evidence(t, contact, links)
        if why is None:
            _not_people(t, contact)
            continue
        candidates[n], evidence[n] = t, why
    own: dict[str, tuple[float, str]] = {}  # how sure each root is of having its own people
    for name, table in candidates.items():
        contact = _contact(table)
        assert contact is not None
        mine = sorted({str(v) for v in table.profile.values(contact)})
        table.people = "root"
        own[name] = (1.0, "")
        for link in [lk for lk in links if lk.child == name and lk.parent in candidates]:
            one = _one_to_one(table, link, links)
            if one and _beyond_a_range(table, link):
                _extends_one_to_one(table, link, tables)
                break
            theirs = _contact(candidates[link.parent])
            assert theirs is not None
            kinds = (
                table.columns[contact].identity,
                candidates[link.parent].columns[theirs].identity,
            )
            if kinds[0] is not kinds[1] and _entry_of(table, link, links):
                _owned_entries(table, link)
                break
            if kinds[0] is not kinds[1]:
                # a phone is never found among emails: the contacts cannot tell
                table.notes.append(
                    f"whether its people are {link.parent}'s the contacts cannot tell (its"
                    f" {contact} holds {_kind(kinds[0])}, {link.parent}.{theirs}"
                    f" {_kind(kinds[1])}): {link.column} may name the same person or a second"
                )
                if own[name][0] > 0.5:
                    own[name] = (0.5, f"; whether its people are {link.parent}'s is not told")
                if one:
                    _own_numbering(table, link, links, None)
                continue
            known = (looked_up or {}).get(share(link.parent, theirs, mine))
            shared = share_found(engine, mine, link.parent, theirs) if known is None else known
            pct = f"{100 * shared / len(mine):.0f}%"
            if shared >= _SAME_PEOPLE * len(mine):
                table.people = "extension"
                table.notes.append(
                    f"extends people table {link.parent}: linked by {link.column}, and {pct} of"
                    f" {len(mine):,} sampled {contact} values are found in"
                    f" {link.parent}.{theirs}"
                )
                table.confidence["verdict"] = Confidence(
                    share_floor(shared, len(mine)),
                    f"{pct} of {len(mine):,} sampled {contact} values are found in"
                    f" {link.parent}.{theirs} (half or more: the same people)",
                )
                break
            so = (
                f"its key {link.column} numbers its own people, no link"
                if one
                else f"{link.column} names a second person"
            )
            table.notes.append(
                f"people of its own: {pct} of {len(mine):,} sampled {contact} values are found"
                f" in {link.parent}.{theirs}, so {so}"
            )
            if one:
                _own_numbering(table, link, links, pct)
            sure = share_floor(len(mine) - shared, len(mine))
            if sure < own[name][0]:
                own[name] = (sure, f"; {pct} of its {contact} values are in {link.parent}")
    handles = _username_people(tables, links, candidates)
    roots = [t for t in candidates.values() if t.people == "root"] + handles
    plain = {n for n, t in tables.items() if t.people != "root"}

    def incoming(t: TableDraft) -> int:
        return sum(1 for lk in links if lk.parent == t.name and lk.child in plain)

    roots.sort(key=lambda t: (-incoming(t), -t.profile.rows, t.name))
    for t in roots:
        if t in handles:
            continue  # said by _username_people
        t.notes.insert(
            0,
            f"a people table: one row per person ({_contact(t)} differs in every sampled"
            f" row; {evidence[t.name]}); {incoming(t)} other table(s) link to it",
        )
        t.confidence["verdict"] = _root_confidence(t, incoming(t), *own[t.name])
    for t in tables.values():
        if t.people is not None:
            _usernames_of(t)
            _places_of_people(t)
    return roots


# a handle: a letter, then letters, digits, dots or underscores (no spaces, no hyphens: slugs)
_HANDLE = re.compile(r"^[^\W\d_][\w.]{2,31}$")
_HANDLE_NAME = re.compile(
    r"(?i)user_?name|login|handle|nick|screen_?name|alias|^members?$|^author$|^poster$"
)
_HANDLES_MIN = 20  # distinct handles, at least, for their shape to be evidence


def _handle_share(values: list[object]) -> tuple[int, int]:
    """(handle-shaped, of) distinct sampled values; (0, n) where their shape does not vary as
    people's handles do (lengths alike, no digit, dot or underscore anywhere: codes, words)."""
    distinct = sorted({str(v).strip() for v in values})
    hits = [v for v in distinct if _HANDLE.match(v) and not v.isupper()]
    marked = sum(1 for v in hits if any(c.isdigit() or c in "._" for c in v))
    lengths = len({len(v) for v in hits})
    if len(distinct) < _HANDLES_MIN or marked < 0.2 * len(hits) or lengths < 3:
        return 0, len(distinct)
    return len(hits), len(distinct)


def _handle_key(table: TableDraft) -> tuple[str, int, int] | None:
    """The table's text key whose values are people's handles (90% or more), if any."""
    for key in [table.primary_key, *table.keys]:
        if key is None or table.columns[key].kind is not ColumnType.STRING:
            continue
        if table.columns[key].identity is not None:
            continue
        hits, of = _handle_share(table.profile.values(key))
        if of and hits >= 0.9 * of:
            return key, hits, of
    return None


def _username_people(
    tables: dict[str, TableDraft], links: list[Link], candidates: dict[str, TableDraft]
) -> list[TableDraft]:
    """People known by a username only (a forum's members): a table with no contact whose
    text key has the shape of handles, and which other tables' rows link to or whose name
    says username, is a people table, its key identity username. A handle-shaped key neither
    linked nor named is marked personal username, to confirm: never reference data."""
    found: list[TableDraft] = []
    for name, table in tables.items():
        if name in candidates or table.people is not None:
            continue
        shaped = _handle_key(table)
        if shaped is None:
            _nearly_unique_handles(table)
            continue
        key, hits, of = shaped
        col = table.columns[key]
        into = sorted(
            {lk.child for lk in links if lk.parent == name and lk.key == key and lk.child != name}
        )
        share = f"{_pct(hits, of)} of {of:,} distinct sampled {key} values have a handle's shape"
        if not into and not _HANDLE_NAME.search(key):
            col.personal = col.personal or PersonalKind.USERNAME
            col.notes.append(
                f"personal username: {share} (unique, letters with digits, dots or"
                " underscores); no table links to it and its name does not say: confirm whose"
                " it is, and declare identity: username if people are known by it"
            )
            col.confidence["personal"] = Confidence(
                0.4, f"{share}; neither its name nor a link says username"
            )
            continue
        why = f"other tables link to it ({', '.join(into)})" if into else f"named {key}"
        table.people = "root"
        col.identity = IdentityKind.USERNAME
        col.notes.append(f"identity username: the key of people table {name}; {share}; {why}")
        sure = share_floor(hits, of) * (1.0 if into and _HANDLE_NAME.search(key) else 0.8)
        col.confidence["identity"] = Confidence(sure, f"{share}; {why}")
        table.notes.insert(
            0,
            f"a people table known by username: one row per {key} ({share}; {why});"
            " no email or phone",
        )
        table.confidence["verdict"] = Confidence(sure, f"{share}; {why}; no email or phone")
        found.append(table)
    return found


def _nearly_unique_handles(table: TableDraft) -> None:
    """A table with nothing personal found whose text column holds handles, nearly one per
    row (a username repeated by mistake is no key): personal username, to confirm, so that
    the table is never reference data."""
    if any(c.has_role for c in table.columns.values()):
        return
    for name, col in table.columns.items():
        values = table.profile.values(name)
        if col.kind is not ColumnType.STRING or len(set(map(str, values))) < 0.95 * len(values):
            continue
        hits, of = _handle_share(values)
        if not of or hits < 0.9 * of:
            continue
        share = f"{_pct(hits, of)} of {of:,} distinct sampled {name} values have a handle's shape"
        col.personal = PersonalKind.USERNAME
        col.notes.append(
            f"personal username: {share}, nearly one per row; no table links to it: confirm"
            " whose it is, and declare identity: username if people are known by it"
        )
        col.confidence["personal"] = Confidence(0.3, f"{share}; nearly one per row, not a key")
        return


def _pct(hits: int, of: int) -> str:
    return f"{100 * hits / of:.0f}%" if of else "0%"


def _usernames_of(table: TableDraft) -> None:
    """A people table's own text key named as a username (auth_user.username) is an identity
    too: a request may name the person by it."""
    for key in table.keys:
        col = table.columns[key]
        if col.identity is not None or col.kind is not ColumnType.STRING:
            continue
        if not _HANDLE_NAME.search(key):
            continue
        hits, of = _handle_share(table.profile.values(key))
        if not of or hits < 0.9 * of:
            continue
        share = f"{_pct(hits, of)} of {of:,} distinct sampled values have a handle's shape"
        col.identity = IdentityKind.USERNAME
        col.personal = None
        col.notes.append(f"identity username: named {key}, unique in a people table; {share}")
        col.confidence["identity"] = Confidence(share_floor(hits, of), f"named {key}; {share}")


_BUSINESS_PLACE = "so a place of the business, not of a person"


def _places_of_people(table: TableDraft) -> None:
    """A place the shapes left unmarked for want of a person in the table (a city beside a
    username only) is the person's, once the table holds people."""
    for col in table.columns.values():
        note = next((n for n in col.notes if _BUSINESS_PLACE in n), None)
        if note is None or col.personal is not None or col.identity is not None:
            continue
        col.personal = PersonalKind.LOCATION
        col.notes[col.notes.index(note)] = (
            note.split("; not marked:")[0]
            + "; a people table's place, so the person's: personal location"
        )
        col.confidence["personal"] = Confidence(
            0.6, "a place-named column of a people table (one row per person)"
        )


def _kind(kind: IdentityKind | None) -> str:
    return "phones" if kind is IdentityKind.PHONE else "emails"


# a column naming a second person, even where unique (each row's own referrer, manager)
_SECOND_PERSON = re.compile(
    r"(?i)manager|referr|sponsor|parent|owner|(^|_)by($|_)|[a-z]By$|assign|approv|review"
    r"|invit|friend|spouse|partner|guardian|emergency|contact_person|mentor|supervis|boss"
)


def _one_to_one(table: TableDraft, link: Link, links: list[Link]) -> bool:
    """Whether `table` is one row per person of `link.parent` (a profile, a settings row):
    the link's column is a key of the table (unique and present in every row), its name
    agrees with the parent's key or it is the table's own primary key, it names no second
    person (a manager, a referrer), and the parent is not one row per person of the table in
    turn."""
    if link.column not in table.keys or link.child == link.parent:
        return False
    if _SECOND_PERSON.search(link.column):
        return False
    if link.column != table.primary_key and not name_score(link.column, link.parent, link.key):
        return False
    return not any(
        lk.child == link.parent and lk.parent == table.name and lk.column == link.key
        for lk in links
    )


def _beyond_a_range(table: TableDraft, link: Link) -> bool:
    """Whether a one-to-one link into another people table has evidence beyond a shared
    range of numbers: its name names that table (`user_id` of auth_user), or its values are
    no dense integers (1..n fits any other 1..m: two systems each numbering their own
    people, a shop's customer_id and a loyalty programme's, share a range, not people)."""
    col = table.profile.columns[link.column]
    return names_table(link.column, link.parent) or not dense(
        col, table.profile.values(link.column)
    )


def _own_numbering(table: TableDraft, link: Link, links: list[Link], shared: str | None) -> None:
    """Two people tables each numbering their own people 1..n under one column name: the
    key's values fit the other's, but that is no link (it would join two people who share a
    number); two tables with two kinds, never a profile or a link."""
    links.remove(link)
    col = table.columns[link.column]
    told = (
        f"only {shared} of its contacts are found there"
        if shared is not None
        else "the contacts cannot tell (not of one kind)"
    )
    col.notes.append(
        f"not linked: its {link.distinct:,} distinct values lie in {link.target}, but both"
        f" are people tables' keys, dense integers (1..n fits any 1..m), its name does not"
        f" name {link.parent}, and {told}: each table numbers its own people; a link would"
        " give one person another's rows"
    )
    if shared is None:
        col.confidence["unlinked"] = Confidence(
            0.3,
            f"its values lie in {link.target}, another people table's key, by a shared range"
            " of numbers only, and the contacts cannot tell: the same people, or others?",
        )


def _extends_one_to_one(table: TableDraft, link: Link, tables: dict[str, TableDraft]) -> None:
    """`table` extends the people of `link.parent`: one row per person there, found by the
    link (its own contacts are that person's too)."""
    joined = link_confidence(link, tables)
    table.people = "extension"
    said = (
        f"{link.column} is unique and present in all {table.profile.rows:,} rows and its"
        f" {link.distinct:,} distinct values are keys of {link.target}: one row per person of"
        f" {link.parent} (a profile), not people of its own"
    )
    table.notes.append(f"extends people table {link.parent}: {said}")
    table.confidence["verdict"] = Confidence(
        min(0.95, joined.value), f"{said}; the link {joined.value:.2f}"
    )


# a column naming a person other than the row's owner (a customer's account manager, a
# referrer, an emergency contact, a CRM record's owner: a sales rep)
_NOT_ITS_OWNER = re.compile(
    r"(?i)manager|referr|sponsor|owner|(^|_)by($|_)|[a-z]By$|assign|approv|review|invit|friend"
    r"|spouse|partner|guardian|emergency|contact|mentor|supervis|boss|lead"
)


def _entry_of(table: TableDraft, link: Link, links: list[Link]) -> bool:
    """Whether a table with contacts of its own is entries of another people table's people
    (an address book: Magento's customer_address_entity.parent_id -> customer_entity), not
    people of its own: its link column is filled in every row, all its values are keys of
    the people table, it is not the table's own key (two lists each numbering their own
    people share a range), its name says no other person (a manager, a referrer, an owner
    who is a sales rep, staff), no table's rows hang off it (people others' rows are about
    are people of their own), and its contacts are of another kind than the parent's, so
    they cannot say whether its people are the parent's."""
    col = table.profile.columns[link.column]
    rows = table.profile.rows
    if link.child == link.parent or link.column == table.primary_key or not rows:
        return False
    if col.non_null < rows or col.placeholders or link.found < link.distinct:
        return False
    if _NOT_ITS_OWNER.search(link.column) or _STAFF.search(link.column):
        return False
    if _role_tier(link.column) == 3:
        return False
    return not any(lk.parent == table.name and lk.child != table.name for lk in links)


def _owned_entries(table: TableDraft, link: Link) -> None:
    """`table` holds entries of `link.parent`'s people (addresses, each with its phone): no
    people table; its contacts are the entry's personal data, never identities (an entry's
    phone may be a recipient's, and as an identity it would join the people who share it);
    the link gives the rows their person (`identity_by_link`)."""
    table.people = None
    table.confidence.pop("verdict", None)
    demoted = []
    for name, col in table.columns.items():
        if col.identity not in (IdentityKind.EMAIL, IdentityKind.PHONE):
            continue
        kind = PersonalKind.EMAIL if col.identity is IdentityKind.EMAIL else PersonalKind.PHONE
        was = col.confidence.pop("identity", None)
        col.identity, col.personal = None, kind
        col.notes.append(
            f"personal {kind.value}, not an identity: an entry of the person in"
            f" {link.column} (its owner), whose own contact it may not be; as an identity it"
            " would join the people who share it. Declare identity if a request by it alone"
            " should find the owner"
        )
        if was is not None:
            col.confidence["personal"] = Confidence(was.value, was.reason)
        demoted.append(name)
    rows = table.profile.rows
    said = (
        f"{link.column} is filled in all {rows:,} rows and its {link.distinct:,} distinct"
        f" values are keys of people table {link.parent} ({link.target}), no table's rows"
        " point at this one, and its contacts are of another kind than that table's"
    )
    table.notes.append(
        f"entries of people table {link.parent}'s people, not people of its own: {said};"
        f" each row is its {link.column}'s person's (an address book entry is its owner's)"
        + (f", and {', '.join(demoted)} the entry's data, no identity" if demoted else "")
    )
    table.confidence["verdict"] = Confidence(
        0.6, f"{said}: each row its {link.column}'s person's; confirm"
    )


def _root_confidence(table: TableDraft, incoming: int, own: float, why: str) -> Confidence:
    """A root people table: its contact is one per row (in the sample), other tables link to
    it, and its people are not another people table's."""
    contact = _contact(table)
    assert contact is not None
    values = [str(v).strip().lower() for v in table.profile.values(contact)]
    distinct = len(set(values))
    linked = 1.0 if incoming else 0.85
    reason = (
        f"{contact} differs in {100 * distinct / len(values):.0f}% of {len(values):,} sampled"
        f" rows; {incoming} other table(s) link to it{why}"
    )
    return Confidence(share_floor(distinct, len(values)) * linked * own, reason)


def _names_an_id(column: str) -> bool:
    return bool(_ID_NAME.search(column) or _CUSTOMER.search(column) or _USER.search(column))


def _kind_for(column: str, free: list[IdentityKind]) -> IdentityKind | None:
    """The kind a people key named `column` takes among those `free`: customer_id or user_id
    where its name says so, else (or where that one is taken) the first left, person_id where
    its name says customer or user (never the other's kind)."""
    if _CUSTOMER.search(column) and IdentityKind.CUSTOMER_ID in free:
        return IdentityKind.CUSTOMER_ID
    if _USER.search(column) and IdentityKind.USER_ID in free:
        return IdentityKind.USER_ID
    if _CUSTOMER.search(column) or _USER.search(column):
        return IdentityKind.PERSON_ID if IdentityKind.PERSON_ID in free else None
    return free[0] if free else None


def assign_key_kinds(roots: list[TableDraft], links: list[Link]) -> None:
    """Give each root people table's key (and its other keys that others link to) a kind of
    its own: first the roots whose key or table name says customer or user, then the others,
    each in rank order; a root left without one is found by its contacts only, said and
    confirmed first."""
    free = list(_KEY_KINDS)

    def named(table: TableDraft) -> bool:
        key = table.primary_key or ""
        said = key if not generic(key) else f"{table.name}_{key}"
        return bool(_CUSTOMER.search(said) or _USER.search(said))

    for table in sorted(roots, key=lambda t: not named(t)):
        linked = [
            k for k in table.keys if any(lk.parent == table.name and lk.key == k for lk in links)
        ]
        keys = [table.primary_key, *[k for k in linked if k != table.primary_key]]
        for key in keys:
            if key is None or table.columns[key].identity is IdentityKind.USERNAME:
                continue
            col = table.columns[key]
            if key != table.primary_key and not _names_an_id(key):
                col.notes.append(
                    f"no identity kind: a second key of people table {table.name} that other"
                    " tables link to, but its name does not say it identifies the person (a"
                    " value copied into other tables, such as a postal code)"
                )
                continue
            kind = _kind_for(key if not generic(key) else f"{table.name}_{key}", free)
            if kind is None:
                taken = ", ".join(k.value for k in _KEY_KINDS)
                col.notes.append(
                    f"no identity kind: {taken} are taken by the people tables ranked before"
                    " this one (more tables link to them), and two tables sharing a kind would"
                    " link colliding keys; this table's people are found by their contacts"
                    " only, and rows linking to its key reach no one"
                )
                if key == table.primary_key:
                    was = table.confidence.get("verdict", Confidence(0.8, ""))
                    table.confidence["verdict"] = Confidence(
                        min(was.value, 0.2),
                        f"{was.reason}; its key has no identity kind left ({taken} taken):"
                        " rows linking to it reach no one: give it a kind, or declare the"
                        " links owned_through",
                    )
                continue
            free.remove(kind)
            col.identity = kind
            col.notes.append(
                f"identity {kind.value}: the key of people table {table.name}, a kind no"
                " other people table has"
            )
            col.confidence["identity"] = _kind_confidence(table, key, kind)


def _kind_confidence(table: TableDraft, key: str, kind: IdentityKind) -> Confidence:
    """A people key's kind: as sure as the table is a people table, less where the name does
    not say the kind (the first kind left was given)."""
    people = table.confidence.get("verdict", Confidence(0.8, ""))
    pattern = _CUSTOMER if kind is IdentityKind.CUSTOMER_ID else _USER
    said_by = key if not generic(key) else f"{table.name}_{key}"
    if pattern.search(said_by):
        named, said = 1.0, f"named {key}" if said_by == key else f"{key} of {table.name}"
    else:
        named, said = 0.7, f"its name ({key}) says neither customer nor user: the kind left"
    return Confidence(
        people.value * named,
        f"the key of people table {table.name} ({people.value:.2f}); {said}",
    )


# a person named in an organisation's row by their role in it (a store's manager, a
# department's head, a team's lead, a supplier's contact person): the row is the
# organisation's, not the person's; `lead` and `contact` are roles only where the people
# table is not named by them (a CRM's leads and contacts are people, their rows theirs)
_ORG_ROLE = {
    "manager",
    "mgr",
    "supervisor",
    "head",
    "lead",
    "leader",
    "director",
    "chief",
    "boss",
    "coordinator",
    "captain",
    "chair",
    "chairman",
    "chairperson",
    "president",
    "secretary",
    "treasurer",
    "keyholder",
    "contact",
}
_ROLE_IF_NOT_TABLE = {"lead", "contact"}
_ORG_ROW = "of an organisation's row"
# an organisation, a place of business or a group of people, by its table's name
_ORG_TABLE = {
    "store",
    "shop",
    "outlet",
    "branch",
    "office",
    "department",
    "dept",
    "division",
    "unit",
    "team",
    "group",
    "company",
    "organisation",
    "organization",
    "org",
    "site",
    "warehouse",
    "depot",
    "location",
    "club",
    "school",
    "clinic",
    "practice",
    "ward",
    "agency",
    "franchise",
    "region",
    "restaurant",
    "hotel",
    "venue",
    "supplier",
    "vendor",
    "partner",
    "account",
}


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def organisation_role(
    link: Link, links: Iterable[Link], tables: Mapping[str, TableDraft]
) -> str | None:
    """The role a link's column names in an organisation's row (`store.manager_staff_id`:
    "manager"), or None. Such a row (a store, a department, a team) is the organisation's:
    its manager is a person in it, not its owner, so the column is no identity (erasing the
    manager would delete the store) and nothing is owned through it (nor the store's stock).
    The column's name says the role (manager, supervisor, head, lead, director, contact
    person...), its parent is a people table's, and the row is an organisation's: other
    tables' rows hang off its key (inventory.store_id, staff.store_id), or its table's name
    says one (stores, departments, teams). `lead` and `contact` are no role where they name
    the people table (a CRM's campaign_members.lead_id -> leads: the lead's row)."""
    table, parent = tables[link.child], tables[link.parent]
    if link.child == link.parent or parent.people is None or table.people is not None:
        return None
    words = [_singular(w) for w in _words(link.column)]
    theirs = {_singular(w) for w in _words(link.parent)}
    roles = [w for w in words if w in _ORG_ROLE and not (w in _ROLE_IF_NOT_TABLE and w in theirs)]
    if not roles:
        return None
    key = table.primary_key
    hung = key is not None and any(
        lk.parent == table.name and lk.key == key and lk.child != table.name for lk in links
    )
    named = any(_singular(w) in _ORG_TABLE for w in _words(table.name))
    return roles[0] if hung or named else None


def _no_identity_as_role(table: TableDraft, link: Link, role: str, links: Iterable[Link]) -> None:
    """Say why an organisation's role column is no identity, and why the table is no one's."""
    col = table.columns[link.column]
    into = sorted({lk.child for lk in links if lk.parent == table.name and lk.child != table.name})
    why = f"{', '.join(into)} hang off its rows" if into else "its name says an organisation"
    said = f"{link.column} names the {role} {_ORG_ROW} ({why}): a role in it, not its owner"
    _once(
        col.notes,
        f"not an identity: {said}; the row is not that person's to erase (their erasure would"
        f" delete the {table.name} row), and no table is owned through it; if the {role}'s"
        f" access should show it, declare identity on {link.column} with erasure: {{action:"
        f" nullify, columns: [{link.column}]}}",
    )
    col.confidence["no_identity"] = Confidence(
        0.6, f"{said}: the organisation's row, never erased with the {role}; confirm"
    )


def identity_by_link(
    tables: dict[str, TableDraft], links: list[Link], roots: list[TableDraft]
) -> None:
    """A column linked to a key with an identity kind gets its kind, unless the row belongs to
    someone else: a root's own people, or the person of another people table the row links
    to (see `_owner`)."""
    rank = {t.name: i for i, t in enumerate(roots)}
    changed = True
    while changed:
        changed = False
        for link in links:
            table, col = tables[link.child], tables[link.child].columns[link.column]
            kind = tables[link.parent].columns[link.key].identity
            if col.references is None:
                col.references = link.target
                col.notes.append(_link_note(link))
            if kind is None or col.identity is not None:
                continue
            role = organisation_role(link, links, tables)
            if role is not None:
                _no_identity_as_role(table, link, role, links)
                continue
            owner = _owner(table, links, rank, tables) if table.people != "root" else None
            others = (
                list(owner.rivals)
                if owner is not None and owner.link.parent == link.parent
                else [link]
            )
            split = (
                owner is not None
                and bool(others)
                and all(_either(table, owner.link.column, lk.column) for lk in others)
            )
            if split and owner is not None:
                _once(
                    col.notes,
                    f"each sampled row names a person in one of {owner.link.column},"
                    f" {', '.join(lk.column for lk in others)}, never two: the rows are split"
                    " between their people tables, each row its own person's",
                )
            if table.people == "root" or (
                link.parent in rank
                and owner is not None
                and owner.link.parent != link.parent
                and not split
            ):
                whose = "its own people" if owner is None else f"people of {owner.link.parent}"
                _once(
                    col.notes,
                    f"not an identity: the rows belong to {whose}; {link.column} names a"
                    f" second person (in {link.parent}), who does not receive them",
                )
                if owner is None:
                    mine = table.confidence.get("verdict", Confidence(0.8, ""))
                    col.confidence["no_identity"] = Confidence(
                        mine.value, f"the rows are its own people's ({mine.value:.2f})"
                    )
                else:
                    _once(col.notes, owner.why)
                    col.confidence["no_identity"] = owner.confidence
                continue
            col.identity = kind
            col.notes.append(f"identity {kind.value}: its values are keys of {link.target}")
            col.confidence.pop("no_identity", None)
            col.confidence["identity"] = _by_link_confidence(link, tables)
            if owner is not None and owner.rivals and not split:
                _once(col.notes, owner.why)
                col.confidence["identity"] = Confidence(
                    min(col.confidence["identity"].value, owner.confidence.value),
                    f"{col.confidence['identity'].reason}; {owner.confidence.reason}",
                )
            changed = True


# who made a row (its person), and who it names besides (a second person)
_MAKER = re.compile(
    r"(?i)sender|(^|_)from($|_)|^from[A-Z]|author|actor|creator|created_?by|(^|_)by($|_)"
    r"|[a-z]By$|owner|liker|follower|reviewer|voter|rater|commenter|poster|writer|requester"
    r"|reporter|inviter|caller|uploader|submitter|blocker|^user(?:_?id)?$"
)
_RECEIVER = re.compile(
    r"(?i)recipient|receiver|(^|_)to($|_)|^to[A-Z]|target|followed|followee|liked|assignee"
    r"|invitee|addressee|mention|callee|blocked|reported|viewed|friend|other"
)


def one_person_per_row(tables: dict[str, TableDraft], links: list[Link]) -> None:
    """A row naming two people of one kind (a message's sender and recipient, a follow's
    follower and followed) gets identity on one column only: a request's closure takes
    every identity of a matched row as the person's, so two would join the two people (each
    receiving the other's rows). The one who made the row (the sender, the author, the
    actor) is its person; the others stay references without identity, said and confirmed
    first. Columns that never name two people in one sampled row (each row one or the
    other) keep their identity."""
    for table in tables.values():
        if table.people == "root":
            continue
        by_kind: dict[IdentityKind, list[str]] = {}
        for lk in links:
            if lk.child != table.name:
                continue
            kind = table.columns[lk.column].identity
            if kind is not None and kind is tables[lk.parent].columns[lk.key].identity:
                _once(by_kind.setdefault(kind, []), lk.column)
        for kind, cols in by_kind.items():
            if len(cols) < 2 or all(_either(table, a, b) for a in cols for b in cols if a < b):
                continue
            order = list(table.columns)
            cols.sort(key=order.index)
            _keep_one(table, kind, cols)
    for table in tables.values():
        if table.people is None:
            _thread_of_parent(table, tables, links)


# a row's person by its column's words (camelCase, snake_case, prefixes): the one it is
# for (a ticket's requester, reporter, customer), then the one who made it (a submitter, an
# author, a sender, created_by, an owner); a handler (an assignee, an agent, a responder, an
# approver, updated_by) or a receiver never while one of those is named
_FOR = {
    "requester",
    "requestor",
    "reporter",
    "customer",
    "client",
    "buyer",
    "shopper",
    "patient",
    "applicant",
    "claimant",
    "complainant",
    "enduser",
}
_BY_FOR = {"requested", "reported", "raised", "filed", "ordered", "booked"}
_HANDLER = {
    "assignee",
    "assigned",
    "assign",
    "agent",
    "responder",
    "handler",
    "approver",
    "moderator",
    "operator",
    "updater",
    "modifier",
    "editor",
    "resolver",
    "closer",
    "collaborator",
    "escalated",
    "staff",
    "employee",
    "admin",
    "rep",
    "salesperson",
    "technician",
}
_BY_HANDLER = {
    "updated",
    "modified",
    "changed",
    "edited",
    "approved",
    "assigned",
    "closed",
    "resolved",
    "solved",
    "handled",
    "processed",
    "deleted",
    "answered",
    "responded",
    "escalated",
    "reviewed",
    "verified",
    "last",
    "locked",
    "archived",
    "merged",
}
_TIERS = (
    "the one the row is for (a requester)",
    "the one who made it (an author)",
    "no role",
    "one who handled or received it (an assignee)",
)


def _words(column: str) -> list[str]:
    """A column name's words, lower case: `RequesterId`, `requested_by`, `createdById`."""
    split = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", column)  # HTTPRequester -> HTTP Requester
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", split)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def _role_tier(column: str) -> int:
    """Whose a row is by a person column's name: 0 the one it is for, 1 its maker, 2 the
    name does not say, 3 one who handled or received it."""
    words = _words(column)
    by = [words[i - 1] for i, w in enumerate(words) if w == "by" and i > 0]
    if any(w in _FOR for w in words) or any(w in _BY_FOR for w in by):
        return 0
    if any(w in _BY_HANDLER for w in by) or any(w in _HANDLER for w in words):
        return 3
    if _RECEIVER.search(column):
        return 3
    if by or _MAKER.search(column):
        return 1
    return 2


def _keep_one(table: TableDraft, kind: IdentityKind, cols: list[str]) -> None:
    tiers = {c: _role_tier(c) for c in cols}
    best = min(tiers.values())
    top = [c for c in cols if tiers[c] == best]
    if len(top) == 1 and best <= 1:
        chosen, value = top[0], 0.6
        others = ", ".join(c for c in cols if c != top[0])
        how = f"its name says {_TIERS[best]}, before {others} by name, whatever the order"
    elif len(top) == 1 and all(tiers[c] == 3 for c in cols if c != top[0]):
        chosen, value = top[0], 0.5
        how = "the others' names say one who handled or received the row"
    else:
        chosen, value = top[0], 0.3
        how = (
            "the names do not tell which made the row: the first column"
            + (f" of {', '.join(top)}" if len(top) < len(cols) else "")
            + ", confirm"
        )
    rest = [c for c in cols if c != chosen]
    said = (
        f"{', '.join(cols)} each hold {kind.value} values; two identities on one row would join"
        " the two people in a request (each would receive the other's rows)"
    )
    for name in rest:
        col = table.columns[name]
        col.identity = None
        col.confidence.pop("identity", None)
        col.notes = [n for n in col.notes if not n.startswith(f"identity {kind.value}:")]
        col.notes.append(
            f"not an identity: the row is {chosen}'s ({how}); {name} names a second person,"
            f" a reference only: {said}"
        )
        col.confidence["no_identity"] = Confidence(
            min(value, 0.45),
            f"the row taken to be {chosen}'s: {how}; {name} names a second person: confirm",
        )
    col = table.columns[chosen]
    col.notes.append(f"the row's person: {how}; {', '.join(rest)} a second person: {said}")
    was = col.confidence.get("identity", Confidence(value, ""))
    col.confidence["identity"] = Confidence(
        min(was.value, value), f"{was.reason}; the row's person among {', '.join(cols)}: {how}"
    )


_THREAD_MIN = 20  # sampled rows joined to their parent, at least, to tell a thread
_THREAD_SHARE = 0.9  # of them by the parent row's person or its handlers: a conversation


def _thread_of_parent(table: TableDraft, tables: dict[str, TableDraft], links: list[Link]) -> None:
    """A helpdesk's comments: rows linked to a parent row (a ticket) that names its person
    (the requester) and a handler of one kind (an assignee), each written by the one or the
    other (nine in ten sampled rows or more, each side a tenth or more), are a conversation
    in the parent person's record: owned through the parent, the author a reference. The
    customer then receives, and erasure removes, the staff's replies on their tickets; an
    agent's erasure never deletes a customer's conversation. A table whose authors are
    others (a blog's commenters) keeps the author's identity."""
    ids = table.identity_columns()
    if len(ids) != 1:
        return
    ((author, kind),) = ids.items()
    for link in links:
        parent = tables[link.parent]
        if link.child != table.name or parent.primary_key != link.key or parent.people:
            continue
        person = parent.first_identity(kind)
        handlers = [
            c
            for c, d in parent.columns.items()
            if "no_identity" in d.confidence and _role_tier(c) == 3
        ]
        if person is None or len(parent.identity_columns()) != 1 or not handlers:
            continue
        sample = parent.profile.sample
        whose = dict(
            zip(sample.column(link.key).to_pylist(), sample.column(person).to_pylist(), strict=True)
        )
        staff = {v for c in handlers for v in sample.column(c).to_pylist() if v is not None}
        rows = zip(
            table.profile.sample.column(link.column).to_pylist(),
            table.profile.sample.column(author).to_pylist(),
            strict=True,
        )
        joined = [(whose[k], a) for k, a in rows if k in whose and a is not None]
        by_person = sum(1 for p, a in joined if a == p)
        by_staff = sum(1 for p, a in joined if a != p and a in staff)
        n = len(joined)
        if (
            n < _THREAD_MIN
            or by_person + by_staff < _THREAD_SHARE * n
            or min(by_person, by_staff) < 0.1 * n
        ):
            continue
        _own_thread(table, link, author, person, handlers, (by_person, by_staff, n))
        return


def _own_thread(
    table: TableDraft,
    link: Link,
    author: str,
    person: str,
    handlers: list[str],
    counts: tuple[int, int, int],
) -> None:
    by_person, by_staff, n = counts
    said = (
        f"of {n:,} sampled rows joined to {link.parent}, {_pct(by_person, n)} are written by"
        f" the {link.parent} row's {person} and {_pct(by_staff, n)} by one named in its"
        f" {', '.join(handlers)}: a conversation in the record of the person in {person}"
    )
    col = table.columns[author]
    col.identity = None
    col.confidence.pop("identity", None)
    col.notes = [n for n in col.notes if not n.startswith("identity ")]
    col.notes.append(
        f"not an identity: {said}; the rows are owned through {link.target}, so that person"
        f" receives (and erasure removes) the replies of {', '.join(handlers)} on their"
        f" {link.parent}; {author} stays a reference: a request for an agent does not reach"
        " the replies they wrote (search them by this column if an agent asks)"
    )
    col.confidence["no_identity"] = Confidence(
        0.5, f"{said}: that person's, not the author's; confirm"
    )
    table.owned_through = link
    table.columns[link.column].references = None
    table.confidence["owned_through"] = Confidence(
        0.5, f"{said}; owned through {link.target} rather than by {author}: confirm"
    )
    table.notes.append(f"owned through {link.target}: {said}")


@dataclass(frozen=True)
class _Owner:
    """Whose rows a table's are, among the people tables it links to: the chosen link, the
    links passed over, and why."""

    link: Link
    rivals: tuple[Link, ...]
    why: str
    confidence: Confidence


def _named_as(link: Link) -> str | None:
    """What the link's names say its person is: "customer" (the one the row serves), "staff"
    (the one who handled it), or None."""
    words = f"{link.column} {link.parent}"
    staff = bool(_STAFF.search(link.column) or _STAFF.search(link.parent))
    customer = bool(_CUSTOMER.search(words) or _USER.search(words))
    if staff == customer:
        return None
    return "staff" if staff else "customer"


def _owner(
    table: TableDraft, links: list[Link], rank: dict[str, int], tables: dict[str, TableDraft]
) -> _Owner | None:
    """The people table a row belongs to, among those it links to with a kind-bearing key.

    The person whose key is more specific to the rows owns them: the link column with more
    distinct values (fewer rows per person; an order's customer, not the employee who took
    every tenth order), when it has at least twice another's, unless the names say that one
    is staff and another the customer (B2B tickets: few customers, many agents): then the
    customer's, at confidence 0.5. Where the counts do not tell, the names do (customer,
    client, user, member against employee, staff, agent, rep), then the larger people
    table, then the rank. Names that disagree with the counts lower the confidence."""
    options: dict[str, Link] = {}
    for lk in links:
        if (
            lk.child == table.name
            and lk.parent in rank
            and tables[lk.parent].columns[lk.key].identity is not None
            and organisation_role(lk, links, tables) is None
        ):
            best = options.get(lk.parent)
            if best is None or lk.distinct > best.distinct:
                options[lk.parent] = lk
    if not options:
        return None
    if len(options) == 1:
        (only,) = options.values()
        return _Owner(only, (), "", Confidence(0.9, "the rows link to one people table only"))
    ranked = sorted(options.values(), key=lambda lk: (-lk.distinct, rank[lk.parent]))
    first, second = ranked[0], ranked[1]
    rows = max(table.profile.rows, 1)
    specific = first.distinct >= _SPECIFIC * max(second.distinct, 1)
    named = {lk.parent: _named_as(lk) for lk in ranked}

    def each(lk: Link) -> str:
        return f"{lk.column} {lk.distinct:,} (~{rows / max(lk.distinct, 1):,.0f} rows each)"

    counts = "distinct values among its rows: " + ", ".join(each(lk) for lk in ranked)
    customers = [lk for lk in ranked if named[lk.parent] == "customer"]
    if specific and named[first.parent] == "staff" and len(customers) == 1:
        # an agent answering fewer tickets each than a B2B customer files: the counts say
        # the agent's, the names the customer's; giving an agent the customer's rows (and
        # the customer none) is the worse mistake, so the name decides, and asks
        chosen = customers[0]
        how = (
            "its name says customer or user, the other's staff, though the other has more"
            " distinct values"
        )
    elif specific:
        chosen, how = first, "the more specific key (at least twice the distinct values)"
    else:
        by_name = [lk for lk in ranked if named[lk.parent] == "customer"]
        if len(by_name) == 1:
            chosen, how = by_name[0], "the counts are close; its name says customer or user"
        else:
            chosen = max(ranked, key=lambda lk: (tables[lk.parent].profile.rows, -rank[lk.parent]))
            how = "the counts are close and the names silent: the larger people table"
    rivals = tuple(lk for lk in ranked if lk is not chosen)
    agree = (
        (chosen is first or not specific)
        and named[chosen.parent] != "staff"
        and all(named[lk.parent] != "customer" for lk in rivals)
    )
    spoke = named[chosen.parent] is not None or any(named[lk.parent] for lk in rivals)
    if chosen is not first:
        value = 0.5
    elif specific:
        value = 0.9 if agree and spoke else 0.8 if agree else 0.5
    else:
        value = 0.7 if agree and spoke else 0.5
    said = (
        "the names agree"
        if agree and spoke
        else "the names say nothing"
        if agree
        else "the names disagree: confirm"
    )
    why = f"whose rows: those of {chosen.parent}, {how}; {counts}; {said}"
    reason = f"the rows taken to be those of {chosen.parent}: {how}; {said}"
    return _Owner(chosen, rivals, why, Confidence(value, reason))


def _by_link_confidence(link: Link, tables: dict[str, TableDraft]) -> Confidence:
    """An identity by link: as sure as the link and as the parent key's kind."""
    joined = link_confidence(link, tables)
    parent = tables[link.parent].columns[link.key].confidence.get("identity")
    kind = parent.value if parent is not None else 0.8
    return Confidence(
        joined.value * kind,
        f"its values are keys of {link.target} (link {joined.value:.2f}, that key's kind"
        f" {kind:.2f})",
    )


def _either(table: TableDraft, first: str, second: str) -> bool:
    """Whether each sampled row holds a value in at most one of two columns, and each holds
    some (a campaign member is a contact or a lead)."""
    if first == second:
        return False
    a = table.profile.sample.column(first).to_pylist()
    b = table.profile.sample.column(second).to_pylist()
    both = sum(1 for x, y in zip(a, b, strict=True) if x is not None and y is not None)
    return both == 0 and any(x is not None for x in a) and any(y is not None for y in b)


def _link_note(link: Link) -> str:
    share = (
        f"all {link.distinct:,} distinct values"
        if link.found == link.distinct
        else f"{link.found:,} of {link.distinct:,} distinct values"
        f" ({100 * link.found / link.distinct:.1f}%)"
    )
    also = f"; they fit {', '.join(link.also)} as well: confirm" if link.also else ""
    return f"references {link.target}: {share} found in it (a unique key){also}"


def _once(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)


def find_ownership(tables: dict[str, TableDraft], links: list[Link]) -> None:
    """Tables with no identity that link to the primary key of a table with one (or owned
    itself) are owned through it, to any depth."""
    changed = True
    while changed:
        changed = False
        for table in tables.values():
            if table.owned_through is not None or table.identity_columns():
                continue
            options = [
                lk
                for lk in links
                if lk.child == table.name
                and tables[lk.parent].primary_key == lk.key
                and (tables[lk.parent].identity_columns() or tables[lk.parent].owned_through)
                and organisation_role(lk, links, tables) is None
            ]
            if not options:
                continue
            options, mine = _own_person_first(table, options, links, tables)
            if not options:
                _once(
                    table.notes,
                    f"not owned through {', '.join(sorted({lk.target for lk in mine}))}: its"
                    f" {', '.join(_person_columns(table, links, tables))} may name the row's own"
                    " person (its values fit a people table's key); a row with a person of its"
                    " own is that person's, never the parent row's owner's: declare its"
                    " references and identity",
                )
                continue
            best = max(
                options,
                key=lambda lk: (
                    bool(tables[lk.parent].identity_columns()),
                    name_score(lk.column, lk.parent, lk.key),
                ),
            )
            table.owned_through = best
            table.columns[best.column].references = None  # owned_through states the link
            table.confidence["owned_through"] = _owner_confidence(best, options, tables)
            how = "has identity columns" if tables[best.parent].identity_columns() else "is owned"
            table.notes.append(
                f"owned through {best.target}: no identity column of its own; all"
                f" {best.distinct:,} distinct {best.column} values are keys of {best.parent},"
                f" which {how}"
            )
            changed = True


def _person_columns(
    table: TableDraft, links: list[Link], tables: dict[str, TableDraft]
) -> list[str]:
    """A table's columns that may name the row's own person: linked to a people table's
    key, or left unlinked where their values fit one (a liker_id whose name no rule knows)."""
    linked = {lk.column for lk in links if lk.child == table.name and tables[lk.parent].people}
    return [c for c, d in table.columns.items() if c in linked or "unlinked" in d.confidence]


def _own_person_first(
    table: TableDraft, options: list[Link], links: list[Link], tables: dict[str, TableDraft]
) -> tuple[list[Link], list[Link]]:
    """The links a table may be owned through: where a column names the row's own person
    (likes.liker_id, reviews.reviewer_id), only the links to people tables, never the parent
    row's (the liked article's author would receive others' likes); the others set aside."""
    if not _person_columns(table, links, tables):
        return options, []
    kept = [lk for lk in options if tables[lk.parent].people is not None]
    return kept, [lk for lk in options if lk not in kept]


def _owner_confidence(best: Link, options: list[Link], tables: dict[str, TableDraft]) -> Confidence:
    """An ownership: as sure as its link, as the parent's own ownership, and less where other
    links could own the table too."""
    joined = link_confidence(best, tables)
    value, reason = joined.value, joined.reason
    parent = tables[best.parent].confidence.get("owned_through")
    if tables[best.parent].owned_through is not None and parent is not None:
        value *= parent.value
        reason += f"; {best.parent} is owned itself ({parent.value:.2f})"
    others = [lk.target for lk in options if lk is not best]
    if others:
        value *= 0.8
        reason += f"; chosen before {', '.join(others)}"
    return Confidence(value, reason)


def mark_reference(tables: dict[str, TableDraft]) -> None:
    """Tables with no identity, no owner and no personal column are reference data. A
    personal one that people's rows reference (customer.address_id -> address) is said to
    be out of every request's reach, with what an analyst can do: never owned_through."""
    for table in tables.values():
        referrers = _referrers(table, tables)
        if table.identity_columns() or table.owned_through:
            if referrers and any(tables[t].people for t, _ in referrers):
                table.notes.append(
                    f"also referenced from {_listed(referrers)}: a request does not follow"
                    " that link, so it finds these rows by their own identity columns only"
                )
            continue
        for key in {k for _, k in referrers}:
            col = table.columns[key]
            if col.confidence.pop("unlinked", None) is not None:
                col.notes.append(
                    f"this table's own key, which {_listed(r for r in referrers if r[1] == key)}"
                    " reference: its values lying there are that link seen from this side, not"
                    " a person's key: declare no identity on it (its numbers are no one's id)"
                )
        personal = [c for c, d in table.columns.items() if d.has_role or "unlinked" in d.confidence]
        if personal and any(tables[t].identity_columns() or tables[t].owned_through
                            for t, _ in referrers):  # fmt: skip
            _referenced_only(table, personal, referrers)
            continue
        if personal:
            table.notes.append(
                f"personal data ({', '.join(personal)}) but no identity column and no link to"
                " one: no request reaches it; give it an identity or owned_through"
            )
            continue
        table.personal = False
        roles = [c for c, d in table.columns.items() if any(_ORG_ROW in n for n in d.notes)]
        if roles:
            table.notes.append(
                f"reference data (personal: false): an organisation's rows, which name a person"
                f" only in a role ({', '.join(roles)}): no identity, no personal column, and"
                " no row here is that person's"
            )
            continue
        table.notes.append(
            "reference data (personal: false): no identity, no personal column, no link to a person"
        )


def _referrers(table: TableDraft, tables: dict[str, TableDraft]) -> list[tuple[str, str]]:
    """(table, key of `table`) for each other table's column that references `table`."""
    return [
        (other.name, col.references.split(".", 1)[1])
        for other in tables.values()
        if other is not table
        for col in other.columns.values()
        if col.references is not None
        and col.references.split(".", 1)[0] == table.name
        and col.references.split(".", 1)[1] in table.columns
    ]


def _listed(referrers: Iterable[tuple[str, str]]) -> str:
    return ", ".join(sorted({t for t, _ in referrers}))


def _referenced_only(
    table: TableDraft, personal: list[str], referrers: list[tuple[str, str]]
) -> None:
    """Personal rows that people's rows point at (an address a customer, a staff member and a
    store reference): the catalog follows a link from a row to its owner (owned_through),
    never from an owner to the rows it references, and no column here names a person."""
    into = ", ".join(sorted({f"{t} -> {table.name}.{k}" for t, k in referrers}))
    why = (
        f"personal data ({', '.join(personal)}) in rows that other tables point at ({into}):"
        " no column here names the row's person, so owned_through (which follows a link from"
        " this table to its owner) cannot reach it, and the catalog has no way to say 'the"
        " rows that a person's row references': no request reaches these rows"
    )
    table.notes.append(
        f"{why}. To reach them: re-export the table with its person's key (one row per"
        " referencing person, e.g. joined to the people table's key, then declare that"
        " column's identity), or declare identity on a contact column of its own if it is"
        " the person's; rows referenced from several tables or people are shared: erase one"
        " only once no other row references it. Until then, access and erasure miss them"
    )
    table.confidence["verdict"] = Confidence(
        0.2, f"{why}: re-export with the person's key, or declare an identity of its own"
    )


def propose_retention(table: TableDraft, note: Callable[[str], None] | None = None) -> None:
    """The date or timestamp column a retention period would count from."""
    temporal = [
        c
        for c, p in table.profile.columns.items()
        if p.kind in (ColumnType.DATE, ColumnType.TIMESTAMP) and p.non_null
        and table.columns[c].personal is None
    ]  # fmt: skip
    if not temporal:
        return
    rows = table.profile.rows
    full = [c for c in temporal if table.profile.columns[c].non_null >= 0.9 * rows] or temporal
    named = [c for pattern in _RETENTION for c in full if pattern.search(c)]
    table.retention_after = (named or full)[0]
    table.confidence["retention"] = _retention_confidence(table, named, full)
    if note is not None:
        note(f"{table.name}: retention counted from {table.retention_after}")


def _retention_confidence(table: TableDraft, named: list[str], full: list[str]) -> Confidence:
    """The column retention counts from: surer when its name says when the row began, when it
    is filled in (nearly) every row, and when no other such column competes."""
    chosen = table.retention_after
    assert chosen is not None
    rows = table.profile.rows
    filled = table.profile.columns[chosen].non_null / rows if rows else 0.0
    value = (0.85 if named else 0.6) * filled
    reason = f"named {chosen}" if named else f"its name ({chosen}) does not say when the row began"
    reason += f"; filled in {100 * filled:.0f}% of {rows:,} rows"
    rivals = [c for c in dict.fromkeys(named or full) if c != chosen]
    if rivals:
        value *= 0.8
        reason += f"; or {', '.join(rivals)}?"
    return Confidence(value, reason)
