"""House rules that keep the repository consistent: dependencies, notebooks, table of contents."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
import yaml
from notebook_tools import COLAB_MARKER, NOTEBOOKS, ROOT, colab_cell, colab_source, installed_extras, needed_extras


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_extras_use_ranges_not_pins():
    project = _pyproject()["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    pinned = [s for s in specs if "==" in s]
    assert not pinned, f"exact pins break learners' environments: {pinned}"
    assert set(project["optional-dependencies"]) >= {"torch", "tf", "book", "dev", "all"}


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python"))
    minimum = re.search(r">=\s*([\d.]+)", python).group(1)
    requires = _pyproject()["project"]["requires-python"]
    assert requires == f">={minimum}", f"environment.yml says {python}, pyproject.toml {requires}"
    pip_lines = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    extras = set(_pyproject()["project"]["optional-dependencies"])
    for line in pip_lines:
        match = re.fullmatch(r'-e\s+"?\.\[([\w,]+)\]"?', line)
        assert match, f"environment.yml should install this repository with extras, got {line!r}"
        assert set(match.group(1).split(",")) <= extras
    assert "pip" in deps


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"cells {dirty} have outputs or execution counts; run `make strip`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_starts_with_title_and_colab_cell(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    first = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and first.startswith("# "), "first cell: '# 标题'"
    assert "在 Colab 中运行" in first
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert COLAB_MARKER in "".join(code["source"]), "first code cell must be the Colab setup cell"


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [s["file"] for s in chapter.get("sections", []) if "file" in s]
            for section in chapter.get("sections", []):
                if "glob" in section:
                    assert list(ROOT.glob(section["glob"])), f"glob {section['glob']} matches nothing"
    return files


def test_toc_entries_exist():
    for name in _toc_files():
        assert any((ROOT / f"{name}{ext}").is_file() for ext in (".md", ".ipynb")), name


def test_every_chapter_notebook_is_in_the_toc():
    toc_text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    active = [line for line in toc_text.splitlines() if not line.lstrip().startswith("#")]
    for path in NOTEBOOKS:
        folder = path.parent.relative_to(ROOT).as_posix()
        assert any(folder in line for line in active), f"{folder} is not in _toc.yml"


def test_readme_gives_exactly_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    fresh = readme.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```(?:bash|sh)\n(.*?)```", fresh, flags=re.S)
    lines = [line for block in commands for line in block.strip().splitlines() if line.strip()]
    assert lines == ["make book", "make test"], lines
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci and "set -euo pipefail" in ci


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_colab_cell_is_a_no_op_when_the_package_is_installed(path):
    """Run the setup cell in a fresh interpreter whose subprocess.run refuses to be called."""
    import subprocess
    import sys

    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    guard = (
        "import subprocess\n"
        "def _refuse(*a, **k):\n"
        "    raise SystemExit('the Colab cell tried to install although lstm_course is importable')\n"
        "subprocess.run = _refuse\n"
    )
    result = subprocess.run([sys.executable, "-c", guard + cell], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    assert f'URL = "{url}"' in cell, "install source: the repository URL of _config.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_colab_cell_is_hidden_on_the_site_and_installs_what_the_page_imports(path):
    cell = colab_cell(path)
    assert "remove-cell" in cell.get("metadata", {}).get("tags", []), (
        "tag the Colab setup cell remove-cell: Colab runs it, the site does not show it"
    )
    needed, installed = needed_extras(path), installed_extras(path)
    assert installed == needed, (
        f"the page imports what the extras {sorted(needed)} provide, its Colab cell installs {sorted(installed)}"
    )
    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    assert "".join(cell["source"]) == colab_source(needed, url), (
        "write the Colab cell with tests/notebook_tools.colab_source (same text on every page)"
    )


def test_repository_url_is_the_same_everywhere():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"]
    assert _pyproject()["project"]["urls"]["Homepage"] == url
    for path in NOTEBOOKS:
        cell = "".join(colab_cell(path)["source"])
        assert f'URL = "{url}"' in cell and "@ git+{URL}" in cell, path
