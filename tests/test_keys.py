"""The key module: loading the key, per-purpose keyed hashes, and their DuckDB twins."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import example, given, settings, strategies as st

from dsar.errors import MissingKeyError
from dsar.keys import KEY_ENV, SCHEME, Keys, Purpose, load_key, load_keys

MASTER = b"k" * 40
KEYS = Keys(MASTER)

# any text DuckDB's VARCHAR holds: encodable in UTF-8 (no lone surrogates), no NUL
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
values = st.lists(texts, max_size=20).map(lambda v: ["", *v])


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _in_duckdb(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object], values: list[str | None]
) -> list[tuple[str | None, str | None]]:
    """Each value with what `sql` (over the column `v`) computes for it in DuckDB."""
    query = f"SELECT v, {sql} FROM (SELECT unnest(?::VARCHAR[]) AS v)"
    rows: list[tuple[str | None, str | None]] = con.execute(query, [*params, values]).fetchall()
    return rows


# ---- load_key ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "file_text", "message"),
    [
        ({}, None, r"set WORKBENCH_KEY or pass a key file"),
        ({KEY_ENV: "short"}, None, r"at least 32 characters"),
        ({KEY_ENV: "k" * 40}, "short", r"at least 32 characters"),
        ({}, "", r"at least 32 characters"),
    ],
    ids=["no key", "short in the environment", "short in the file", "empty file"],
)
def test_key_is_required(
    tmp_path: Path, env: dict[str, str], file_text: str | None, message: str
) -> None:
    key_file = None
    if file_text is not None:
        key_file = tmp_path / "key"
        key_file.write_text(file_text)
    with pytest.raises(MissingKeyError, match=message):
        load_key(key_file, env=env)


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MissingKeyError, match=r"key file .*nothing does not exist"):
        load_key(tmp_path / "nothing", env={KEY_ENV: "k" * 40})


def test_key_from_the_file_wins_over_the_environment(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("f" * 32 + "\n")
    assert load_key(tmp_path / "key", env={KEY_ENV: "e" * 32}) == b"f" * 32
    assert load_key(env={KEY_ENV: "e" * 32}) == b"e" * 32


def test_key_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "p" * 32)
    assert load_key() == b"p" * 32


def test_load_keys_is_the_one_loader_and_fails_as_load_key(tmp_path: Path) -> None:
    """The command lines and notebooks load `Keys` in one call, found where `load_key`
    looks; no key is the same MissingKeyError, and the master never shows."""
    (tmp_path / "key").write_text("f" * 32 + "\n")
    keys = load_keys(tmp_path / "key", env={KEY_ENV: "e" * 32})
    assert keys == Keys(b"f" * 32) and load_keys(env={KEY_ENV: "e" * 32}) == Keys(b"e" * 32)
    assert "f" * 32 not in repr(keys) and "66" * 32 not in repr(keys)
    with pytest.raises(MissingKeyError, match=r"set WORKBENCH_KEY or pass a key file"):
        load_keys(env={})


# ---- Keys ----------------------------------------------------------------------------------


def test_the_construction_is_hmac_under_a_subkey_per_purpose() -> None:
    subkey = hmac.digest(MASTER, b"privacy-workbench/v1/ledger-ref", "sha256")
    expected = hmac.new(subkey, b"email=ann@example.com", hashlib.sha256).hexdigest()
    assert KEYS.keyed_hash(Purpose.LEDGER_REF, "email=ann@example.com") == expected
    assert SCHEME == "hmac-sha256/v1"


def test_a_short_master_key_is_refused() -> None:
    with pytest.raises(MissingKeyError, match=r"at least 32 bytes"):
        Keys(b"k" * 31)


def test_keys_are_immutable() -> None:
    with pytest.raises(AttributeError, match=r"Keys is immutable"):
        KEYS._master = b"z" * 40


@settings(derandomize=True, max_examples=50, deadline=None)
@given(master=st.binary(min_size=32, max_size=64))
def test_the_master_key_never_shows(master: bytes) -> None:
    keys = Keys(master)
    shown = [repr(keys), str(keys), f"{keys}", repr([keys]), repr({"keys": keys})]
    for text in shown:
        assert "Keys(scheme='hmac-sha256/v1', master=<hidden>)" in text
        assert repr(master) not in text and master.hex() not in text
    assert repr(keys) == "Keys(scheme='hmac-sha256/v1', master=<hidden>)"


@settings(derandomize=True, max_examples=50, deadline=None)
@given(message=texts)
def test_each_purpose_and_each_key_hashes_differently(message: str) -> None:
    digests = {KEYS.keyed_hash(purpose, message) for purpose in Purpose}
    assert len(digests) == len(Purpose)
    other = Keys(b"z" * 40)
    for purpose in Purpose:
        assert other.keyed_hash(purpose, message) != KEYS.keyed_hash(purpose, message)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(purpose=st.sampled_from(Purpose), values=values)
@example(purpose=Purpose.AUDIT_REF, values=["", "Ann Ünal", "漢字", "😀", "a\tb\n'\"", "x" * 200])
def test_duckdb_computes_the_same_keyed_hash(
    con: duckdb.DuckDBPyConnection, purpose: Purpose, values: list[str]
) -> None:
    sql, params = KEYS.sql_keyed_hash(purpose, "v")
    rows = _in_duckdb(con, sql, params, list(values))
    assert sorted(v for v, _ in rows if v is not None) == sorted(values)
    for value, digest in rows:
        assert value is not None
        assert digest == KEYS.keyed_hash(purpose, value)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(values=values)
@example(values=["", "Zoë", "😀"])
def test_duckdb_computes_the_same_pseudonym(
    con: duckdb.DuckDBPyConnection, values: list[str]
) -> None:
    sql, params = KEYS.sql_pseudonym("v")
    rows = _in_duckdb(con, sql, params, list(values))
    assert len(rows) == len(values)
    for value, pseudonym in rows:
        assert value is not None
        assert pseudonym == KEYS.pseudonym(value)
        assert pseudonym.startswith("pseudo:") and len(pseudonym) == len("pseudo:") + 16


def test_the_sql_holds_no_key_and_null_stays_null(con: duckdb.DuckDBPyConnection) -> None:
    for sql, params in (
        KEYS.sql_keyed_hash(Purpose.AUDIENCE, "v"),
        KEYS.sql_pseudonym("v"),
    ):
        assert sql.count("?") == len(params) == 2
        assert all(isinstance(p, bytes) and len(p) == 64 for p in params)
        assert "kkkk" not in sql and MASTER.hex() not in sql
        assert all(p.hex() not in sql for p in params if isinstance(p, bytes))
        assert _in_duckdb(con, sql, params, [None]) == [(None, None)]


def test_the_expression_is_spliced_once_and_can_be_any_varchar_sql(
    con: duckdb.DuckDBPyConnection,
) -> None:
    sql, params = KEYS.sql_keyed_hash(Purpose.LEDGER_REF, "'email=' || lower(v)")
    assert sql.count("lower(v)") == 1
    [(_, digest)] = _in_duckdb(con, sql, params, ["Ann@Example.com"])
    assert digest == KEYS.keyed_hash(Purpose.LEDGER_REF, "email=ann@example.com")


def test_a_record_given_the_key_as_bytes_says_how_to_make_keys(tmp_path: Path) -> None:
    """The API before one key type took the master's bytes: such a call is refused before
    any file is made, with the fix."""
    from dsar import AuditLog, IdentityIndex, Ledger, Register

    for make in (Register, Ledger, AuditLog, IdentityIndex):
        path = tmp_path / f"{make.__name__}.db"
        with pytest.raises(TypeError, match=r"takes the keys as dsar.Keys, not bytes: pass"):
            make(path, b"k" * 40)  # type: ignore[arg-type]
        assert not path.exists()
