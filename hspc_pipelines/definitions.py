"""The Dagster code location: every module under `defs/` (one per feature, each a lazy
`@dg.definitions`), loaded by Dagster's defs-folder loader, plus the resources for this DAGSTER_HOME."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

import hspc_pipelines.defs
from hspc_pipelines.defs.event_batching import apply_range_run_env
from hspc_pipelines.defs.logging import console_logger
from hspc_pipelines.defs.resources import build_resources
from hspc_pipelines.logs import configure_logging
from hspc_pipelines.settings import dagster_home, load_settings

# The directory holding the `hspc_pipelines` package: the repository, or site-packages when installed.
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def load_features() -> dg.Definitions:
    """What `dg.load_from_defs_folder` loads (the same component tree), with two differences:
    - the tree is found from the package itself: that function finds it through pyproject.toml's
      [tool.dg], which an installed package (the production image) does not have;
    - only the defs folder is built, not the catalog of every installed component type that the root
      adds for the UI (it imports all of dagster-aws's components: seconds on every code-server and
      run-worker start, for a catalog this project does not use)."""
    tree = dg.ComponentTree.from_module(defs_module=hspc_pipelines.defs, project_root=PROJECT_ROOT)
    return tree.build_defs(tree.defs_module_path)


def build_defs(home: str | None = None) -> dg.Definitions:
    """Definitions with settings read now (tests call this after setting the environment)."""
    settings = load_settings()
    apply_range_run_env()  # the run worker and in-process runs log events in this process
    home = home or str(dagster_home(settings))
    features = load_features().with_resources(build_resources(home, settings))
    return dg.Definitions.merge(features, dg.Definitions(loggers={"console": console_logger(settings)}))


@dg.definitions
def defs() -> dg.Definitions:
    configure_logging()  # hspc's own logs in the code location and run workers: LOG_LEVEL, format
    return build_defs()
