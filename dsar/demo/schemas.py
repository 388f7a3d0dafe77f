"""The demo export's tables: file name, format and Arrow schema of each."""

from __future__ import annotations

import pyarrow as pa

from dsar.catalog.models import FileFormat

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
