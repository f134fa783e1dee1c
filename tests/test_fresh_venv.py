"""The notebooks run in a fresh venv that has only what their Colab setup cell installs.

Every page's first code cell installs ``lstm-course[EXTRAS]``, with the extras that
:func:`notebook_tools.needed_extras` computes from the page's imports.  For each set of extras
that occurs in the book, the quickest page of that set is executed in a new virtual environment
holding only

* ``lstm-course[EXTRAS]``, installed (not editable) from a wheel built from a clean copy of the
  working tree (``git ls-files``: no ``build/``, ``*.egg-info`` or ``__pycache__``), and
* what Colab itself provides to run a notebook: a Jupyter kernel (``ipykernel``, which brings
  IPython and matplotlib's inline backend).  The kernel is driven by nbclient from the test's
  own environment, so nbclient/nbformat are not installed in the fresh venv, and neither is pip:
  the Colab cell must find ``lstm_course`` importable and do nothing, or it fails.

Versions follow the test's environment (its distributions are the constraints), so the wheels
come from uv's cache: ``uv venv`` + ``uv pip install`` link torch and TensorFlow from one shared
cache (hardlinks on Linux, clones on macOS) instead of unpacking them once per venv.  uv does not
read pip's configuration, so the index, find-links and constraint settings of ``pip config
list`` are passed to it explicitly.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

import pytest
from notebook_tools import COLAB_MARKER, NOTEBOOKS, ROOT, cells, needed_extras, source

pytestmark = pytest.mark.slow

#: Pages measured quick in their venv (quick profile); a venv with none of these runs its
#: shortest page (fewest code characters).
QUICK_PAGES = (
    "book/ch03_lstm/05_exercises.ipynb",
    "book/ch06_deep_bidirectional/04_exercises.ipynb",
    "book/ch05_gru/02_scratch_frameworks.ipynb",
    "book/ch08_seq2seq/01_task.ipynb",
    "book/ch09_timeseries/03_verdict.ipynb",
)
#: Seconds one cell may run in the fresh venv (quick profile).
CELL_TIMEOUT = 600


def _code_size(path: Path) -> int:
    return sum(len(source(c)) for c in cells(path) if c["cell_type"] == "code")


def requirements(extras: Iterable[str]) -> frozenset[str]:
    """What ``lstm-course[extras]`` installs beyond the base, from pyproject.toml (nested extras
    such as ``lstm-course[torch,tf]`` followed)."""
    optional = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    optional = optional["optional-dependencies"]
    found: set[str] = set()
    todo = list(extras)
    while todo:
        for req in optional[todo.pop()]:
            nested = re.fullmatch(r"lstm-course\[([\w,]+)\]", req.replace(" ", ""))
            if nested:
                todo.extend(nested.group(1).split(","))
            else:
                found.add(req)
    return frozenset(found)


def pages_per_extras(notebooks: Iterable[Path] = NOTEBOOKS) -> dict[tuple[str, ...], Path]:
    """One page per distinct fresh venv: extras sets that install the same requirements
    (``[seq2seq]`` and ``[seq2seq,torch]``: the seq2seq extra brings torch) share one venv,
    and the venv runs the quickest page of all the pages that need it."""
    groups: dict[frozenset[str], list[Path]] = {}
    for path in notebooks:
        groups.setdefault(requirements(needed_extras(path)), []).append(path)
    preferred = {ROOT / p for p in QUICK_PAGES}
    chosen = (min(paths, key=lambda p: (p not in preferred, _code_size(p), p.name)) for paths in groups.values())
    return dict(sorted((tuple(sorted(needed_extras(p))), p) for p in chosen))


PAGES = pages_per_extras()


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _spec(extras: Iterable[str]) -> str:
    extras = sorted(extras)
    return f"lstm-course[{','.join(extras)}]" if extras else "lstm-course"


def pip_settings() -> dict[str, list[str]]:
    """``index-url``, ``extra-index-url``, ``find-links``, ``constraint`` and ``cert`` from
    ``pip config list`` (files and ``PIP_*`` variables), later scopes winning."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        match = re.fullmatch(r"[^.]*\.([\w-]+)='(.*)'", line.strip())
        if match and match.group(1) in ("index-url", "extra-index-url", "find-links", "constraint", "cert"):
            found[match.group(1)] = match.group(2).split()
    return found


