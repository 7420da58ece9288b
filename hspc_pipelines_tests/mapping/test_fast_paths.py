"""The mapping's shortcuts give the answers of the code they stand in for.

The compiled validator (`model.is_valid`, used first by `check_request`), the compiled projection
(`model.project_input`), the request check that needs no request (`model.projected_valid`), the raw
comparison of owned members (`view.owned_changes`) and the memoised conversions, each against the
generic or unmemoised version on generated values, junk included."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast
from urllib.parse import urlsplit

from botocore.model import ListShape, Shape, StructureShape
from botocore.utils import parse_to_aware_datetime
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hspc_pipelines.mapping import MappingConfig, build_create_request, hubspot_owned_view, model
from hspc_pipelines.mapping.config import DEFAULT_OWNERSHIP, HUBSPOT, PARTNER_CENTRAL, SWAPPABLE_FIELDS
from hspc_pipelines.mapping.contacts import normalise_phone
from hspc_pipelines.mapping.geo import country_code, us_state
from hspc_pipelines.mapping.industries import _from_hubspot, from_hubspot, hubspot_industries
from hspc_pipelines.mapping.text_fields import _HOST, WEBSITE_MAX, WEBSITE_MIN, website
from hspc_pipelines.mapping.update import _prune
from hspc_pipelines.mapping.values import _to_date, to_date
from hspc_pipelines.mapping.view import diff_views, owned_changes, same_raw
from hspc_pipelines_tests.support.deals import bundle
from hspc_pipelines_tests.support.strategies import junk, mutated, valid_bundles

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
OPERATIONS = ("UpdateOpportunity", "CreateOpportunity")

timestamps = st.one_of(
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5))])),
    st.datetimes(),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    st.sampled_from(
        [
            "2026-01-01T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "9999-12-31T23:59:59-00:00",
            "0001-01-01",
            "now",
            "1",
        ]
    ),
)


def _mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`good` three times in four (a short repr, unlike one_of(good, good, good, bad))."""
    return st.integers(0, 3).flatmap(lambda i: bad if i == 0 else good)


