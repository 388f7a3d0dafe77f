"""The search for a person's rows never imports pandas: pyarrow imports it on the first
`pa.array`, and while the analyzer's thread was importing it beside the scans, the scans
waited on the import lock (0.44 s of a 10,000-user bundle)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = """
import sys
from dsar import load_catalog, open_engine
from dsar.subjects.collect import collect
from dsar.subjects.identity import SubjectRequest, parse_key

asked = []


class Watch:  # notes every attempt to import pandas, imports nothing itself
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pandas":
            asked.append(name)
        return None


catalog = load_catalog(sys.argv[1])
with open_engine(catalog) as engine:
    assert "pandas" not in sys.modules, "pandas already imported before the search"
    sys.meta_path.insert(0, Watch())
    request = SubjectRequest("AR-1", (parse_key("email=ann@example.com"),))
    [subject] = collect(engine, catalog, [request])
print(subject.rows, len(subject.tables), sorted(set(asked)))
"""


def test_the_search_does_not_import_pandas(trap_catalog: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(trap_catalog)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows, tables, asked = done.stdout.split(maxsplit=2)
    assert int(rows) > 1 and int(tables) > 1  # rows from several tables: `take` ran
    assert asked.strip() == "[]"
