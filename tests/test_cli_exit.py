"""The `dsar` command ends its process without taking the interpreter apart (`end_now`), and
loses nothing by it: output, exit codes, atexit handlers, files left open, running threads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dsar.cli import main


def _child(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_end_now_keeps_output_atexit_and_open_files(tmp_path: Path) -> None:
    done = _child(
        """
        import atexit, sys
        from pathlib import Path
        from dsar.cli import end_now
        tmp = Path(sys.argv[1])

        class Teardown:  # a module global: freed only when the interpreter is taken apart
            def __del__(self):
                (tmp / "torn-down").write_text("yes")

        kept = Teardown()
        atexit.register(lambda: (tmp / "atexit").write_text("ran"))
        left = open(tmp / "left-open.txt", "w")  # never closed: Python's exit flushes it
        left.write("buffered, not yet written")
        print("x" * 200_000)  # more than a pipe's buffer
        print("to stderr", file=sys.stderr)
        end_now(0)
        print("not reached")
        """,
        tmp_path,
    )
    assert done.returncode == 0
    assert done.stdout == "x" * 200_000 + "\n"
    assert done.stderr == "to stderr\n"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "left-open.txt").read_text() == "buffered, not yet written"
    assert not (tmp_path / "torn-down").exists()  # the teardown was skipped


@pytest.mark.parametrize("code", [3, "a message"])
def test_end_now_leaves_a_failed_command_to_the_normal_exit(tmp_path: Path, code: object) -> None:
    done = _child(
        f"""
        import sys
        from pathlib import Path
        from dsar.cli import end_now
        tmp = Path(sys.argv[1])

        class Teardown:
            def __del__(self):
                (tmp / "torn-down").write_text("yes")

        kept = Teardown()
        end_now({code!r})
        print("returned")
        sys.exit({code!r})
        """,
        tmp_path,
    )
    assert done.stdout == "returned\n"
    assert done.returncode == (3 if code == 3 else 1)
    assert (tmp_path / "torn-down").read_text() == "yes"


def test_end_now_leaves_the_normal_exit_to_a_running_thread(tmp_path: Path) -> None:
    done = _child(
        """
        import sys, threading, time
        from pathlib import Path
        from dsar.cli import end_now
        tmp = Path(sys.argv[1])

        def late():
            time.sleep(0.5)
            (tmp / "thread").write_text("finished")

        threading.Thread(target=late).start()
        end_now(0)
        print("returned")
        sys.exit(4)
        """,
        tmp_path,
    )
    assert done.stdout == "returned\n"
    assert done.returncode == 4
    assert (tmp_path / "thread").read_text() == "finished"


@pytest.mark.parametrize(
    ("args", "code", "stream", "last"),
    [
        (["--help"], 0, "stdout", "breach"),
        (["verify", "no-such-bundle"], 1, "stderr", "error: no-such-bundle"),
    ],
)
def test_the_command_ends_with_its_code_and_whole_output(
    tmp_path: Path, args: list[str], code: int, stream: str, last: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dsar.cli", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == code
    assert last in getattr(done, stream)


def test_main_called_from_python_raises_system_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    # not the program: the caller (this test) gets SystemExit and carries on
    monkeypatch.setattr(sys, "argv", ["dsar", "--help"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 0
