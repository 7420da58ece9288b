"""HubSpot's SDK models (hubspot-api-client, client-side validation on) as the oracle for every body
HubSpotClient builds and every emulator answer it parses, over real HTTP.

One scenario drives every endpoint family hspc calls (objects, batch read/create/update/archive,
search, properties, pipelines, associations v4; deals, companies, contacts, notes, tasks), including
the 207 and error answers; each recorded exchange is validated and the test fails when a family was
not exercised, so it cannot pass by seeing nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from hspc_pipelines.emulators.hubspot import start_hubspot_emulator
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.errors import HubSpotError
from hspc_pipelines.mapping.properties import CUSTOM_DEAL_PROPERTIES
from hspc_pipelines_tests.support.hubspot_oracle import (
    CHECKED_MODELS,
    ENDPOINTS,
    Divergence,
    Exchange,
    RecordingSession,
    check,
    check_exchange,
)

TOKEN = "oracle-token"


@pytest.fixture
def recorded() -> Iterator[tuple[HubSpotClient, RecordingSession]]:
    emulator, server = start_hubspot_emulator(access_tokens=[TOKEN])
    session = RecordingSession()
    client = HubSpotClient(TOKEN, server.url, session=session, requests_per_10s=5000, search_per_second=100)
    yield client, session
    server.stop()


def _scenario(hs: HubSpotClient) -> None:
    """Every call the product makes, with the answers it must handle (200, 201, 204, 207, 4xx)."""
    bootstrap_properties(hs)
    hs.ensure_properties("deals", CUSTOM_DEAL_PROPERTIES[:1])  # exists: no call but the listing
    hs.update_property("deals", "aws_review_comments", {"label": "AWS Review Comments (from AWS)"})
    hs.list_pipelines("deals")
    company = hs.create_object("companies", {"name": "Northwind", "domain": "northwind.example"})
    contact = hs.create_object("contacts", {"email": "dana@northwind.example", "firstname": "Dana"})
    deals = hs.batch_create(
        "deals",
        [{"properties": {"dealname": f"Deal {i} #AWS", "amount": str(100 + i)}} for i in range(3)]
        + [{"properties": {"dealname": "bad", "aws_stage": "Nope"}}],
    )  # 207: three created, one named
    assert len(deals.results) == 3 and list(deals.failed_positions()) == [3]
    ids = [d["id"] for d in deals.results]
    assert hs.batch_create("companies", [{"properties": {"name": "Contoso"}}]).ok  # 201
    hs.update_object("deals", ids[0], {"aws_stage": "Qualified"})
    hs.get_object("deals", ids[0], ["dealname", "aws_stage"])
    with pytest.raises(HubSpotError):
        hs.get_object("deals", "987654321")  # 404 Error
    list(hs.list_objects("deals", ["dealname"], associations=["companies"], limit=2))
    assert hs.batch_read("deals", ids, ["dealname"]).ok  # 200
    assert hs.batch_read("deals", [*ids, "987654321"], ["dealname"]).failed_ids()  # 207
    assert hs.batch_update("deals", [{"id": i, "properties": {"amount": "7"}} for i in ids]).ok  # 200
    assert hs.batch_update("deals", [{"id": "987654321", "properties": {"amount": "7"}}]).errors  # 207
    list(
        hs.search_objects(
            "deals",
            [{"filters": [{"propertyName": "amount", "operator": "EQ", "value": "7"}]}],
            ["dealname"],
            sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
            query="Deal",
        )
    )
    now = dt.datetime.now(dt.UTC)
    list(hs.search_modified_between("deals", now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1)))
    assert hs.batch_create_associations("deals", "companies", [(ids[0], company["id"])], type_id=5).ok
    assert hs.batch_create_associations("deals", "contacts", [(ids[0], contact["id"])], type_id=3).ok
    notes = hs.batch_create(
        "notes",
        [
            {
                "properties": {
                    "hs_note_body": "hello",
                    "hs_timestamp": now.isoformat(),
                    "hspc_note_key": "k1",
                },
                "associations": [
                    {
                        "to": {"id": ids[0]},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}],
                    }
                ],
            }
        ],
    )
    assert notes.ok, notes.errors
    tasks = hs.batch_create(
        "tasks",
        [
            {
                "properties": {
                    "hs_task_subject": "Review",
                    "hs_task_status": "NOT_STARTED",
                    "hs_timestamp": now.isoformat(),
                }
            }
        ],
    )
    assert tasks.ok, tasks.errors
    list(hs.list_objects("deals", ["dealname"], associations=["companies", "contacts"]))  # with links now
    hs.get_object("deals", ids[0], ["dealname"])
    hs.batch_read_associations_detailed("deals", "companies", ids)  # 207: two deals have none
    hs.batch_read_associations("deals", "notes", ids[:1])  # 200
    hs.request(
        "POST",
        hs.paths.associations("/batch/read"),
        json={"inputs": [{"id": ids[0], "after": "1"}]},
        from_type="deals",
        to_type="companies",
    )  # the page the client follows past a batch read's first links: the same batch read with `after`
    hs.batch_archive("deals", ids[2:])
    hs.archive_object("companies", company["id"])


def test_every_request_and_answer_fits_hubspots_sdk_models(recorded):
    hs, session = recorded
    _scenario(hs)
    seen: dict[str, set[int]] = {}
    for exchange in session.exchanges:
        endpoint = check_exchange(exchange)
        seen.setdefault(endpoint.name, set()).add(exchange.status)
    assert set(seen) == {e.name for e in ENDPOINTS}, "endpoint families the scenario did not exercise"
    # the partial answers and the errors were met, not only the happy path
    assert 207 in seen["batch read"] and 207 in seen["batch create"] and 207 in seen["batch update"]
    assert 207 in seen["associations batch read"] and 404 in seen["read"]
    assert ("objects", "AssociatedId") in CHECKED_MODELS  # the v3 associations block was met too


def test_the_oracle_names_model_and_field_of_a_divergence():
    option_without_hidden = {
        "name": "aws_level",
        "label": "AWS level",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "dealinformation",
        "options": [{"label": "High", "value": "High", "displayOrder": 0}],
    }
    with pytest.raises(Divergence, match=r"OptionInput\.hidden at \$\.options\[0\]"):
        check(
            option_without_hidden,
            "PropertyCreate",
            "properties",
            "POST /crm/properties/2026-09/deals request",
        )
    read_without_history = {"properties": ["dealname"], "inputs": [{"id": "1"}]}
    with pytest.raises(Divergence, match=r"BatchReadInputSimplePublicObjectId\.propertiesWithHistory"):
        check(read_without_history, "BatchReadInputSimplePublicObjectId", "objects", "batch read")
    with pytest.raises(Divergence, match=r"SimplePublicObjectInput at \$ has no field props"):
        check({"props": {}}, "SimplePublicObjectInput", "objects", "update")
    bad_enum = {
        "inputs": [
            {
                "from": {"id": "1"},
                "to": {"id": "2"},
                "types": [{"associationCategory": "X", "associationTypeId": 5}],
            }
        ]
    }
    with pytest.raises(Divergence, match=r"AssociationSpec\.associationCategory"):
        check(bad_enum, "BatchInputPublicAssociationMultiPost", "associations.v4", "associations")
    with pytest.raises(Divergence, match="HubSpot declares"):
        check_exchange(Exchange("POST", "/crm/objects/2026-09/deals/batch/create", {"inputs": []}, 200, {}))


def test_every_custom_property_definition_fits_property_create():
    from hspc_pipelines.mapping.properties import CUSTOM_NOTE_PROPERTIES

    for definition in (*CUSTOM_DEAL_PROPERTIES, *CUSTOM_NOTE_PROPERTIES):
        check(definition, "PropertyCreate", "properties", f"property {definition['name']}")
