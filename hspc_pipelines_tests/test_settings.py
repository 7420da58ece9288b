"""One settings object: a bad value is refused by name, value and what is allowed, wherever it is read;
unset or empty means the default; secrets never appear in errors; nothing is read at import time."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from hspc_pipelines.defs.resources import build_resources
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.settings import Settings, SettingsError, configuration_table, load_settings

BAD = [
    ("HSPC_HUBSPOT_REQUESTS_PER_10S", "lots", "a whole number, 1 or more"),
    ("HSPC_HUBSPOT_REQUESTS_PER_10S", "12.5", "a whole number, 1 or more"),
    ("HSPC_HUBSPOT_REQUESTS_PER_10S", "0", "a whole number, 1 or more"),
    ("HSPC_HUBSPOT_SEARCH_PER_SECOND", "nan", "a number above 0"),
    ("HSPC_PC_READS_PER_SECOND", "-1", "a number above 0"),
    ("HSPC_PC_WRITES_PER_SECOND", "1/s", "a number above 0"),
]


def _from_env(name: str) -> object:
    if name.startswith("HSPC_HUBSPOT_"):
        return HubSpotClient.from_env()
    return PartnerCentralClient.from_env()


@pytest.mark.parametrize(("name", "value", "allowed"), BAD)
def test_a_bad_pacing_value_is_refused_by_name_value_and_range_wherever_it_is_read(
    monkeypatch, name, value, allowed
):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.setenv(name, value)
    expected = f"{name}={value!r} cannot be used; allowed: {allowed}"
    with pytest.raises(SettingsError) as from_settings:
        load_settings()
    with pytest.raises(SettingsError) as from_client:
        _from_env(name)
    assert str(from_settings.value) == str(from_client.value) == expected
    assert isinstance(from_settings.value, ValueError)


def test_unset_or_empty_means_the_default_and_whole_numbers_may_be_written_as_floats(monkeypatch, tmp_path):
    monkeypatch.setenv("HSPC_HUBSPOT_REQUESTS_PER_10S", "50.0")
    monkeypatch.setenv("HSPC_HUBSPOT_SEARCH_PER_SECOND", "")
    monkeypatch.setenv("HSPC_PC_WRITES_PER_SECOND", "2.5")
    monkeypatch.delenv("HSPC_PC_READS_PER_SECOND", raising=False)
    monkeypatch.setenv("HSPC_PC_WRITE_WORKERS", "0")
    resources = build_resources(str(tmp_path), load_settings())
    hubspot, pc = resources["hubspot"], resources["partner_central"]
    assert (hubspot.requests_per_10s, hubspot.search_per_second) == (50, 4.0)
    assert (pc.reads_per_second, pc.writes_per_second, pc.write_workers) == (10.0, 2.5, 0)
    monkeypatch.setenv("HSPC_PC_WRITE_WORKERS", "-1")
    with pytest.raises(SettingsError, match="HSPC_PC_WRITE_WORKERS='-1' .* a whole number, 0 or more"):
        load_settings()


@pytest.mark.parametrize(
    ("value", "expected"), [("", 60.0), ("0", 0.0), ("2.5", 2.5), ("-1", None), ("soon", None), ("inf", None)]
)
def test_a_wait_in_seconds_is_zero_or_more(monkeypatch, value, expected):
    monkeypatch.setenv("HSPC_TASK_POLL_BUDGET_SECONDS", value)
    if expected is None:
        with pytest.raises(
            SettingsError, match=r"HSPC_TASK_POLL_BUDGET_SECONDS=.* allowed: a number of seconds"
        ):
            load_settings()
    else:
        assert load_settings().task_poll_budget_seconds == expected


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("HSPC_RECONCILE_CRON", "every minute", "a cron expression"),
        ("HSPC_NIGHTLY_SWEEP_HOUR_UTC", "24", "a whole number from 0 to 23"),
        ("HSPC_PARTITIONS_START_DATE", "2025-13-01", "a date, YYYY-MM-DD"),
        ("PARTNER_CENTRAL_CATALOG", "Production", "'AWS' or 'Sandbox'"),
        ("HSPC_NOTIFY_TASKS", "maybe", "true or false"),
        ("HUBSPOT_BASE_URL", "api.hubapi.com", "an http:// or https:// URL"),
    ],
)
def test_other_bad_values_name_the_variable_the_value_and_what_is_allowed(name, value, allowed):
    with pytest.raises(SettingsError) as info:
        load_settings({name: value})
    assert str(info.value).startswith(f"{name}={value!r} cannot be used; allowed: {allowed}")


def test_a_secret_is_never_shown_in_an_error_or_a_repr():
    secret = "hooks.slack.com/services/T000/B000/XXXX"
    with pytest.raises(SettingsError) as info:
        load_settings({"HSPC_ALERT_WEBHOOK_URL": secret})
    assert "HSPC_ALERT_WEBHOOK_URL (value hidden) cannot be used" in str(info.value)
    assert secret not in str(info.value)
    settings = load_settings(
        {"HUBSPOT_ACCESS_TOKEN": "pat-na1-secret", "HSPC_STATE_URL": "postgresql://u:pw@h/db"}
    )
    assert "pat-na1-secret" not in repr(settings) and "pw@" not in repr(settings)
    assert settings.hubspot_access_token is not None
    assert settings.hubspot_access_token.get_secret_value() == "pat-na1-secret"


def test_every_field_is_named_after_its_variable_and_documented():
    for name, field in Settings.model_fields.items():
        assert field.alias and field.alias.isupper(), name
        assert field.description, field.alias
        assert isinstance(field.json_schema_extra, dict) and field.json_schema_extra["allowed"], field.alias


def test_nothing_is_read_at_import_time_only_when_definitions_are_built():
    """With a bad cron in the environment every product module imports; building definitions refuses it."""
    script = (
        "import importlib, pkgutil, hspc_pipelines\n"
        "for m in pkgutil.walk_packages(hspc_pipelines.__path__, 'hspc_pipelines.'):\n"
        "    if '.emulators' not in m.name: importlib.import_module(m.name)\n"
        "from hspc_pipelines.definitions import build_defs\n"
        "try:\n"
        "    build_defs('/tmp')\n"
        "except ValueError as exc:\n"
        "    print('REFUSED', exc)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HSPC_RECONCILE_CRON": "often", "HSPC_SWEEP_DAYS": "2"}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "REFUSED HSPC_RECONCILE_CRON='often' cannot be used; allowed: a cron expression" in proc.stdout


# -- the README's table and the one place that reads the environment ---------------------------------

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "hspc_pipelines"
TABLE = re.compile(r"<!-- settings-table: start[^\n]*-->\n(.*?)<!-- settings-table: end -->", re.S)

# (module, function) that may touch os.environ besides settings.py, and why.
ENVIRON_ALLOWED = {
    # Puts the local emulators' addresses into this process's environment (and restores it): the
    # code and the `dagster dev` it starts then read them through Settings like a real deployment's.
    ("hspc_pipelines/dev.py", "product_environment"),
    # Defaults for Dagster's own variables (event batching), which Dagster reads from the environment.
    ("hspc_pipelines/defs/event_batching.py", "apply_range_run_env"),
}


def test_the_readme_configuration_table_is_the_generated_one():
    match = TABLE.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its settings-table markers"
    assert match.group(1) == configuration_table(), "README table is stale: paste the output of `hspc config`"


def test_the_table_lists_every_variable_the_settings_read():
    table = configuration_table()
    for field in Settings.model_fields.values():
        assert f"| `{field.alias}` |" in table


def _environ_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, enclosing function) of every os.environ / os.getenv / os.putenv / `from os import environ`."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv", "putenv", "environb", "unsetenv")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.append((node.lineno, function))
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in ("environ", "getenv", "environb") for a in node.names)
        ):
            found.append((node.lineno, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "<module>")
    return found


def test_no_product_code_reads_the_environment_except_settings():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(REPO).as_posix()
        if module == "hspc_pipelines/settings.py":
            continue
        for line, function in _environ_uses(ast.parse(path.read_text(encoding="utf-8"))):
            if (module, function) not in ENVIRON_ALLOWED:
                offenders.append(f"{module}:{line} in {function}")
    assert not offenders, "read the environment through hspc_pipelines.settings instead: " + ", ".join(
        offenders
    )


def test_the_scan_finds_what_it_looks_for():
    source = "import os\nfrom os import getenv\ndef f():\n    return os.environ.get('X') or os.getenv('Y')\n"
    assert [f for _, f in _environ_uses(ast.parse(source))] == ["<module>", "f", "f"]


def test_resources_take_secrets_and_urls_as_env_vars_not_their_values(monkeypatch, tmp_path):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-secret")
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HSPC_STATE_URL", "postgresql://u:pw@h/db")
    monkeypatch.setenv("HSPC_ASSET_STORE_URL", "s3://hspc-bucket/outputs")
    monkeypatch.delenv("HSPC_HUBSPOT_TOKEN_SSM_PARAMETER", raising=False)
    monkeypatch.delenv("PARTNER_CENTRAL_ROLE_ARN", raising=False)
    resources = build_resources(str(tmp_path), load_settings())
    hubspot, state = resources["hubspot"], resources["sync_state"]
    assert (hubspot.access_token, hubspot.base_url, state.url) == (
        dg.EnvVar("HUBSPOT_ACCESS_TOKEN"),
        dg.EnvVar("HUBSPOT_BASE_URL"),
        dg.EnvVar("HSPC_STATE_URL"),
    )
    assert all(isinstance(v, dg.EnvVar) for v in (hubspot.access_token, hubspot.base_url, state.url))
    assert resources["io_manager"].root_uri == dg.EnvVar("HSPC_ASSET_STORE_URL")
    # Unset: the defaults, as plain values.
    monkeypatch.delenv("HSPC_STATE_URL")
    monkeypatch.delenv("HSPC_ASSET_STORE_URL")
    monkeypatch.delenv("HUBSPOT_BASE_URL")
    resources = build_resources(str(tmp_path), load_settings())
    assert resources["hubspot"].base_url == "https://api.hubapi.com"
    assert resources["sync_state"].url == f"sqlite:///{tmp_path / 'hspc_state.sqlite'}"
    assert resources["io_manager"].root_uri == str(tmp_path / "hspc_assets")
    assert resources["partner_central"].role_arn is None


# -- variables renamed since the Lambda system (docs/migrating.md) ------------------------------------


def test_the_lambda_systems_webhook_secret_is_read_as_the_client_secret_with_a_warning():
    import logging

    from hspc_pipelines.settings import load_settings

    seen: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("hspc_pipelines.settings")
    logger.addHandler(handler)
    try:
        settings = load_settings({"HUBSPOT_WEBHOOK_SECRET": "lambda-era-secret-1"})
    finally:
        logger.removeHandler(handler)
    assert settings.hubspot_client_secret is not None
    assert settings.hubspot_client_secret.get_secret_value() == "lambda-era-secret-1"
    text = "\n".join(seen)
    assert "HUBSPOT_WEBHOOK_SECRET is deprecated: rename it to HUBSPOT_CLIENT_SECRET" in text
    assert "lambda-era-secret-1" not in text
    same = load_settings({"HUBSPOT_WEBHOOK_SECRET": "s-2", "HUBSPOT_CLIENT_SECRET": "s-2"})
    assert same.hubspot_client_secret is not None and same.hubspot_client_secret.get_secret_value() == "s-2"


def test_the_old_and_new_secret_names_with_different_values_are_refused():
    from hspc_pipelines.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as refused:
        load_settings({"HUBSPOT_WEBHOOK_SECRET": "old-value-9", "HUBSPOT_CLIENT_SECRET": "new-value-9"})
    message = str(refused.value)
    assert "HUBSPOT_WEBHOOK_SECRET" in message and "keep only HUBSPOT_CLIENT_SECRET" in message
    assert "old-value-9" not in message and "new-value-9" not in message


# -- the webhooks journal needs client-credentials tokens -------------------------------------------

STATIC_TOKEN = {"HUBSPOT_ACCESS_TOKEN": "pat-token"}
APP = {"HUBSPOT_CLIENT_ID": "app-id", "HUBSPOT_CLIENT_SECRET": "app-secret"}


@pytest.mark.parametrize("source", ["journal", "both", "JOURNAL"])
@pytest.mark.parametrize(
    ("credentials", "shown"),
    [
        (STATIC_TOKEN, "HSPC_HUBSPOT_AUTH=unset without HUBSPOT_CLIENT_ID"),
        ({**STATIC_TOKEN, "HSPC_HUBSPOT_AUTH": "service_key"}, "HSPC_HUBSPOT_AUTH=service_key"),
        ({**STATIC_TOKEN, **APP, "HSPC_HUBSPOT_AUTH": "private_app"}, "HSPC_HUBSPOT_AUTH=private_app"),
        ({}, "HSPC_HUBSPOT_AUTH=unset without HUBSPOT_CLIENT_ID"),
    ],
)
def test_the_journal_as_events_source_is_refused_without_client_credentials(source, credentials, shown):
    with pytest.raises(SettingsError) as caught:
        load_settings({"HSPC_HUBSPOT_EVENTS_SOURCE": source, **credentials})
    message = str(caught.value)
    assert f"HSPC_HUBSPOT_EVENTS_SOURCE={source.lower()}" in message and shown in message
    assert "client_credentials" in message and "HSPC_HUBSPOT_EVENTS_SOURCE=queue" in message
    assert "pat-token" not in message and "app-secret" not in message and "\n" not in message


@pytest.mark.parametrize(
    "credentials",
    [
        APP,
        {**APP, "HSPC_HUBSPOT_AUTH": "client_credentials"},
        {**APP, **STATIC_TOKEN, "HSPC_HUBSPOT_AUTH": "client_credentials"},
    ],
)
def test_the_journal_is_accepted_with_client_credentials_and_the_queue_with_anything(credentials):
    assert (
        load_settings({"HSPC_HUBSPOT_EVENTS_SOURCE": "both", **credentials}).hubspot_events_source == "both"
    )
    assert (
        load_settings({"HSPC_HUBSPOT_EVENTS_SOURCE": "queue", **STATIC_TOKEN}).hubspot_events_source
        == "queue"
    )


def test_config_check_shows_the_journal_refusal_in_one_line(monkeypatch, capsys):
    from hspc_pipelines.cli import main

    for name in ("HUBSPOT_CLIENT_ID", "HSPC_HUBSPOT_AUTH", "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-token")
    monkeypatch.setenv("HSPC_HUBSPOT_EVENTS_SOURCE", "journal")
    assert main(["config", "--check"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "HSPC_HUBSPOT_EVENTS_SOURCE=journal" in err and "HSPC_HUBSPOT_AUTH" in err
    monkeypatch.setenv("HSPC_HUBSPOT_EVENTS_SOURCE", "queue")
    assert main(["config", "--check"]) == 0