def uv_index_args(settings: dict[str, list[str]]) -> list[str]:
    """uv's flags for pip's index settings (pip merges every index: uv's unsafe-best-match).

    pip's ``constraint`` files are passed to ``uv pip install`` separately (``uv build`` has none)."""
    args = ["--index-strategy", "unsafe-best-match"]
    for url in settings.get("index-url", [])[:1]:
        args += ["--default-index", url]
    for url in settings.get("extra-index-url", []):
        args += ["--index", url]
    for link in settings.get("find-links", []):
        args += ["--find-links", link]
    return args


def environment_constraints() -> str:
    """``name==version`` of every distribution of the test's environment but the course itself;
    ``tensorflow`` follows an installed ``tensorflow-cpu`` (same module, the extra names the former)."""
    pins: dict[str, str] = {}
    for dist in metadata.distributions():
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
        if name and name != "lstm-course":
            pins[name] = dist.version
    if "tensorflow-cpu" in pins:
        pins.setdefault("tensorflow", pins["tensorflow-cpu"])
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({' '.join(cmd)}):\n{(result.stdout + result.stderr)[-6000:]}")


def _uv_cached_first(cmd: list[str], what: str, env: dict[str, str]) -> None:
    """Run a uv command from its cache alone (seconds), online only when the cache lacks something:
    revalidating every index page of a resolution costs a minute or more."""
    if subprocess.run([*cmd, "--offline"], capture_output=True, env=env, check=False).returncode != 0:
        _run(cmd, what, env)


@pytest.fixture(scope="session")
def uv() -> tuple[str, dict[str, str], list[str], list[str]]:
    """The uv binary, its environment, and the index flags and constraint files of pip's configuration."""
    try:
        import uv as uv_module
    except ImportError:
        pytest.fail("uv is missing: it is part of the dev extra (scripts/setup.sh installs it)")
    settings = pip_settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "CONDA"))}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    if settings.get("cert") and "SSL_CERT_FILE" not in env:
        env["SSL_CERT_FILE"] = settings["cert"][0]
    return uv_module.find_uv_bin(), env, uv_index_args(settings), settings.get("constraint", [])


@pytest.fixture(scope="session")
def course_wheel(uv, tmp_path_factory) -> Path:
    """The course's wheel, built once from a clean copy of the working tree."""
    uv_bin, env, index, _ = uv
    work = tmp_path_factory.mktemp("fresh_src")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    copy = work / "lstm-course"
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if src.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy / name)
    build = [uv_bin, "build", "--quiet", "--wheel", "--out-dir", str(work / "dist"), *index, str(copy)]
    _uv_cached_first(build, "building the course's wheel", env)
    (wheel,) = (work / "dist").glob("lstm_course-*.whl")
    return wheel


@pytest.fixture(scope="session")
def fresh_venv(uv, course_wheel, tmp_path_factory) -> Callable[[tuple[str, ...]], Path]:
    """``fresh_venv(extras)``: the Python of a venv with only ``lstm-course[extras]`` + ipykernel."""
    uv_bin, env, index, pip_constraints = uv
    root = tmp_path_factory.mktemp("fresh_venvs")
    constraints = root / "constraints.txt"
    constraints.write_text(environment_constraints(), encoding="utf-8")
    made: dict[tuple[str, ...], Path] = {}

    def make(extras: tuple[str, ...]) -> Path:
        if extras not in made:
            venv = root / ("base" if not extras else "-".join(extras))
            base_python = getattr(sys, "_base_executable", sys.executable)
            _run([uv_bin, "venv", "--quiet", "--python", base_python, str(venv)], f"uv venv for {_spec(extras)}", env)
            python = venv / "bin" / "python"
            wheel = f"{course_wheel}[{','.join(extras)}]" if extras else str(course_wheel)
            pinned = [f"--constraints={c}" for c in [*pip_constraints, constraints]]
            cmd = [uv_bin, "pip", "install", "--quiet", "--python", str(python), *index, *pinned]
            _uv_cached_first([*cmd, wheel, "ipykernel"], f"installing {_spec(extras)} into a fresh venv", env)
            made[extras] = python
        return made[extras]

    return make


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class NotebookFailed(AssertionError):
    """A page failed in a fresh venv; the message names the page, the extras and the cell."""


