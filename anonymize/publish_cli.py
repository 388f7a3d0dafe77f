"""`anonymize publish`: the command line of `anonymize.publish.run_publish` (registered on the
`anonymize` app by `anonymize.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dsar.cli.common import EngineOpt, SparkMasterOpt, engine_options


def publish(
    input_file: Annotated[
        Path, typer.Option("--input", help="The texts: a CSV, JSON Lines or Parquet file.")
    ],
    column: Annotated[str, typer.Option(help="The column of texts to publish.")],
    out: Annotated[Path, typer.Option(help="Folder the publication's folder is made in.")],
    thread: Annotated[
        str | None,
        typer.Option(
            help="A column grouping texts into threads (a ticket, a requester): published as"
            " keyed tokens; a given name alone is its thread's person's."
        ),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="The export's catalog: its identifiers found in the texts are replaced, and no"
            " surrogate is the name of one of its people."
        ),
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option(help="Another column to publish as it is (a status, a channel)."),
    ] = None,
    keep_coarse: Annotated[
        list[str] | None,
        typer.Option(
            "--keep-coarse",
            help="COLUMN=UNIT: a column of dates or times to publish cut to its day, week, month"
            " or year (a time to the second, kept as it is, is refused: it links rows back).",
        ),
    ] = None,
    earlier: Annotated[
        list[Path] | None,
        typer.Option(
            help="The folder of an earlier publication of overlapping texts: a text it holds"
            " too is refused, unless both are of one --series (published twice under two keys,"
            " the two pair up row by row)."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The publication's name (default: the file's).")
    ] = None,
    series: Annotated[
        str | None,
        typer.Option(
            help="A series whose publications share surrogates and thread tokens (the same name,"
            " the same surrogates). Default: each publication its own, so a name learnt in one"
            " decodes no other."
        ),
    ] = None,
    person: Annotated[
        str | None,
        typer.Option(
            help="A column naming who wrote each text (a requester id; not published unless"
            " kept): rare terms are counted per person (default: per --thread, else per text)."
        ),
    ] = None,
    rare_below: Annotated[
        int,
        typer.Option(help="List capitalised terms used by fewer people than this for a reviewer."),
    ] = 3,
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="File holding the secret key (default: $WORKBENCH_KEY)."),
    ] = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Publish support requests with personal data replaced by keyed surrogates.

    Publish support requests: names, contacts, card and bank numbers, IP addresses, URL tokens
    and the company's identifiers replaced by keyed, consistent surrogates; unsure texts held
    back; a review file (kinds and positions) and a manifest; checked before the folder takes
    its name. Needs the key (unkeyed surrogates could be reversed by trying names)."""
    from contextlib import ExitStack

    from tqdm.auto import tqdm

    from anonymize.publish import run_publish
    from dsar.keys import load_keys

    keys = load_keys(key_file)
    coarse = {}
    for given in keep_coarse or ():
        col, sep, unit = given.partition("=")
        if not sep or not col or not unit:
            from dsar.errors import UsageError

            raise UsageError(
                "--keep-coarse", f"{given!r} is no COLUMN=UNIT", "write it as created_at=day"
            )
        coarse[col] = unit
    with ExitStack() as stack:
        engine = None
        if catalog is not None:
            from dsar.catalog import load_catalog
            from dsar.engine import open_engine

            options = engine_options(engine_kind, spark_master)
            engine = stack.enter_context(open_engine(load_catalog(catalog), engine_kind, **options))
        bar = stack.enter_context(tqdm(unit=" texts", desc="publish", disable=None))

        def advance(texts: int) -> None:
            bar.update(texts)

        result = run_publish(
            input_file,
            column,
            out,
            keys=keys,
            thread=thread,
            engine=engine,
            keep=keep or (),
            coarse=coarse,
            earlier=earlier or (),
            name=name,
            series=series,
            person=person,
            rare_below=rare_below,
            progress=advance,
        )
    m = result.manifest
    replaced = ", ".join(f"{k} {v}" for k, v in m.replaced.items()) or "nothing"
    typer.echo(f"wrote {result.file} ({m.rows_out} of {m.rows_in} texts; {m.people} people)")
    typer.echo(f"replaced: {replaced}")
    if m.series is not None:
        typer.echo(
            f"surrogates shared by the series {m.series!r} (its other publications decode them)"
        )
    typer.echo(
        f"held back for a reviewer: {m.held_back} text(s); rare terms listed: {m.rare_terms}"
        f" (see {result.folder / m.review_file})"
    )
