"""Hypothesis strategies shared by the mapping and sync tests: HubSpot deals as they come (junk
included), deals the mapping accepts, and near misses of any value."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from hypothesis import strategies as st

from hspc_pipelines.mapping import DealBundle, model
from hspc_pipelines.mapping.choices import USE_CASES
from hspc_pipelines.mapping.config import DEFAULT_STAGE_MAP
from hspc_pipelines.mapping.industries import hubspot_industries

junk_text = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=40),
    st.text(min_size=1, max_size=20).map(lambda t: (t + " ") * 150),
    st.just("x" * 200_000),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.integers()),
)


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, values, values, junk_text)


industries = st.sampled_from(sorted(hubspot_industries()) + sorted(hubspot_industries().values()))
names = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=300)
_chars = st.characters(blacklist_categories=["Cs"])
problems = st.one_of(  # long values built by repetition: generating 2,000 random characters is slow
    st.text(alphabet=_chars, min_size=20, max_size=200),
    st.text(alphabet=_chars, min_size=3, max_size=25).map(lambda t: (t + " ") * 100),
)
amounts = st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False).map(str)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))
close_dates = st.one_of(
    dates.map(lambda d: f"{d.isoformat()}T00:00:00Z"),
    dates.map(str),
    dates.map(lambda d: str(int(dt.datetime.combine(d, dt.time(), dt.UTC).timestamp() * 1000))),
)
multi = st.lists(st.sampled_from(model.DELIVERY_MODELS), max_size=3).map("; ".join)
needs = st.lists(st.sampled_from(model.PRIMARY_NEEDS), max_size=3).map(", ".join)
countries = st.sampled_from(
    ["US", "USA", "United Kingdom", "UK", "Germany", "DEU", "fr", "South Korea", "Japan"]
)
emails = st.from_regex(r"[a-zA-Z0-9]{1,10}@[a-z]{1,8}\.(com|org|io)", fullmatch=True)
phones = st.sampled_from(["+1 415 555 0123", "(415) 555-0199", "030 1234567", "+44 20 7946 0958", "abc", "1"])

contact = st.fixed_dictionaries(
    {
        "email": maybe(emails),
        "firstname": maybe(names),
        "lastname": maybe(names),
        "jobtitle": maybe(names),
        "phone": maybe(phones),
    }
)
deal_props = st.fixed_dictionaries(
    {
        "dealname": maybe(names.map(lambda n: f"{n} #AWS")),
        "dealstage": maybe(st.sampled_from(sorted(DEFAULT_STAGE_MAP))),
        "pipeline": st.one_of(st.none(), st.just("default"), st.just("nope")),
        "amount": maybe(amounts),
        "closedate": maybe(close_dates),
        "description": maybe(problems),
        "deal_currency_code": maybe(st.sampled_from(["USD", "eur", "GBP", "XXX"])),
        "aws_delivery_models": maybe(multi),
        "aws_primary_needs": maybe(needs),
        "aws_use_case": maybe(st.sampled_from(USE_CASES)),
        "aws_industry": st.one_of(st.none(), st.just("Gaming"), st.just("Bogus")),
        "aws_expected_spend": st.one_of(st.none(), amounts),
    }
)
company_props = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "name": maybe(names.map(lambda n: n[:120])),
            "industry": maybe(industries),
            "country": maybe(countries),
            "state": maybe(st.sampled_from(["CA", "New York", "Bavaria", "Ontario"])),
            "city": maybe(names),
            "zip": maybe(st.from_regex(r"[0-9]{5}", fullmatch=True)),
            "website": maybe(
                st.sampled_from(["acme.com", "http://www.Example.org/x", "not a url", "https://ok.io/"])
            ),
            "domain": maybe(st.just("acme.com")),
        }
    ),
)
bundles = st.builds(
    DealBundle,
    deal_id=st.one_of(st.from_regex(r"[0-9]{1,12}", fullmatch=True), junk_text),
    deal=st.one_of(deal_props, junk_text),
    company=company_props,
    contacts=st.one_of(st.lists(contact, max_size=14), junk_text),
)

clean_names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300)
clean_contact = st.fixed_dictionaries(
    {
        "email": st.one_of(st.none(), emails),
        "firstname": st.one_of(st.none(), clean_names),
        "lastname": st.one_of(st.none(), clean_names),
        "jobtitle": st.one_of(st.none(), clean_names),
        "phone": st.one_of(st.none(), phones),
    }
)
valid_bundles = st.builds(
    DealBundle,
    deal_id=st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    deal=st.fixed_dictionaries(
        {
            "dealname": clean_names.map(lambda n: f"#AWS {n}"),
            "dealstage": st.sampled_from(sorted(DEFAULT_STAGE_MAP)),
            "pipeline": st.just("default"),
            "amount": st.one_of(st.none(), amounts),
            "closedate": close_dates,
            "description": st.one_of(st.none(), problems),
            "deal_currency_code": st.sampled_from([None, "USD", "EUR"]),
            "aws_delivery_models": multi,
            "aws_primary_needs": needs,
            "aws_use_case": st.one_of(st.none(), st.sampled_from(USE_CASES)),
        }
    ),
    company=st.fixed_dictionaries(
        {
            "name": clean_names.map(lambda n: n[:120]),
            "industry": st.one_of(st.none(), industries),
            "country": countries,
            "state": st.sampled_from(["CA", "New York"]),
            "city": st.one_of(st.none(), clean_names),
            "zip": st.from_regex(r"[0-9]{5}", fullmatch=True),
            "website": st.sampled_from(["acme.com", "https://ok.io/"]),
        }
    ),
    contacts=st.lists(clean_contact, max_size=12),
)

junk = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.floats(allow_nan=True),
    st.booleans(),
    st.just(""),
    st.text(max_size=8),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[Any]) -> Any:
    """A value from `base` with up to two members replaced, deleted or added: near misses."""
    value = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(0, 2))):
        path = draw(st.sampled_from(_paths(value)))
        if not path:
            continue
        parent = value
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["junk", "delete", "none", "add", "empty"]))
        if action == "junk":
            parent[path[-1]] = draw(junk)
        elif action == "none":
            parent[path[-1]] = None
        elif action == "empty":
            parent[path[-1]] = {} if isinstance(parent[path[-1]], dict) else ""
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.sampled_from(["Unknown", "Title", "Address", "Contacts"]))] = draw(junk)
    return value
