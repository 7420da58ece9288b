"""Daily partitions on last-modified date (UTC); the first day is configurable.

`end_offset=1` makes today a partition already: the schedule reconciles the current day every 15
minutes, while it is still changing."""

from __future__ import annotations

import os

import dagster as dg

DEFAULT_START_DATE = "2025-01-01"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get("HSPC_PARTITIONS_START_DATE", DEFAULT_START_DATE), timezone="UTC", end_offset=1
)
