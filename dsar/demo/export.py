"""Generate the demo export: a SaaS integration platform's tables, deterministic by seed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa

from dsar.catalog.models import FileFormat
from dsar.demo import pools as P
from dsar.demo.writers import TableSink
from dsar.errors import WorkbenchError
from dsar.io import atomic_write_text

CHUNK = 20_000
DAY = 86_400
STAFF = 40
_MASK40 = np.uint64((1 << 40) - 1)

TS = pa.timestamp("s")
S = pa.string()
SCHEMAS: dict[str, tuple[str, FileFormat, pa.Schema]] = {
    "accounts": (
        "accounts.csv",
        FileFormat.CSV,
        pa.schema(
            [
                ("user_id", S),
                ("customer_id", S),
                ("email", S),
                ("full_name", S),
                ("phone", S),
                ("company", S),
                ("country", S),
                ("city", S),
                ("plan", S),
                ("signup_method", S),
                ("password_hash", S),
                ("account_manager_id", S),
                ("status", S),
                ("created_at", TS),
                ("closed_at", TS),
                ("last_login_at", TS),
            ]
        ),
    ),
    "staff": (
        "staff.csv",
        FileFormat.CSV,
        pa.schema(
            [
                ("staff_id", S),
                ("full_name", S),
                ("email", S),
                ("team", S),
            ]
        ),
    ),
    "google_profiles": (
        "google_profiles.jsonl",
        FileFormat.JSONL,
        pa.schema(
            [
                ("google_sub", S),
                ("user_id", S),
                ("email", S),
                ("given_name", S),
                ("family_name", S),
                ("picture_url", S),
                ("locale", S),
                ("email_verified", pa.bool_()),
                ("linked_at", TS),
            ]
        ),
    ),
    "invoices": (
        "invoices.parquet",
        FileFormat.PARQUET,
        pa.schema(
            [
                ("invoice_id", S),
                ("customer_id", S),
                ("billing_email", S),
                ("billing_name", S),
                ("billing_address", S),
                ("vat_id", S),
                ("amount_cents", pa.int64()),
                ("currency", S),
                ("card_last4", S),
                ("status", S),
                ("issued_at", TS),
            ]
        ),
    ),
    "integrations": (
        "integrations.parquet",
        FileFormat.PARQUET,
        pa.schema(
            [
                ("integration_id", S),
                ("user_id", S),
                ("provider", S),
                ("access_token", S),
                ("api_key", S),
                ("scopes", S),
                ("status", S),
                ("created_at", TS),
                ("last_sync_at", TS),
            ]
        ),
    ),
    "support_tickets": (
        "support_tickets.jsonl",
        FileFormat.JSONL,
        pa.schema(
            [
                ("ticket_id", S),
                ("user_id", S),
                ("requester_email", S),
                ("subject", S),
                ("body", S),
                ("assigned_to", S),
                ("status", S),
                ("channel", S),
                ("created_at", TS),
            ]
        ),
    ),
    "web_logs": (
        "web_logs.csv",
        FileFormat.CSV,
        pa.schema(
            [
                ("ts", TS),
                ("ip", S),
                ("device_id", S),
                ("user_id", S),
                ("method", S),
                ("path", S),
                ("status", pa.int64()),
                ("bytes", pa.int64()),
                ("user_agent", S),
            ]
        ),
    ),
    "usage_events": (
        "usage_events.parquet",
        FileFormat.PARQUET,
        pa.schema(
            [
                ("event_id", S),
                ("ts", TS),
                ("user_id", S),
                ("device_id", S),
                ("action", S),
                ("object_type", S),
                ("object_id", S),
            ]
        ),
    ),
    "marketing_preferences": (
        "marketing_preferences.json",
        FileFormat.JSON,
        pa.schema(
            [
                ("user_id", S),
                ("email", S),
                ("newsletter", pa.bool_()),
                ("product_updates", pa.bool_()),
                ("ads_personalization", pa.bool_()),
                ("consent_source", S),
                ("opted_out_at", TS),
                ("updated_at", TS),
            ]
        ),
    ),
    "app_end_users": (
        "app_end_users.csv",
        FileFormat.CSV,
        pa.schema(
            [
                ("end_user_id", S),
                ("customer_id", S),
                ("email", S),
                ("full_name", S),
                ("phone", S),
                ("app_plan", S),
                ("signed_up_at", TS),
                ("last_seen_at", TS),
            ]
        ),
    ),
}


@dataclass(frozen=True)
class DemoExport:
    """What `generate` wrote."""

    root: Path
    catalog_path: Path
    seed: int
    users: int
    as_of: date
    rows: dict[str, int]
    subject_email: str
    subject_user_id: str


def _mix(keys: np.ndarray, salt: int) -> list[int]:
    """Unique, stable, random-looking numbers.

    Each step is a bijection on 40-bit numbers (odd multipliers, xor-shifts), so distinct
    keys give distinct ids.
    """
    x = ((keys.astype(np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)) & _MASK40
    x ^= x >> np.uint64(19)
    x = (x * np.uint64(0xBF58476D1CE4E5B9)) & _MASK40
    x ^= x >> np.uint64(23)
    return [int(v) for v in x.tolist()]


def _canonical(email: str) -> str:
    """Emails that differ only in dots are one Gmail mailbox: the demo never gives two people
    such addresses (that would make them one person for a request)."""
    local, _, domain = email.partition("@")
    return local.replace(".", "") + "@" + domain


def _ids(prefix: str, keys: np.ndarray, salt: int) -> list[str]:
    return [f"{prefix}{v:010x}" for v in _mix(keys, salt)]


def _tokens(rng: np.random.Generator, n: int, length: int) -> list[str]:
    raw = rng.bytes(n * length // 2).hex()
    return [raw[i * length : (i + 1) * length] for i in range(n)]


def _ts(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("int64"), type=TS)


def _maybe_ts(values: np.ndarray, present: np.ndarray) -> pa.Array:
    return pa.array(values.astype("int64"), type=TS, mask=~present)


def generate(
    out: str | Path,
    users: int = 1000,
    seed: int = 7,
    as_of: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoExport:
    """Write a realistic export of the platform, and its catalog, to `out`.

    The same `users`, `seed` and `as_of` give byte-identical files. `as_of` (default: today,
    UTC) is the export date: web logs reach 90 days back from it, accounts ten years.

    Example:
        >>> export = generate("demo-export", users=1000, seed=7)  # doctest: +SKIP
        >>> export.rows["accounts"]  # doctest: +SKIP
        1000
    """
    if users < 10:
        raise WorkbenchError(f"--users must be at least 10 (got {users}): the demo plants cases")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    as_of = as_of or datetime.now(UTC).date()
    now = int(datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp())
    pools = P.make_pools(seed, companies=int(np.clip(users // 12, 20, 20_000)))
    sinks = {
        name: TableSink(root / path, fmt, schema) for name, (path, fmt, schema) in SCHEMAS.items()
    }
    try:
        sinks["staff"].write(_staff(seed, pools))
        used: set[str] = set()
        subject = ("", "")
        for start in range(0, users, CHUNK):
            n = min(CHUNK, users - start)
            chunk = _Chunk(
                np.random.default_rng([seed, start // CHUNK]), start, n, now, pools, used
            )
            if start == 0:
                subject = (chunk.email[0], chunk.user_id[0])
            for name, table in chunk.tables().items():
                sinks[name].write(table)
            if progress is not None:
                progress(start + n, users)
        for sink in sinks.values():
            sink.close()
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    template = resources.files("dsar.demo").joinpath("catalog.yml")
    catalog_path = root / "catalog.yml"
    atomic_write_text(catalog_path, template.read_text(encoding="utf-8"))
    rows = {name: sink.rows for name, sink in sinks.items()}
    meta = {
        "seed": seed,
        "users": users,
        "as_of": as_of.isoformat(),
        "rows": rows,
        "subject": {"email": subject[0], "user_id": subject[1]},
    }
    atomic_write_text(root / "demo.json", json.dumps(meta, indent=2) + "\n")
    return DemoExport(root, catalog_path, seed, users, as_of, rows, subject[0], subject[1])


def _staff(seed: int, pools: P.Pools) -> pa.Table:
    rng = np.random.default_rng([seed, 7777])
    first = rng.choice(pools.first["GB"], STAFF)
    last = rng.choice(pools.last["GB"], STAFF)
    return pa.table(
        {
            "staff_id": [f"stf_{i:03d}" for i in range(STAFF)],
            "full_name": [f"{f} {la}" for f, la in zip(first, last, strict=True)],
            "email": [
                f"{P.ascii_slug(f)}.{P.ascii_slug(la)}@syncloop.io"
                for f, la in zip(first, last, strict=True)
            ],
            "team": rng.choice(["support", "success", "billing"], STAFF).tolist(),
        }
    )


class _Chunk:
    """One slice of users and every row that belongs to them."""

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
        self.customer_id = _ids("cus_", self.g, 11)
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
                e for e in (f"{local}{x}@{d}" for x in suffixes) if _canonical(e) not in used
            )
            used.add(_canonical(email))
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
        # user 5 closed the account; user 6 opted out of marketing (see _marketing).
        self.closed[5], self.closed[6] = True, False

    def _device_keys(self, owner: np.ndarray, k: np.ndarray) -> np.ndarray:
        keys = self.g[owner] * 4 + k
        if self.start == 0:
            keys = np.where((self.g[owner] == 2) & (k == 0), 1 * 4 + 0, keys)
        return np.asarray(keys, dtype=np.int64)

    def _repeat(self, counts: np.ndarray) -> np.ndarray:
        return np.repeat(np.arange(self.n), counts)

    def _when(self, owner: np.ndarray, back: int | None = None) -> np.ndarray:
        """Timestamps within each owner's active life (and at most `back` seconds ago)."""
        lo = (
            self.created[owner]
            if back is None
            else np.maximum(self.created[owner], self.now - back)
        )
        hi = self.end[owner]
        lo = np.minimum(lo, hi - 1)
        return np.asarray(lo + ((hi - lo) * self.rng.random(len(owner))).astype(np.int64))

    def tables(self) -> dict[str, pa.Table]:
        return {
            "accounts": self._accounts(),
            "google_profiles": self._google(),
            "invoices": self._invoices(),
            "integrations": self._integrations(),
            "support_tickets": self._tickets(),
            "web_logs": self._logs(),
            "usage_events": self._events(),
            "marketing_preferences": self._marketing(),
            "app_end_users": self._end_users(),
        }

    def _accounts(self) -> pa.Table:
        r, n = self.rng, self.n
        pw = np.array(_tokens(r, n, 52))
        manager = np.where(self.plan == "business", r.integers(0, STAFF, n), -1)
        return pa.table(
            {
                "user_id": self.user_id,
                "customer_id": self.customer_id,
                "email": self.email,
                "full_name": self.name,
                "phone": self.phone,
                "company": [
                    self.pools.companies[c] if b else None
                    for c, b in zip(self.company, self.business, strict=True)
                ],
                "country": self.cc,
                "city": [
                    self.pools.cities[c][i]
                    for c, i in zip(self.cc, r.integers(0, 60, n), strict=True)
                ],
                "plan": self.plan,
                "signup_method": np.where(self.google, "google", "password"),
                "password_hash": pa.array(["$2b$12$" + p for p in pw], mask=self.google),
                "account_manager_id": pa.array([f"stf_{m:03d}" for m in manager], mask=manager < 0),
                "status": np.where(self.closed, "closed", "active"),
                "created_at": _ts(self.created),
                "closed_at": _maybe_ts(self.closed_at, self.closed),
                "last_login_at": _ts(self._when(np.arange(n), back=60 * DAY)),
            }
        )

    def _google(self) -> pa.Table:
        idx = np.flatnonzero(self.google)
        r = self.rng
        emails = []
        for i in idx:
            e = self.email[i]
            local, _, dom = e.partition("@")
            emails.append(
                P.gmail_dot_variant(r, local) + "@" + dom
                if dom == "gmail.com" and r.random() < 0.5
                else e
            )
        locale = {"US": "en", "GB": "en-GB", "DE": "de", "FR": "fr", "NL": "nl"}
        return pa.table(
            {
                "google_sub": [str(10**20 + v) for v in _mix(self.g[idx], 41)],
                "user_id": [self.user_id[i] for i in idx],
                "email": emails,
                "given_name": [self.first[i] for i in idx],
                "family_name": [self.last[i] for i in idx],
                "picture_url": [
                    "https://lh3.googleusercontent.com/a/" + t for t in _tokens(r, len(idx), 28)
                ],
                "locale": [locale[self.cc[i]] for i in idx],
                "email_verified": np.ones(len(idx), dtype=bool),
                "linked_at": _ts(self.created[idx]),
            }
        )

    def _invoices(self) -> pa.Table:
        r = self.rng
        paying = self.plan != "free"
        months = (self.end - self.created) // (30 * DAY)
        counts = np.where(paying, np.minimum(months, 1 + r.poisson(10, self.n)), 0)
        owner = self._repeat(counts)
        seq = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
        issued = self.created[owner] + (seq + 1) * 30 * DAY
        price = np.where(self.plan[owner] == "team", 2900, 9900) * (1 + r.poisson(2, len(owner)))
        currency = {"US": "USD", "GB": "GBP"}
        eu = np.array([self.cc[o] in ("DE", "FR", "NL") and self.business[o] for o in owner])
        messy = r.random(len(owner)) < 0.2
        return pa.table(
            {
                "invoice_id": _ids("in_", self.g[owner] * 512 + seq, 23),
                "customer_id": [self.customer_id[o] for o in owner],
                "billing_email": [
                    P.messy_email(r, self.email[o]) if m else self.email[o]
                    for o, m in zip(owner, messy, strict=True)
                ],
                "billing_name": [self.name[o] for o in owner],
                "billing_address": [
                    f"{self.pools.streets[self.cc[o]][(self.g[o] * 31) % 400]}, "
                    f"{self.pools.cities[self.cc[o]][self.g[o] % 60]}"
                    for o in owner
                ],
                "vat_id": pa.array(
                    [f"{self.cc[o]}{(self.g[o] * 7919) % 10**9:09d}" for o in owner], mask=~eu
                ),
                "amount_cents": price,
                "currency": [currency.get(self.cc[o], "EUR") for o in owner],
                "card_last4": [f"{(self.g[o] * 37) % 10000:04d}" for o in owner],
                "status": np.where(issued > self.now - 30 * DAY, "open", "paid"),
                "issued_at": _ts(issued),
            }
        )

    def _integrations(self) -> pa.Table:
        r = self.rng
        counts = r.poisson(1.3, self.n)
        owner = self._repeat(counts)
        m = len(owner)
        provider = np.array(P.PROVIDERS)[r.integers(0, len(P.PROVIDERS), m)]
        created = self._when(owner)
        return pa.table(
            {
                "integration_id": _ids("int_", self.g[owner] * 64 + np.arange(m) % 64, 5),
                "user_id": [self.user_id[o] for o in owner],
                "provider": provider,
                "access_token": [
                    P.TOKEN_PREFIX[p] + t for p, t in zip(provider, _tokens(r, m, 40), strict=True)
                ],
                "api_key": ["sk_live_" + t for t in _tokens(r, m, 32)],
                "scopes": np.array(["read", "read,write", "read,write,admin"])[r.integers(0, 3, m)],
                "status": np.where(self.closed[owner], "revoked", "active"),
                "created_at": _ts(created),
                "last_sync_at": _ts(
                    np.minimum(created + r.integers(0, 90 * DAY, m), self.end[owner])
                ),
            }
        )

    def _tickets(self) -> pa.Table:
        r = self.rng
        counts = np.minimum(r.poisson(0.6, self.n), 5)
        counts[:7] = np.maximum(counts[:7], 2) if self.start == 0 else counts[:7]
        owner = self._repeat(counts)
        m = len(owner)
        other = r.integers(0, self.n, m)
        outsider = r.random(m) < 0.5
        subjects, bodies = [], []
        for j, (o, x) in enumerate(zip(owner, other, strict=True)):
            if outsider[j]:
                name = self.pools.outsiders[int(x) % len(self.pools.outsiders)]
                parts = name.split()
                oemail = f"{P.ascii_slug(parts[0])}.{P.ascii_slug(parts[-1])}@{self.domain[o]}"
                ophone = P.format_phone(r, self.cc[o])
            else:
                name, oemail = self.name[x], self.email[x]
                ophone = self.phone[x] or P.format_phone(r, self.cc[x])
            provider = P.PROVIDERS[int(x) % len(P.PROVIDERS)]
            fields = {
                "other_name": name,
                "other_email": oemail,
                "other_phone": ophone,
                "own_phone": self.phone[o] or P.format_phone(r, self.cc[o]),
                "own_name": self.name[o],
                "own_email": self.email[o],
                "provider": provider,
            }
            subjects.append(
                P.TICKET_SUBJECTS[r.integers(0, len(P.TICKET_SUBJECTS))].format(**fields)
            )
            bodies.append(P.TICKET_BODIES[r.integers(0, len(P.TICKET_BODIES))].format(**fields))
        messy = r.random(m) < 0.4
        return pa.table(
            {
                "ticket_id": [f"T-{v}" for v in (self.g[owner] * 8 + np.arange(m) % 8).tolist()],
                "user_id": [self.user_id[o] for o in owner],
                "requester_email": [
                    P.messy_email(r, self.email[o]) if x else self.email[o]
                    for o, x in zip(owner, messy, strict=True)
                ],
                "subject": subjects,
                "body": bodies,
                "assigned_to": [f"stf_{v:03d}" for v in r.integers(0, STAFF, m)],
                "status": np.array(["open", "pending", "solved", "closed"])[r.integers(0, 4, m)],
                "channel": np.array(["email", "web", "chat"])[r.integers(0, 3, m)],
                "created_at": _ts(self._when(owner)),
            }
        )

    def _logs(self) -> pa.Table:
        r = self.rng
        counts = np.where(self.closed, r.poisson(2, self.n), r.poisson(7, self.n))
        owner = self._repeat(counts)
        m = len(owner)
        k = (r.random(m) * self.n_dev[owner]).astype(np.int64)
        device = _ids("dev_", self._device_keys(owner, k), 3)
        anonymous = r.random(m) < 0.2
        office = self.business[owner] & (r.random(m) < 0.6)
        ip = [
            f"203.0.{c % 256}.{c // 256 % 254 + 1}" if off else self.home_ip[o]
            for o, c, off in zip(owner, self.company[owner], office, strict=True)
        ]
        path_idx = np.where(anonymous, r.choice([0, 1, 14, 15], m), r.integers(0, 17, m))
        paths = np.array(P.PATHS)[path_idx]
        flow = [
            p.replace("{id}", f"f{(o * 13 + 5) % 9000}") for p, o in zip(paths, owner, strict=True)
        ]
        status = r.choice([200, 200, 200, 200, 302, 304, 404, 500], m)
        ua_idx = (self._device_keys(owner, k) * 7) % len(self.pools.user_agents)
        return pa.table(
            {
                "ts": _ts(self.now - r.integers(0, 90 * DAY, m)),
                "ip": ip,
                "device_id": device,
                "user_id": pa.array([self.user_id[o] for o in owner], mask=anonymous),
                "method": np.where(r.random(m) < 0.8, "GET", "POST"),
                "path": flow,
                "status": status,
                "bytes": r.integers(200, 90_000, m),
                "user_agent": self.pools.user_agents[ua_idx],
            }
        )

    def _events(self) -> pa.Table:
        r = self.rng
        counts = r.poisson(5, self.n)
        owner = self._repeat(counts)
        m = len(owner)
        act = r.integers(0, len(P.ACTIONS), m)
        other = r.integers(0, self.n, m)
        objects = []
        for a, o, x in zip(act, owner, other, strict=True):
            kind = P.ACTIONS[a][1]
            objects.append(
                self.user_id[x]
                if P.ACTIONS[a][0] == "invite_member"
                else self.user_id[o]
                if kind == "user"
                else f"{kind[:3]}_{(self.g[o] * 17 + x) % 100_000:05d}"
            )
        k = (r.random(m) * self.n_dev[owner]).astype(np.int64)
        return pa.table(
            {
                "event_id": _ids("evt_", self.g[owner] * 256 + np.arange(m) % 256, 17),
                "ts": _ts(self._when(owner, back=2 * 365 * DAY)),
                "user_id": [self.user_id[o] for o in owner],
                "device_id": _ids("dev_", self._device_keys(owner, k), 3),
                "action": [P.ACTIONS[a][0] for a in act],
                "object_type": [P.ACTIONS[a][1] for a in act],
                "object_id": objects,
            }
        )

    def _marketing(self) -> pa.Table:
        r, n = self.rng, self.n
        messy = r.random(n) < 0.4
        opted_out = (r.random(n) < 0.25) | self.closed
        if self.start == 0:
            opted_out[6] = True
        updated = self._when(np.arange(n))
        return pa.table(
            {
                "user_id": self.user_id,
                "email": [
                    P.messy_email(r, e) if x else e for e, x in zip(self.email, messy, strict=True)
                ],
                "newsletter": ~opted_out & (r.random(n) < 0.6),
                "product_updates": ~opted_out & (r.random(n) < 0.8),
                "ads_personalization": ~opted_out & (r.random(n) < 0.5),
                "consent_source": np.array(["signup_form", "settings_page", "import"])[
                    r.integers(0, 3, n)
                ],
                "opted_out_at": _maybe_ts(updated, opted_out),
                "updated_at": _ts(updated),
            }
        )

    def _end_users(self) -> pa.Table:
        r = self.rng
        rate = np.where(self.plan == "business", 4.0, np.where(self.plan == "team", 1.5, 0.0))
        counts = r.poisson(rate)
        owner = self._repeat(counts)
        m = len(owner)
        pick = r.integers(0, self.n, m)
        also_customer = r.random(m) < 0.05  # some app end users also have their own account
        names = [
            self.pools.outsiders[(int(p) * 7 + j) % len(self.pools.outsiders)]
            for j, p in enumerate(pick)
        ]
        emails = [
            self.email[p]
            if a
            else f"{P.ascii_slug(nm.split()[0])}{j % 100}@{P.FREE_DOMAINS[j % 6]}"
            for j, (p, a, nm) in enumerate(zip(pick, also_customer, names, strict=True))
        ]
        signed = self._when(owner)
        return pa.table(
            {
                "end_user_id": _ids("eu_", self.g[owner] * 128 + np.arange(m) % 128, 29),
                "customer_id": [self.customer_id[o] for o in owner],
                "email": emails,
                "full_name": [
                    self.name[p] if a else nm
                    for p, a, nm in zip(pick, also_customer, names, strict=True)
                ],
                "phone": [P.format_phone(r, self.cc[o]) for o in owner],
                "app_plan": np.array(["basic", "pro"])[r.integers(0, 2, m)],
                "signed_up_at": _ts(signed),
                "last_seen_at": _ts(np.minimum(signed + r.integers(0, 365 * DAY, m), self.now)),
            }
        )
