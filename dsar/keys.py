"""The secret key and the keyed hashes derived from it, one subkey per purpose.

One master key (from $WORKBENCH_KEY or a key file the user names) is never used directly.
Each use gets its own subkey, ``HMAC-SHA256(master, "privacy-workbench/v1/" + purpose)``,
so a reference in the audit log cannot be matched against a hash in the ledger or a
pseudonym in an extract. Every keyed hash has a SQL twin that DuckDB computes over a column
with the same result, so exports are matched and pseudonymised without the identifiers
leaving the engine. `SCHEME` names this construction; the ledger and the audit log record
it, so a later change of scheme is detected rather than silently matching nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from dsar.errors import MissingKeyError, UsageError

KEY_ENV = "WORKBENCH_KEY"
SCHEME = "hmac-sha256/v1"
MIN_KEY_LENGTH = 32
_DERIVATION_PREFIX = b"privacy-workbench/v1/"
_BLOCK_SIZE = 64  # SHA-256's block size, which HMAC pads the key to
_PSEUDONYM_LENGTH = 16
PSEUDONYM_PREFIX = "pseudo:"  # marks a value as pseudonymized (re-running leaves it alone)


class Purpose(StrEnum):
    """What a keyed hash is for; each purpose hashes under its own subkey."""

    AUDIT_REF = "audit-ref"
    AUDIT_CHAIN = "audit-chain"
    LEDGER_REF = "ledger-ref"
    ERASURE_PSEUDONYM = "erasure-pseudonym"
    EXTRACT_HASH = "extract-hash"
    EXTRACT_PSEUDONYM = "extract-pseudonym"
    AUDIENCE = "audience"
    INDEX_REF = "index-ref"
    RECORD_MAC = "record-mac"  # the rows and seals of the register, ledger and sent record
    RELEASE_REF = "release-ref"  # data versions and query ids in the release log
    AGGREGATE_NOISE = "aggregate-noise"  # the seeds of differentially private aggregates' noise
    EXTRACT_ORDER = "extract-order"  # the order of an extract's rows (none of the source's)
    PUBLISH_SURROGATE = "publish-surrogate"  # published texts' surrogates, thread tokens, order


def load_key(key_file: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> bytes:
    """The master key: read from `key_file`, else from $WORKBENCH_KEY.

    The key is never stored beside the data it protects and never written to a log or an
    artifact. It must be at least 32 characters.

    Args:
        key_file: a file holding the key (surrounding whitespace is ignored).
        env: where to look for $WORKBENCH_KEY; the process environment by default.

    Returns:
        The key's bytes.

    Raises:
        MissingKeyError: the file does not exist, or the key is missing or too short.

    Examples:
        >>> load_key(env={"WORKBENCH_KEY": "k" * 32})[:4]
        b'kkkk'
    """
    if key_file is not None:
        path = Path(key_file)
        if path.is_dir():
            raise MissingKeyError(f"key file {path} is a folder: give the file holding the key")
        if not path.is_file():
            raise MissingKeyError(f"key file {path} does not exist")
        raw = path.read_bytes().strip()
    else:
        raw = (os.environ if env is None else env).get(KEY_ENV, "").encode()
    if len(raw) < MIN_KEY_LENGTH:
        raise MissingKeyError(
            f"a secret key of at least {MIN_KEY_LENGTH} characters is needed: set {KEY_ENV} or"
            " pass a key file (e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
            " > key)"
        )
    return raw


def load_keys(key_file: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> Keys:
    """The workbench's keys: the master key from `key_file`, else from $WORKBENCH_KEY.

    The one loader the command lines and notebooks use; every keyed class and function
    takes the `Keys` it returns (see `load_key` for where the key is looked for).

    Raises:
        MissingKeyError: the file does not exist, or the key is missing or too short.

    Examples:
        >>> load_keys(env={"WORKBENCH_KEY": "k" * 32})
        Keys(scheme='hmac-sha256/v1', master=<hidden>)
    """
    return Keys(load_key(key_file, env=env))


def require_keys(keys: object, what: str) -> Keys:
    """`keys` when it is a `Keys`; else a TypeError that says how to make one (a caller of the
    API before one key type passed the master key's bytes)."""
    if not isinstance(keys, Keys):
        raise TypeError(
            f"{what} takes the keys as dsar.Keys, not {type(keys).__name__}: pass"
            " dsar.load_keys() (or dsar.Keys(master_key_bytes))"
        )
    return keys


def refuse_key_beside(key_file: str | Path | None, path: Path, what: str) -> None:
    """Refuse a key file in the same folder as the records it protects (`what` at `path`):
    the hashes and their key must never travel together.

    Raises:
        UsageError: the key file sits beside `path`.
    """
    if key_file is not None and Path(key_file).resolve().parent == path.resolve().parent:
        raise UsageError(
            "key_file",
            f"the key file {key_file} sits beside the {what} {path}",
            "keep the key elsewhere (another folder, a secrets manager) so the two never"
            " travel together",
        )


def _pads(subkey: bytes) -> tuple[bytes, bytes]:
    """HMAC's outer and inner padded keys (RFC 2104) for a subkey shorter than a block."""
    block = subkey.ljust(_BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x5C for b in block), bytes(b ^ 0x36 for b in block)


class Keys:
    """The master key and the per-purpose keyed hashes derived from it; immutable.

    The master key is kept private: it never appears in `repr` or `str`, and Keys is not
    a dataclass, so `dataclasses.asdict` or a JSON dump of a record holding one cannot
    copy it out. Two Keys are equal when their master keys are.

    Args:
        master: the master key (see `load_key`), at least 32 bytes.

    Raises:
        MissingKeyError: the key is shorter than 32 bytes.

    Examples:
        >>> keys = Keys(b"k" * 32)
        >>> len(keys.keyed_hash(Purpose.LEDGER_REF, "email=ann@example.com"))
        64
        >>> keys
        Keys(scheme='hmac-sha256/v1', master=<hidden>)
    """

    __slots__ = ("_master", "_subkeys")
    _master: bytes
    _subkeys: Mapping[Purpose, bytes]

    def __init__(self, master: bytes) -> None:
        if len(master) < MIN_KEY_LENGTH:
            raise MissingKeyError(
                f"a secret key of at least {MIN_KEY_LENGTH} bytes is needed (see load_key)"
            )
        subkeys = {
            p: hmac.digest(master, _DERIVATION_PREFIX + p.value.encode(), "sha256") for p in Purpose
        }
        object.__setattr__(self, "_master", bytes(master))
        object.__setattr__(self, "_subkeys", MappingProxyType(subkeys))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Keys is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Keys is immutable: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Keys):
            return NotImplemented
        return hmac.compare_digest(self._master, other._master)

    def __hash__(self) -> int:
        return hash(self._subkeys[Purpose.AUDIT_REF])

    def __reduce__(self) -> tuple[type[Keys], tuple[bytes]]:
        # copy and pickle rebuild from the master key (the subkeys are derived again)
        return (Keys, (self._master,))

    def __repr__(self) -> str:
        return f"Keys(scheme={SCHEME!r}, master=<hidden>)"

    __str__ = __repr__

    def legacy_ledger_secret(self) -> str:
        """The master key in hex, which ledgers written before schemes were recorded
        (`dsar.records.ledger.LEGACY_SCHEME`) hashed in directly; only for reading those.
        """
        return self._master.hex()

    def keyed_hash(self, purpose: Purpose, message: str) -> str:
        """Hex HMAC-SHA256 of `message` (UTF-8) under the subkey for `purpose`.

        Examples:
            >>> Keys(b"k" * 32).keyed_hash(Purpose.AUDIT_REF, "user_id=u1")[:8]
            '3f447e52'
        """
        return hmac.new(self._subkeys[purpose], message.encode("utf-8"), hashlib.sha256).hexdigest()

    def hasher(self, purpose: Purpose) -> Callable[[str], str]:
        """A fast `keyed_hash(purpose, ·)` for many values: HMAC's padded-key states are
        hashed once and copied per value (2.5x `hmac.new` on short values).

        Examples:
            >>> keys = Keys(b"k" * 32)
            >>> keys.hasher(Purpose.AUDIT_REF)("user_id=u1") == keys.keyed_hash(
            ...     Purpose.AUDIT_REF, "user_id=u1")
            True
        """
        outer_pad, inner_pad = _pads(self._subkeys[purpose])
        inner, outer = hashlib.sha256(inner_pad), hashlib.sha256(outer_pad)

        def digest(message: str) -> str:
            h = inner.copy()
            h.update(message.encode("utf-8"))
            o = outer.copy()
            o.update(h.digest())
            return o.hexdigest()

        return digest

    def sql_keyed_hash(self, purpose: Purpose, expr_sql: str) -> tuple[str, list[object]]:
        """SQL (DuckDB) computing `keyed_hash(purpose, value)` for a VARCHAR expression.

        DuckDB has no HMAC, but HMAC is two SHA-256 over bytes and DuckDB's `sha256` takes a
        BLOB: ``sha256(outer || unhex(sha256(inner || encode(expr))))``. The padded keys go
        in as bound BLOB parameters, never into the SQL text, which may be shown in an
        error message. `expr_sql` appears once, so it is evaluated once; NULL gives NULL.

        Args:
            purpose: which subkey to hash under.
            expr_sql: a VARCHAR SQL expression (e.g. a quoted column); trusted SQL, never
                a value.

        Returns:
            The SQL and its parameters, in the order their `?` appear: the outer padded
            key, then the inner padded key. Splice the SQL where its parameters come next.

        Examples:
            >>> sql, params = Keys(b"k" * 32).sql_keyed_hash(Purpose.LEDGER_REF, '"email"')
            >>> sql
            'sha256(CAST(? AS BLOB) || unhex(sha256(CAST(? AS BLOB) || encode("email"))))'
            >>> [len(p) for p in params]
            [64, 64]
        """
        outer, inner = _pads(self._subkeys[purpose])
        return f"sha256(CAST(? AS BLOB) || unhex(sha256(CAST(? AS BLOB) || encode({expr_sql}))))", [
            outer,
            inner,
        ]

    def pseudonym(self, value: str) -> str:
        """The erasure pseudonym for a value: 'pseudo:' and 16 hex characters of a keyed hash.

        Examples:
            >>> Keys(b"k" * 32).pseudonym("ann@example.com").startswith("pseudo:")
            True
        """
        digest = self.keyed_hash(Purpose.ERASURE_PSEUDONYM, value)
        return f"{PSEUDONYM_PREFIX}{digest[:_PSEUDONYM_LENGTH]}"

    def sql_pseudonym(self, expr_sql: str) -> tuple[str, list[object]]:
        """SQL (DuckDB) computing `pseudonym(value)` for a VARCHAR expression; NULL gives NULL.

        Returns:
            The SQL and its parameters in order (see `sql_keyed_hash`).
        """
        digest, params = self.sql_keyed_hash(Purpose.ERASURE_PSEUDONYM, expr_sql)
        return f"('{PSEUDONYM_PREFIX}' || left({digest}, {_PSEUDONYM_LENGTH}))", params
