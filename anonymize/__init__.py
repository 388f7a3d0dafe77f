"""Privacy Workbench, derived-data side: de-identified extracts and aggregate tables.

- `policy`: the extract policy (strict YAML, checked against the catalog); `draft`: a
  starting policy drafted from the catalog.
- `operators`: column operators registered by name (drop, keep, hash, pseudonym, generalize,
  date_shift, mask, redact, top_bottom, suppress), as streamed SQL, Python only where SQL
  cannot.
- `classify`: what each released column is to an attacker: a quasi-identifier unless the
  policy says sensitive, insensitive (with a reason) or it is the person's pseudonym.
- `leaks`: operators that would keep an identity whole (a hierarchy keeping a name, a date
  of birth finer than the year); `sampling`: what only the data shows (a mask or prefix
  keeping too much, a column holding identity values or unique per row, several rows per
  person without `person:`).
- `extract`: `run_extract` streams a table through its policy, measures and enforces k, l and
  t in people within a suppression budget (`enforce`), checks itself as a reviewer would, and
  writes the extract with its manifest, its risk in words (`uniqueness`) included.
- `risk`: `measure` k, l (distinct, entropy), t, class sizes and re-identification risks of
  any table.
- `search` (over `lattice`, with the privacy models of `criteria`): for columns given
  generalisation `levels`, the combination of least loss (ARX's precision) meeting k and l
  within the suppression budget, ARX Flash-style; the extract applies it.
- `aggregate`: `run_aggregates` publishes group-by tables with small-cell and complementary
  suppression.

- `audience`: `build_audience` decides who may be in an audience, from a catalog table or a
  list (`AudienceList`), through one gate (Limited Use, consent stated, the suppression
  ledger matched per person) and `build_audience_file` normalises and hashes a vetted list
  per ad platform (`PLATFORMS`: each one's published rules); `SentRecord` records what was
  sent, for withdrawals.

Every job takes its spec (a YAML path, or a value made in Python) and an `Engine` its caller
opened with `dsar.open_engine(catalog, ...)`: the catalog is the engine's, and the spec goes
through one prologue (`spec.checked_spec`) that reports every problem at once.

It builds on `dsar`
(catalog, engine, keys, ledger, text engine, manifest); `dsar` never imports it. Names load on
first use, so `import anonymize` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsar._lazy import facade

if TYPE_CHECKING:
    from anonymize.aggregate import (
        run_aggregates as run_aggregates,
    )
    from anonymize.aggregate_spec import (
        AggregateRun as AggregateRun,
        load_aggregate_spec as load_aggregate_spec,
    )
    from anonymize.audience import (
        PLATFORMS as PLATFORMS,
        AudienceList as AudienceList,
        SentRecord as SentRecord,
        build_audience as build_audience,
        build_audience_file as build_audience_file,
        load_audience_spec as load_audience_spec,
        person_ref as person_ref,
    )
    from anonymize.draft import (
        draft_policy as draft_policy,
    )
    from anonymize.extract import (
        ExtractResult as ExtractResult,
        run_extract as run_extract,
    )
    from anonymize.operators import (
        python_hash as python_hash,
    )
    from anonymize.policy import (
        Policy as Policy,
        load_policy as load_policy,
    )
    from anonymize.risk import (
        RiskReport as RiskReport,
        measure as measure,
    )


# the names above, each imported from its module on first use (the one list)
# listed for readers and the API docs (which cannot run `facade`); facade checks that the
# list and the imports above agree
__all__ = [
    "PLATFORMS",
    "AggregateRun",
    "AudienceList",
    "ExtractResult",
    "Policy",
    "RiskReport",
    "SentRecord",
    "build_audience",
    "build_audience_file",
    "draft_policy",
    "load_aggregate_spec",
    "load_audience_spec",
    "load_policy",
    "measure",
    "person_ref",
    "python_hash",
    "run_aggregates",
    "run_extract",
]
_EXPORTS, __all__, __getattr__, __dir__ = facade(__name__, listed=__all__)
