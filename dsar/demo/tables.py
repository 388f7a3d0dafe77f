"""The demo's table builders: each turns one slice of users into that table's rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dsar.demo import pools as P
from dsar.demo.people import (
    DAY,
    STAFF,
    Chunk,
    hex_tokens,
    maybe_timestamps,
    mix,
    stable_ids,
    timestamps,
)


def build_tables(chunk: Chunk) -> dict[str, pa.Table]:
    """Every table's rows for one slice of users (in this order: it fixes the random draws)."""
    return {
        "accounts": accounts(chunk),
        "google_profiles": google(chunk),
        "invoices": invoices(chunk),
        "integrations": integrations(chunk),
        "support_tickets": tickets(chunk),
        "web_logs": logs(chunk),
        "usage_events": events(chunk),
        "marketing_preferences": marketing(chunk),
        "app_end_users": end_users(chunk),
    }


def accounts(chunk: Chunk) -> pa.Table:
    r, n = chunk.rng, chunk.n
    pw = np.array(hex_tokens(r, n, 52))
    manager = np.where(chunk.plan == "business", r.integers(0, STAFF, n), -1)
    return pa.table(
        {
            "user_id": chunk.user_id,
            "customer_id": chunk.customer_id,
            "email": chunk.email,
            "full_name": chunk.name,
            "phone": chunk.phone,
            "company": [
                chunk.pools.companies[c] if b else None
                for c, b in zip(chunk.company, chunk.business, strict=True)
            ],
            "country": chunk.cc,
            "city": [
                chunk.pools.cities[c][i]
                for c, i in zip(chunk.cc, r.integers(0, 60, n), strict=True)
            ],
            "plan": chunk.plan,
            "signup_method": np.where(chunk.google, "google", "password"),
            "password_hash": pa.array(["$2b$12$" + p for p in pw], mask=chunk.google),
            "account_manager_id": pa.array([f"stf_{m:03d}" for m in manager], mask=manager < 0),
            "status": np.where(chunk.closed, "closed", "active"),
            "created_at": timestamps(chunk.created),
            "closed_at": maybe_timestamps(chunk.closed_at, chunk.closed),
            "last_login_at": timestamps(chunk.when(np.arange(n), back=60 * DAY)),
        }
    )


def google(chunk: Chunk) -> pa.Table:
    idx = np.flatnonzero(chunk.google)
    r = chunk.rng
    emails = []
    for i in idx:
        e = chunk.email[i]
        local, _, dom = e.partition("@")
        emails.append(
            P.gmail_dot_variant(r, local) + "@" + dom
            if dom == "gmail.com" and r.random() < 0.5
            else e
        )
    locale = {"US": "en", "GB": "en-GB", "DE": "de", "FR": "fr", "NL": "nl"}
    return pa.table(
        {
            "google_sub": [str(10**20 + v) for v in mix(chunk.g[idx], 41)],
            "user_id": [chunk.user_id[i] for i in idx],
            "email": emails,
            "given_name": [chunk.first[i] for i in idx],
            "family_name": [chunk.last[i] for i in idx],
            "picture_url": [
                "https://lh3.googleusercontent.com/a/" + t for t in hex_tokens(r, len(idx), 28)
            ],
            "locale": [locale[chunk.cc[i]] for i in idx],
            "email_verified": np.ones(len(idx), dtype=bool),
            "linked_at": timestamps(chunk.created[idx]),
        }
    )


