"""The embedded demo: a realistic, deterministic export of a SaaS integration platform.

`generate(out, users=1000, seed=7)` writes accounts (CSV), Google sign-in profiles (JSON
Lines), invoices (Parquet), integrations with tokens (Parquet), support tickets (JSON Lines),
web server logs (CSV), usage events (Parquet), marketing preferences (JSON), app end users
held for customers (CSV), staff (CSV), and `catalog.yml` describing them.

`generate_shop(out, customers=500)` writes a second, different schema: an online music shop
with integer keys colliding across tables, invoice lines and notes owned through their
parent rows, and reference tables (`dsar demo --schema shop`).
"""

from __future__ import annotations

from dsar.demo.export import DemoExport, generate
from dsar.demo.schemas import SCHEMAS
from dsar.demo.shop import ShopExport, generate_shop

# the names `dsar` gives them, where "generate" alone would say too little
generate_demo = generate
generate_shop_demo = generate_shop

__all__ = [
    "SCHEMAS",
    "DemoExport",
    "ShopExport",
    "generate",
    "generate_demo",
    "generate_shop",
    "generate_shop_demo",
]
