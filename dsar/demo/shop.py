"""A second demo, unlike the first: an online music shop with integer keys everywhere.

Customers, staff (a support rep per customer, people of their own), invoices, invoice lines
owned through their invoice, notes owned through a line, and two reference tables (tracks,
genres) with no personal data. Customer 1, staff member 1, invoice 1, line 1 and track 1
all exist: a catalog that confuses one kind of key with another hands rows to the wrong
person, which is what this schema is for. Deterministic by seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from dsar.catalog.models import FileFormat
from dsar.demo.writers import TableSink
from dsar.errors import UsageError
from dsar.io import atomic_write_text

STAFF = 8
TRACKS = 400
GENRES = ("Rock", "Jazz", "Metal", "Alternative", "Blues", "Latin", "Classical", "Pop")
FIRST = ("Luís", "Leonie", "François", "Bjørn", "Daan", "Kara", "Eduardo", "Alexandre",
         "Roberto", "Jennifer", "Frank", "Jack", "Michelle", "Tim", "Dan", "Kathy", "Puja",
         "Hugh", "Ladislav", "Hannah", "Niamh", "Thi Mai", "Siobhán", "Aoife")  # fmt: skip
LAST = ("Gonçalves", "Köhler", "Tremblay", "Hansen", "Peeters", "Nielsen", "Martins",
        "Rocha", "Almeida", "Peterson", "Harris", "Smith", "Brooks", "Goyer", "Miller",
        "Chase", "Srivastava", "O'Reilly", "Kovács", "Nguyen", "Ní Bhriain", "Murphy")  # fmt: skip
NOTES = ("gift, please wrap", "refund asked", "late delivery", "wrong track", "resend link")

CATALOG = """\
# The music shop demo (dsar demo --schema shop): keys of different things collide.
version: 1
controller:
  name: Chinook Records Ltd.
  contact: privacy@chinook.example
  supervisory_authority: ICO (United Kingdom)
  automated_decisions: No decisions are made solely by automated means.
recipients:
  payments: {name: Adyen N.V., kind: processor, purpose: card payments, country: NL}
tables:
  customers:
    path: customers.csv
    format: csv
    description: Your customer account.
    category: account
    origin: provided
    purposes: [sell music, customer support]
    legal_basis: contract
    source: you
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [CustomerId]
    columns:
      CustomerId: {identity: customer_id, type: integer}
      Email: {identity: email, type: string}
      FirstName: {personal: name, type: string}
      LastName: {personal: name, type: string}
      Phone: {identity: phone, type: string}
      Country: {type: string}
      SupportRepId: {type: integer, references: staff.StaffId}
  staff:
    path: staff.csv
    format: csv
    description: Our employees.
    category: account
    origin: provided
    purposes: [employment]
    legal_basis: contract
    source: you
    retention: {period: 7 years, after: LeftAt}
    erasure:
      {action: retain, legal_basis: legal_obligation, reason: employment law, retain_for: 7 years}
    primary_key: [StaffId]
    columns:
      StaffId: {identity: user_id, type: integer}
      Email: {identity: email, type: string}
      FirstName: {personal: name, type: string}
      LastName: {personal: name, type: string}
      HiredAt: {type: date}
      LeftAt: {type: date}
  invoices:
    path: invoices.parquet
    format: parquet
    description: Your invoices.
    category: billing
    origin: provided
    purposes: [billing, tax obligations]
    legal_basis: legal_obligation
    recipients: [payments]
    source: you
    retention: {period: 7 years, after: InvoiceDate}
    erasure:
      action: retain
      legal_basis: legal_obligation
      reason: tax law requires 7 years
      retain_for: 7 years
    primary_key: [InvoiceId]
    columns:
      InvoiceId: {}
      CustomerId: {identity: customer_id, references: customers.CustomerId}
      InvoiceDate: {}
      BillingAddress: {personal: address}
      Total: {}
  invoice_lines:
    path: invoice_lines.parquet
    format: parquet
    description: The lines of your invoices.
    category: billing
    origin: provided
    purposes: [billing]
    legal_basis: contract
    source: you
    retention: {criteria: as long as the invoice}
    erasure: {action: delete}
    primary_key: [InvoiceLineId]
    owned_through: {column: InvoiceId, parent: invoices.InvoiceId}
    columns:
      InvoiceLineId: {}
      InvoiceId: {}
      TrackId: {references: tracks.TrackId}
      UnitPrice: {}
      Quantity: {}
  line_notes:
    path: line_notes.jsonl
    format: jsonl
    description: Notes on your invoice lines.
    category: communications
    origin: provided
    purposes: [customer support]
    legal_basis: contract
    source: you and our support team
    retention: {criteria: as long as the line}
    erasure: {action: delete}
    primary_key: [NoteId]
    owned_through: {column: InvoiceLineId, parent: invoice_lines.InvoiceLineId}
    columns:
      NoteId: {type: integer}
      InvoiceLineId: {type: integer}
      Note: {type: string}
  tracks:
    path: tracks.csv
    format: csv
    description: Our catalogue of tracks.
    personal: false
    columns:
      TrackId: {type: integer}
      Name: {type: string}
      GenreId: {type: integer, references: genres.GenreId}
      UnitPrice: {type: decimal}
  genres:
    path: genres.csv
    format: csv
    description: Music genres.
    personal: false
    columns:
      GenreId: {type: integer}
      Name: {type: string}
