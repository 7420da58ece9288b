"""Daily partitions on last-modified date (UTC); the first day is `HSPC_PARTITIONS_START_DATE`.

`end_offset=1` makes today a partition already: the schedule reconciles the current day every 15
minutes, while it is still changing."""

from __future__ import annotations

import datetime as dt

import dagster as dg


def daily_partitions(start_date: dt.date) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start_date.isoformat(), timezone="UTC", end_offset=1)