def _string(shape: Shape) -> st.SearchStrategy[Any]:
    choices: list[st.SearchStrategy[Any]] = []
    enum = getattr(shape, "enum", None)
    if enum:
        choices.append(st.sampled_from(list(enum)))
    pattern = shape.metadata.get("pattern")
    if isinstance(pattern, str):
        bounds = re.fullmatch(r"\(\?s\)\.\{([0-9]+),([0-9]+)\}", pattern)
        if bounds:
            low, high = int(bounds.group(1)), int(bounds.group(2))
            sizes = st.integers(max(low - 1, 0), min(high + 1, 300))
            choices.append(sizes.map(lambda n: "é\n" * (n // 2) + "x" * (n % 2)))
        else:
            try:
                re.compile(pattern)
                choices.append(st.from_regex(pattern, fullmatch=True))
            except re.error:  # Java classes (\p{L}): hypothesis cannot generate from them
                pass
    text = st.text(max_size=12)
    return _mostly(st.one_of(*choices), text) if choices else text


def values(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for `shape`: mostly of the right form, sometimes not (junk, None, unknown members)."""
    if depth > 5:
        return junk
    if isinstance(shape, StructureShape):
        members = {name: values(member, depth + 1) for name, member in shape.members.items()}
        proper = st.fixed_dictionaries({}, optional={**members, "Unknown": junk})
        nones = st.fixed_dictionaries({}, optional={name: st.none() for name in shape.members})
        both = st.tuples(proper, nones).map(lambda pair: {**pair[0], **pair[1]})
        return _mostly(proper, st.one_of(both, junk))
    if isinstance(shape, ListShape):
        item = values(shape.member, depth + 1)
        return _mostly(
            st.lists(item, max_size=3), st.one_of(st.lists(st.one_of(item, st.none()), max_size=3), junk)
        )
    if shape.type_name == "string":
        return _mostly(_string(shape), junk)
    if shape.type_name == "timestamp":
        return _mostly(timestamps, junk)
    return junk


REQUESTS = {op: values(model.input_shape(op)) for op in OPERATIONS}


def _created(bundle: Any) -> dict[str, Any] | None:
    return build_create_request(bundle, MappingConfig.default(), "AWS").request


# filter() does not narrow the element type: the cast says what the filter leaves
created = cast(
    "st.SearchStrategy[dict[str, Any]]", valid_bundles.map(_created).filter(lambda r: r is not None)
)
stored = created.map(
    lambda r: {
        **{k: v for k, v in r.items() if k != "ClientToken"},
        "Id": "O1",
        "Identifier": "O1",
        "LastModifiedDate": "2026-01-01T00:00:00Z",
        "LifeCycle": {**r.get("LifeCycle", {}), "ReviewStatus": "Submitted", "NextStepsHistory": []},
    }
)
NEAR = {
    "CreateOpportunity": mutated(created),
    "UpdateOpportunity": mutated(
        stored.map(lambda r: {**model.project(r, model.input_shape("UpdateOpportunity")), "Identifier": "O1"})
    ),
}


@SETTINGS
@given(st.data())
def test_compiled_check_agrees_with_botocore_and_constraints(data: st.DataObject) -> None:
    operation = data.draw(st.sampled_from(OPERATIONS))
    request = data.draw(st.one_of(REQUESTS[operation], NEAR[operation]))
    try:
        full = model.full_check(request, operation)
    except Exception:  # noqa: BLE001 - botocore raising: the compiled check must not accept it
        assert not model.is_valid(request, operation)
        return
    if model.is_valid(request, operation):
        assert full == []
        assert not ParamValidator().validate(request, model.input_shape(operation)).has_errors()
    assert model.check_request(request, operation) == full


def test_compiled_check_accepts_what_the_mapping_builds() -> None:
    request = _created(bundle())
    assert request is not None and model.is_valid(request, "CreateOpportunity")


@SETTINGS
@given(st.data())
def test_compiled_projection_is_project(data: st.DataObject) -> None:
    operation = data.draw(st.sampled_from(OPERATIONS))
    record = data.draw(REQUESTS[operation])
    assert model.project_input(record, operation) == model.project(record, model.input_shape(operation))


@SETTINGS
@given(
    st.one_of(REQUESTS["UpdateOpportunity"], mutated(stored)),
    st.sampled_from(["AWS", "Sandbox", "aws-1"]),
    timestamps,
    st.text(max_size=70),
)
def test_projected_valid_only_when_the_built_request_is_valid(
    record: Any, catalog: str, modified: Any, identifier: str
) -> None:
    overrides = {"Catalog": catalog, "Identifier": "O123", "LastModifiedDate": modified}
    fallback = {"PartnerOpportunityIdentifier": identifier}
    if not model.projected_valid(record, "UpdateOpportunity", overrides, fallback):
        return
    request: dict[str, Any] = model.project(record, model.input_shape("UpdateOpportunity")) or {}
    request.update(overrides)
    if not request.get("PartnerOpportunityIdentifier"):
        request["PartnerOpportunityIdentifier"] = identifier
    _prune(request)
    assert model.full_check(request, "UpdateOpportunity") == []
    assert not ParamValidator().validate(request, model.input_shape("UpdateOpportunity")).has_errors()


def test_projected_valid_accepts_a_stored_record() -> None:
    record: dict[str, Any] = {
        "Id": "O1",
        "Arn": "arn",
        "Catalog": "AWS",
        "LastModifiedDate": "2026-01-01T00:00:00+00:00",
        "LifeCycle": {"ReviewStatus": "Submitted", "Stage": "Qualified", "NextStepsHistory": [{"Time": "x"}]},
        "Customer": {"Account": {"CompanyName": "Acme", "Address": {}}, "Contacts": [{"Email": "a@b.co"}]},
        "Project": {"Title": "T", "DeliveryModels": []},
        "Unknown": 1,
    }
    overrides = {"Catalog": "AWS", "Identifier": "O1", "LastModifiedDate": record["LastModifiedDate"]}
    assert model.projected_valid(
        record, "UpdateOpportunity", overrides, {"PartnerOpportunityIdentifier": "H-1"}
    )
    record["Customer"]["Account"] = {"Address": {"City": "Berlin"}}  # CompanyName is required
    assert not model.projected_valid(
        record, "UpdateOpportunity", overrides, {"PartnerOpportunityIdentifier": "H-1"}
    )


@settings(max_examples=300, deadline=None)
@given(timestamps)
def test_timestamps_accepted_by_the_compiled_check_parse_in_botocore(value: Any) -> None:
    if model._timestamp_ok(value):
        parse_to_aware_datetime(value)


# -- the raw comparison of owned members ------------------------------------------------------------

leaf = st.one_of(
    st.none(),
    st.sampled_from(["a", " a", "1", "1.0", "2030-01-02", "2030-01-02T00:00:00Z"]),
    st.integers(0, 2),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.sampled_from(["x", "y", " x", None]), max_size=3),
    st.lists(
        st.dictionaries(
            st.sampled_from(["Email", "FirstName", "Phone", "Amount"]), st.sampled_from(["A", "a", "1"])
        ),
        max_size=2,
    ),
)
owned_records = st.fixed_dictionaries(
    {},
    optional={
        "Project": st.one_of(
            junk,
            st.fixed_dictionaries(
                {},
                optional={
                    k: leaf
                    for k in ("Title", "CustomerBusinessProblem", "ExpectedCustomerSpend", "DeliveryModels")
                },
            ),
        ),
        "LifeCycle": st.fixed_dictionaries({}, optional={"Stage": leaf, "TargetCloseDate": leaf}),
        "Customer": st.fixed_dictionaries(
            {},
            optional={
                "Contacts": leaf,
                "Account": st.fixed_dictionaries(
                    {},
                    optional={
                        "CompanyName": leaf,
                        "Address": st.fixed_dictionaries({}, optional={"City": leaf}),
                    },
                ),
            },
        ),
        "PrimaryNeedsFromAws": leaf,
    },
)
configs = st.builds(
    lambda owners: MappingConfig(ownership={**DEFAULT_OWNERSHIP, **owners}),
    st.dictionaries(st.sampled_from(SWAPPABLE_FIELDS), st.sampled_from([HUBSPOT, PARTNER_CENTRAL])),
)


@SETTINGS
@given(owned_records, owned_records, configs)
def test_owned_changes_is_the_view_diff(
    old: dict[str, Any], new: dict[str, Any], config: MappingConfig
) -> None:
    assert owned_changes(old, new, config) == diff_views(
        hubspot_owned_view(old, config), hubspot_owned_view(new, config)
    )
    assert owned_changes(old, old, config) == {} or not same_raw(old, old)


# -- memoised conversions ---------------------------------------------------------------------------


def _website_reference(raw: str | None) -> str | None:  # text_fields.website before memoisation
    if not raw:
        return None
    value = raw.strip()
    if any(c.isspace() for c in value) or len(value) > 2 * WEBSITE_MAX:
        return None
    if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE) is None:
        value = "https://" + value.lstrip("/")
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not _HOST.fullmatch(host) or parts.username:
        return None
    netloc = host.lower() + (f":{port}" if port else "")
    path = "" if parts.path in ("", "/") else parts.path
    url = f"https://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")
    return url if WEBSITE_MIN <= len(url) <= WEBSITE_MAX else None


sites = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        ["acme.com", " acme.com ", "a\u00a0b.com", "a\u2028b.com", "http://x.io/p?q=1", "ftp://x.io"]
    ),
    st.from_regex(r"(https?://)?[a-z]{1,8}(\.[a-z]{2,4}){1,2}(/[a-z]{0,5})?\s?", fullmatch=True),
)


@settings(max_examples=500, deadline=None)
@given(sites)
def test_website_is_unchanged_by_memoisation(raw: str | None) -> None:
    assert website(raw) == _website_reference(raw)


phones = st.one_of(
    st.from_regex(r"\+?[0-9 ()\-.]{1,20}", fullmatch=True),
    st.sampled_from(["+1 206-555-0100", "(206) 555-0100", "030 90182024", "+44 20 7946 0958", "abc"]),
)


@settings(max_examples=300, deadline=None)
@given(phones, st.sampled_from([None, "US", "GB", "DE", "BR", "ZZ"]))
def test_memoised_conversions_answer_as_before(raw: str, region: str | None) -> None:
    assert normalise_phone(raw, region) == normalise_phone.__wrapped__(raw, region)
    assert country_code(raw) == country_code.__wrapped__(raw)
    assert us_state(raw) == us_state.__wrapped__(raw)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.none(), st.sampled_from(sorted(hubspot_industries())[:20]), st.text(max_size=10)),
    st.one_of(st.none(), st.sampled_from(["Gaming", "gaming", "Bogus", ""])),
    st.one_of(
        st.none(), st.text(max_size=25), st.dates().map(str), st.integers(0, 2**40).map(str), timestamps
    ),
    st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles"]),
)
def test_memoised_industry_and_dates(industry: str | None, override: str | None, day: Any, zone: str) -> None:
    assert from_hubspot(industry, override, {}) == _from_hubspot(industry, override, {})
    assert to_date(day, zone) == _to_date(day, zone)
    assume(isinstance(day, str))
    assert to_date(day) == _to_date(day, "UTC")


def test_full_check_reports_every_botocore_error_including_a_single_one() -> None:
    from hspc_pipelines.mapping.model import full_check

    one = full_check({"Catalog": "AWS", "Identifier": "O1"}, "UpdateOpportunity")
    assert any("LastModifiedDate" in e.message for e in one), one
    two = full_check({"Catalog": "AWS"}, "UpdateOpportunity")
    assert {"LastModifiedDate", "Identifier"} <= {
        name for e in two for name in ("LastModifiedDate", "Identifier") if name in e.message
    }, two
