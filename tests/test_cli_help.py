"""Every command of `dsar` and `anonymize` describes itself in one line, and every group's
--help lists all its commands. The commands are found by walking the click groups, never
from a written list, so a command added without help fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from anonymize.cli import app as anonymize_app
from dsar.cli import app as dsar_app

if TYPE_CHECKING:
    from typer._click.core import Command  # typer keeps its own copy of click

APPS = {"dsar": dsar_app, "anonymize": anonymize_app}
MAX_LINE = 100  # the first paragraph of a command's help: what --help lists beside its name


def _walk(group: TyperGroup, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Command]]:
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, TyperGroup):
            yield from _walk(command, (*path, name))


def _commands() -> list[tuple[str, tuple[str, ...], Command]]:
    found = []
    for cli, app in APPS.items():
        root = typer.main.get_command(app)
        assert isinstance(root, TyperGroup)
        found += [(cli, path, command) for path, command in _walk(root, ())]
    return found


COMMANDS = _commands()


def _first_paragraph(command: Command) -> str:
    return (command.help or "").strip().split("\n\n")[0].strip()


def test_the_walk_finds_the_commands() -> None:
    # a floor, not the list: both CLIs have groups and commands inside them
    assert {cli for cli, _, _ in COMMANDS} == set(APPS)
    assert any(len(path) == 2 for _, path, _ in COMMANDS)


@pytest.mark.parametrize(
    ("cli", "path", "command"), COMMANDS, ids=[" ".join((c, *p)) for c, p, _ in COMMANDS]
)
def test_every_command_has_a_one_line_help(
    cli: str, path: tuple[str, ...], command: Command
) -> None:
    line = _first_paragraph(command)
    assert line, f"`{cli} {' '.join(path)}` has no help"
    assert "\n" not in line and len(line) <= MAX_LINE, (
        f"`{cli} {' '.join(path)}`: the first paragraph of its help is what --help lists;"
        f" keep it to one line of at most {MAX_LINE} characters (it has {len(line)}), the"
        " details after a blank line"
    )
    assert line.endswith("."), f"`{cli} {' '.join(path)}`: end the one-line help with a period"


@pytest.mark.parametrize("cli", sorted(APPS))
def test_every_group_help_lists_all_its_commands(cli: str) -> None:
    root = typer.main.get_command(APPS[cli])
    assert isinstance(root, TyperGroup)
    groups: list[tuple[tuple[str, ...], TyperGroup]] = [((), root)]
    groups += [(p, c) for p, c in _walk(root, ()) if isinstance(c, TyperGroup)]
    runner = CliRunner()
    for path, group in groups:
        ran = runner.invoke(APPS[cli], [*path, "--help"], env={"COLUMNS": "200"})
        assert ran.exit_code == 0, ran.output
        for name, command in group.commands.items():
            assert re.search(rf"^\W*{re.escape(name)}\s", ran.output, re.M), (
                f"`{cli} {' '.join(path)} --help` does not list {name}"
            )
            # the one-line help shows beside its name, whole
            assert _first_paragraph(command) in " ".join(ran.output.split()), (cli, path, name)


@pytest.mark.parametrize(
    ("cli", "path"),
    [(c, p) for c, p, cmd in COMMANDS if not isinstance(cmd, TyperGroup)],
    ids=[" ".join((c, *p)) for c, p, cmd in COMMANDS if not isinstance(cmd, TyperGroup)],
)
def test_every_command_help_runs(cli: str, path: tuple[str, ...]) -> None:
    ran = CliRunner().invoke(APPS[cli], [*path, "--help"], env={"COLUMNS": "200"})
    assert ran.exit_code == 0, ran.output
    assert "Usage:" in ran.output


def test_verify_names_its_argument_for_what_it_takes() -> None:
    ran = CliRunner().invoke(dsar_app, ["verify", "--help"], env={"COLUMNS": "200"})
    assert "{ARTIFACT}" in ran.output and "{bundle}" not in ran.output  # typer: {required}
    missing = CliRunner().invoke(dsar_app, ["verify"])
    assert missing.exit_code == 2 and "ARTIFACT" in missing.output


@pytest.mark.parametrize(
    ("cli", "path", "command"),
    [(c, p, cmd) for c, p, cmd in COMMANDS if not isinstance(cmd, TyperGroup)],
    ids=[" ".join((c, *p)) for c, p, cmd in COMMANDS if not isinstance(cmd, TyperGroup)],
)
def test_every_option_and_argument_says_what_it_takes(
    cli: str, path: tuple[str, ...], command: Command
) -> None:
    for param in command.params:
        text = (getattr(param, "help", None) or "").strip()
        where = f"`{cli} {' '.join(path)}` {'/'.join(param.opts)}"
        assert text, f"{where} has no help"
        # a help that is only a metavar ('TYPE=VALUE.') says nothing of what it is for
        assert not re.fullmatch(r"[A-Z_=.\- ]+", text), f"{where}: {text!r}"
