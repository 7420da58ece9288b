"""The Dagster code location: assembles defs/ with resources chosen by environment."""

from __future__ import annotations

import dagster as dg

defs = dg.Definitions()
