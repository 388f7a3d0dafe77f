"""Check a de-identified extract or an aggregate run before it leaves, from its files alone.

Like the bundle check, it trusts nothing but the folder: the typed manifest, the checksums,
then the privacy claims recomputed from the data (k and l over every released column but
those the manifest classifies as sensitive, insensitive with a reason, or the person's
pseudonym, counted in people where the person's pseudonym is released; every published
count at least the minimum; no suppressed cell recomputable from the published totals), a
scan of every text cell with the text engine's detectors for what must not be there
(emails, phones, card and bank numbers, IP addresses, secrets), and of every CSV cell for a
formula a spreadsheet would run (the bundle's check). A keyed hash is checked as a hash (hex
of one length), never scanned: `be73645c...` read as a Belgian IBAN failed notebook 03's
own extract. An extract runs these checks itself before it takes its name.
Findings name files, columns and rows, never values.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from pydantic import ValidationError

from dsar.engine import scratch_connection
from dsar.engine.base import quote_identifier
from dsar.errors import UnreadableArtifactError
from dsar.io import sha256_file
from dsar.review.bundle import Finding, Verification, csv_formula_findings
from dsar.review.manifest import AggregateManifest, ExtractManifest
from dsar.text.detectors import SECRET_PATTERNS, cards, emails, ibans, ip_addresses, phones

if TYPE_CHECKING:
    import pandas as pd

TOTAL = "(total)"


def verify_derived(folder: str | Path) -> Verification:
    """Verify an extract or an aggregate folder (the kind is read from its manifest)."""
    root = Path(folder)
    path = root / "manifest.json"
    if not path.is_file():
        raise UnreadableArtifactError(
            root, "no manifest.json", "give the extract or aggregate folder the workbench wrote"
        )
    result = Verification(root)
    add = result.findings.append
    try:
        kind = json.loads(path.read_text(encoding="utf-8")).get("kind")
    except (json.JSONDecodeError, AttributeError):
        add(Finding("manifest", "manifest.json", "not a JSON object"))
        return result
    models: dict[str, type[ExtractManifest] | type[AggregateManifest]] = {
        "extract": ExtractManifest,
        "aggregate": AggregateManifest,
    }
    model = models.get(str(kind))
    if model is None:
        raise UnreadableArtifactError(
            root,
            f"a manifest of kind {kind!r} is not an extract or aggregate",
            "check a bundle with verify_bundle (dsar verify)",
        )
    try:
        manifest: ExtractManifest | AggregateManifest = model.model_validate_json(
            path.read_text(encoding="utf-8")
        )
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            add(Finding("manifest", f"manifest.json {where}", err["msg"]))
        return result
    result.note_accepted(manifest)
    listed = {o.path for o in manifest.outputs}
    for extra in sorted(p.name for p in root.iterdir() if p.is_file()):
        if extra != "manifest.json" and extra not in listed:
            add(Finding("checksum", extra, "file not listed in the manifest"))
    tables: dict[str, pa.Table] = {}
    for out in manifest.outputs:
        file = root / out.path
        if not file.is_file():
            add(Finding("checksum", out.path, "listed in the manifest but missing"))
            continue
        if file.stat().st_size != out.bytes or sha256_file(file) != out.sha256:
            add(Finding("checksum", out.path, "SHA-256 differs from the manifest"))
            continue
        table = _read(file)
        result.checked_files += 1
        result.checked_rows += table.num_rows
        if out.rows is not None and table.num_rows != out.rows:
            add(Finding("rows", out.path, "row count differs from the manifest"))
        tables[out.path] = table
        _scan(out.path, table, manifest, add)
        if file.suffix == ".csv":
            for finding in csv_formula_findings(file, out.path):
                add(finding)
    if isinstance(manifest, ExtractManifest):
        for name, table in tables.items():
            _check_extract(name, table, manifest, add)
    else:
        _check_aggregates(tables, manifest, add)
    return result


def _read(path: Path) -> pa.Table:
    if path.suffix == ".csv":
        return pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    if path.suffix == ".parquet":
        return pq.read_table(path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return pa.Table.from_pylist(rows)


def _scan(name: str, table: pa.Table, manifest: Any, add: Any) -> None:
    """Every text cell, through the detectors of what must never be in derived data; a
    keyed hash column is checked as a hash instead."""
    generalized_ips: set[str] = set()
    hashed: set[str] = set()
    if isinstance(manifest, ExtractManifest):
        generalized_ips = {c for c, op in manifest.columns.items() if op == "generalize"}
        hashed = {c for c, op in manifest.columns.items() if op == "hash"}
    for column in table.column_names:
        values = table.column(column)
        if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            continue
        if column in hashed:
            _check_hashes(name, column, values.to_pylist(), add)
            continue
        detectors = [emails, phones, cards, ibans]
        if column not in generalized_ips:
            detectors.append(ip_addresses)
        for row, value in enumerate(values.to_pylist()):
            if not value:
                continue
            what = next((d.__name__ for d in detectors if any(True for _ in d(value))), None)
            if what is None and any(p.search(value) for p in SECRET_PATTERNS.values()):
                what = "secrets"
            if what is not None:
                add(Finding("personal data", f"{name} {column} row {row + 1}", f"{what} in clear"))


HASH = re.compile(r"[0-9a-f]{8,64}")


def _check_hashes(name: str, column: str, values: list[Any], add: Any) -> None:
    """A keyed hash is lower-case hex, every value of one length (8 to 64)."""
    lengths = set()
    for row, value in enumerate(values):
        if value is None:
            continue
        if not HASH.fullmatch(value):
            add(Finding("personal data", f"{name} {column} row {row + 1}", "not a keyed hash"))
            return
        lengths.add(len(value))
    if len(lengths) > 1:
        add(Finding("personal data", f"{name} {column}", "hashes of different lengths"))


PSEUDONYM = "pseudonym of the person"
INSENSITIVE = "insensitive: "


def quasi_identifiers_of(columns: list[str], m: ExtractManifest) -> list[str]:
    """The reviewer's own quasi-identifiers: every column of the file but a suppressed one
    and those the manifest classifies as sensitive, insensitive with a reason, or the
    person's pseudonym (written by hash or pseudonym). A manifest without classification
    (older ones) leaves out only the columns it measured l over."""
    found = []
    for c in columns:
        role = m.classification.get(c, "")
        if m.columns.get(c) == "suppress":
            continue
        if role == "sensitive" or (role.startswith(INSENSITIVE) and role[len(INSENSITIVE) :]):
            continue
        if role == PSEUDONYM and m.columns.get(c) in ("hash", "pseudonym"):
            continue
        if not m.classification and c in m.risk.l_distinct:
            continue
        found.append(c)
    return found


def _check_extract(name: str, table: pa.Table, m: ExtractManifest, add: Any) -> None:
    kept = {c for c, op in m.columns.items() if op != "drop"}
    for column in table.column_names:
        if column not in kept:
            add(Finding("columns", f"{name} {column}", "a column the policy does not keep"))
    qis = quasi_identifiers_of(table.column_names, m)
    uncounted = [q for q in qis if q not in m.risk.quasi_identifiers]
    if uncounted:
        add(
            Finding(
                "risk",
                name,
                f"released column(s) not counted as quasi-identifiers: {', '.join(uncounted)}",
            )
        )
    missing = [q for q in m.risk.quasi_identifiers if q not in table.column_names]
    if missing:
        add(Finding("risk", name, f"quasi-identifier column(s) missing: {', '.join(missing)}"))
        return
    target = m.targets.get("k") or 1
    if not qis and target > 1:
        add(Finding("risk", name, f"a k target of {target:g} without quasi-identifiers"))
    if not table.num_rows:
        return
    # the person's pseudonym, where it is released, counts people; else each row counts
    who = m.person if m.person and m.classification.get(m.person) == PSEUDONYM else None
    who = who if who in table.column_names else None
    qis_sql = ", ".join(quote_identifier(q) for q in qis) if qis else None
    con = scratch_connection()
    try:
        con.register("t", table)
        for column, op in m.columns.items():
            if op == "suppress" and column in table.column_names:
                got = con.execute(f"SELECT count({quote_identifier(column)}) FROM t").fetchone()
                if got and got[0]:
                    add(Finding("columns", f"{name} {column}", "suppressed, but holds values"))
        group = f" GROUP BY {qis_sql}" if qis_sql else ""
        size = (
            f"count(DISTINCT {quote_identifier(who)})"
            f" + max(CASE WHEN {quote_identifier(who)} IS NULL THEN 1 ELSE 0 END)"
            if who
            else "count(*)"
        )
        got = con.execute(f"SELECT min(n) FROM (SELECT {size} AS n FROM t{group})")
        k = int((got.fetchone() or (0,))[0] or 0)
        if who is not None or not m.person:
            if k != m.risk.k:
                add(Finding("risk", name, f"k recomputed is {k}, the manifest says {m.risk.k}"))
        elif k < m.risk.k:  # rows: at least as many as people
            add(Finding("risk", name, f"k in rows is {k}, below the manifest's {m.risk.k}"))
        if k < target:
            add(Finding("risk", name, f"k is {k}, below the target {target:g}"))
        l_target = m.targets.get("l")
        for s in m.risk.l_distinct:
            if l_target and s in table.column_names:
                col = quote_identifier(s)
                got = con.execute(
                    f"SELECT min(d) FROM (SELECT count(DISTINCT {col}) + max(CASE WHEN {col}"
                    f" IS NULL THEN 1 ELSE 0 END) AS d FROM t{group})"
                )
                distinct = int((got.fetchone() or (0,))[0] or 0)
                if distinct < l_target:
                    add(Finding("risk", f"{name} {s}", f"l is {distinct}, below {l_target:g}"))
    finally:
        con.close()
    t_target = m.targets.get("t")
    frame = table.to_pandas() if t_target is not None and m.risk.t_closeness else None
    for s, claimed in m.risk.t_closeness.items():
        if frame is None or s not in table.column_names:
            continue
        t = t_closeness(frame, qis, s)
        if abs(t - claimed) > 1e-4:
            add(
                Finding(
                    "risk", f"{name} {s}", f"t recomputed is {t:.4f}, the manifest says {claimed}"
                )
            )
        if t_target is not None and t > t_target + 1e-9:
            add(Finding("risk", f"{name} {s}", f"t is {t:.4f}, above {t_target:g}"))


def t_closeness(frame: pd.DataFrame, qis: list[str], column: str) -> float:
    """The largest earth mover's distance between a class's values of `column` and the whole
    table's: half the L1 distance for text, the ordered distance for numbers (written again
    here, apart from the extract's SQL)."""
    import pandas as pd

    values = frame[column]
    whole = values.value_counts(normalize=True, dropna=False)
    numeric = pd.api.types.is_numeric_dtype(values)
    if numeric:
        whole = whole.sort_index(na_position="last")
    steps = max(len(whole) - 1, 1)
    classes = frame.groupby(qis, dropna=False)[column] if qis else [(None, values)]
    worst = 0.0
    for _, group in classes:
        share = group.value_counts(normalize=True, dropna=False).reindex(whole.index, fill_value=0)
        gap = share - whole
        distance = gap.cumsum().abs().sum() / steps if numeric else gap.abs().sum() / 2
        worst = max(worst, float(distance))
    return worst


