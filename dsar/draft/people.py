"""Whose rows are these: people tables, identity kinds, identity by link, ownership, reference.

A people table has a key, an email or phone that is (nearly) one per row, and evidence that
its rows are people: a column of people's names, personal emails (not a company's role
mailboxes), 20 rows or more, or a link into its key from a column naming a person's role
(`customer_id`, `owner`); a few offices or carriers with a switchboard number each are no
people table. An email column whose values are all role mailboxes (support@, info@) at one or
two domains is a company's address, not a person's: no identity. One whose link
leads to another people table with the same people (most of its emails found there) extends
that table (a sign-in profile, preferences); the others are roots, ranked by how many
tables point at them. Each root's key gets an identity kind of its own (by its name:
customer, user; else the first left), so two people tables never share a kind and their
colliding keys never link; another key of the root that others link to gets one only when its
name says it is an identifier (a postal code copied into orders is no person's key). A column
linked to a key with a kind gets that kind, unless the row already belongs to another person:
a root's link to its account manager, or, where a row links to two people tables (an order to
its customer and to the employee who took it), the person whose key is more specific to the
rows (more distinct values, fewer rows each), the names deciding only where the counts do
not, and the confidence lower where they disagree. A table with no identity that links to the
key of a table that has one is owned through it; a table with no person at all is reference
data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dsar.catalog.models import ColumnType, IdentityKind, PersonalKind
from dsar.draft.confidence import link_confidence, share_floor
from dsar.draft.counts import Share, share
from dsar.draft.keys import generic, name_score, person_named
from dsar.draft.model import Confidence, Link, TableDraft
from dsar.draft.profile import TableProfile, share_found
from dsar.engine.base import Engine

_KEY_KINDS = (IdentityKind.USER_ID, IdentityKind.CUSTOMER_ID)
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
        for link in (lk for lk in links if lk.child == name and lk.parent in candidates):
            theirs = _contact(candidates[link.parent])
            assert theirs is not None
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
            table.notes.append(
                f"people of its own: {pct} of {len(mine):,} sampled {contact} values are found"
                f" in {link.parent}.{theirs}, so {link.column} names a second person"
            )
            sure = share_floor(len(mine) - shared, len(mine))
            if sure < own[name][0]:
                own[name] = (sure, f"; {pct} of its {contact} values are in {link.parent}")
    roots = [t for t in candidates.values() if t.people == "root"]
    plain = {n for n, t in tables.items() if t.people != "root"}

    def incoming(t: TableDraft) -> int:
        return sum(1 for lk in links if lk.parent == t.name and lk.child in plain)

    roots.sort(key=lambda t: (-incoming(t), -t.profile.rows, t.name))
    for t in roots:
        t.notes.insert(
            0,
            f"a people table: one row per person ({_contact(t)} differs in every sampled"
            f" row; {evidence[t.name]}); {incoming(t)} other table(s) link to it",
        )
        t.confidence["verdict"] = _root_confidence(t, incoming(t), *own[t.name])
    return roots


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
    if _CUSTOMER.search(column) and IdentityKind.CUSTOMER_ID in free:
        return IdentityKind.CUSTOMER_ID
    if _USER.search(column) and IdentityKind.USER_ID in free:
        return IdentityKind.USER_ID
    if _CUSTOMER.search(column) or _USER.search(column):
        return None
    return free[0] if free else None


def assign_key_kinds(roots: list[TableDraft], links: list[Link]) -> None:
    """Give each root people table's key (and its other keys that others link to) a kind of
    its own, in rank order; a root left without one is found by its contacts only."""
    free = list(_KEY_KINDS)
    for table in roots:
        linked = [
            k for k in table.keys if any(lk.parent == table.name and lk.key == k for lk in links)
        ]
        keys = [table.primary_key, *[k for k in linked if k != table.primary_key]]
        for key in keys:
            if key is None:
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
                col.notes.append(
                    "no identity kind: user_id and customer_id are taken by the people tables"
                    " ranked before this one (more tables link to them), and two tables"
                    " sharing a kind would link colliding keys; this table's people are found"
                    " by their contacts"
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
            owner = _owner(table, links, rank, tables) if table.people != "root" else None
            if table.people == "root" or (
                link.parent in rank and owner is not None and owner.link.parent != link.parent
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
            if owner is not None and owner.rivals:
                _once(col.notes, owner.why)
                col.confidence["identity"] = Confidence(
                    min(col.confidence["identity"].value, owner.confidence.value),
                    f"{col.confidence['identity'].reason}; {owner.confidence.reason}",
                )
            changed = True


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
            ]
            if not options:
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
    """Tables with no identity, no owner and no personal column are reference data."""
    for table in tables.values():
        if table.identity_columns() or table.owned_through:
            continue
        personal = [c for c, d in table.columns.items() if d.has_role or "unlinked" in d.confidence]
        if personal:
            table.notes.append(
                f"personal data ({', '.join(personal)}) but no identity column and no link to"
                " one: no request reaches it; give it an identity or owned_through"
            )
            continue
        table.personal = False
        table.notes.append(
            "reference data (personal: false): no identity, no personal column, no link to a person"
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
