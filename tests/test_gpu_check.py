"""``make gpu-check``'s CPU dry run: benchmark rows at tiny sizes and the recording machinery.

The CUDA parts cannot run here; the dry run exercises everything around them, writing results
files with provenance into a temporary folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import gpu_check  # noqa: E402

from lstm_course.results import PROVENANCE_KEYS, load  # noqa: E402


def test_dry_run_writes_results_with_provenance_and_times_each_part(tmp_path, capsys):
    assert gpu_check.main(["--dry-run", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "time per part: benchmark" in out and "reproduce" in out and "total" in out
    bench = load(tmp_path / "ch10_performance" / "benchmark_cpu_quick.json")
    assert set(PROVENANCE_KEYS) <= set(bench.provenance)
    assert bench.provenance["command"].startswith("python scripts/gpu_check.py --dry-run")
    rows = {r["id"]: r for r in bench.extra["rows"]}
    assert set(rows) == set(gpu_check.DRY_ROWS)
    assert all(r["status"] == "ok" for r in rows.values()), rows
    probe = load(tmp_path / "ch00_probe" / "01_probe.json")
    assert probe["profile_name"] == "quick" and probe.provenance["threads"] == 1
    for chapter, _ in gpu_check.PAGES:
        assert chapter in out


def test_without_cuda_the_real_check_says_so_in_one_line(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: the real check would run")
    assert gpu_check.main(["--results", "/nonexistent"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gpu-check: no CUDA GPU") and "\n" not in err


def test_gpu_rows_are_benchmark_rows():
    from lstm_course.experiments.speed_impls import IMPL_IDS

    assert set(gpu_check.GPU_ROWS) <= set(IMPL_IDS) and set(gpu_check.DRY_ROWS) <= set(IMPL_IDS)
    assert "torch-fused-lstm-cpp" in gpu_check.GPU_ROWS and "tf-keras-lstm" in gpu_check.GPU_ROWS
