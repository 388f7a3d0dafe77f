"""One file, one set of rules: two catalog entries over the same file (or byte-for-byte
copies of it) under different rules (Limited Use, role, an advertising purpose, legal basis)
would let a second entry relabel the data, e.g. `limited_use: false` over Google's.

`anonymize audience` refuses such a catalog and `dsar catalog check` reports it, both through
`shared_file_problems`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from dsar.catalog.models import Catalog
from dsar.errors import ConfigProblem
from dsar.io import sha256_file

ADVERTISING = ("advertis", "ad audience", "marketing audience")  # words of an ads purpose


def for_advertising(purposes: Iterable[str]) -> bool:
    """Whether any purpose names advertising."""
    return any(word in p.lower() for p in purposes for word in ADVERTISING)


def table_rules(catalog: Catalog, name: str) -> tuple[object, ...]:
    """The rules a table's data is held under: one file must have one set."""
    t = catalog.tables[name]
    return (t.limited_use, t.role, for_advertising(t.purposes), t.legal_basis, t.personal)


def shared_file_problems(
    catalog: Catalog, files: Mapping[str, Sequence[Path]]
) -> list[ConfigProblem]:
    """One problem per group of entries that read one file (or byte-for-byte copies of one)
    under different rules; `files`: each table's files. Empty: none."""
    owners: dict[Path, list[str]] = {}
    for name, paths in files.items():
        for file in paths:
            owners.setdefault(file.resolve(), []).append(name)
    by_size: dict[int, list[Path]] = {}
    for file in owners:
        by_size.setdefault(file.stat().st_size, []).append(file)
    same: list[list[Path]] = []
    for group in by_size.values():
        if len(group) > 1:
            digests: dict[str, list[Path]] = {}
            for file in group:
                digests.setdefault(sha256_file(file), []).append(file)
            same += [g for g in digests.values() if len(g) > 1]
    problems = []
    seen: set[tuple[str, ...]] = set()
    for group in [[f] for f in owners] + same:
        names = tuple(sorted({n for f in group for n in owners[f]}))
        if len(names) < 2 or names in seen:
            continue
        seen.add(names)
        if len({table_rules(catalog, n) for n in names}) > 1:
            problems.append(
                ConfigProblem(
                    f"tables.{names[0]}",
                    f"the tables {', '.join(names)} read the same file"
                    f"{'s' if len(group) > 1 else ''} under different rules (Limited Use,"
                    " role, purposes or legal basis): the data has one origin, so one set of"
                    " rules",
                    "describe the file once, or give every entry the strictest rules (e.g."
                    " limited_use: true)",
                )
            )
    return problems


__all__ = ["ADVERTISING", "for_advertising", "shared_file_problems", "table_rules"]