def run_notebook(path: Path, extras: tuple[str, ...], python: Path) -> dict:
    """Execute ``path`` with the kernel of the venv of ``python`` (quick profile, cwd = its folder).

    A last cell, appended to the copy that runs, reports where ``lstm_course`` was imported from
    and whether pip exists there (it must not: the Colab cell has to be a no-op).
    """
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    nb = nbformat.read(path, as_version=4)
    probe = (
        "import importlib.util, json, lstm_course\n"
        "print(json.dumps({'lstm_course': lstm_course.__file__,\n"
        "                  'pip': importlib.util.find_spec('pip') is not None}))"
    )
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    kernels = python.parents[1] / "kernelspecs"
    (kernels / "fresh").mkdir(parents=True, exist_ok=True)
    spec = {"argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "language": "python"}
    (kernels / "fresh" / "kernel.json").write_text(json.dumps({**spec, "display_name": "fresh"}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "CONDA"))}
    env.update(
        LSTM_COURSE_PROFILE="quick",
        VIRTUAL_ENV=str(python.parents[1]),
        PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
    )
    km = KernelManager(kernel_name="fresh", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = nbclient.NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT, kernel_name="fresh", resources={"metadata": {"path": str(path.parent)}}
    )
    where = f"{_rel(path)} in a fresh venv with only {_spec(extras)} + ipykernel"
    try:
        client.execute(env=env)
    except nbclient.exceptions.CellExecutionError as exc:
        index = next(
            (i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))),
            None,
        )
        cell = f"cell {index}" if index is not None else "a cell"
        colab = (
            " (the Colab setup cell: it must be a no-op here)"
            if index is not None and COLAB_MARKER in nb.cells[index].source
            else ""
        )
        trace = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))[-3000:]
        raise NotebookFailed(f"{where}: {cell}{colab} failed: {exc.ename}: {exc.evalue}\n{trace}") from None
    except Exception as exc:  # a dead kernel, a timeout
        raise NotebookFailed(f"{where}: {type(exc).__name__}: {exc}") from None
    finally:  # the client leaves a kernel manager it was given running
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    return json.loads(text.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("extras", "path"), list(PAGES.items()), ids=[f"[{','.join(e)}]-{_rel(p)}" for e, p in PAGES.items()]
)
def test_page_runs_with_only_its_setup_cell(extras, path, fresh_venv):
    clock = time.perf_counter()
    python = fresh_venv(extras)
    installed, cpu = time.perf_counter(), _children_cpu()
    probe = run_notebook(path, extras, python)
    print(
        f"{_rel(path)} [{','.join(extras)}]: venv {installed - clock:.1f} s, "
        f"run {time.perf_counter() - installed:.1f} s wall, {_children_cpu() - cpu:.1f} s CPU"
    )
    venv = python.parents[1].resolve()
    assert Path(probe["lstm_course"]).resolve().is_relative_to(venv), (
        f"{_rel(path)} imported lstm_course from {probe['lstm_course']}, not from the fresh venv {venv}"
    )
    assert not probe["pip"], f"the fresh venv for {_rel(path)} has pip; it must hold only {_spec(extras)} + ipykernel"


def test_the_book_has_pages_for_every_extra():
    """Each extra of pyproject.toml that pages use is covered by at least one chosen page."""
    covered = {extra for extras in PAGES for extra in extras}
    assert () in PAGES, "no page runs with the base install only"
    assert {"torch", "tf", "seq2seq", "timeseries"} <= covered, f"extras covered: {sorted(covered)}"


def test_a_missing_extra_fails_clearly(fresh_venv):
    """The check can fail: a torch page in the base-only venv stops at its first torch import."""
    torch_page = PAGES[("torch",)]
    with pytest.raises(NotebookFailed) as failure:
        run_notebook(torch_page, (), fresh_venv(()))
    message = str(failure.value)
    assert _rel(torch_page) in message and "only lstm-course + ipykernel" in message, message
    assert "ModuleNotFoundError" in message and "torch" in message, message
    print(f"expected failure:\n{message[:600]}")
