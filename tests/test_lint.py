"""ruff's lint and format checks over the whole repository, so `make test` (and CI) enforces them.

The configuration is ``[tool.ruff]`` in pyproject.toml; ``book/ruff.toml`` extends it for the
notebooks with the site's 79-column code column.  ``make format`` fixes what can be fixed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the venv's ruff from the repository root (ruff ships as a Python package)."""
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_check_passes() -> None:
    result = ruff("check", ".", "--output-format", "concise", "--no-cache")
    assert result.returncode == 0, "ruff check . found (fix them; `make format` fixes some):\n" + result.stdout


def test_ruff_format_is_applied() -> None:
    result = ruff("format", "--check", ".", "--no-cache")
    assert result.returncode == 0, "ruff format would change (run `make format`):\n" + result.stdout


def test_every_notebook_is_linted_at_79_columns() -> None:
    listed = ruff("check", "--show-files", ".")
    assert listed.returncode == 0, listed.stderr
    files = {Path(line.strip()).resolve() for line in listed.stdout.splitlines() if line.strip()}
    notebooks = sorted((ROOT / "book").rglob("*.ipynb"))
    notebooks = [nb for nb in notebooks if "_build" not in nb.parts and ".ipynb_checkpoints" not in nb.parts]
    assert notebooks, "no notebooks under book/"
    missing = [str(nb.relative_to(ROOT)) for nb in notebooks if nb.resolve() not in files]
    assert not missing, f"ruff does not check these notebooks: {missing}"
    settings = ruff("check", "--show-settings", str(notebooks[0].relative_to(ROOT)))
    assert settings.returncode == 0, settings.stderr
    assert "linter.line_length = 79\n" in settings.stdout, "notebooks are not linted at 79 columns"
    assert "formatter.line_width = 79\n" in settings.stdout, "notebooks are not formatted at 79 columns"
    package = ruff("check", "--show-settings", "lstm_course/__init__.py")
    assert "linter.line_length = 120\n" in package.stdout, "the package's line length is not 120"
