"""End-to-end fixtures: the emulator stack, the product's environment pointed at it, and a Dagster
instance in a temporary DAGSTER_HOME (hspc_pipelines_tests/support/product.py). Everything talks real
HTTP and AWS protocol."""

from __future__ import annotations

from hspc_pipelines_tests.support.product import product

__all__ = ["product"]  # the fixture, found by pytest in this folder
