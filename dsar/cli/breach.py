"""`dsar breach`: scope a data breach from the export (who, what of theirs, by when)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from dsar.cli.common import (
    AcceptWarningsOpt,
    CatalogOpt,
    EngineOpt,
    KeyFileOpt,
    PhoneRegionOpt,
    SparkMasterOpt,
    engine_options,
)

breach_app = typer.Typer(
    help="Scope a personal-data breach: who, what of theirs, by when, and the notices.\n\n"
    "The people reached, categories, deadlines, severity, the authority's report and one"
    " letter per person.",
    no_args_is_help=True,
)


@breach_app.command("scope")
def breach_scope_command(
    catalog: CatalogOpt,
    table: Annotated[list[str], typer.Option("--table", help="A breached table (repeat).")],
    discovered: Annotated[
        str, typer.Option(help="When the company became aware, ISO time (UTC unless given).")
    ],
    out: Annotated[Path, typer.Option(help="A new folder for the breach's files.")],
    key_file: KeyFileOpt = None,
    columns: Annotated[
        str | None,
        typer.Option(
            help="The leaked columns, comma-separated: column or table.column (default: all)."
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Rows from this date or time (inclusive).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Rows up to this date (inclusive) or time.")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(help="A filter 'column op value' (=, !=, <, <=, >, >=, like); repeat."),
    ] = None,
    time_column: Annotated[
        list[str] | None,
        typer.Option(
            "--time-column",
            help="The column a table's window is read on, as table.column (repeat; default:"
            " the catalog's retention.after, else a creation or event time by its name).",
        ),
    ] = None,
    breach_id: Annotated[
        str | None, typer.Option("--id", help="The breach's reference (default BR-<discovered>).")
    ] = None,
    what: Annotated[
        str | None,
        typer.Option(
            help="What happened, in plain words (goes into the letters; default: said from"
            " --nature)."
        ),
    ] = None,
    nature: Annotated[
        list[str] | None,
        typer.Option(
            help="What the breach lost: confidentiality (data disclosed), integrity (altered),"
            " availability (lost or unreachable); repeat or comma-separate"
            " [default: confidentiality]."
        ),
    ] = None,
    measures: Annotated[
        str, typer.Option(help="What was done and is proposed, in plain words.")
    ] = "We closed the access, and we are reviewing how it happened to stop it happening again.",
    encrypted: Annotated[
        bool, typer.Option("--encrypted", help="The leaked copy was encrypted (key safe).")
    ] = False,
    known_recipients: Annotated[
        bool, typer.Option("--known-recipients", help="Exposed only to known, trusted people.")
    ] = False,
    integrity: Annotated[bool, typer.Option("--integrity", help="Data was altered.")] = False,
    availability: Annotated[
        bool, typer.Option("--availability", help="Data was lost or cannot be reached.")
    ] = False,
    malicious: Annotated[bool, typer.Option("--malicious", help="An attack or a theft.")] = False,
    special: Annotated[
        bool,
        typer.Option("--special-categories", help="The data held special categories (Art. 9)."),
    ] = False,
    regime: Annotated[
        list[str] | None,
        typer.Option(help="Also subject to: pecr, nis2 or hipaa (repeat)."),
    ] = None,
    residence_unknown: Annotated[
        str,
        typer.Option(help="Where people live when the data has no country: EU/EEA, GB, US."),
    ] = "EU/EEA",
    established: Annotated[
        str,
        typer.Option(
            help="Where the company is established: EU/EEA or GB (GDPR then covers every"
            " affected person), none, or auto (read from the catalog's supervisory authority)."
        ),
    ] = "auto",
    register: Annotated[
        Path | None,
        typer.Option(
            "--register",
            envvar="WORKBENCH_REGISTER",
            help="The register: the breach and its deadlines go into it (shown by `dsar"
            " requests list`), a breach.scoped entry into its audit log.",
        ),
    ] = None,
    gmail_dots: Annotated[
        bool, typer.Option(help="Ignore dots in gmail.com addresses when matching (as access).")
    ] = False,
    phone_region: PhoneRegionOpt = None,
    plus_addressing: Annotated[
        bool, typer.Option(help="Ignore +tags in email addresses when matching (as access).")
    ] = False,
    max_identifiers: Annotated[
        int, typer.Option(help="Stop when a person has more identifiers of one kind.")
    ] = 25,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
) -> None:
    """Scope a breach: the rows in scope, the people access reaches, the report, the letters.

    DIR gets scope.json (counts, categories, deadlines, severity: no personal value),
    affected.parquet (owner-only: references and contact of each person),
    regulator-report.md (GDPR Art. 33(3)) and letters/ (Art. 34(2), one per person).
    """
    from dsar.breach import Circumstances, Incident, ScopeSpec, Window, breach_scope, parse_where
    from dsar.breach.deadlines import OPTIONAL_REGIMES
    from dsar.breach.filters import place_in_time
    from dsar.breach.report import default_what, establishment_warning
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.errors import UsageError
    from dsar.keys import load_keys
    from dsar.subjects.identity import MatchRules

    try:
        found = datetime.fromisoformat(discovered)
        if len(discovered.strip()) == 10:  # a date alone: midnight UTC, said
            typer.echo(
                "NOTICE: --discovered is a date without a time: taken as 00:00 UTC; give the"
                " time the company became aware (e.g. 2026-11-27T18:30Z) for exact deadlines"
            )
    except ValueError:
        raise UsageError(
            "--discovered", "--discovered is not an ISO time", "write e.g. 2026-11-27T18:30Z"
        ) from None
    if established not in ("auto", "EU/EEA", "GB", "none"):
        raise UsageError("--established", "unknown establishment", "use EU/EEA, GB, none or auto")
    regimes = tuple(regime or ())
    if unknown := sorted(set(regimes) - OPTIONAL_REGIMES):
        raise UsageError(
            "--regime", f"unknown regime(s) {', '.join(unknown)}", "use pecr, nis2 or hipaa"
        )
    spec = ScopeSpec(
        tables=tuple(table),
        columns=tuple(c.strip() for c in columns.split(",") if c.strip()) if columns else (),
        window=Window.parse(start, end),
        where=tuple(parse_where(w) for w in where or ()),
        time_columns=tuple(time_column or ()),
    )
    natures = tuple(n.strip() for given in nature or ["confidentiality"] for n in given.split(","))
    natures += ("integrity",) * integrity + ("availability",) * availability  # as the flags say
    incident = Incident(
        breach_id=breach_id or f"BR-{found.strftime('%Y%m%d-%H%M')}",
        discovered=found,
        what_happened=what or default_what(natures),
        nature=natures,
        measures=measures,
        circumstances=Circumstances(
            encrypted=encrypted,
            known_recipients=known_recipients,
            integrity=integrity,
            availability=availability,
            malicious=malicious,
        ),
        special=special,
        regimes=regimes,
        residence_unknown=residence_unknown,
        established=established,
    )
    keys = load_keys(key_file)
    cat, spec = place_in_time(load_catalog(catalog), spec)
    with open_engine(cat, engine_kind, **engine_options(engine_kind, spark_master)) as engine:
        result = breach_scope(
            engine,
            spec,
            incident,
            out,
            keys=keys,
            register=register,
            rules=MatchRules(
                gmail_dots=gmail_dots,
                plus_addressing=plus_addressing,
                max_identifiers=max_identifiers,
                phone_region=phone_region,
            ),
            accept_catalog_warnings=accept_catalog_warnings,
        )
    m = result.manifest
    c = m.counts
    typer.echo(
        f"{m.breach_id}: {c.people} people ({c.account_holders} account holders,"
        f" {c.without_account} without an account), {c.rows_total} rows in"
        f" {len(c.rows)} table(s); {sum(c.not_linked.values())} rows linked to no one;"
        f" {c.others_named_in_text} others named in free text"
    )
    typer.echo(f"categories: {', '.join(m.categories)}")
    typer.echo(f"countries: {', '.join(f'{k} {v}' for k, v in m.countries.items()) or '-'}")
    severity = m.severity
    typer.echo(
        f"severity (ENISA): {severity['score']} {severity['band']};"
        f" {severity['recommendation']} (a person confirms)"
    )
    for deadline in m.deadlines:
        if isinstance(deadline, dict) and deadline.get("due"):
            typer.echo(
                f"  due {deadline['due']}: {deadline['notify']} ({deadline['where']},"
                f" {deadline['applies']})"
            )
    typer.echo(
        f"wrote {out}: scope.json, affected.parquet (owner-only), regulator-report.md,"
        f" {result.letters} letter(s)"
    )
    for note in result.notes:
        typer.echo(note)
    no_establishment = establishment_warning(m.residence, cat.controller.supervisory_authority)
    if no_establishment:
        typer.echo(no_establishment)
    entry = result.registered
    if register is not None and entry is not None:
        due = entry.next_due()
        typer.echo(
            f"registered {entry.id} in {register.name}"
            + (f": next notice due {due.due:%Y-%m-%d %H:%M} UTC ({due.notify})" if due else "")
        )


@breach_app.command("confirm")
def breach_confirm_command(
    folder: Annotated[Path, typer.Argument(help="The breach's folder (dsar breach scope --out).")],
    notify: Annotated[
        bool,
        typer.Option(
            "--notify/--no-notify", help="Tell the people (Art. 34), or not.", show_default=False
        ),
    ],
    by: Annotated[str, typer.Option(help="Who decides (a name or role).")],
    reason: Annotated[
        str, typer.Option(help="Why, in words, with no one's address or number (kept).")
    ],
    catalog: Annotated[
        Path, typer.Option(help="The catalog scope read: its export must be unchanged.")
    ],
    register: Annotated[
        Path,
        typer.Option(
            "--register",
            envvar="WORKBENCH_REGISTER",
            help="The register: the decision goes into its audit log (once per breach).",
        ),
    ],
    key_file: KeyFileOpt = None,
) -> None:
    """Record a person's decision on the recommendation to tell the people (Art. 34).

    Checked first: the register holds the breach, registered from this very scope.json (not
    a folder scoped again under its id, nor one scoped without --register); scope.json's keyed
    MAC, every file of the folder, the export (unchanged since scope) and the audit log (no
    decision for this breach yet). The decision, who took
    it, when and why go into the audit log (breach.confirmed) and scope.json.
    """
    from dsar.breach.run import confirm_registered
    from dsar.catalog import load_catalog
    from dsar.keys import load_keys

    keys = load_keys(key_file)
    manifest = confirm_registered(
        folder,
        notify_people=notify,
        by=by,
        reason=reason,
        keys=keys,
        catalog=load_catalog(catalog),
        register=register,
    )
    decision = manifest.decision
    assert decision is not None  # confirm_breach records it
    told = "the people are told" if decision.notify_people else "the people are not told"
    follows = "as recommended" if decision.follows_recommendation else "AGAINST the recommendation"
    typer.echo(
        f"{manifest.breach_id}: {told}, {follows}; recorded in the audit log and"
        f" {folder / 'scope.json'}"
    )


@breach_app.command("notified")
def breach_notified_command(
    breach_id: Annotated[str, typer.Argument(help="The breach's id (as scope registered it).")],
    rule: Annotated[
        str,
        typer.Option(
            help="The deadline whose notice was given (its rule, as requests list shows)."
        ),
    ],
    register: Annotated[
        Path,
        typer.Option(
            "--register",
            envvar="WORKBENCH_REGISTER",
            help="The register that holds the breach (dsar breach scope --register).",
        ),
    ],
    at: Annotated[
        datetime | None,
        typer.Option(help="When the notice was given (default: now; without a zone, UTC)."),
    ] = None,
    key_file: KeyFileOpt = None,
) -> None:
    """Record that a breach's notice was given (the authority or the people told).

    Its deadline is no longer pending or OVERDUE in `dsar requests list`; the audit log gets a
    breach.notified entry."""
    from datetime import UTC

    from dsar.keys import load_keys
    from dsar.records.breaches import Breaches

    when = at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
    with Breaches(register, load_keys(key_file)) as book:
        record = book.notified(breach_id, rule, when)
    due = record.next_due()
    typer.echo(
        f"{breach_id}: notice under {rule} recorded in {register.name}"
        + (f"; next notice due {due.due:%Y-%m-%d %H:%M} UTC ({due.notify})" if due else "")
    )
