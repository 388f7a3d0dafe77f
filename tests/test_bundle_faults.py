"""An access bundle under faults: rejected, killed, encrypted, empty; what stays in `--out`."""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import dsar.access.bundle as bundle_writer
import dsar.review.bundle as review
from dsar import load_catalog
from dsar.access.answer import answer_access_requests
from dsar.access.bundle import AccessBundle
from dsar.cli import app
from dsar.review.bundle import verify_bundle
from dsar.subjects.identity import SubjectRequest, parse_key
from dsar.text.redact import Redactor

runner = CliRunner()
LEAK = "[other people] data/tickets.parquet body row 1: an email address that is not the person's"


def _answer(catalog: Path, out: Path, label: str = "AR-F", **kwargs: Any) -> AccessBundle:
    request = SubjectRequest(label, (parse_key("email=ann@example.com"),))
    [bundle] = answer_access_requests(load_catalog(catalog), [request], out, **kwargs)
    return bundle


def _listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def leaky(monkeypatch: pytest.MonkeyPatch) -> None:
    """A redaction bug: it leaves another person's email in a ticket's free text."""
    apply = Redactor.apply

    def leave_an_email(self: Redactor, *args: Any) -> Any:
        tables, record = apply(self, *args)
        tickets = tables["tickets"]
        body = tickets.schema.get_field_index("body")
        tables["tickets"] = tickets.set_column(body, "body", pa.array(["ask bob@example.com"]))
        return tables, record

    monkeypatch.setattr(Redactor, "apply", leave_an_email)


@pytest.mark.usefixtures("leaky")
@pytest.mark.parametrize("passphrase", [None, "correct horse"])
def test_a_bundle_that_fails_its_own_check_is_set_aside_not_zipped(
    trap_catalog: Path, tmp_path: Path, passphrase: str | None
) -> None:
    out = tmp_path / "out"
    bundle = _answer(trap_catalog, out, passphrase=passphrase)
    assert bundle.rejected and [str(f) for f in bundle.findings] == [LEAK]
    assert (bundle.path, bundle.zip_path) == (out / "AR-F.REJECTED", None)
    assert os.listdir(out) == ["AR-F.REJECTED"]  # no AR-F, no zip, no partial
    assert verify_bundle(bundle.path).findings == list(bundle.findings)
    again = _answer(trap_catalog, out)  # the same request again: a new name, nothing replaced
    assert again.path == out / "AR-F.REJECTED-2"
    assert sorted(os.listdir(out)) == ["AR-F.REJECTED", "AR-F.REJECTED-2"]


