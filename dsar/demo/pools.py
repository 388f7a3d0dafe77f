"""Value pools and messy-format helpers for the demo export (Faker once, numpy per row)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
from faker import Faker

COUNTRIES = ("US", "GB", "DE", "FR", "NL")
_LOCALES = {"US": "en_US", "GB": "en_GB", "DE": "de_DE", "FR": "fr_FR", "NL": "nl_NL"}
_DIAL = {"US": "1", "GB": "44", "DE": "49", "FR": "33", "NL": "31"}
COUNTRY_WEIGHTS = np.array([0.45, 0.2, 0.15, 0.1, 0.1])
FREE_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me")
PROVIDERS = (
    "salesforce",
    "hubspot",
    "slack",
    "google_sheets",
    "shopify",
    "stripe",
    "zendesk",
    "mailchimp",
)
TOKEN_PREFIX = {
    "salesforce": "00D",
    "hubspot": "pat-eu1-",
    "slack": "xoxb-",
    "google_sheets": "ya29.",
    "shopify": "shpat_",
    "stripe": "rk_live_",
    "zendesk": "zd_",
    "mailchimp": "mc_",
}
PATHS = (
    "/",
    "/login",
    "/logout",
    "/dashboard",
    "/flows",
    "/flows/new",
    "/flows/{id}",
    "/flows/{id}/runs",
    "/integrations",
    "/integrations/connect",
    "/settings/profile",
    "/settings/billing",
    "/settings/team",
    "/api/v1/flows",
    "/api/v1/runs",
    "/pricing",
    "/docs/getting-started",
    "/static/app.js",
    "/static/app.css",
    "/favicon.ico",
)
ACTIONS = (
    ("login", "session"),
    ("create_flow", "flow"),
    ("run_flow", "flow"),
    ("edit_flow", "flow"),
    ("delete_flow", "flow"),
    ("connect_integration", "integration"),
    ("invite_member", "user"),
    ("export_data", "workspace"),
    ("update_profile", "user"),
)
TICKET_SUBJECTS = (
    "Cannot connect {provider}",
    "Flow failing since yesterday",
    "Invoice question",
    "Please add my colleague",
    "Login problem",
    "Data export request",
    "Webhook timeouts",
    "Change the billing email",
)
# Free text that mentions other people, as real support tickets do.
TICKET_BODIES = (
    "Hi, my colleague {other_name} ({other_email}) cannot log in to our workspace. "
    "Can you check? You can reach me at {own_phone}.",
    "The {provider} sync fails every night. {other_name} set it up, call them on {other_phone} "
    "if you need details.",
    "Please send invoices to {other_email} from now on instead of me. Thanks, {own_name}",
    "Our flow stopped after {other_name} changed the {provider} password. "
    "My number is {own_phone}.",
    "I would like a copy of my data. My account email is {own_email}.",
    "Webhook calls to our endpoint time out. Nothing personal here, just logs attached.",
    "Can you add {other_name} <{other_email}> as an admin? They replace me next month.",
)
AGENT_NOTES = (
    "Escalated to tier 2.",
    "Customer confirmed the fix.",
    "Waiting for customer reply.",
    "",
)


@dataclass(frozen=True)
class Pools:
    """Faker-made values drawn once per seed; rows index into them with numpy."""

    first: dict[str, np.ndarray]
    last: dict[str, np.ndarray]
    cities: dict[str, np.ndarray]
    streets: dict[str, np.ndarray]
    companies: np.ndarray
    company_domains: np.ndarray
    company_country: np.ndarray
    user_agents: np.ndarray
    outsiders: np.ndarray  # names of people who are not customers


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only, for email local parts and domains."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def make_pools(seed: int, companies: int) -> Pools:
    """Draw the value pools; deterministic for a seed."""
    first: dict[str, np.ndarray] = {}
    last: dict[str, np.ndarray] = {}
    cities: dict[str, np.ndarray] = {}
    streets: dict[str, np.ndarray] = {}
    for i, country in enumerate(COUNTRIES):
        fake = Faker(_LOCALES[country])
        fake.seed_instance(seed * 31 + i)
        first[country] = np.array(sorted({fake.first_name() for _ in range(600)}))
        last[country] = np.array(sorted({fake.last_name() for _ in range(800)}))
        cities[country] = np.array([fake.city() for _ in range(60)])
        streets[country] = np.array([fake.street_address() for _ in range(400)])
    fake = Faker("en_US")
    fake.seed_instance(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < companies:
        name = fake.company()
        slug = ascii_slug(name)
        if slug in seen:
            name, slug = f"{name} {len(names)}", f"{slug}{len(names)}"
        seen.add(slug)
        names.append(name)
    rng = np.random.default_rng([seed, 99])
    tlds = np.array(["com", "io", "co.uk", "de", "fr", "nl"])
    domains = [f"{ascii_slug(n)}.{tlds[rng.integers(0, len(tlds))]}" for n in names]
    return Pools(
        first=first,
        last=last,
        cities=cities,
        streets=streets,
        companies=np.array(names),
        company_domains=np.array(domains),
        company_country=rng.choice(len(COUNTRIES), size=companies, p=COUNTRY_WEIGHTS),
        user_agents=np.array([fake.user_agent() for _ in range(150)]),
        outsiders=np.array([fake.name() for _ in range(500)]),
    )


def format_phone(rng: np.random.Generator, country: str) -> str:
    """A phone number in one of the formats people really type."""
    dial = _DIAL[country]
    digits = "".join(str(d) for d in rng.integers(0, 10, size=9))
    style = rng.integers(0, 4)
    if country == "US":
        area, mid, end = f"{rng.integers(201, 990)}", digits[:3], digits[3:7]
        return (
            f"+1{area}{mid}{end}",
            f"({area}) {mid}-{end}",
            f"+1 {area}-{mid}-{end}",
            f"{area}.{mid}.{end}",
        )[style]
    national = "6" + digits[:8] if country in ("FR", "NL") else "7" + digits
    return (
        f"+{dial}{national}",
        f"+{dial} {national[:3]} {national[3:]}",
        f"00{dial} {national}",
        f"0{national}",
    )[style]


def messy_email(rng: np.random.Generator, email: str) -> str:
    """The same address as people type it elsewhere: case, spaces, plus tags, gmail dots."""
    local, _, domain = email.partition("@")
    style = rng.integers(0, 5)
    if style == 0:
        return email.upper() if rng.random() < 0.3 else local.capitalize() + "@" + domain
    if style == 1:
        return (" " if rng.random() < 0.5 else "") + email + " "
    if style == 2:
        return f"{local}+{('news', 'promo', 'work', 'billing')[rng.integers(0, 4)]}@{domain}"
    if style == 3 and domain == "gmail.com":
        return gmail_dot_variant(rng, local) + "@" + domain
    return email


def gmail_dot_variant(rng: np.random.Generator, local: str) -> str:
    """Gmail ignores dots in the local part: move them around."""
    bare = local.replace(".", "")
    if len(bare) < 3:
        return bare
    cut = int(rng.integers(1, len(bare) - 1))
    return bare[:cut] + "." + bare[cut:] if "." not in local or rng.random() < 0.5 else bare
