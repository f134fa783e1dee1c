"""Reading the course's notebooks in tests: their imports, the extras they need, markdown numbers."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").rglob("*.ipynb"))
COLAB_MARKER = 'if importlib.util.find_spec("lstm_course") is None:'
#: The top-level packages an extra of pyproject.toml provides (base dependencies need none).
EXTRA_OF = {
    "torch": "torch",
    "tensorflow": "tf",
    "keras": "tf",
    "cn2an": "seq2seq",
    "statsmodels": "timeseries",
    "d2l": "tf",
}


def toc_notebooks() -> list[Path]:
    """The notebooks the book builds: ``file`` entries and ``glob`` sections of ``_toc.yml``."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found: list[Path] = []

    def visit(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                found.extend(ROOT.glob(f"{entry['file']}.ipynb"))
            if "glob" in entry:
                found.extend(sorted(ROOT.glob(f"{entry['glob']}.ipynb")))
            visit(entry.get("sections", []))

    for part in toc["parts"]:
        visit(part["chapters"])
    return sorted(set(found))


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def colab_cell(path: Path) -> dict:
    return next(c for c in cells(path) if c["cell_type"] == "code")


def import_lines(path: Path) -> list[str]:
    """Every import statement of the page's code cells (the Colab cell excluded)."""
    lines = []
    for cell in cells(path):
        if cell["cell_type"] != "code" or COLAB_MARKER in source(cell):
            continue
        code = "\n".join(line for line in source(cell).splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                lines.append(ast.unparse(node))
    return lines


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_level_imports(name: str) -> set[str]:
    """Modules a package module imports when it is imported (module-level statements only,
    ``if TYPE_CHECKING`` blocks left out), resolved to absolute names."""
    path = _module_file(name)
    if path is None:
        return set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return found


def loaded_by(names: set[str]) -> set[str]:
    """Top-level packages loaded by importing ``names`` (following lstm_course's own modules)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in seen:
                continue
            seen.add(prefix)
            if parts[0] == "lstm_course":
                todo.extend(module_level_imports(prefix))
    return {n.split(".")[0] for n in seen}


def needed_extras(path: Path) -> set[str]:
    """The extras a page needs: what its imports load, followed through lstm_course's modules."""
    names: set[str] = set()
    for line in import_lines(path):
        node = ast.parse(line).body[0]
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        else:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {EXTRA_OF[m] for m in loaded_by(names) if m in EXTRA_OF}


def installed_extras(path: Path) -> set[str]:
    """The extras named in the page's Colab cell: ``lstm-course[torch,tf] @ git+...``."""
    match = re.search(r'SPEC = "lstm-course(?:\[([\w,]*)\])?"', source(colab_cell(path)))
    if not match:
        raise AssertionError(f"{path.name}: the Colab cell does not install lstm-course from git")
    return set(filter(None, (match.group(1) or "").split(",")))


def colab_source(extras: set[str], url: str) -> str:
    """The Colab setup cell a page with these extras should have (≤ 79 columns, as ruff formats it)."""
    spec = f"lstm-course[{','.join(sorted(extras))}]" if extras else "lstm-course"
    return (
        "# Colab setup: installs what this page imports when lstm_course is missing\n"
        "# (a no-op locally and in CI; hidden on the site).\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        f'SPEC = "{spec}"\n'
        f'URL = "{url}"\n'
        f"{COLAB_MARKER}\n"
        '    pip = [sys.executable, "-m", "pip", "install", "-q"]\n'
        '    subprocess.run([*pip, f"{SPEC} @ git+{URL}"], check=True)'
    )
