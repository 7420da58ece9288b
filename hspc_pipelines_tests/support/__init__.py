"""Helpers the tests, benchmarks and scripts share, one module per job: processes, paths, environment,
postgres, dagster_dev and dagster_ui (Dagster's UI), partner_central, hubspot_http, webhooks, ingress,
names, deals and strategies (mapping inputs), sync_frames (plan inputs), product and outcomes (the
product in process and what its runs left), seeded (the seeded stack), cosell (the co-sell jobs).

Test modules import shared helpers from here only (test_support_imports.py checks it); a conftest
keeps only its folder's fixtures."""
