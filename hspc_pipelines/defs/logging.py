"""Dagster's `console` run logger, following LOG_LEVEL and HSPC_LOG_FORMAT (`json`: Dagster's own
JSON formatter, one object a line).

Dagster uses a job's loggers only for runs whose config names them (`loggers: {console: {}}`); a
run that does not gets Dagster's default colored console logger, in text. So every hspc job names
it in its default run config (`CONSOLE_RUN_CONFIG`, merged field by field with what a schedule, a
sensor or the launchpad gives), and the events sensor names it in each request, since
`submit_opportunity` has required config and cannot carry a default. The one run that escapes is
Dagster's implicit asset job (a "Materialize" click on the asset graph), which takes no default
config: docs/production.md ("Logs") says to add the logger in the launchpad or use the `reconcile` job."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import dagster as dg

from hspc_pipelines.settings import Settings

CONSOLE_RUN_CONFIG: dict[str, Any] = {"loggers": {"console": {}}}


def naming_console(run_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """`run_config` with the console logger named (its own logger config, when given, is kept)."""
    merged = dict(run_config or {})
    merged["loggers"] = {**CONSOLE_RUN_CONFIG["loggers"], **dict(merged.get("loggers") or {})}
    return merged


def console_logger(settings: Settings) -> dg.LoggerDefinition:
    base = dg.json_console_logger if settings.log_format == "json" else dg.colored_console_logger

    @dg.logger(
        config_schema={"log_level": dg.Field(str, default_value=settings.log_level, is_required=False)},
        description=f"Dagster's console logger ({settings.log_format}) at LOG_LEVEL",
    )
    def console(init_context: dg.InitLoggerContext) -> logging.Logger:
        config = {"log_level": init_context.logger_config["log_level"], "name": "dagster"}
        return base.logger_fn(dg.build_init_logger_context(logger_config=config))

    return console
