"""Helpers the tests and benchmarks share: processes, environments, PostgreSQL, webhooks, Dagster's UI."""
