"""Generated support texts, each one different: for timing free text without repetition.

The demo's tickets are filled-in templates, and a labelled set is small enough to be timed
again and again; here every text is new and so are nearly all of its sentences: a greeting,
one to four sentences drawn from many shapes (account questions, refunds with card numbers
and IBANs, chat lines, forwarded mail, signatures) and a sign-off, with names, addresses,
phones, IDs, companies and places from Faker in ten locales. Nothing here is a sealed set's
text; the shapes are the ones the open sets and the issue name.

    from varied_texts import varied_texts
    texts = varied_texts(2000, seed=1)
"""

from __future__ import annotations

import random
from collections.abc import Callable

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_BR", "sv_SE"]

GREETINGS = [
    "Hi {first},",
    "Hello {first} {last},",
    "Dear {title} {last},",
    "hey {first_lower}",
    "Good morning,",
    "{first}:",
    "Hallo {first},",
    "Bonjour {first},",
    "Hola {first},",
    "",
    "",
]
SENTENCES = [
    "I can't log in since {weekday}; my account is {email}.",
    "Please call me back on {phone} after {hour}.",
    "The invoice {invoice} was charged twice to my card {card}.",
    "Refund to IBAN {iban}, account holder {name}.",
    "Our server at {ip} keeps timing out when {first2} tries to sync.",
    "{name} from {company} asked about the {product} plan for {count} seats.",
    "I moved to {city}, my new address is {street}.",
    "Spoke with {name} ({job}) about {bs}.",
    "My colleague {name} will take over from {weekday}; reach them at {email2}.",
    "An SSN, {ssn}, was typed into the notes field by mistake.",
    "Ticket {ticket}: {catch} stopped working after the update to {version}.",
    "Order {order} arrived damaged, photos attached ({count} files).",
    "Can you change the billing contact to {name}, {phone}?",
    "[{time}] {first2}: {short}",
    "forwarded by {first_lower} {last_lower} on {date}",
    "{first2} said the export from {city} is missing {count} rows since {date}.",
    "We are a {size} team at {company} in {city}; {name} signs the contract.",
    "Is there a discount for {company}? We pay {amount} a month now.",
    "The webhook from {ip} fails with error {code}; {email} gets the alerts.",
    "Meeting with {name} and {name2} moved to {date} at {hour}.",
    "Password reset mails go to {email}, but {first2} never gets them.",
    "Our {product} workspace {workspace} shows {count} users, we have {count2}.",
    "Please delete everything you hold about me ({email}), as GDPR allows.",
    "IT says the VPN gateway is {ip6}; {first2} can reach it, I can't.",
    "{short}",
]
SIGN_OFFS = [
    "Thanks,\n{first}",
    "Best regards,\n{name}",
    "Cheers, {first}",
    "-- \n{name}\n{job}, {company}\n{phone}",
    "Danke, {first}",
    "Merci, {name}",
    "",
    "",
]


def varied_texts(n: int, seed: int) -> list[str]:
    """`n` distinct texts, the same for the same seed."""
    from faker import Faker

    fake = Faker(LOCALES)
    fake.seed_instance(seed)
    rnd = random.Random(seed)

    def pick(options: list[str]) -> str:
        return options[rnd.randrange(len(options))]

    slots: dict[str, Callable[[], str]] = {
        "email": fake.email,
        "email2": fake.free_email,
        "phone": fake.phone_number,
        "invoice": lambda: f"INV-{rnd.randrange(10**6):06d}",
        "card": fake.credit_card_number,
        "iban": fake.iban,
        "ip": fake.ipv4,
        "ip6": fake.ipv6,
        "company": fake.company,
        "product": lambda: pick(["Starter", "Team", "Business", "Enterprise", "Pro"]),
        "count": lambda: str(rnd.randrange(2, 500)),
        "count2": lambda: str(rnd.randrange(2, 500)),
        "city": fake.city,
        "street": fake.street_address,
        "job": fake.job,
        "bs": lambda: fake["en_US"].bs(),
        "catch": lambda: fake["en_US"].catch_phrase(),
        "ssn": lambda: fake["en_US"].ssn(),
        "ticket": lambda: f"#{rnd.randrange(10**5, 10**6)}",
        "order": lambda: f"{rnd.randrange(10**7, 10**8)}",
        "version": lambda: f"{rnd.randrange(1, 9)}.{rnd.randrange(20)}.{rnd.randrange(50)}",
        "weekday": fake.day_of_week,
        "hour": lambda: f"{rnd.randrange(8, 19)}:{pick(['00', '15', '30', '45'])}",
        "time": lambda: f"{rnd.randrange(24):02d}:{rnd.randrange(60):02d}",
        "date": lambda: fake.date_this_year().isoformat(),
        "short": lambda: fake["en_US"].sentence(nb_words=rnd.randrange(4, 12)),
        "size": lambda: pick(["small", "growing", "remote", "two-person", "large"]),
        "amount": lambda: f"{pick(['€', '$', '£'])}{rnd.randrange(10, 5000)}",
        "code": lambda: str(rnd.choice([400, 401, 403, 404, 409, 429, 500, 502, 503])),
        "workspace": lambda: fake.user_name(),
        "title": lambda: pick(["Mr", "Ms", "Dr", "Mrs", "Herr", "Frau", "Mme"]),
    }
    texts: list[str] = []
    seen: set[str] = set()
    while len(texts) < n:
        first, last = fake.first_name(), fake.last_name()
        values = {key: make() for key, make in slots.items()}
        values |= {
            "first": first,
            "last": last,
            "first_lower": first.lower(),
            "last_lower": last.lower(),
            "name": fake.name(),
            "name2": fake.name(),
            "first2": fake.first_name(),
        }
        parts = [pick(GREETINGS)]
        parts += rnd.sample(SENTENCES, rnd.randrange(1, 5))
        parts.append(pick(SIGN_OFFS))
        text = "\n".join(p for p in parts if p).format(**values)
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return texts
