"""What each released column of an extract is to an attacker: every one a quasi-identifier
until the policy says why not (ARX's default).

A column the extract releases in any form is something an attacker may know about a person
and link on, whatever the policy's author thought of it: `examples/extract_accounts.yml`
once named two of its seven released columns, and on the other five 252 of 964 rows were
unique. So the quasi-identifiers are computed, not chosen:

- not released: `drop`, and `suppress` (every value empty);
- the person's pseudonym: a keyed `hash` or a `pseudonym` of a column naming the row's person
  (the policy's `person:`, or an identity column of the extracted table). Nobody without the
  key can compute it from what they know, and equal values only join the person's own rows.
  A hashed name, or any other personal column the catalog gives no `identity:`, is no
  pseudonym: namesakes share its hash, so it sorts people into groups as the name does, and
  it joins every extract made under the same key; it is a quasi-identifier (beside country
  and plan, a hashed full name once let the manifest claim k = 15 where 998 of the demo's
  1,000 people are alone on the three columns);
- `sensitive:` what must stay diverse in a class (l, t), not what an attacker knows;
- `insensitive:` a column with the author's reason why nobody outside could know it
  (`insensitive: {status: "an account state, known to nobody outside"}`);
- every other released column: a quasi-identifier. Those the policy lists under
  `quasi_identifiers:` are declared; the rest are quasi-identifiers by default, and
  `anonymize policy check` names them.

`quasi_identifiers:` stays accepted (policies written before this list them), but it only
adds to the set: k, l, t, the search, the suppression and every risk of the manifest are
computed over the effective set, which the manifest records.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from anonymize.params import Drop, Hash, Pseudonym, Suppress

if TYPE_CHECKING:
    from anonymize.joins import Source
    from dsar.catalog import Catalog


class Released(Protocol):
    """What classifying needs of a policy (`anonymize.policy.Policy`, which checks itself
    with this module: a protocol keeps the two apart)."""

    @property
    def table(self) -> str: ...
    @property
    def person(self) -> str | None: ...
    @property
    def quasi_identifiers(self) -> list[str]: ...
    @property
    def sensitive(self) -> list[str]: ...
    @property
    def insensitive(self) -> dict[str, str]: ...
    def operators(self) -> dict[str, Any]: ...
    def sources(self) -> dict[str, Source]: ...


class Role(StrEnum):
    """What one column of the extract is, for the risk."""

    WITHHELD = "withheld"  # dropped, or every value suppressed
    PSEUDONYM = "pseudonym of the person"
    SENSITIVE = "sensitive"
    INSENSITIVE = "insensitive"
    DECLARED = "quasi-identifier"
    DEFAULT = "quasi-identifier (by default)"


QUASI = (Role.DECLARED, Role.DEFAULT)


@dataclass(frozen=True)
class Classified:
    """Every column of a policy with its role, in the policy's order."""

    roles: dict[str, Role]
    reasons: dict[str, str]  # insensitive column -> the policy's reason

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        """The effective quasi-identifiers: declared and by default."""
        return tuple(c for c, r in self.roles.items() if r in QUASI)

    @property
    def unclassified(self) -> tuple[str, ...]:
        """Released columns the author has not classified (quasi-identifiers by default)."""
        return tuple(c for c, r in self.roles.items() if r is Role.DEFAULT)

    @property
    def pseudonyms(self) -> tuple[str, ...]:
        return tuple(c for c, r in self.roles.items() if r is Role.PSEUDONYM)

    def described(self) -> dict[str, str]:
        """Each released column's role as the manifest states it (an insensitive column
        with its reason)."""
        return {
            c: (f"{r.value}: {self.reasons[c]}" if r is Role.INSENSITIVE else r.value)
            for c, r in self.roles.items()
            if r is not Role.WITHHELD
        }


def classify(policy: Released, catalog: Catalog) -> Classified:
    """The role of every column of the policy (see the module's docstring)."""
    declared = set(policy.quasi_identifiers)
    roles: dict[str, Role] = {}
    for column, op in policy.operators().items():
        if isinstance(op, Drop | Suppress):
            roles[column] = Role.WITHHELD
        elif column in declared:
            roles[column] = Role.DECLARED
        elif column in policy.sensitive:
            roles[column] = Role.SENSITIVE
        elif column in policy.insensitive:
            roles[column] = Role.INSENSITIVE
        elif isinstance(op, Hash | Pseudonym) and names_the_person(policy, catalog, column):
            roles[column] = Role.PSEUDONYM
        else:
            roles[column] = Role.DEFAULT
    return Classified(roles, dict(policy.insensitive))


def names_the_person(policy: Released, catalog: Catalog, column: str) -> bool:
    """The column names the row's own person: the policy's person column, or an identity
    column of the extracted table (not a name or other personal data: see the module)."""
    if column == policy.person:
        return True
    source = policy.sources().get(column)
    if source is None or source.table != policy.table:
        return False  # a joined table's identifier names someone else's row
    spec = catalog.tables[policy.table].columns.get(source.column)
    if spec is None:
        return False
    return spec.identity is not None
