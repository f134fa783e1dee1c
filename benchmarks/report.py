"""Results files of the benchmark: ``<device>-<date>[-quick].json`` plus the same name ``.md``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lstm_course.experiments.speed import device_slug, results_markdown

__all__ = ["RESULTS_DIR", "results_name", "write_results"]

#: Where ``python -m benchmarks.run`` writes by default (and where chapter 10 reads).
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def results_name(results: dict[str, Any], *, quick: bool = False) -> str:
    """File stem, e.g. ``cpu-2026-11-24`` or ``cuda-2026-11-24-quick``."""
    date = results["environment"]["date"][:10]
    return f"{device_slug(results['environment']['device'])}-{date}" + ("-quick" if quick else "")


def write_results(results: dict[str, Any], out_dir: str | Path = RESULTS_DIR, *,
                  quick: bool = False) -> tuple[Path, Path]:
    """Write ``results`` as JSON and as a Markdown table; returns ``(json_path, md_path)``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = results_name(results, quick=quick)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    md_path.write_text(results_markdown(results), encoding="utf-8")
    return json_path, md_path
