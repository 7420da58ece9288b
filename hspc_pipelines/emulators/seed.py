"""Deterministic, realistic HubSpot seed data: deals with their companies and contacts.

`generate_seed(n_deals, seed)` always returns the same data for the same arguments (one
`random.Random(seed)`, a fixed time anchor unless `now_ms` is given). It mixes co-sell deals
(`#AWS` in the name) with others, three pipelines (HubSpot's default one, a numeric custom one and
one with a UUID id, both with numeric stage ids), countries written as names, ISO codes and
aliases, phone numbers in several formats, and a share of junk rows (missing values, unknown
countries and industries, short descriptions) that the product must report rather than choke on.
Load it with `HubSpotEmulator.load_seed(data)` or POST `data.to_payload()` to `/_emulator/seed`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from .hubspot.pipelines import DEFAULT_STAGES
from .hubspot.properties import company_industries
from .hubspot.timeutil import iso_ms

DEFAULT_ANCHOR_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: fixed so output never depends on the clock
DAY_MS = 86_400_000

CUSTOM_PIPELINE = {
    "id": "1234567",
    "label": "Partner Co-Sell",
    "stages": [
        ["1234568", "Discovery", "0.1", False],
        ["1234569", "Solution Design", "0.3", False],
        ["1234570", "Technical Validation", "0.5", False],
        ["1234571", "Business Case", "0.7", False],
        ["1234572", "Commit", "0.9", False],
        ["1234573", "Won", "1.0", True],
        ["1234574", "Lost", "0.0", True],
    ],
}
UUID_PIPELINE = {
    "id": "75e28846-ad0d-4be2-a027-5e1da6590b98",
    "label": "Enterprise Renewals",
    "stages": [
        ["98765401", "Renewal Identified", "0.2", False],
        ["98765402", "Proposal", "0.5", False],
        ["98765403", "Negotiation", "0.8", False],
        ["98765404", "Renewed", "1.0", True],
        ["98765405", "Churned", "0.0", True],
    ],
}
DEFAULT_PIPELINE = {"id": "default", "label": "Sales Pipeline", "stages": [list(s) for s in DEFAULT_STAGES]}
PIPELINES = (DEFAULT_PIPELINE, CUSTOM_PIPELINE, UUID_PIPELINE)

# (country as people type it, city, state, zip, phone formats); names, ISO alpha-2 and aliases mixed.
COUNTRIES = (
    (
        ("United States", "US", "USA", "U.S.", "United States of America"),
        "Seattle",
        "WA",
        "98101",
        ("+1 206-555-{a}", "(206) 555-{a}", "206.555.{a}", "206555{a}", "+12065550{b}"),
    ),
    (
        ("United Kingdom", "GB", "UK", "Great Britain"),
        "London",
        "",
        "EC1A 1BB",
        ("+44 20 7946 {a}", "020 7946 {a}", "+442079460{b}"),
    ),
    (("Germany", "DE", "Deutschland"), "Berlin", "BE", "10115", ("+49 30 901820{b}", "030 901820{b}")),
    (("France", "FR"), "Paris", "", "75001", ("+33 1 42 68 5{b}", "01 42 68 5{b}")),
    (("Canada", "CA"), "Toronto", "ON", "M5H 2N2", ("+1 416-555-{a}", "(416) 555-{a}")),
    (("Australia", "AU"), "Sydney", "NSW", "2000", ("+61 2 9374 {a}", "(02) 9374 {a}")),
    (("India", "IN"), "Bengaluru", "KA", "560001", ("+91 80 4000 {a}", "080-4000-{a}")),
    (("Japan", "JP"), "Tokyo", "", "100-0005", ("+81 3-5555-{a}", "03-5555-{a}")),
    (("Brazil", "BR", "Brasil"), "São Paulo", "SP", "01000-000", ("+55 11 5555-{a}",)),
    (("Netherlands", "NL", "Holland"), "Amsterdam", "", "1012 AB", ("+31 20 555 {a}",)),
    (("Singapore", "SG"), "Singapore", "", "018989", ("+65 6555 {a}",)),
    (("Mexico", "MX"), "Mexico City", "CDMX", "06000", ("+52 55 5555 {a}",)),
)
BAD_COUNTRIES = ("Atlantis", "N/A", "Europe", "XX", "Unknown")
UNKNOWN_INDUSTRIES = ("SPACE_MINING", "Crypto Stuff", "OTHER")
FIRST = (
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kavya",
    "Liam",
    "Maya",
    "Noah",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Yusuf",
    "Zoë",
)
LAST = (
    "Smith",
    "Müller",
    "García",
    "Chen",
    "Okafor",
    "Tanaka",
    "Kowalski",
    "Silva",
    "Nguyen",
    "Patel",
    "O'Brien",
    "Johansson",
    "Rossi",
    "Dubois",
    "Kim",
    "Haddad",
    "Novak",
    "Andersen",
    "Costa",
    "Singh",
)
TITLES = (
    "CTO",
    "VP Engineering",
    "Head of Cloud",
    "IT Director",
    "CFO",
    "Procurement Lead",
    "Solutions Architect",
    "CEO",
    "Data Platform Lead",
    "Security Officer",
)
WORDS_A = (
    "Blue",
    "North",
    "Bright",
    "Iron",
    "Silver",
    "Rapid",
    "Green",
    "Summit",
    "Atlas",
    "Nova",
    "Harbor",
    "Cedar",
    "Quantum",
    "Vertex",
    "Polar",
    "Crimson",
    "Golden",
    "Urban",
    "Prime",
    "Lumen",
)
WORDS_B = (
    "Analytics",
    "Logistics",
    "Health",
    "Foods",
    "Bank",
    "Retail",
    "Energy",
    "Media",
    "Robotics",
    "Labs",
    "Insurance",
    "Motors",
    "Pharma",
    "Telecom",
    "Games",
    "Capital",
    "Systems",
    "Travel",
    "Farms",
    "Studios",
)
SUFFIXES = ("Inc.", "GmbH", "Ltd", "LLC", "S.A.", "Pty Ltd", "K.K.", "B.V.", "Corp.", "")
WORKLOADS = (
    "on-premises data warehouse",
    "SAP landscape",
    "customer-facing web platform",
    "Windows file servers",
    "machine learning pipeline",
    "call-centre stack",
    "ERP and reporting",
    "mainframe batch jobs",
    "e-commerce checkout",
    "IoT telemetry ingestion",
)
GOALS = (
    "cut infrastructure cost by a third",
    "meet new data-residency rules",
    "scale for seasonal peaks",
    "shorten release cycles from months to weeks",
    "retire a data centre whose lease ends next year",
    "add generative AI features for their support team",
    "improve disaster recovery to under one hour",
)
CURRENCIES = ("USD",) * 6 + ("EUR", "EUR", "GBP", "AUD", "CAD", "JPY")


@dataclass
class SeedData:
    """Objects as `{"id", "properties"}` dicts, associations and pipelines; ids are fixed strings."""

    seed: int
    deals: list[dict[str, Any]] = field(default_factory=list)
    companies: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    associations: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=lambda: [dict(p) for p in PIPELINES])
    cosell_deal_ids: list[str] = field(default_factory=list)
    junk_deal_ids: dict[str, list[str]] = field(default_factory=dict)  # deal id -> what is wrong with it

    def to_payload(self) -> dict[str, Any]:
        """The body `/_emulator/seed` and `HubSpotEmulator.load_seed` take."""
        return {
            "objects": {"companies": self.companies, "contacts": self.contacts, "deals": self.deals},
            "associations": self.associations,
            "pipelines": self.pipelines,
        }


def _link(from_type: str, from_id: str, to_type: str, to_id: str, *types: int) -> dict[str, Any]:
    return {
        "from": {"type": from_type, "id": from_id},
        "to": {"type": to_type, "id": to_id},
        "types": list(types),
    }


class _Generator:
    def __init__(self, seed: int, junk_ratio: float, cosell_ratio: float, now_ms: int) -> None:
        self.rng = random.Random(seed)
        self.junk_ratio, self.cosell_ratio, self.now = junk_ratio, cosell_ratio, now_ms
        self.data = SeedData(seed=seed)
        self.industries = [value for value, _ in company_industries()]
        self._ids = {"companies": 30_000_000_000, "contacts": 40_000_000_000, "deals": 50_000_000_000}

    def _id(self, object_type: str) -> str:
        self._ids[object_type] += 1
        return str(self._ids[object_type])

    def _dates(self) -> tuple[str, str]:
        created = self.now - self.rng.randint(1, 120) * DAY_MS - self.rng.randint(0, DAY_MS - 1)
        modified = created + self.rng.randint(0, max(min(60 * DAY_MS, self.now - created - 1), 0))
        return iso_ms(created), iso_ms(modified)

    def company(self, junk: set[str]) -> tuple[str, int]:
        rng = self.rng
        name = f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)}"
        suffix = rng.choice(SUFFIXES)
        domain = f"{name.lower().replace(' ', '')}{rng.randint(1, 999)}.example.com"
        country_index = rng.randrange(len(COUNTRIES))
        spellings, city, state, zip_code, phones = COUNTRIES[country_index]
        country = rng.choice(spellings)
        industry: str | None = rng.choice(self.industries)
        if "bad_country" in junk:
            country = rng.choice(BAD_COUNTRIES)
        if "no_country" in junk:
            country = ""
        if "unknown_industry" in junk:
            industry = rng.choice(UNKNOWN_INDUSTRIES)
        if "no_industry" in junk:
            industry = None
        created, modified = self._dates()
        company_id = self._id("companies")
        self.data.companies.append(
            {
                "id": company_id,
                "properties": {
                    "name": f"{name} {suffix}".strip(),
                    "domain": domain,
                    "website": f"https://www.{domain}",
                    "industry": industry,
                    "country": country,
                    "city": city,
                    "state": state or None,
                    "zip": zip_code,
                    "address": f"{rng.randint(1, 999)} {rng.choice(WORDS_A)} Street",
                    "phone": self._phone(phones),
                    "numberofemployees": str(rng.choice((12, 45, 180, 950, 4200, 25000))),
                    "createdate": created,
                    "hs_lastmodifieddate": modified,
                },
            }
        )
        return company_id, country_index

    def _phone(self, formats: tuple[str, ...]) -> str:
        return self.rng.choice(formats).format(
            a=f"{self.rng.randint(0, 9999):04d}", b=self.rng.randint(10, 99)
        )

    def contact(self, company_id: str, country_index: int, junk: set[str]) -> str:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contact_id = self._id("contacts")
        email: str | None = f"{first}.{last}{contact_id[-4:]}@example.com".lower().replace("'", "")
        if "no_email" in junk:
            email = None
        phones = COUNTRIES[country_index][4]
        created, modified = self._dates()
        self.data.contacts.append(
            {
                "id": contact_id,
                "properties": {
                    "firstname": first,
                    "lastname": last,
                    "email": email,
                    "phone": self._phone(phones),
                    "mobilephone": self._phone(phones) if rng.random() < 0.5 else None,
                    "jobtitle": rng.choice(TITLES),
                    "createdate": created,
                    "hs_lastmodifieddate": modified,
                },
            }
        )
        self.data.associations.append(_link("contacts", contact_id, "companies", company_id, 1, 279))
        return contact_id

    def deal(self, company_id: str | None, contact_ids: list[str], company_name: str, junk: set[str]) -> str:
        rng = self.rng
        deal_id = self._id("deals")
        pipeline = rng.choices(PIPELINES, weights=(50, 35, 15))[0]
        stage = rng.choice(pipeline["stages"])[0]
        cosell = rng.random() < self.cosell_ratio
        workload = rng.choice(WORKLOADS)
        name = f"{company_name.split(' ')[0]} {company_name.split(' ')[1]} - {workload.split(' ')[-1].title()} Migration"
        if cosell:
            name = rng.choice((f"{name} #AWS", f"#AWS {name}", f"{name} (#aws co-sell)"))
            self.data.cosell_deal_ids.append(deal_id)
        description: str | None = (
            f"{company_name} wants to move its {workload} to AWS to {rng.choice(GOALS)}. "
            f"Today they cannot {rng.choice(GOALS)} because of ageing hardware and manual operations. "
            f"Budget approved for phase {rng.randint(1, 3)}."
        )
        amount: str | None = str(
            rng.choice((rng.randint(5, 2000) * 1000, round(rng.uniform(5_000, 900_000), 2)))
        )
        close_ms = self.now + rng.randint(-60, 365) * DAY_MS
        closedate: str | None = iso_ms(close_ms - close_ms % DAY_MS)
        if "short_description" in junk:
            description = rng.choice(("tbd", "AWS deal", "see notes"))
        if "no_description" in junk:
            description = None
        if "no_amount" in junk:
            amount = None
        if "no_closedate" in junk:
            closedate = None
        created, modified = self._dates()
        self.data.deals.append(
            {
                "id": deal_id,
                "properties": {
                    "dealname": name,
                    "amount": amount,
                    "closedate": closedate,
                    "pipeline": pipeline["id"],
                    "dealstage": stage,
                    "description": description,
                    "deal_currency_code": rng.choice(CURRENCIES),
                    "dealtype": rng.choice(("newbusiness", "existingbusiness")),
                    "hubspot_owner_id": str(rng.choice((11_111_111, 22_222_222, 33_333_333, 44_444_444))),
                    "createdate": created,
                    "hs_lastmodifieddate": modified,
                },
            }
        )
        if company_id is not None:
            self.data.associations.append(_link("deals", deal_id, "companies", company_id, 5, 341))
        for contact_id in contact_ids:
            self.data.associations.append(_link("deals", deal_id, "contacts", contact_id, 3))
        return deal_id


JUNK_KINDS = (
    "bad_country",
    "no_country",
    "unknown_industry",
    "no_industry",
    "short_description",
    "no_description",
    "no_amount",
    "no_closedate",
    "no_company",
    "no_email",
)


def generate_seed(
    n_deals: int,
    seed: int = 0,
    junk_ratio: float = 0.05,
    cosell_ratio: float = 0.7,
    now_ms: int | None = None,
) -> SeedData:
    """`n_deals` deals, each with a company (sometimes shared) and 1–3 contacts; same seed, same data.

    `now_ms` anchors create/modify/close dates (default: a fixed date, for determinism); pass the
    current time to seed data whose modified dates fall in the last days.
    """
    if n_deals < 0 or not 0 <= junk_ratio <= 1 or not 0 <= cosell_ratio <= 1:
        raise ValueError("n_deals must be >= 0 and the ratios between 0 and 1")
    gen = _Generator(seed, junk_ratio, cosell_ratio, DEFAULT_ANCHOR_MS if now_ms is None else now_ms)
    rng = gen.rng
    companies: list[tuple[str, int, str, list[str]]] = []
    for _ in range(n_deals):
        junk: set[str] = set()
        if rng.random() < junk_ratio:
            junk = set(rng.sample(JUNK_KINDS, rng.choice((1, 1, 2))))
        reuse = companies and rng.random() < 0.1 and not junk
        if reuse:
            company_id, country_index, company_name, contacts = rng.choice(companies)
        else:
            company_id, country_index = gen.company(junk)
            company_name = gen.data.companies[-1]["properties"]["name"]
            contacts = [gen.contact(company_id, country_index, junk) for _ in range(rng.choice((1, 2, 2, 3)))]
            companies.append((company_id, country_index, company_name, contacts))
        deal_id = gen.deal(None if "no_company" in junk else company_id, contacts, company_name, junk)
        if junk:
            gen.data.junk_deal_ids[deal_id] = sorted(junk)
    return gen.data


def anchor_now() -> int:
    """The current time in epoch ms, for callers that want seed dates relative to today."""
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)
