"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reference.fixtures import shared_data_dir


@pytest.fixture
def shared_data() -> Path:
    """The folder of public couples' data sets (``../shared/data``); skip if absent."""
    path = shared_data_dir()
    if not path.exists():
        pytest.skip("shared data folder is not available")
    return path
