"""A small run of benchmarks/platform_rating.py (a real ``dyadlab serve``, real HTTP): a
few couples rate for two seconds on SQLite; every batch is stored exactly once."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
def test_rating_benchmark_stores_every_batch_once(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(
            "platform_rating", BENCHMARKS / "platform_rating.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["platform_rating"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        code = module.main(["--backend", "sqlite", "--couples", "3", "--duration", "2"])
    finally:
        sys.path.remove(str(BENCHMARKS))
        sys.modules.pop("platform_rating", None)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "-> every batch once" in out
    assert "'batches': 6," in out  # 6 phones x one batch every 2 s for 2 s
