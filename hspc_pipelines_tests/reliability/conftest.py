"""Reliability fixtures: the end-to-end `product` fixture (emulator stack, product env, temporary
DAGSTER_HOME); the helpers that read what the emulated systems hold are in support/outcomes.py."""

from __future__ import annotations

from hspc_pipelines_tests.support.product import product

__all__ = ["product"]  # the fixture, found by pytest in this folder