@pytest.mark.usefixtures("leaky")
def test_the_command_names_the_rejected_folder_and_exits_1(
    trap_catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["access", "--catalog", str(trap_catalog), "--out", str(out), "--label", "AR-R"]
    result = runner.invoke(app, [*args, "--email", "ann@example.com"])
    assert result.exit_code == 1, result.output
    assert result.stdout == f"{out / 'AR-R.REJECTED'}  (9 rows, REJECTED: 1 finding(s))\n"
    assert result.stderr.splitlines() == [
        f"  {LEAK}",
        f"error: request AR-R: the bundle failed its own check and was set aside as"
        f" {out / 'AR-R.REJECTED'}, not zipped; do not send it: fix the cause, delete it, and"
        " answer the request again",
    ]
    assert os.listdir(out) == ["AR-R.REJECTED"]
    assert "bob@example.com" not in result.output


def _stop(real: Callable[..., Any], when: Callable[[int, tuple[Any, ...]], bool]) -> Any:
    """`real`, except that the call for which `when(call number, args)` holds is stopped."""
    calls = []

    def stop(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if when(len(calls), args):
            raise KeyboardInterrupt  # as a Ctrl-C or a kill would: no `except Exception` helps
        return real(*args, **kwargs)

    return stop


def _nth(n: int) -> Callable[[int, tuple[Any, ...]], bool]:
    return lambda call, _args: call == n


def _renaming_to(suffix: str) -> Callable[[int, tuple[Any, ...]], bool]:
    return lambda _call, args: Path(args[1]).name == f"AR-F{suffix}"


# Where a run of `dsar access` is stopped: what is patched, and which call of it stops.
KILL_POINTS: list[tuple[str, Any, str, Callable[[int, tuple[Any, ...]], bool]]] = [
    ("second Parquet file", pq, "write_table", _nth(2)),
    ("the HTML report", bundle_writer, "to_html", _nth(1)),
    ("the manifest", bundle_writer, "write_manifest", _nth(1)),
    ("checking the folder", review, "_verify_folder", _nth(1)),
    ("writing the zip", zipfile.ZipFile, "write", _nth(5)),
    ("reading the zip back", bundle_writer, "_zip_differences", _nth(1)),
    ("naming the zip", Path, "replace", _renaming_to(".zip")),
]


@pytest.mark.parametrize("passphrase", [None, "pw"])
@pytest.mark.parametrize(
    ("owner", "name", "when"), [k[1:] for k in KILL_POINTS], ids=[k[0] for k in KILL_POINTS]
)
def test_a_run_stopped_anywhere_leaves_nothing_behind(
    trap_catalog: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    when: Callable[[int, tuple[Any, ...]], bool],
    passphrase: str | None,
) -> None:
    out = tmp_path / "out"
    (out / "AR-OLD" / "data").mkdir(parents=True)  # what was there before stays as it was
    (out / "AR-OLD" / "data" / "accounts.json").write_text("[]")
    (out / "AR-OLD.zip").write_bytes(b"PK")
    (out / "notes.txt").write_text("mine")
    before = _listing(out)
    if owner is zipfile.ZipFile and passphrase:
        import pyzipper

        owner = pyzipper.AESZipFile
    monkeypatch.setattr(owner, name, _stop(getattr(owner, name), when))
    with pytest.raises(KeyboardInterrupt):
        _answer(trap_catalog, out, passphrase=passphrase)
    assert _listing(out) == before


def test_stopped_between_the_zip_and_the_folder_the_zip_is_whole(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    monkeypatch.setattr(Path, "replace", _stop(Path.replace, _renaming_to("")))
    with pytest.raises(KeyboardInterrupt):
        _answer(trap_catalog, out)
    assert os.listdir(out) == ["AR-F.zip"]  # the folder went with the rest; a SIGKILL
    assert verify_bundle(out / "AR-F.zip").ok  # would leave it for the next run to remove


def test_leftovers_of_a_killed_run_are_removed_by_the_next(
    trap_catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ".AR-1.partial-0123abcd" / "data").mkdir(parents=True)
    (out / ".AR-1.partial-0123abcd" / "data" / "accounts.json").write_text("[]")
    (out / ".AR-1.partial-0123abcd" / "AR-1.zip").write_bytes(b"PK")  # its zip goes with it
    (out / ".AR-F.partial-4567cdef").mkdir()  # the same label's, from a killed run
    (out / ".AR-1.zip.89abcdef.tmp").write_bytes(b"PK")  # an older version's temporary zip
    kept = [".AR-1.partial-xyz", "AR-2.partial-01234567", ".AR-3.zip.0123.tmp", ".AR-4.zip.tmp"]
    for name in kept:
        (out / name).mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / ".AR-5.partial-01234567").symlink_to(tmp_path / "elsewhere")  # never followed
    live = out / ".AR-6.partial-fedcba98"  # another run's, still writing: it holds its lock
    live.mkdir()
    fd = os.open(out / ".AR-6.partial-fedcba98.held", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        lines: list[str] = []
        _answer(trap_catalog, out, progress=lines.append)
    finally:
        os.close(fd)
    assert f"removed 3 leftover(s) of an interrupted access run from {out}" in lines
    assert sorted(os.listdir(out)) == sorted(
        [
            *kept,
            ".AR-5.partial-01234567",
            ".AR-6.partial-fedcba98",
            ".AR-6.partial-fedcba98.held",
            "AR-F",
            "AR-F.zip",
        ]
    )
    assert (tmp_path / "elsewhere").is_dir()


def test_leftovers_removed_are_logged_without_a_progress_line(
    trap_catalog: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    (out / ".AR-1.partial-0123abcd").mkdir(parents=True)
    with caplog.at_level(logging.WARNING, logger="dsar.access.bundle"):
        _answer(trap_catalog, out)
    assert f"removed 1 leftover(s) of an interrupted access run from {out}" in caplog.messages


def test_with_a_passphrase_only_the_encrypted_zip_remains(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    bundle = _answer(trap_catalog, out, passphrase="correct horse")
    assert os.listdir(out) == ["AR-F.zip"]
    assert bundle.path == bundle.zip_path == out / "AR-F.zip"
    assert verify_bundle(bundle.zip_path, "correct horse").ok
    monkeypatch.setenv("BUNDLE_PASS", "correct horse")
    result = runner.invoke(
        app,
        [
            "access",
            "--catalog",
            str(trap_catalog),
            "--out",
            str(out),
            "--label",
            "AR-G",
            "--email",
            "ann@example.com",
            "--passphrase-env",
            "BUNDLE_PASS",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out / 'AR-G.zip'}  (9 rows, verified, encrypted)\n"
    assert sorted(os.listdir(out)) == ["AR-F.zip", "AR-G.zip"]


def test_an_encrypted_bundle_is_not_overwritten(trap_catalog: Path, tmp_path: Path) -> None:
    from dsar.errors import OutputExistsError

    _answer(trap_catalog, tmp_path, passphrase="pw")
    with pytest.raises(
        OutputExistsError,
        match=rf"^a bundle {tmp_path / 'AR-F'}.zip exists already and is never overwritten;"
        " choose another --out",
    ):
        _answer(trap_catalog, tmp_path, passphrase="pw")


def _modes(folder: Path) -> set[tuple[str, int]]:
    return {
        ("dir" if p.is_dir() else "file", stat.S_IMODE(p.stat().st_mode)) for p in folder.rglob("*")
    }


@pytest.mark.parametrize("passphrase", [None, "pw"])
def test_every_file_is_the_owners_only(
    trap_catalog: Path, tmp_path: Path, passphrase: str | None
) -> None:
    bundle = _answer(trap_catalog, tmp_path / "out", passphrase=passphrase)
    assert bundle.zip_path is not None
    assert stat.S_IMODE(bundle.zip_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
    if not passphrase:
        assert stat.S_IMODE(bundle.path.stat().st_mode) == 0o700
        assert _modes(bundle.path) == {("dir", 0o700), ("file", 0o600)}


@pytest.mark.usefixtures("leaky")
def test_a_rejected_bundle_is_the_owners_only(trap_catalog: Path, tmp_path: Path) -> None:
    bundle = _answer(trap_catalog, tmp_path)
    assert stat.S_IMODE(bundle.path.stat().st_mode) == 0o700
    assert _modes(bundle.path) == {("dir", 0o700), ("file", 0o600)}


def test_no_match_returns_the_no_data_answer(trap_catalog: Path, tmp_path: Path) -> None:
    request = SubjectRequest("AR-0", (parse_key("email=nobody@example.com"),))
    [bundle] = answer_access_requests(load_catalog(trap_catalog), [request], tmp_path)
    assert bundle.matched_nothing and not bundle.rejected
    assert not _answer(trap_catalog, tmp_path).matched_nothing


@pytest.mark.parametrize(("extra", "code"), [([], 3), (["--allow-empty"], 0)])
def test_no_match_warns_and_exits_3(
    trap_catalog: Path, tmp_path: Path, extra: list[str], code: int
) -> None:
    result = runner.invoke(
        app,
        [
            "access",
            "--catalog",
            str(trap_catalog),
            "--out",
            str(tmp_path),
            "--label",
            "AR-0",
            "--email",
            "nobdoy@example.com",
            *extra,
        ],
    )
    assert result.exit_code == code, result.output
    assert result.stdout == f"{tmp_path / 'AR-0'}  (0 rows, verified)\n"
    warning = (
        "warning: request AR-0: no row matches the identifiers given (a typo?); the bundle says"
        " we hold no data about the person: check the identifiers, or pass --allow-empty when"
        " that is the answer\n"
    )
    assert result.stderr == (warning if code else "")


def test_access_help_documents_the_exit_codes() -> None:
    result = runner.invoke(app, ["access", "--help"])
    text = " ".join(result.output.split())
    assert "3 no row matched a request's identifiers (a typo?), unless --allow-empty" in text
    assert "set aside as <label>.REJECTED, not zipped" in text


def test_a_zip_that_is_not_the_verified_folder_is_set_aside(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bundle_writer._zip

    def zip_with_a_stray_entry(*args: Any) -> Path:
        zipped: Path = real(*args)
        with zipfile.ZipFile(zipped, "a") as archive:
            archive.writestr("AR-F/data/extra.json", "[]")
        return zipped

    monkeypatch.setattr(bundle_writer, "_zip", zip_with_a_stray_entry)
    out = tmp_path / "out"
    bundle = _answer(trap_catalog, out)
    assert bundle.rejected and bundle.zip_path is None
    assert [str(f) for f in bundle.findings] == [
        "[zip] AR-F/data/extra.json: in the folder or the zip, not both"
    ]
    assert _listing(out)[0] == "AR-F.REJECTED" and not (out / "AR-F.zip").exists()


def test_a_lock_file_whose_folder_is_gone_is_removed_when_free(tmp_path: Path) -> None:
    from dsar.io import partial_folder, remove_partials

    out = tmp_path / "out"
    out.mkdir()
    orphan = out / ".AR-9.partial-0123abcd.held"  # a run killed between lock and folder
    orphan.touch()
    live = out / ".AR-8.partial-89abcdef.held"  # a run that has locked but not made it yet
    fd = os.open(live, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        remove_partials(out)
        assert sorted(os.listdir(out)) == [live.name]
    finally:
        os.close(fd)
    with partial_folder(out, "AR-7") as work:  # the lock is free now: swept with the rest
        assert work.is_dir() and (out / (work.name + ".held")).is_file()
    assert os.listdir(out) == []


def test_any_run_into_a_folder_removes_what_killed_runs_of_other_names_left(
    tmp_path: Path,
) -> None:
    """A killed extract's partial folder (rows before suppression) goes with the next run of
    any job into the same --out, not only a rerun of the same name."""
    from dsar.io import partial_folder

    out = tmp_path / "out"
    (out / ".accounts-overview.partial-0123abcd").mkdir(parents=True)
    (out / ".accounts-overview.partial-0123abcd" / ".stage.parquet").write_bytes(b"rows")
    with partial_folder(out, "accounts-aggregates") as work:
        (work / "cells.csv").write_text("x\n")
        work.rename(out / "accounts-aggregates")
    assert sorted(os.listdir(out)) == ["accounts-aggregates"]
