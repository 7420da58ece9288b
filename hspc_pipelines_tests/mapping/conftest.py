from __future__ import annotations

import pytest

from hspc_pipelines.mapping import MappingConfig


@pytest.fixture
def config() -> MappingConfig:
    return MappingConfig.default()
