"""A synthetic Northwind: the public sample database's 14 tables and columns, its cardinalities
and value shapes, with every value generated (Faker, fixed seed), written as CSV with the
hand-written catalog a person would give it.

What makes it hard for a drafted data map, as the real one does: two people tables with no
email (customers with text keys like 'ALFKI', found by their phones; employees with integer
keys) and an order that links to both (the customer whose order it is, the employee who took
it); an employee's manager in the same table (reports_to); business contacts' names and
phones at suppliers; short descriptive texts in the reference tables; an integer territory
key that reads as a zip code; an Irish customer with no postal code; two tables exported empty
(headers only).
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from faker import Faker
from faker.providers.address.en_US import Provider as UsAddress

SEED = 1996
CUSTOMERS = 91
ORDERLESS = 2  # customers with no order (as in Northwind)
EMPLOYEES = 9
ORDERS = 830
FIRST_ORDER = 10248
PRODUCTS = 77
SUPPLIERS = 29
SHIPPERS = ("Speedy Express", "United Package", "Federal Shipping", "Alliance Shippers",
            "Parcel Union", "Hanseatic Freight")  # fmt: skip
USED_SHIPPERS = 3  # orders ship with the first three, as in Northwind

# country -> (Faker locale, phone formats: '#' a digit)
COUNTRIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Germany": ("de_DE", ("0###-#######", "0###-######", "0##-#######")),
    "Mexico": ("es_MX", ("(5) 555-####",)),
    "UK": ("en_GB", ("(171) 555-####", "(198) 555-####")),
    "Sweden": ("sv_SE", ("0921-## ## ##", "08-### ## ##")),
    "France": ("fr_FR", ("##.##.##.##", "##.##.##.##")),
    "Spain": ("es_ES", ("(91) 555 ## ##", "(93) 203 ####")),
    "Canada": ("en_CA", ("(604) 555-####", "(514) 555-####")),
    "Argentina": ("es_AR", ("(1) 135-####", "(1) 123-####")),
    "Switzerland": ("de_CH", ("0452-######", "0897-######")),
    "Brazil": ("pt_BR", ("(11) 555-####", "(21) 555-####")),
    "Austria": ("de_AT", ("7675-####", "6562-#####")),
    "Italy": ("it_IT", ("0522-######", "011-#######")),
    "Portugal": ("pt_PT", ("(1) 354-####", "(1) 356-####")),
    "USA": ("en_US", ("(503) 555-####", "(206) 555-####", "(509) 555-####")),
    "Venezuela": ("es_CO", ("(8) 34-56-##", "(2) 283-####")),
    "Ireland": ("en_IE", ("2967 ###",)),
    "Belgium": ("fr_FR", ("(02) 201 ## ##", "(071) 23 ## ##")),
    "Norway": ("no_NO", ("07-98 ## ##",)),
    "Denmark": ("da_DK", ("31 12 ## ##", "86 21 ## ##")),
    "Finland": ("fi_FI", ("90-224 ####", "981-######")),
    "Poland": ("pl_PL", ("(26) 642-####",)),
}
CONTACT_TITLES = ("Sales Representative", "Owner", "Order Administrator", "Marketing Manager",
                  "Accounting Manager", "Sales Agent", "Sales Associate", "Sales Manager",
                  "Marketing Assistant", "Assistant Sales Agent", "Owner/Marketing Assistant",
                  "Assistant Sales Representative")  # fmt: skip
CATEGORIES = (
    ("Beverages", "Soft drinks, coffees, teas, beers, and ales"),
    ("Condiments", "Sweet and savory sauces, relishes, spreads, and seasonings"),
    ("Confections", "Desserts, candies, and sweet breads"),
    ("Dairy Products", "Cheeses"),
    ("Grains/Cereals", "Breads, crackers, pasta, and cereal"),
    ("Meat/Poultry", "Prepared meats"),
    ("Produce", "Dried fruit and bean curd"),
    ("Seafood", "Seaweed and fish"),
)
REGIONS = ("Eastern", "Western", "Northern", "Southern")
FOODS = ("Tea", "Syrup", "Seasoning", "Gumbo Mix", "Spread", "Pears", "Sauce", "Beef",
         "Ikura", "Queso", "Tofu", "Konbu", "Pavlova", "Biscuits", "Marmalade", "Scones",
         "Chocolade", "Gnocchi", "Ravioli", "Escargots", "Camembert", "Lager", "Ale", "Coffee",
         "Crab Meat", "Clam Chowder", "Herring", "Pâté", "Sausage", "Bread", "Crispbread",
         "Mozzarella", "Gorgonzola", "Mascarpone", "Geitost", "Chai", "Chang", "Licorice",
         "Cider", "Mustard", "Tarte au sucre", "Dumplings", "Tourtière", "Filo Mix")  # fmt: skip
ADJECTIVES = ("Aniseed", "Chef's", "Grandma's", "Northwoods", "Mishi", "Uncle's", "Queso",
              "Sir Rodney's", "Schoggi", "Röd", "Nord-Ost", "Gustaf's", "Alice", "Carnarvon",
              "Teatime", "Sasquatch", "Steeleye", "Inlagd", "Boston", "Singaporean", "Louisiana",
              "Original", "Jack's", "Gula", "Zaanse", "Thüringer", "Wimmers", "Rössle")  # fmt: skip
UNITS = ("10 boxes x 20 bags", "24 - 12 oz bottles", "12 - 550 ml bottles", "48 - 6 oz jars",
         "36 boxes", "12 - 8 oz jars", "18 - 500 g pkgs.", "1 kg pkg.", "10 - 500 g pkgs.",
         "24 - 250 g pkgs.", "32 - 500 g boxes", "20 - 1 kg tins", "12 - 200 ml jars")  # fmt: skip
EDUCATION = ("a BA in psychology", "a BA in English literature", "a BS in chemistry",
             "a BTS in commercial studies", "an MBA", "a Ph.D. in marketing",
             "a BA in economics")  # fmt: skip
CLUBS = ("Toastmasters International", "the Sales Management Roundtable",
         "the Society of Food Exporters", "the Chamber of Commerce")  # fmt: skip

EMPTY = {
    "customer_customer_demo": ("customer_id", "customer_type_id"),
    "customer_demographics": ("customer_type_id", "customer_desc"),
}

CATALOG = """\
# A synthetic Northwind (tests/northwind_fixture.py): the public sample database's tables and
# columns, every value generated. Two kinds of people: the customers (their contacts) and the
# employees; an order is its customer's, the employee only took it.
version: 1
controller:
  name: Northwind Traders
  contact: privacy@northwind.example
  supervisory_authority: ICO (United Kingdom)
  automated_decisions: No decisions are made solely by automated means.
