from __future__ import annotations

from pathlib import Path

import pytest

from hspc_pipelines.mapping import FieldError, MappingConfig, load_mapping_config
from hspc_pipelines.mapping.config import MappingConfigError
from hspc_pipelines.mapping.stages import to_hubspot, to_partner_central

SEED_TABLE = {
    "appointmentscheduled": "Prospect",
    "qualifiedtobuy": "Qualified",
    "presentationscheduled": "Technical Validation",
    "decisionmakerboughtin": "Business Validation",
    "contractsent": "Committed",
    "closedwon": "Launched",
    "closedlost": "Closed Lost",
}

YAML = """
pipelines:
  "75123456":
    stages:
      "110001": Prospect
      "110002": Qualified
      "110003": Qualified
      "110004": Committed
      "110005": Launched
      "110006": Closed Lost
    reverse:
      Qualified: "110003"
amount_mode: total_contract
contract_term_months: 24
industry_overrides:
  COMPUTER_SOFTWARE: Telecommunications
ownership:
  close_date: partner_central
"""


@pytest.mark.parametrize(("hs", "pc"), list(SEED_TABLE.items()))
def test_default_pipeline_is_the_seed_table(hs: str, pc: str, config: MappingConfig) -> None:
    assert to_partner_central(hs, "default", config) == pc
    assert to_hubspot(pc, "default", config) == hs


def test_missing_pipeline_uses_default(config: MappingConfig) -> None:
    assert to_partner_central("closedwon", None, config) == "Launched"


def test_unknown_stage_names_pipeline_and_allowed(config: MappingConfig) -> None:
    err = to_partner_central("99999", "default", config)
    assert isinstance(err, FieldError) and "'default'" in err.message and "closedwon" in str(err)


def test_unknown_pipeline(config: MappingConfig) -> None:
    err = to_partner_central("110001", "75123456", config)
    assert isinstance(err, FieldError) and err.field == "pipeline"


def test_custom_numeric_pipeline_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(YAML)
    config = load_mapping_config(str(path))
    assert to_partner_central("110002", "75123456", config) == "Qualified"
    assert to_partner_central("110004", "75123456", config) == "Committed"
    assert to_hubspot("Qualified", "75123456", config) == "110003"  # configured reverse
    assert to_hubspot("Prospect", "75123456", config) == "110001"  # first match
    assert to_hubspot("Technical Validation", "75123456", config) is None
    assert to_partner_central("closedwon", "default", config) == "Launched"  # default still there
    assert config.amount_mode == "total_contract" and config.contract_term_months == 24
    assert not config.hubspot_owns("close_date")


def test_json_config(tmp_path: Path) -> None:
    path = tmp_path / "mapping.json"
    path.write_text('{"stage_maps": {"p1": {"1": "Prospect"}}, "default_pipeline": "p1"}')
    config = load_mapping_config(str(path))
    assert to_partner_central("1", None, config) == "Prospect"


@pytest.mark.parametrize(
    "bad",
    [
        "pipelines: {p: {stages: {'1': Nope}}}",
        "pipelines: {p: {stages: {'1': Prospect}, reverse: {Prospect: '2'}}}",
        "amount_mode: yearly",
        "ownership: {review_status: hubspot}",
        "ownership: {nonsense: hubspot}",
        "industry_overrides: {X: Software}",
        "default_currency: XYZ",
        "unknown_key: 1",
        "pipelines: 5",
        "- a list",
    ],
)
def test_bad_config_is_refused_with_a_reason(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(MappingConfigError, match="bad.yaml"):
        load_mapping_config(str(path))


def test_no_path_gives_defaults() -> None:
    assert load_mapping_config(None) == MappingConfig.default()
    assert load_mapping_config("") == MappingConfig.default()


@pytest.mark.parametrize(
    ("bad", "needles"),
    [
        ("stage_maps: {default: {closedwon: Won}}", ["stage_maps.default.closedwon", "'Won'", "'Launched'"]),
        ("pipelines: {p: {stages: {'1': Nope}}}", ["pipelines.p.stages.1", "'Nope'", "'Prospect'"]),
        ("primary_needs_default: [Nope]", ["primary_needs_default.0", "'Nope'", "allowed"]),
        ("ownership: {nonsense: hubspot}", ["ownership.nonsense", "'nonsense'", "'close_date'"]),
        ("ownership: {review_status: hubspot}", ["ownership.review_status", "only partner_central"]),
        ("max_contacts: 11", ["max_contacts", "11", "10"]),
        ("unknown_key: 1", ["unknown key 'unknown_key'", "'stage_maps'"]),
    ],
)
def test_bad_config_errors_name_the_path_the_value_and_what_is_allowed(
    tmp_path: Path, bad: str, needles: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(MappingConfigError) as info:
        load_mapping_config(str(path))
    for needle in needles:
        assert needle in str(info.value)


def test_yaml_scalars_are_read_as_their_text(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("stage_maps: {default: {110001: Prospect}}\ncosell_property_values: [yes, 1]")
    config = load_mapping_config(str(path))
    assert config.stage_maps["default"] == {"110001": "Prospect"}
    assert config.cosell_property_values == ("True", "1")
