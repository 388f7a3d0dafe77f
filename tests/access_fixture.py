"""A small hand-made export full of traps for access requests (people who must not leak)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CATALOG = """\
version: 1
controller:
  name: Example Ltd
  contact: privacy@example.org
  supervisory_authority: Information Commissioner's Office (UK)
recipients:
  aws: {name: AWS, kind: processor, purpose: hosting, country: IE}
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Your account.
    category: account
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    recipients: [aws]
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string}
      full_name: {personal: name, type: string}
      phone: {identity: phone, type: string}
      account_manager_id: {type: string, references: staff.staff_id}
  staff:
    path: staff.csv
    format: csv
    description: Our employees.
    category: account
    origin: provided
    purposes: [employment]
    legal_basis: contract
    source: the employee
    retention: {criteria: employment}
    erasure: {action: delete}
    columns:
      staff_id: {type: string}
      full_name: {personal: name, type: string}
      email: {identity: email, type: string}
  logins:
    path: logins.csv
    format: csv
    description: Sign-in logs.
    category: logs
    origin: observed
    purposes: [security]
    legal_basis: legitimate_interests
    source: your browser
    retention: {period: 30 days, after: ts}
    erasure: {action: delete}
    columns:
      ts: {type: string}
      ip: {personal: ip_address, type: string}
      device_id: {identity: device_id, type: string}
      user_id: {identity: user_id, type: string, references: accounts.user_id}
  prefs:
    path: prefs.jsonl
    format: jsonl
    description: Newsletter choices.
    category: marketing_preferences
    origin: provided
    purposes: [direct marketing]
    legal_basis: consent
    source: the person
    retention: {criteria: while subscribed}
    erasure: {action: delete}
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string}
      newsletter: {type: boolean}
  tickets:
    path: tickets.jsonl
    format: jsonl
    description: Support tickets.
    category: communications
    origin: provided
    purposes: [support]
    legal_basis: contract
    source: the person
    retention: {criteria: three years after the ticket is closed}
    erasure: {action: pseudonymize, columns: [body]}
    columns:
      ticket_id: {type: string}
      user_id: {identity: user_id, type: string}
      body: {free_text: true, type: string}
      assigned_to: {type: string, references: staff.staff_id}
  integrations:
    path: integrations.parquet
    format: parquet
    description: Connected apps.
    category: credentials
    origin: provided
    purposes: [run integrations]
    legal_basis: contract
    source: the person
    retention: {criteria: until removed}
    erasure: {action: delete}
    columns:
      user_id: {identity: user_id}
      provider: {}
      access_token: {secret: true}
  end_users:
    path: end_users.csv
    format: csv
    description: End users of our customers' apps.
    role: processor
    held_for: customer_id
    category: account
    origin: provided
    purposes: [provide the service to our customer]
    legal_basis: contract
    source: our customer
    retention: {criteria: as our customer instructs}
    erasure: {action: delete}
    columns:
      end_user_id: {type: string}
      customer_id: {type: string}
      email: {identity: email, type: string}
"""

ACCOUNTS = """\
user_id,email,full_name,phone,account_manager_id
u1,ann@example.com,Ann Lee,+44 7700 900001,stf1
u2,joann@example.com,Jo Ann Baker,+44 7700 900002,stf1
u3,bob@example.com,Bob Marsh,+44 7700 900003,stf1
u4,cara@example.com,Cara Diaz,,stf2
"""
STAFF = """\
staff_id,full_name,email
stf1,Sam Agent,sam@ourco.io
stf2,Kim Agent,kim@ourco.io
"""
# Row comments: 1 Ann; 2 Bob behind Ann's IP; 3 anonymous on Ann's own device; 4-6 a family
# laptop used by Ann and Bob (6 is anonymous: neither's alone); 7 empty ids; 8 a stranger;
# 9 an empty user id on Ann's own device.
LOGINS = """\
ts,ip,device_id,user_id
2026-11-01 10:00:00,10.0.0.1,d_ann,u1
2026-11-01 10:05:00,10.0.0.1,d_bob,u3
2026-11-02 09:00:00,10.0.0.9,d_ann,
2026-11-03 20:00:00,10.0.0.9,d_fam,u1
2026-11-03 21:00:00,10.0.0.9,d_fam,u3
2026-11-04 08:00:00,10.0.0.9,d_fam,
2026-11-04 08:30:00,10.0.0.1,,
2026-11-05 12:00:00,10.0.0.1,d_x,
2026-11-06 12:00:00,10.0.0.2,d_ann,""
"""
PREFS = [
    {"user_id": "u1", "email": " ANN@Example.COM ", "newsletter": True},
    {"user_id": "u2", "email": "joann@example.com", "newsletter": True},
    {"user_id": None, "email": "ann@example.com ", "newsletter": False},
    {"user_id": "u3", "email": "bob@example.com", "newsletter": False},
]
TICKETS = [
    {
        "ticket_id": "t1",
        "user_id": "u1",
        "assigned_to": "stf1",
        "body": "Please add Bob Marsh (bob@example.com, +44 7700 900003) to our team. "
        "Call me on +44 7700 900001. Thanks, Ann Lee",
    },
    {
        "ticket_id": "t2",
        "user_id": "u3",
        "assigned_to": "stf1",
        "body": "Bob here, Ann Lee asked me to write about ann@example.com.",
    },
]
END_USERS = """\
end_user_id,customer_id,email
e1,cus_9,ann@example.com
e2,cus_9,zed@example.com
"""


def write_access_fixture(root: Path) -> Path:
    """Write the trap export and its catalog under `root`; return the catalog path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (root / "staff.csv").write_text(STAFF, encoding="utf-8")
    (root / "logins.csv").write_text(LOGINS, encoding="utf-8")
    (root / "end_users.csv").write_text(END_USERS, encoding="utf-8")
    (root / "prefs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PREFS), "utf-8")
    (root / "tickets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in TICKETS), "utf-8")
    pq.write_table(
        pa.table(
            {
                "user_id": ["u1", "u3"],
                "provider": ["slack", "hubspot"],
                "access_token": ["xoxb-1111-2222-abcdefghij", "pat-eu1-0000-ffff-9999"],
            }
        ),
        root / "integrations.parquet",
    )
    path = root / "catalog.yml"
    path.write_text(CATALOG, encoding="utf-8")
    return path
