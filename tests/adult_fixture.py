"""ARX's Adult benchmark (`benchmarks/data/adult`, see its README): the table, ARX's
hierarchies as policy levels, and the optimal nodes ARX 3.9.2 finds with its precision
metric (`Metric.createPrecisionMetric()`) on the same data, hierarchies and targets."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

ADULT = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "adult"
# ARX's order of the quasi-identifiers (the file's), in which its nodes are written
QUASI_IDENTIFIERS = (
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "salary-class",
)
SENSITIVE = "occupation"  # ARX's benchmark's sensitive attribute (distinct l-diversity)
ROWS = 30_162
LATTICE = 2 * 5 * 2 * 3 * 4 * 3 * 3 * 2  # 4,320 nodes

# (k, l, max_suppression) -> (ARX's optimal node, the rows it suppresses), read from ARX's
# ARXResult.getGlobalOptimum() (the precision metric; ties: ARX picked the one of least
# discernibility); a brute force over the 4,320 nodes finds the same
ARX_OPTIMUM: dict[tuple[int, int | None, float], tuple[tuple[int, ...], int]] = {
    (5, None, 0.0): ((0, 4, 1, 2, 3, 2, 0, 0), 0),
    (10, None, 0.0): ((0, 4, 1, 1, 3, 2, 2, 0), 0),
    (5, 2, 0.0): ((0, 4, 1, 2, 3, 2, 0, 0), 0),
    (5, None, 0.05): ((0, 4, 0, 0, 2, 1, 0, 0), 1192),
    (10, None, 0.05): ((0, 4, 0, 0, 3, 1, 0, 0), 1237),
    (5, 2, 0.05): ((0, 4, 0, 0, 2, 1, 0, 0), 1204),
}

CATALOG = """\
version: 1
controller: {name: Census Bureau, contact: dpo@census.example, supervisory_authority: DPC}
subject_requests: false           # only ever de-identified: no column identifies anyone
tables:
  adult:
    path: adult.parquet
    format: parquet
    description: The 1994 census extract (UCI Adult), as ARX ships it.
    category: account
    origin: provided
    purposes: [research]
    legal_basis: legitimate_interests
    source: the person
    retention: {criteria: for the study}
    erasure: {action: delete}
    columns:
COLUMNS
"""


def hierarchy(column: str) -> list[list[str]]:
    """ARX's hierarchy of a column: one row per original value, then its level 1, 2, ..."""
    with (ADULT / f"adult_hierarchy_{column}.csv").open(newline="") as f:
        return [row for row in csv.reader(f, delimiter=";") if row]


def levels(column: str) -> list[Any]:
    """ARX's hierarchy as a policy's `levels` (its level 0, the original, is implicit)."""
    rows = hierarchy(column)
    out: list[Any] = []
    for j in range(1, len(rows[0])):
        if all(row[j] == "*" for row in rows):
            out.append("*")
        else:
            out.append({"hierarchy": {row[0]: row[j] for row in rows}})
    return out


def frame() -> pd.DataFrame:
    """The 30,162 rows, every column as text."""
    return pd.read_csv(ADULT / "adult.csv.gz", sep=";", dtype=str, keep_default_na=False)


def policy(k: int, l_: int | None = None, max_suppression: float = 0.0) -> dict[str, Any]:
    """A policy searching ARX's hierarchies for k (and distinct l over occupation)."""
    columns: dict[str, Any] = {
        q: {"op": "generalize", "levels": levels(q)} for q in QUASI_IDENTIFIERS
    }
    columns[SENSITIVE] = "keep"
    privacy: dict[str, Any] = {"k": k, "max_suppression": max_suppression}
    if l_:
        privacy["l"] = l_
    return {
        "version": 1,
        "name": "adult",
        "table": "adult",
        "columns": columns,
        "quasi_identifiers": list(QUASI_IDENTIFIERS),
        "sensitive": [SENSITIVE],  # released: a quasi-identifier unless classified
        "privacy": privacy,
        "output": {"path": "adult.parquet"},
    }


def write_export(root: Path) -> Path:
    """The Adult table as an export with its catalog, in `root`; returns the catalog's path."""
    root.mkdir(parents=True, exist_ok=True)
    table = frame()
    table.to_parquet(root / "adult.parquet", index=False)
    described = [f"      {c}: {{type: string}}" for c in table.columns]
    (root / "catalog.yml").write_text(CATALOG.replace("COLUMNS\n", "\n".join(described) + "\n"))
    return root / "catalog.yml"