tables:
  categories:
    path: categories.csv
    format: csv
    description: Product categories.
    personal: false
    columns:
      category_id: {type: integer}
      category_name: {type: string}
      description: {type: string}
      picture: {}
  customer_customer_demo:
    path: customer_customer_demo.csv
    format: csv
    description: The demographic groups a customer is placed in (exported empty).
    category: account
    origin: inferred
    purposes: [marketing analysis]
    legal_basis: legitimate_interests
    source: our marketing team
    retention: {criteria: while the customer account is open}
    erasure: {action: delete}
    columns:
      customer_id: {identity: customer_id, references: customers.customer_id}
      customer_type_id: {references: customer_demographics.customer_type_id}
  customer_demographics:
    path: customer_demographics.csv
    format: csv
    description: Demographic groups (exported empty).
    personal: false
    columns:
      customer_type_id: {}
      customer_desc: {}
  customers:
    path: customers.csv
    format: csv
    description: Your customer account and its contact person.
    category: account
    origin: provided
    purposes: [sell and deliver goods, customer service]
    legal_basis: contract
    source: you
    retention: {criteria: while the customer account is open}
    erasure: {action: delete}
    primary_key: [customer_id]
    columns:
      customer_id: {identity: customer_id, type: string}
      company_name: {type: string}
      contact_name: {personal: name, type: string}
      contact_title: {type: string}
      address: {personal: address, type: string}
      city: {type: string, category: location}
      region: {type: string}
      postal_code: {type: string}
      country: {type: string}
      phone: {identity: phone, type: string, category: contact}
      fax: {identity: phone, type: string, category: contact}
  employee_territories:
    path: employee_territories.csv
    format: csv
    description: The sales territories an employee covers.
    category: account
    origin: provided
    purposes: [employment administration]
    legal_basis: contract
    source: our sales management
    retention: {criteria: for the employment}
    erasure: {action: delete}
    columns:
      employee_id: {identity: user_id, references: employees.employee_id}
      territory_id: {references: territories.territory_id}
  employees:
    path: employees.csv
    format: csv
    description: Our employees.
    category: account
    origin: provided
    purposes: [employment administration]
    legal_basis: contract
    source: the employee
    retention: {period: 7 years, after: hire_date}
    erasure:
      {action: retain, legal_basis: legal_obligation, reason: employment law, retain_for: 7 years}
    primary_key: [employee_id]
    columns:
      employee_id: {identity: user_id, type: integer}
      last_name: {personal: name, type: string}
      first_name: {personal: name, type: string}
      title: {type: string}
      title_of_courtesy: {type: string}
      birth_date: {personal: date_of_birth, type: date}
      hire_date: {type: date}
      address: {personal: address, type: string}
      city: {type: string, category: location}
      region: {type: string}
      postal_code: {type: string}
      country: {type: string}
      home_phone: {identity: phone, type: string, category: contact}
      extension: {type: integer}
      photo: {}
      notes: {free_text: true, type: string}
      reports_to:
        type: integer
        references: employees.employee_id
        description: The employee's manager (another person, not the employee's identifier)
      photo_path: {type: string}
  order_details:
    path: order_details.csv
    format: csv
    description: The lines of your orders.
    category: billing
    origin: provided
    purposes: [sell and deliver goods]
    legal_basis: contract
    source: you
    retention: {criteria: as long as the order}
    erasure: {action: delete}
    owned_through: {column: order_id, parent: orders.order_id}
    columns:
      order_id: {type: integer}
      product_id: {type: integer, references: products.product_id}
      unit_price: {type: float}
      quantity: {type: integer}
      discount: {type: float}
  orders:
    path: orders.csv
    format: csv
    description: Your orders and where they were shipped.
    category: billing
    origin: provided
    purposes: [sell and deliver goods, accounting and tax obligations]
    legal_basis: contract
    source: you
    retention: {period: 7 years, after: order_date}
    erasure:
      {action: retain, legal_basis: legal_obligation, reason: tax law, retain_for: 7 years}
    primary_key: [order_id]
    columns:
      order_id: {type: integer}
      customer_id: {identity: customer_id, type: string, references: customers.customer_id}
      employee_id:
        type: integer
        references: employees.employee_id
        description: The employee who took the order (not the customer's identifier)
      order_date: {type: date}
      required_date: {type: date}
      shipped_date: {type: date}
      ship_via: {type: integer, references: shippers.shipper_id}
      freight: {type: float}
      ship_name: {type: string}
      ship_address: {personal: address, type: string}
      ship_city: {type: string, category: location}
      ship_region: {type: string}
      ship_postal_code: {type: string}
      ship_country: {type: string}
  products:
    path: products.csv
    format: csv
    description: Our products.
    personal: false
    columns:
      product_id: {type: integer}
      product_name: {type: string}
      supplier_id: {type: integer, references: suppliers.supplier_id}
      category_id: {type: integer, references: categories.category_id}
      quantity_per_unit: {type: string}
      unit_price: {type: float}
      units_in_stock: {type: integer}
      units_on_order: {type: integer}
      reorder_level: {type: integer}
      discontinued: {type: integer}
  region:
    path: region.csv
    format: csv
    description: Sales regions.
    personal: false
    columns:
      region_id: {type: integer}
      region_description: {type: string}
  shippers:
    path: shippers.csv
    format: csv
    description: The carriers we ship with (a company and its switchboard; no person named).
    personal: false
    columns:
      shipper_id: {type: integer}
      company_name: {type: string}
      phone: {type: string}
  suppliers:
    path: suppliers.csv
    format: csv
    description: Our suppliers and the person we deal with at each.
    category: contact
    origin: provided
    purposes: [purchasing]
    legal_basis: legitimate_interests
    source: the supplier
    retention: {criteria: while we buy from the supplier}
    erasure: {action: delete}
    primary_key: [supplier_id]
    columns:
      supplier_id: {type: integer}
      company_name: {type: string}
      contact_name: {personal: name, type: string}
      contact_title: {type: string}
      address: {type: string}
      city: {type: string}
      region: {type: string}
      postal_code: {type: string}
      country: {type: string}
      phone: {identity: phone, type: string, category: contact}
      fax: {identity: phone, type: string, category: contact}
      homepage: {type: string}
  territories:
    path: territories.csv
    format: csv
    description: Sales territories.
    personal: false
    columns:
      territory_id: {type: integer}
      territory_description: {type: string}
      region_id: {type: integer, references: region.region_id}
  us_states:
    path: us_states.csv
    format: csv
    description: The states of the USA.
    personal: false
    columns:
      state_id: {type: integer}
      state_name: {type: string}
      state_abbr: {type: string}
      state_region: {type: string}
"""


def _states() -> list[tuple[str, str]]:
    """The 50 states and the District of Columbia, with their abbreviations."""
    abbrs = [a for a in UsAddress.states_abbr if a != "DC"]
    states = list(zip(UsAddress.states, abbrs, strict=True))
    return [*states[:8], ("District of Columbia", "DC"), *states[8:]]


def _digits(rng: random.Random, pattern: str) -> str:
    return "".join(str(rng.randint(0, 9)) if c == "#" else c for c in pattern)


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


class _Writer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.rows: dict[str, int] = {}

    def __call__(self, name: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        with (self.root / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            out.writerows(("" if v is None else v for v in row) for row in rows)
        self.rows[name] = len(rows)


def write_northwind(root: Path, seed: int = SEED) -> Path:
    """Write the synthetic Northwind's 14 CSV files and its catalog under `root`; the same
    seed gives the same files. Returns the catalog's path."""
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    fake = Faker(sorted({locale for locale, _ in COUNTRIES.values()}))
    fake.seed_instance(seed)
    write = _Writer(root)

    def local(country: str) -> Any:
        return fake[COUNTRIES[country][0]]

    def phone(country: str) -> str:
        return _digits(rng, rng.choice(COUNTRIES[country][1]))

    countries = list(COUNTRIES)
    customers: list[tuple[Any, ...]] = []
    codes: set[str] = set()
    while len(customers) < CUSTOMERS:
        country = "Ireland" if len(customers) == 2 else rng.choice(countries)
        company, contact = local(country).company(), local(country).name()
        letters = "".join(c for c in (company + contact).upper() if "A" <= c <= "Z")
        code = letters[:4] + chr(ord("A") + rng.randint(0, 25))
        if code in codes:
            continue
        codes.add(code)
        customers.append(
            (
                code,
                company,
                contact,
                rng.choice(CONTACT_TITLES),
                local(country).street_address().replace("\n", " "),
                local(country).city(),
                "Co. Cork"
                if country == "Ireland"
                else rng.choice(("WA", "OR", "BC", "SP", "RJ"))
                if rng.random() < 0.3
                else None,
                None if country == "Ireland" else local(country).postcode(),
                country,
                phone(country),
                phone(country) if rng.random() < 0.6 else None,
            )
        )
    write(
        "customers",
        (
            "customer_id",
            "company_name",
            "contact_name",
            "contact_title",
            "address",
            "city",
            "region",
            "postal_code",
            "country",
            "phone",
            "fax",
        ),
        customers,
    )

    titles = ["Sales Representative"] * 6 + ["Vice President, Sales", "Sales Manager",
                                             "Inside Sales Coordinator"]  # fmt: skip
    us, uk = fake["en_US"], fake["en_GB"]
    employees: list[tuple[Any, ...]] = []
    for i in range(1, EMPLOYEES + 1):
        home = us if i <= 4 or i == 8 or i == 2 else uk
        first, last = home.first_name(), home.last_name()
        courtesy = rng.choice(("Ms.", "Mrs.", "Mr.", "Dr."))
        notes = (
            f"Education includes {rng.choice(EDUCATION)} from {home.city()} University in"
            f" {rng.randint(1960, 1990)}. {first} is a member of {rng.choice(CLUBS)}."
        )
        boss = None if i == 2 else 5 if i in (6, 7, 9) else 2
        employees.append(
            (
                i,
                last,
                first,
                titles[i - 1],
                courtesy,
                _day(rng, date(1937, 1, 1), date(1966, 12, 31)),
                _day(rng, date(1992, 4, 1), date(1994, 11, 15)),
                home.street_address().replace("\n", " "),
                home.city(),
                "WA" if home is us else None,
                home.postcode(),
                "USA" if home is us else "UK",
                phone("USA" if home is us else "UK"),
                rng.randint(100, 9999),
                None,
                notes,
                boss,
                f"http://accweb/employees/{last.lower()}.bmp",
            )
        )
    write(
        "employees",
        (
            "employee_id",
            "last_name",
            "first_name",
            "title",
            "title_of_courtesy",
            "birth_date",
            "hire_date",
            "address",
            "city",
            "region",
            "postal_code",
            "country",
            "home_phone",
            "extension",
            "photo",
            "notes",
            "reports_to",
            "photo_path",
        ),
        employees,
    )

    write(
        "categories",
        ("category_id", "category_name", "description", "picture"),
        [(i, name, text, None) for i, (name, text) in enumerate(CATEGORIES, 1)],
    )
    suppliers: list[tuple[Any, ...]] = []
    for i in range(1, SUPPLIERS + 1):
        country = rng.choice(countries)
        suppliers.append(
            (
                i,
                local(country).company(),
                local(country).name(),
                rng.choice(CONTACT_TITLES),
                local(country).street_address().replace("\n", " "),
                local(country).city(),
                None,
                local(country).postcode(),
                country,
                phone(country),
                phone(country) if rng.random() < 0.4 else None,
                f"#{local(country).company()}#http://www.{fake['en_US'].domain_name()}#"
                if rng.random() < 0.2
                else None,
            )
        )
    write(
        "suppliers",
        (
            "supplier_id",
            "company_name",
            "contact_name",
            "contact_title",
            "address",
            "city",
            "region",
            "postal_code",
            "country",
            "phone",
            "fax",
            "homepage",
        ),
        suppliers,
    )
    write(
        "shippers",
        ("shipper_id", "company_name", "phone"),
        [(i, name, phone("USA")) for i, name in enumerate(SHIPPERS, 1)],
    )
    names: set[str] = set()
    while len(names) < PRODUCTS:
        names.add(f"{rng.choice(ADJECTIVES)} {rng.choice(FOODS)}")
    prices = {i: round(rng.uniform(2.5, 263.5), 2) for i in range(1, PRODUCTS + 1)}
    write(
        "products",
        ("product_id", "product_name", "supplier_id", "category_id", "quantity_per_unit",
         "unit_price", "units_in_stock", "units_on_order", "reorder_level", "discontinued"),
        [(i, name, (i - 1) % SUPPLIERS + 1 if i <= SUPPLIERS else rng.randint(1, SUPPLIERS),
          rng.randint(1, len(CATEGORIES)), rng.choice(UNITS), prices[i], rng.randint(0, 125),
          rng.choice((0, 0, 0, 10, 40, 70)), rng.choice((0, 5, 10, 15, 25, 30)),
          int(rng.random() < 0.1))
         for i, name in enumerate(sorted(names), 1)],
    )  # fmt: skip

    write("region", ("region_id", "region_description"), list(enumerate(REGIONS, 1)))
    territories = sorted({int(us.postcode()) for _ in range(53)})
    write(
        "territories",
        ("territory_id", "territory_description", "region_id"),
        [(f"{t:05d}", us.city(), rng.randint(1, len(REGIONS))) for t in territories],
    )
    covered: list[tuple[Any, ...]] = []
    for n, t in enumerate(territories):
        covered.append((n % EMPLOYEES + 1, f"{t:05d}"))
    write("employee_territories", ("employee_id", "territory_id"), covered[:49])
    write(
        "us_states",
        ("state_id", "state_name", "state_abbr", "state_region"),
        [(i, name, abbr, rng.choice(("east", "west", "south", "midwest")))
         for i, (name, abbr) in enumerate(_states(), 1)],
    )  # fmt: skip

    buyers = [c[0] for c in customers[: CUSTOMERS - ORDERLESS]]
    weights = [rng.uniform(0.2, 3.0) for _ in buyers]
    by_code = {c[0]: c for c in customers}
    orders: list[tuple[Any, ...]] = []
    details: list[tuple[Any, ...]] = []
    first_day, last_day = date(1996, 7, 4), date(1998, 5, 6)
    for n in range(ORDERS):
        order_id = FIRST_ORDER + n
        code = buyers[n] if n < len(buyers) else rng.choices(buyers, weights)[0]
        cust = by_code[code]
        ordered = first_day + timedelta(days=n * (last_day - first_day).days // ORDERS)
        shipped = None if n > ORDERS - 22 else ordered + timedelta(days=rng.randint(1, 30))
        orders.append(
            (
                order_id,
                code,
                rng.randint(1, EMPLOYEES),
                ordered,
                ordered + timedelta(days=28),
                shipped,
                rng.randint(1, USED_SHIPPERS),
                round(rng.uniform(0.02, 1007.64), 2),
                cust[1],
                cust[4],
                cust[5],
                cust[6],
                cust[7],
                cust[8],
            )
        )
        for product in rng.sample(range(1, PRODUCTS + 1), rng.choice((1, 2, 2, 3, 3, 3, 4))):
            details.append(
                (
                    order_id,
                    product,
                    prices[product],
                    rng.randint(1, 120),
                    rng.choice((0, 0, 0, 0.05, 0.1, 0.15, 0.2, 0.25)),
                )
            )
    write(
        "orders",
        (
            "order_id",
            "customer_id",
            "employee_id",
            "order_date",
            "required_date",
            "shipped_date",
            "ship_via",
            "freight",
            "ship_name",
            "ship_address",
            "ship_city",
            "ship_region",
            "ship_postal_code",
            "ship_country",
        ),
        orders,
    )
    write(
        "order_details",
        ("order_id", "product_id", "unit_price", "quantity", "discount"),
        details,
    )
    for name, header in EMPTY.items():
        write(name, header, [])
    catalog = root / "catalog.yml"
    catalog.write_text(CATALOG, encoding="utf-8")
    return catalog