def invoices(chunk: Chunk) -> pa.Table:
    r = chunk.rng
    paying = chunk.plan != "free"
    months = (chunk.end - chunk.created) // (30 * DAY)
    counts = np.where(paying, np.minimum(months, 1 + r.poisson(10, chunk.n)), 0)
    owner = chunk.repeat(counts)
    seq = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    # spread over each customer's paying life (longer billing periods for long-lived
    # accounts), so an old customer has invoices both past the 7-year retention and within it
    step = np.maximum(1, months // np.maximum(counts, 1))
    issued = chunk.created[owner] + (seq + 1) * step[owner] * 30 * DAY
    price = np.where(chunk.plan[owner] == "team", 2900, 9900) * (1 + r.poisson(2, len(owner)))
    currency = {"US": "USD", "GB": "GBP"}
    eu = np.array([chunk.cc[o] in ("DE", "FR", "NL") and chunk.business[o] for o in owner])
    messy = r.random(len(owner)) < 0.2
    return pa.table(
        {
            "invoice_id": stable_ids("in_", chunk.g[owner] * 512 + seq, 23),
            "customer_id": [chunk.customer_id[o] for o in owner],
            "billing_email": [
                P.messy_email(r, chunk.email[o]) if m else chunk.email[o]
                for o, m in zip(owner, messy, strict=True)
            ],
            "billing_name": [chunk.name[o] for o in owner],
            "billing_address": [
                f"{chunk.pools.streets[chunk.cc[o]][(chunk.g[o] * 31) % 400]}, "
                f"{chunk.pools.cities[chunk.cc[o]][chunk.g[o] % 60]}"
                for o in owner
            ],
            "vat_id": pa.array(
                [f"{chunk.cc[o]}{(chunk.g[o] * 7919) % 10**9:09d}" for o in owner], mask=~eu
            ),
            "amount_cents": price,
            "currency": [currency.get(chunk.cc[o], "EUR") for o in owner],
            "card_last4": [f"{(chunk.g[o] * 37) % 10000:04d}" for o in owner],
            "status": np.where(issued > chunk.now - 30 * DAY, "open", "paid"),
            "issued_at": timestamps(issued),
        }
    )


def integrations(chunk: Chunk) -> pa.Table:
    r = chunk.rng
    counts = r.poisson(1.3, chunk.n)
    owner = chunk.repeat(counts)
    m = len(owner)
    provider = np.array(P.PROVIDERS)[r.integers(0, len(P.PROVIDERS), m)]
    created = chunk.when(owner)
    return pa.table(
        {
            "integration_id": stable_ids("int_", chunk.g[owner] * 64 + np.arange(m) % 64, 5),
            "user_id": [chunk.user_id[o] for o in owner],
            "provider": provider,
            "access_token": [
                P.TOKEN_PREFIX[p] + t for p, t in zip(provider, hex_tokens(r, m, 40), strict=True)
            ],
            "api_key": ["sk_live_" + t for t in hex_tokens(r, m, 32)],
            "scopes": np.array(["read", "read,write", "read,write,admin"])[r.integers(0, 3, m)],
            "status": np.where(chunk.closed[owner], "revoked", "active"),
            "created_at": timestamps(created),
            "last_sync_at": timestamps(
                np.minimum(created + r.integers(0, 90 * DAY, m), chunk.end[owner])
            ),
        }
    )


def tickets(chunk: Chunk) -> pa.Table:
    r = chunk.rng
    counts = np.minimum(r.poisson(0.6, chunk.n), 5)
    counts[:7] = np.maximum(counts[:7], 2) if chunk.start == 0 else counts[:7]
    owner = chunk.repeat(counts)
    m = len(owner)
    other = r.integers(0, chunk.n, m)
    outsider = r.random(m) < 0.5
    subjects, bodies = [], []
    for j, (o, x) in enumerate(zip(owner, other, strict=True)):
        if outsider[j]:
            name = chunk.pools.outsiders[int(x) % len(chunk.pools.outsiders)]
            parts = name.split()
            oemail = f"{P.ascii_slug(parts[0])}.{P.ascii_slug(parts[-1])}@{chunk.domain[o]}"
            ophone = P.format_phone(r, chunk.cc[o])
        else:
            name, oemail = chunk.name[x], chunk.email[x]
            ophone = chunk.phone[x] or P.format_phone(r, chunk.cc[x])
        provider = P.PROVIDERS[int(x) % len(P.PROVIDERS)]
        fields = {
            "other_name": name,
            "other_email": oemail,
            "other_phone": ophone,
            "own_phone": chunk.phone[o] or P.format_phone(r, chunk.cc[o]),
            "own_name": chunk.name[o],
            "own_email": chunk.email[o],
            "provider": provider,
        }
        subjects.append(P.TICKET_SUBJECTS[r.integers(0, len(P.TICKET_SUBJECTS))].format(**fields))
        bodies.append(P.TICKET_BODIES[r.integers(0, len(P.TICKET_BODIES))].format(**fields))
    messy = r.random(m) < 0.4
    return pa.table(
        {
            "ticket_id": [f"T-{v}" for v in (chunk.g[owner] * 8 + np.arange(m) % 8).tolist()],
            "user_id": [chunk.user_id[o] for o in owner],
            "requester_email": [
                P.messy_email(r, chunk.email[o]) if x else chunk.email[o]
                for o, x in zip(owner, messy, strict=True)
            ],
            "subject": subjects,
            "body": bodies,
            "assigned_to": [f"stf_{v:03d}" for v in r.integers(0, STAFF, m)],
            "status": np.array(["open", "pending", "solved", "closed"])[r.integers(0, 4, m)],
            "channel": np.array(["email", "web", "chat"])[r.integers(0, 3, m)],
            "created_at": timestamps(chunk.when(owner)),
        }
    )


def logs(chunk: Chunk) -> pa.Table:
    r = chunk.rng
    counts = np.where(chunk.closed, r.poisson(2, chunk.n), r.poisson(7, chunk.n))
    owner = chunk.repeat(counts)
    m = len(owner)
    k = (r.random(m) * chunk.n_dev[owner]).astype(np.int64)
    anonymous = r.random(m) < 0.2
    if chunk.start == 0 and counts[1]:
        # planted: someone used the family laptop of users 1 and 2 without signing in
        k[counts[0]], anonymous[counts[0]] = 0, True
    device = stable_ids("dev_", chunk.device_keys(owner, k), 3)
    office = chunk.business[owner] & (r.random(m) < 0.6)
    ip = [
        f"203.0.{c % 256}.{c // 256 % 254 + 1}" if off else chunk.home_ip[o]
        for o, c, off in zip(owner, chunk.company[owner], office, strict=True)
    ]
    path_idx = np.where(anonymous, r.choice([0, 1, 14, 15], m), r.integers(0, 17, m))
    paths = np.array(P.PATHS)[path_idx]
    flow = [p.replace("{id}", f"f{(o * 13 + 5) % 9000}") for p, o in zip(paths, owner, strict=True)]
    status = r.choice([200, 200, 200, 200, 302, 304, 404, 500], m)
    ua_idx = (chunk.device_keys(owner, k) * 7) % len(chunk.pools.user_agents)
    return pa.table(
        {
            "ts": timestamps(chunk.now - r.integers(0, 90 * DAY, m)),
            "ip": ip,
            "device_id": device,
            "user_id": pa.array([chunk.user_id[o] for o in owner], mask=anonymous),
            "method": np.where(r.random(m) < 0.8, "GET", "POST"),
            "path": flow,
            "status": status,
            "bytes": r.integers(200, 90_000, m),
            "user_agent": chunk.pools.user_agents[ua_idx],
        }
    )


def events(chunk: Chunk) -> pa.Table:
    r = chunk.rng
    counts = r.poisson(5, chunk.n)
    owner = chunk.repeat(counts)
    m = len(owner)
    act = r.integers(0, len(P.ACTIONS), m)
    other = r.integers(0, chunk.n, m)
    objects = []
    for a, o, x in zip(act, owner, other, strict=True):
        kind = P.ACTIONS[a][1]
        objects.append(
            chunk.user_id[x]
            if P.ACTIONS[a][0] == "invite_member"
            else chunk.user_id[o]
            if kind == "user"
            else f"{kind[:3]}_{(chunk.g[o] * 17 + x) % 100_000:05d}"
        )
    k = (r.random(m) * chunk.n_dev[owner]).astype(np.int64)
    return pa.table(
        {
            "event_id": stable_ids("evt_", chunk.g[owner] * 256 + np.arange(m) % 256, 17),
            "ts": timestamps(chunk.when(owner, back=2 * 365 * DAY)),
            "user_id": [chunk.user_id[o] for o in owner],
            "device_id": stable_ids("dev_", chunk.device_keys(owner, k), 3),
            "action": [P.ACTIONS[a][0] for a in act],
            "object_type": [P.ACTIONS[a][1] for a in act],
            "object_id": objects,
        }
    )


def marketing(chunk: Chunk) -> pa.Table:
    r, n = chunk.rng, chunk.n
    messy = r.random(n) < 0.4
    opted_out = (r.random(n) < 0.25) | chunk.closed
    if chunk.start == 0:
        opted_out[6] = True
    updated = chunk.when(np.arange(n))
    return pa.table(
        {
            "user_id": chunk.user_id,
            "email": [
                P.messy_email(r, e) if x else e for e, x in zip(chunk.email, messy, strict=True)
            ],
            "newsletter": ~opted_out & (r.random(n) < 0.6),
            "product_updates": ~opted_out & (r.random(n) < 0.8),
            "ads_personalization": ~opted_out & (r.random(n) < 0.5),
            "consent_source": np.array(["signup_form", "settings_page", "import"])[
                r.integers(0, 3, n)
            ],
            "opted_out_at": maybe_timestamps(updated, opted_out),
            "updated_at": timestamps(updated),
        }
    )


def end_users(chunk: Chunk) -> pa.Table:
    r = chunk.rng
    rate = np.where(chunk.plan == "business", 4.0, np.where(chunk.plan == "team", 1.5, 0.0))
    counts = r.poisson(rate)
    owner = chunk.repeat(counts)
    m = len(owner)
    pick = r.integers(0, chunk.n, m)
    also_customer = r.random(m) < 0.05  # some app end users also have their own account
    names = [
        chunk.pools.outsiders[(int(p) * 7 + j) % len(chunk.pools.outsiders)]
        for j, p in enumerate(pick)
    ]
    emails = [
        chunk.email[p] if a else f"{P.ascii_slug(nm.split()[0])}{j % 100}@{P.FREE_DOMAINS[j % 6]}"
        for j, (p, a, nm) in enumerate(zip(pick, also_customer, names, strict=True))
    ]
    signed = chunk.when(owner)
    return pa.table(
        {
            "end_user_id": stable_ids("eu_", chunk.g[owner] * 128 + np.arange(m) % 128, 29),
            "customer_id": [chunk.customer_id[o] for o in owner],
            "email": emails,
            "full_name": [
                chunk.name[p] if a else nm
                for p, a, nm in zip(pick, also_customer, names, strict=True)
            ],
            "phone": [P.format_phone(r, chunk.cc[o]) for o in owner],
            "app_plan": np.array(["basic", "pro"])[r.integers(0, 2, m)],
            "signed_up_at": timestamps(signed),
            "last_seen_at": timestamps(np.minimum(signed + r.integers(0, 365 * DAY, m), chunk.now)),
        }
    )
