"""Dagster's `console` run logger, following LOG_LEVEL and HSPC_LOG_FORMAT (`json`: Dagster's own
JSON formatter, one object a line). Dagster uses a job's loggers only for runs whose config names
them (`loggers: {console: {}}`); runs that do not get Dagster's default console logger at the
instance's `python_logs.python_log_level`. `hspc run` names it, to stay quiet unless --verbose."""

from __future__ import annotations

import logging

import dagster as dg

from hspc_pipelines.settings import Settings


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
