"""I/O orchestration of the reconcile steps: clients + the pure sync engine, no Dagster."""
