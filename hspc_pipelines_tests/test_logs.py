"""LOG_LEVEL and HSPC_LOG_FORMAT: hspc's logs as text or one JSON object a line, at the level set;
Dagster's console run logger the same way when a run names it."""

from __future__ import annotations

import io
import json
import logging

import dagster as dg
import pytest

from hspc_pipelines.defs.logging import console_logger
from hspc_pipelines.logs import configure_logging
from hspc_pipelines.settings import SettingsError, load_settings


@pytest.fixture
def restore_root():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_at_the_level_set(restore_root) -> None:
    out = io.StringIO()
    configure_logging(load_settings({"LOG_LEVEL": "warning", "HSPC_LOG_FORMAT": "JSON"}), out)
    log = logging.getLogger("hspc_pipelines.test")
    log.info("not shown")
    log.warning("deal %s failed", "42", extra={"deal_id": "42"})
    try:
        raise ValueError("bad")
    except ValueError:
        log.exception("with traceback")
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [d["message"] for d in docs] == ["deal 42 failed", "with traceback"]
    assert docs[0]["level"] == "WARNING" and docs[0]["logger"] == "hspc_pipelines.test"
    assert docs[0]["deal_id"] == "42" and docs[0]["time"].endswith("+00:00")
    assert "ValueError: bad" in docs[1]["exception"]


def test_text_by_default_and_configuring_twice_keeps_one_handler(restore_root) -> None:
    out = io.StringIO()
    configure_logging(load_settings({}), out)
    configure_logging(load_settings({}), out)
    logging.getLogger("x").info("hello")
    assert out.getvalue().count("hello") == 1 and " INFO x: hello" in out.getvalue()


def test_bad_values_are_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="LOG_LEVEL='loud' cannot be used; allowed: DEBUG, INFO"):
        load_settings({"LOG_LEVEL": "loud"})
    with pytest.raises(
        SettingsError, match="HSPC_LOG_FORMAT='xml' cannot be used; allowed: 'text' or 'json'"
    ):
        load_settings({"HSPC_LOG_FORMAT": "xml"})


def test_dagster_console_logger_writes_json(capfd) -> None:
    settings = load_settings({"HSPC_LOG_FORMAT": "json", "LOG_LEVEL": "INFO"})

    @dg.op
    def speaks(context) -> None:
        context.log.debug("quiet")
        context.log.info("loud")

    @dg.job(logger_defs={"console": console_logger(settings)})
    def talk() -> None:
        speaks()

    with dg.instance_for_test() as instance:
        talk.execute_in_process(instance=instance, run_config={"loggers": {"console": {}}})
    lines = [json.loads(x) for x in capfd.readouterr().err.splitlines() if x.startswith("{")]
    messages = [x.get("dagster_meta", {}).get("orig_message") or x.get("msg") for x in lines]
    assert "loud" in messages and "quiet" not in messages