def recoverable_cells(tables: dict[str, list[dict[str, Any]]], measure: str) -> list[str]:
    """What an attacker with every published table of a run can recompute: a suppressed cell
    that is a published total minus the other, published, cells of its line.

    Each table is rows of group columns (a margin holds `(total)`) and `measure` (None when
    suppressed). Returns a description of each recoverable cell (group values only).
    """
    published: dict[frozenset[tuple[str, str]], float] = {}
    hidden: set[frozenset[tuple[str, str]]] = set()
    for rows in tables.values():
        for row in rows:
            key = frozenset(
                (c, str(v))
                for c, v in row.items()
                if c not in (measure, "suppressed") and v != TOTAL
            )
            if row.get(measure) is None:
                hidden.add(key)
            else:
                published[key] = float(row[measure])
    everything = published.keys() | hidden
    dims_of = {k: frozenset(d for d, _ in k) for k in everything}
    found = []
    for cell in hidden - published.keys():
        for total_key in published:
            if not total_key < cell:
                continue
            free = dims_of[cell] - dims_of[total_key]
            line = [
                k for k in everything if total_key < k and dims_of[k] - dims_of[total_key] == free
            ]
            if all(k in published for k in line if k != cell):
                found.append(", ".join(f"{d}={v}" for d, v in sorted(cell)))
                break
    return sorted(found)


def _check_aggregates(tables: dict[str, pa.Table], m: AggregateManifest, add: Any) -> None:
    by_measure: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    for name, table in tables.items():
        stem = Path(name).stem
        groups = list(m.group_by.get(stem, ()))
        measures = m.measures.get(stem, {})
        if not groups or any(c not in table.column_names for c in [*groups, *measures]):
            add(
                Finding(
                    "columns", name, "its columns differ from the manifest's groups and measures"
                )
            )
            continue
        rows = table.to_pylist()
        for row_no, row in enumerate(rows):
            for c, op in measures.items():
                value = row[c]
                if op == "count" and value is not None and float(value) < m.min_count:
                    add(
                        Finding(
                            "small cell", f"{name} row {row_no + 1}", f"{c} below {m.min_count}"
                        )
                    )
        for c, op in measures.items():
            if op == "count":
                by_measure[c][name] = [{**{g: str(r[g]) for g in groups}, c: r[c]} for r in rows]
    for measure, published in by_measure.items():
        for cell in recoverable_cells(published, measure):
            add(Finding("recomputable", cell, f"a suppressed {measure} follows from the totals"))