"""


@dataclass(frozen=True)
class ShopExport:
    """What `generate_shop` wrote."""

    root: Path
    catalog_path: Path
    seed: int
    customers: int
    as_of: date
    rows: dict[str, int]
    subject_email: str


def generate_shop(
    out: str | Path, customers: int = 500, seed: int = 7, as_of: date | None = None
) -> ShopExport:
    """Write the music shop export and its catalog to `out`; the same arguments give the
    same files. The demo person is customer 1.

    Examples:
        >>> shop = generate_shop("shop-export", customers=500)  # doctest: +SKIP
    """
    if customers < 2:
        raise UsageError(
            "customers",
            f"the shop needs at least 2 customers (got {customers})",
            "give 2 or more",
        )
    as_of = as_of or datetime.now(UTC).date()
    rng = np.random.default_rng(seed)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    ids = np.arange(1, customers + 1)
    first = rng.choice(FIRST, customers)
    last = rng.choice(LAST, customers)
    emails = [
        f"{_ascii(f)}.{_ascii(s)}{i}@example.{'com' if i % 3 else 'org'}"
        for i, f, s in zip(ids, first, last, strict=True)
    ]
    tables: dict[str, pa.Table] = {
        "customers": pa.table(
            {
                "CustomerId": ids,
                "Email": emails,
                "FirstName": first,
                "LastName": last,
                "Phone": [f"+44 7700 {900000 + int(i):06d}" for i in ids],
                "Country": rng.choice(["GB", "DE", "FR", "BR", "NL", "IE"], customers),
                "SupportRepId": rng.integers(1, STAFF + 1, customers),
            }
        ),
        "staff": pa.table(
            {
                "StaffId": np.arange(1, STAFF + 1),
                "Email": [f"staff{i}@chinook.example" for i in range(1, STAFF + 1)],
                "FirstName": rng.choice(FIRST, STAFF),
                "LastName": rng.choice(LAST, STAFF),
                "HiredAt": [as_of - timedelta(days=int(d)) for d in rng.integers(800, 6000, STAFF)],
                "LeftAt": [
                    None if i % 3 else as_of - timedelta(days=int(rng.integers(30, 4000)))
                    for i in range(STAFF)
                ],
            }
        ),
    }
    per_customer = rng.poisson(4, customers)
    owner = np.repeat(ids, per_customer)
    n = len(owner)
    invoice_ids = np.arange(1, n + 1)
    tables["invoices"] = pa.table(
        {
            "InvoiceId": invoice_ids,
            "CustomerId": owner,
            "InvoiceDate": [
                as_of - timedelta(days=int(d)) for d in rng.integers(1, 3650, len(owner))
            ],
            "BillingAddress": [
                f"{int(n)} {s} Street"
                for n, s in zip(
                    rng.integers(1, 300, len(owner)), rng.choice(LAST, len(owner)), strict=True
                )
            ],
            "Total": np.round(rng.uniform(0.99, 25, n), 2),
        }
    )
    per_invoice = rng.integers(1, 6, n)
    line_invoice = np.repeat(invoice_ids, per_invoice)
    line_ids = np.arange(1, len(line_invoice) + 1)
    tables["invoice_lines"] = pa.table(
        {
            "InvoiceLineId": line_ids,
            "InvoiceId": line_invoice,
            "TrackId": rng.integers(1, TRACKS + 1, len(line_invoice)),
            "UnitPrice": rng.choice([0.99, 1.99], len(line_invoice)),
            "Quantity": np.ones(len(line_invoice), dtype=np.int64),
        }
    )
    noted = np.sort(rng.choice(line_ids, size=max(1, len(line_ids) // 10), replace=False))
    tables["line_notes"] = pa.table(
        {
            "NoteId": np.arange(1, len(noted) + 1),
            "InvoiceLineId": noted,
            "Note": rng.choice(NOTES, len(noted)),
        }
    )
    tables["tracks"] = pa.table(
        {
            "TrackId": np.arange(1, TRACKS + 1),
            "Name": [f"Track {i}" for i in range(1, TRACKS + 1)],
            "GenreId": rng.integers(1, len(GENRES) + 1, TRACKS),
            "UnitPrice": rng.choice([0.99, 1.99], TRACKS),
        }
    )
    tables["genres"] = pa.table({"GenreId": np.arange(1, len(GENRES) + 1), "Name": list(GENRES)})
    for name, table in tables.items():
        _write(root, name, table)
    catalog_path = root / "catalog.yml"
    atomic_write_text(catalog_path, CATALOG)
    rows = {name: t.num_rows for name, t in tables.items()}
    meta = {"schema": "shop", "seed": seed, "as_of": as_of.isoformat(), "rows": rows,
            "subject": {"email": emails[0], "customer_id": 1}}  # fmt: skip
    atomic_write_text(root / "demo.json", json.dumps(meta, indent=2) + "\n")
    return ShopExport(root, catalog_path, seed, customers, as_of, rows, emails[0])


def _ascii(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


_FORMATS = {
    "invoices": FileFormat.PARQUET,
    "invoice_lines": FileFormat.PARQUET,
    "line_notes": FileFormat.JSONL,
}  # fmt: skip; every other table: CSV


def _write(root: Path, name: str, table: pa.Table) -> None:
    """One table, written atomically by the first demo's writer (temporary name, rename)."""
    fmt = _FORMATS.get(name, FileFormat.CSV)
    sink = TableSink(root / f"{name}.{fmt.value}", fmt, table.schema)
    try:
        sink.write(table)
        sink.close()
    except BaseException:
        sink.abort()
        raise
