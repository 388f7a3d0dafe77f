"""One slice of the demo's users: who they are, and the planted edge cases among them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dsar.demo import pools as P
from dsar.demo.schemas import TS

DAY = 86_400
STAFF = 40
_MASK40 = np.uint64((1 << 40) - 1)


def mix(keys: np.ndarray, salt: int) -> list[int]:
    """Unique, stable, random-looking numbers.

    Each step is a bijection on 40-bit numbers (odd multipliers, xor-shifts), so distinct
    keys give distinct ids.
    """
    x = ((keys.astype(np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)) & _MASK40
    x ^= x >> np.uint64(19)
    x = (x * np.uint64(0xBF58476D1CE4E5B9)) & _MASK40
    x ^= x >> np.uint64(23)
    return [int(v) for v in x.tolist()]


def canonical(email: str) -> str:
    """Emails that differ only in dots are one Gmail mailbox: the demo never gives two people
    such addresses (that would make them one person for a request)."""
    local, _, domain = email.partition("@")
    return local.replace(".", "") + "@" + domain


def stable_ids(prefix: str, keys: np.ndarray, salt: int) -> list[str]:
    """Ids such as 'cus_69f6a27974': unique per key and salt, the same in every run."""
    return [f"{prefix}{v:010x}" for v in mix(keys, salt)]


def hex_tokens(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """`n` random hex strings of `length` characters (tokens, keys, password hashes)."""
    raw = rng.bytes(n * length // 2).hex()
    return [raw[i * length : (i + 1) * length] for i in range(n)]


def timestamps(values: np.ndarray) -> pa.Array:
    """Epoch seconds as an Arrow timestamp array."""
    return pa.array(values.astype("int64"), type=TS)


def maybe_timestamps(values: np.ndarray, present: np.ndarray) -> pa.Array:
    """Epoch seconds as timestamps, null where `present` is false."""
    return pa.array(values.astype("int64"), type=TS, mask=~present)


class Chunk:
    """One slice of users: who they are (names, emails, ids, devices, dates of their life
    with the platform); `dsar.demo.tables.build_tables` turns it into every table's rows."""

    def __init__(
        self,
        rng: np.random.Generator,
        start: int,
        n: int,
        now: int,
        pools: P.Pools,
        used: set[str],
    ) -> None:
        self.rng, self.start, self.n, self.now, self.pools = rng, start, n, now, pools
        self.g = np.arange(start, start + n)
        r = rng
        self.company = r.integers(0, len(pools.companies), n)
        self.country = pools.company_country[self.company]
        self.business = r.random(n) < 0.55
        cc = [P.COUNTRIES[c] for c in self.country]
        self.first = [pools.first[c][r.integers(0, len(pools.first[c]))] for c in cc]
        self.last = [pools.last[c][r.integers(0, len(pools.last[c]))] for c in cc]
        self.name = [f"{f} {la}" for f, la in zip(self.first, self.last, strict=True)]
        free = r.choice(len(P.FREE_DOMAINS), n, p=[0.45, 0.15, 0.15, 0.1, 0.1, 0.05])
        self.domain = [
            pools.company_domains[c] if b else P.FREE_DOMAINS[f]
            for c, b, f in zip(self.company, self.business, free, strict=True)
        ]
        self.email = self._emails(used)
        self.user_id = [f"u{v:07d}" for v in self.g.tolist()]
        self.customer_id = stable_ids("cus_", self.g, 11)
        self.cc = cc
        self.created = now - r.integers(DAY, 10 * 365 * DAY, n)
        self.plan = r.choice(np.array(["free", "team", "business"]), n, p=[0.55, 0.3, 0.15])
        gmail = np.array([d == "gmail.com" for d in self.domain])
        self.google = (gmail & (r.random(n) < 0.7)) | (self.business & (r.random(n) < 0.2))
        self.closed = r.random(n) < 0.05
        self.n_dev = np.minimum(1 + r.poisson(0.7, n), 4)
        self.home_ip = [
            f"{o}.{b}.{c}.{d}"
            for o, b, c, d in zip(
                r.choice([24, 31, 46, 62, 73, 81, 86, 92, 98, 109, 145, 176, 185, 212], n),
                r.integers(0, 256, n),
                r.integers(0, 256, n),
                r.integers(1, 255, n),
                strict=True,
            )
        ]
        has_phone = r.random(n) < 0.8
        self.phone = [
            P.format_phone(r, c) if h else None for c, h in zip(cc, has_phone, strict=True)
        ]
        self._plant()
        self.closed_at = self.created + ((now - self.created) * r.random(n)).astype(np.int64)
        self.end = np.where(self.closed, self.closed_at, now)

    def _emails(self, used: set[str]) -> list[str]:
        out: list[str] = []
        styles = self.rng.integers(0, 4, self.n)
        for f, la, d, s, g in zip(self.first, self.last, self.domain, styles, self.g, strict=True):
            f, la = P.ascii_slug(f) or "user", P.ascii_slug(la) or "x"
            local = (f"{f}.{la}", f"{f[0]}{la}", f"{f}{la[0]}", f"{f}_{la}")[s]
            if g == 0:  # planted: the demo person uses gmail (see _plant)
                local, d = local.replace("_", "."), "gmail.com"
            elif g == 4:  # planted: user 4's email contains user 3's whole email
                local, d = "jo" + out[3].partition("@")[0], out[3].partition("@")[2]
            suffixes = ("", str(g % 997), str(g), *(f"{g}{k}" for k in range(10)))
            email = next(
                e for e in (f"{local}{x}@{d}" for x in suffixes) if canonical(e) not in used
            )
            used.add(canonical(email))
            out.append(email)
        return out

    def _plant(self) -> None:
        """Fixed edge cases at fixed users, so tests and the README can rely on them."""
        if self.start > 0:
            return
        # user 0: the demo person: gmail, Google sign-in, paying, several devices, still active.
        self.domain[0] = "gmail.com"
        self.google[0], self.closed[0], self.plan[0], self.n_dev[0] = True, False, "team", 3
        self.business[0] = False
        self.created[0] = self.now - 9 * 365 * DAY  # old enough for invoices past 7 years
        # users 1 and 2 share a device (a family laptop); user 2 is also a business user.
        self.n_dev[1] = self.n_dev[2] = 2
        # user 5 closed the account; user 6 opted out of marketing (see tables.marketing).
        self.closed[5], self.closed[6] = True, False

    def device_keys(self, owner: np.ndarray, k: np.ndarray) -> np.ndarray:
        keys = self.g[owner] * 4 + k
        if self.start == 0:
            keys = np.where((self.g[owner] == 2) & (k == 0), 1 * 4 + 0, keys)
        return np.asarray(keys, dtype=np.int64)

    def repeat(self, counts: np.ndarray) -> np.ndarray:
        return np.repeat(np.arange(self.n), counts)

    def when(self, owner: np.ndarray, back: int | None = None) -> np.ndarray:
        """Timestamps within each owner's active life (and at most `back` seconds ago)."""
        lo = (
            self.created[owner]
            if back is None
            else np.maximum(self.created[owner], self.now - back)
        )
        hi = self.end[owner]
        lo = np.minimum(lo, hi - 1)
        return np.asarray(lo + ((hi - lo) * self.rng.random(len(owner))).astype(np.int64))
