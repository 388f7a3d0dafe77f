"""A small online shop, unlike the demo: integer keys that collide across tables, a support
rep among the staff, invoices, invoice lines owned through their invoice, notes owned
through a line (two levels), and a product catalogue with no personal data."""

from __future__ import annotations

from pathlib import Path

CATALOG = """\
version: 1
controller:
  name: Chinook Records Ltd.
  contact: privacy@chinook.example
  supervisory_authority: ICO (United Kingdom)
  automated_decisions: No decisions are made solely by automated means.
tables:
  customers:
    path: customers.csv
    format: csv
    description: Your customer account.
    category: account
    origin: provided
    purposes: [sell music]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [CustomerId]
    columns:
      CustomerId: {identity: customer_id, type: integer}
      Email: {identity: email, type: string}
      FirstName: {personal: name, type: string}
      SupportRepId: {type: integer, references: staff.StaffId}
  staff:
    path: staff.csv
    format: csv
    description: Our employees.
    category: account
    origin: provided
    purposes: [employment]
    legal_basis: contract
    source: the person
    retention: {period: 7 years, after: LeftAt}
    erasure: {action: retain, legal_basis: legal_obligation, reason: employment law, retain_for: 7 years}
    primary_key: [StaffId]
    columns:
      StaffId: {identity: user_id, type: integer}
      Email: {identity: email, type: string}
      HiredAt: {type: date}
      LeftAt: {type: date}
  invoices:
    path: invoices.csv
    format: csv
    description: Your invoices.
    category: billing
    origin: provided
    purposes: [billing]
    legal_basis: legal_obligation
    source: the person
    retention: {period: 7 years, after: InvoiceDate}
    erasure: {action: retain, legal_basis: legal_obligation, reason: tax law, retain_for: 7 years}
    primary_key: [InvoiceId]
    columns:
      InvoiceId: {type: integer}
      CustomerId: {identity: customer_id, type: integer, references: customers.CustomerId}
      InvoiceDate: {type: date}
      BillingAddress: {personal: address, type: string}
  invoice_lines:
    path: invoice_lines.csv
    format: csv
    description: The lines of your invoices.
    category: billing
    origin: provided
    purposes: [billing]
    legal_basis: contract
    source: the person
    retention: {criteria: as long as the invoice}
    erasure: {action: delete}
    primary_key: [InvoiceLineId]
    owned_through: {column: InvoiceId, parent: invoices.InvoiceId}
    columns:
      InvoiceLineId: {type: integer}
      InvoiceId: {type: integer}
      TrackId: {type: integer, references: tracks.TrackId}
      UnitPrice: {type: decimal}
  line_notes:
    path: line_notes.csv
    format: csv
    description: Notes on your invoice lines.
    category: communications
    origin: provided
    purposes: [customer service]
    legal_basis: contract
    source: the person
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
"""

CUSTOMERS = """\
CustomerId,Email,FirstName,SupportRepId
1,luis@example.com,Luís,1
2,leonie@example.com,Leonie,1
3,francois@example.com,François,2
"""

STAFF = """\
StaffId,Email,HiredAt,LeftAt
1,andrew@chinook.example,2002-08-14,
2,nancy@chinook.example,2002-05-01,2010-06-30
"""

INVOICES = """\
InvoiceId,CustomerId,InvoiceDate,BillingAddress
1,2,2025-01-01,Theodor-Heuss-Straße 34
2,1,2025-01-02,Av. Brigadeiro Faria Lima 2170
3,1,2025-02-03,Av. Brigadeiro Faria Lima 2170
4,3,2025-03-04,1498 rue Bélanger
"""

INVOICE_LINES = """\
InvoiceLineId,InvoiceId,TrackId,UnitPrice
1,1,2,0.99
2,1,4,0.99
3,2,6,0.99
4,2,8,0.99
5,3,10,1.99
6,4,12,0.99
"""

LINE_NOTES = """\
NoteId,InvoiceLineId,Note
1,1,gift
2,3,please wrap
3,5,refund asked
4,6,late delivery
"""

TRACKS = """\
TrackId,Name
2,Balls to the Wall
4,Restless and Wild
6,Princess of the Dawn
8,Put The Finger On You
10,Let's Get It Up
12,Inject The Venom
"""

FILES = {
    "customers.csv": CUSTOMERS,
    "staff.csv": STAFF,
    "invoices.csv": INVOICES,
    "invoice_lines.csv": INVOICE_LINES,
    "line_notes.csv": LINE_NOTES,
    "tracks.csv": TRACKS,
}


def write_shop(root: Path) -> Path:
    """Write the shop export and its catalog under `root`; return the catalog's path."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "catalog.yml").write_text(CATALOG, encoding="utf-8")
    return root / "catalog.yml"
