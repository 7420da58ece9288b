"""`benchmarks.api_families` at a small size: before (legacy) every call is numbered, after (2026-09)
every call is date-based but the token introspection, the one documented exception."""

from __future__ import annotations

import pytest

from benchmarks.api_families import api_group, family, numbered_left, run_once


def test_the_groups_and_families_of_both_path_shapes():
    assert (
        api_group("POST /crm/v3/objects/deals/batch/read")
        == api_group("POST /crm/objects/2026-09/deals/batch/read")
        == "batch"
    )
    assert api_group("POST /crm/objects/2026-09/notes/batch/create") == "notes"
    assert api_group("POST /crm/associations/2026-09/deals/notes/batch/read") == "associations"
    assert family("GET /crm/pipelines/2026-09/deals") == "date-based"
    assert family("GET /crm/v3/pipelines/deals") == "numbered"


@pytest.mark.bench  # two emulator stacks and five Dagster runs: about two minutes (-m bench)
def test_before_everything_is_numbered_after_only_the_documented_exception():
    before = run_once("legacy", deals=3, invitations=1)
    after = run_once("2026-09", deals=3, invitations=1)
    assert {family(e) for e in before} == {"numbered"}
    assert set(numbered_left(after)) == {"POST /oauth/v2/private-apps/get/access-token-info"}
    assert sum(before.values()) == sum(after.values()), "the same work costs the same calls"
