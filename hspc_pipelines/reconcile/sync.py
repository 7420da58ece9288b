"""`hspc sync --deal ID [--deal ID ...] [--opportunity ID ...]`: sync a few records now, through Dagster.

Runs the `sync_deals` job (defs/reconcile/scoped.py) in this process against the DAGSTER_HOME instance,
so the run shows in the UI like every other, and prints the summary `hspc run` prints. It writes no
partition of the reconcile assets. Ids are checked before anything starts (`reconcile/scope.py`).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from hspc_pipelines.dev import DEMO_DEALS, product_environment
from hspc_pipelines.events.coalesce import SYNC_DEALS, scope_config
from hspc_pipelines.reconcile.scope import Scope, ScopeError, parse_scope
from hspc_pipelines.settings import dagster_home

if TYPE_CHECKING:  # Dagster loads when a sync runs, not when `hspc` builds its parser
    import dagster as dg

    from hspc_pipelines.reconcile.runner import ReconcileOutcome

FLAGS = {"deal_ids": "--deal", "opportunity_ids": "--opportunity"}


def register(subparsers: Any) -> None:
    sync = subparsers.add_parser(
        "sync", help="sync the given deals and opportunities now through Dagster, then a summary"
    )
    sync.add_argument(
        "--deal", action="append", default=[], metavar="ID", help="HubSpot deal id (repeat for more)"
    )
    sync.add_argument(
        "--opportunity",
        action="append",
        default=[],
        metavar="ID",
        help="Partner Central opportunity id, O… (repeat for more)",
    )
    sync.add_argument("--deals", type=int, default=DEMO_DEALS, help="deals to seed when emulating")
    sync.set_defaults(handler=cmd_sync)


def run_sync(
    scope: Scope,
    *,
    instance: dg.DagsterInstance | None = None,
    defs: dg.Definitions | None = None,
    run_id: str | None = None,
    quiet: bool = False,
) -> ReconcileOutcome:
    """One `sync_deals` run of `scope`; its plan and write-back frames under the reconcile assets'
    names, so `summarize` reads it as it reads a reconcile. `run_id`: the id to start it with (a
    progress listener subscribes to it first); `quiet`: Dagster's console logger says nothing."""
    import dagster as dg
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    from hspc_pipelines.defs.reconcile.scoped import scoped_deal_writes, scoped_plan
    from hspc_pipelines.reconcile.runner import ReconcileOutcome

    if defs is None:
        from hspc_pipelines.definitions import build_defs

        defs = build_defs()
    instance = instance or dg.DagsterInstance.get()
    with set_defs_state_storage(instance.defs_state_storage):  # see reconcile/runner.py
        job = defs.resolve_job_def(SYNC_DEALS)
    from hspc_pipelines.reconcile.progress import QUIET_LOGGERS

    run_config = scope_config(scope.deal_ids, scope.opportunity_ids)
    result = job.execute_in_process(
        run_config={**run_config, **QUIET_LOGGERS} if quiet else run_config,
        instance=instance,
        raise_on_error=False,
        tags={"hspc/trigger": "cli"},
        run_id=run_id,
    )
    outcome = ReconcileOutcome(run_id=result.run_id, success=result.success, dry_run=False)
    for name, node in (("sync_plan", scoped_plan), ("hubspot_deal_writes", scoped_deal_writes)):
        try:
            outcome.frames[name] = result.output_for_node(node.name)
        except dg.DagsterInvariantViolationError:
            continue  # the step failed before its output
    return outcome


def cmd_sync(args: argparse.Namespace) -> int:
    try:
        scope = parse_scope(args.deal, args.opportunity)
    except ScopeError as exc:
        flag = FLAGS.get(exc.field, exc.field)
        value = "nothing" if exc.value == [] else repr(exc.value)
        print(f"hspc sync: {flag}: {value} is not allowed; expected {exc.allowed}", file=sys.stderr)
        return 2
    home = dagster_home()
    with product_environment(args.deals):
        import dagster as dg
        from dagster._core.storage.defs_state.base import set_defs_state_storage

        from hspc_pipelines.definitions import build_defs
        from hspc_pipelines.reconcile.progress import Progress, run_with_progress
        from hspc_pipelines.reconcile.runner import summarize
        from hspc_pipelines.settings import load_settings

        settings, instance, defs = load_settings(), dg.DagsterInstance.get(), build_defs()
        with set_defs_state_storage(instance.defs_state_storage):  # see reconcile/runner.py
            job = defs.resolve_job_def(SYNC_DEALS)
        # one line per step while it works, as `hspc run` prints (reconcile/progress.py)
        progress = Progress(
            steps=[node.name for node in job.graph.nodes_in_topological_order],
            writes_per_second=settings.pc_writes_per_second,
            writes_per_day=settings.pc_writes_per_day,
        )
        result = run_with_progress(
            instance,
            lambda run_id: run_sync(scope, instance=instance, defs=defs, run_id=run_id, quiet=True),
            progress,
        )
        print()
        print(summarize(result))
        if progress.failures:
            print(f"hspc sync: {progress.failures[0]}", file=sys.stderr)
        print(
            f"\nRun {result.run_id} is stored in {home}. See it in the UI: `make dev`, then "
            f"http://127.0.0.1:3000/runs/{result.run_id}"
        )
        return 0 if result.success and not result.failed_rows else 1
