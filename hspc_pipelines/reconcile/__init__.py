"""The reconcile: pure planning (plan, converge, frames, outcomes, report, settled) beside its I/O
(snapshots, apply, write-back, settled_store); no Dagster outside `runner` and `cli` (`hspc run`)."""
