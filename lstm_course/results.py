"""Recorded full-profile results, with the provenance a reader needs to trust them.

The quick profile that builds the published site in CI cannot reproduce what the full profile
measures (a sentiment model trained for two hours, a benchmark on a GPU).  Such numbers are
recorded once by a real run and stored in ``results/<chapter>/<name>.json``::

    {"schema": 1, "chapter": "ch07_sentiment", "name": "02_training",
     "values": {"test_acc": 0.9411, ...},
     "provenance": {"command": ..., "commit": ..., "dirty": false, "date": ..., "device": ...,
                    "profile": "full", "threads": 1, "wall_seconds": 7775.2,
                    "versions": {"python": ..., "numpy": ..., "torch": ...}, "platform": ...}}

``lstm-course reproduce CHAPTER`` executes a chapter's notebooks in the full profile and writes
one such file per notebook from the values the notebook glued (:mod:`lstm_course.claims`); the
benchmark harness writes its files with the same :func:`provenance` block.  A page reads a file
with :func:`recorded` and glues its values under ``full_<name>`` next to a visible provenance line.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = 1
#: Environment variable naming the folder that holds ``<chapter>/<name>.json`` files.
RESULTS_ENV = "LSTM_COURSE_RESULTS"
#: Keys every provenance block has (a test checks each results file against this list).
PROVENANCE_KEYS = (
    "command",
    "commit",
    "dirty",
    "date",
    "device",
    "profile",
    "threads",
    "wall_seconds",
    "versions",
    "platform",
)
_VERSIONED = ("numpy", "torch", "tensorflow", "tensorflow-cpu", "keras", "statsmodels", "jieba", "cn2an", "d2l")


class ResultsError(RuntimeError):
    """A results file is missing, incomplete, or not from the profile a page needs."""


def repo_root(start: Path | None = None) -> Path | None:
    """The course checkout above ``start`` (or the working directory), if there is one."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "lstm_course").is_dir():
            return folder
    package_root = Path(__file__).resolve().parents[1]
    if (package_root / "_toc.yml").is_file():
        return package_root
    return None


def results_dir() -> Path:
    """``$LSTM_COURSE_RESULTS`` or ``results/`` of the course checkout."""
    if os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV]).expanduser()
    root = repo_root()
    if root is None:
        raise ResultsError(
            "recorded results live in the course repository's results/ folder; run from a "
            f"checkout of the course or set {RESULTS_ENV} to that folder"
        )
    return root / "results"


def _git(*args: str, cwd: Path | None) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description(device: str = "cpu") -> str:
    """A human-readable name of the device a run used, e.g. ``cpu (Intel Xeon ..., 2 cores)``."""
    if device.startswith("cuda"):
        try:
            import torch

            return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
        except Exception:  # pragma: no cover - only on a GPU machine without torch
            return device
    return f"{device} ({_cpu_name()}, {os.cpu_count()} cores)"


def versions() -> dict[str, str]:
    """Python and the versions of the course's main packages that are installed."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def git_state(root: Path | None = None) -> tuple[str, bool | None]:
    """``(commit, dirty)`` of the checkout: take it *before* a long run starts."""
    root = root or repo_root()
    status = _git("status", "--porcelain", "--untracked-files=no", cwd=root)
    return (_git("rev-parse", "HEAD", cwd=root) or "unknown", bool(status) if status is not None else None)


def provenance(
    *,
    command: str,
    wall_seconds: float,
    device: str,
    profile: str,
    threads: int | None,
    root: Path | None = None,
    git: tuple[str, bool | None] | None = None,
) -> dict[str, Any]:
    """The provenance block of a results file (see the module docstring).

    ``git`` is :func:`git_state` taken when the run started (default: now).
    """
    commit, dirty = git or git_state(root)
    return {
        "command": command,
        "commit": commit,
        "dirty": dirty,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "device": device,
        "profile": profile,
        "threads": threads,
        "wall_seconds": round(float(wall_seconds), 1),
        "versions": versions(),
        "platform": platform.platform(),
    }


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_files(files: dict[Path, bytes | str]) -> None:
    """Write several files as one unit: stage them all, then rename them into place in order.

    Every file is first written to a temporary file beside its target; only when all are
    staged are they renamed over their targets, in the order given (put the file that marks a
    complete unit, e.g. a checkpoint, last).  A failure while staging (a full disk, a file-size
    limit) leaves every target as it was and removes the temporary files.  Text is UTF-8.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        while staged:
            tmp, path = staged[0]
            os.replace(tmp, path)
            staged.pop(0)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    atomic_write_files({Path(path): data})


def _check_values(values: dict[str, Any]) -> None:
    for name, value in values.items():
        if not isinstance(value, (bool, int, float, str)):
            raise ResultsError(f"value {name!r} is a {type(value).__name__}, not a number or text")
        if isinstance(value, float) and not math.isfinite(value):
            raise ResultsError(f"value {name!r} is not finite ({value})")


def write_results(
    chapter: str, name: str, values: dict[str, Any], prov: dict[str, Any], folder: Path | None = None, **extra: Any
) -> Path:
    """Write ``results/<chapter>/<name>.json`` atomically; returns its path."""
    missing = [key for key in PROVENANCE_KEYS if key not in prov]
    if missing:
        raise ResultsError(f"provenance lacks {', '.join(missing)}")
    _check_values(values)
    path = (folder or results_dir()) / chapter / f"{name}.json"
    document = {"schema": SCHEMA, "chapter": chapter, "name": name, "values": values, "provenance": prov, **extra}
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    return path


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes} 分"
    if minutes:
        return f"{minutes} 分 {secs} 秒"
    return f"{secs} 秒"


@dataclass
class Record:
    """One results file: its values and provenance (see :func:`recorded`)."""

    chapter: str
    name: str
    values: dict[str, Any]
    provenance: dict[str, Any]
    path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        if key not in self.values:
            raise ResultsError(f"{self.path} has no value {key!r}; it has {', '.join(sorted(self.values))}")
        return self.values[key]

    def provenance_line(self) -> str:
        """One line in Chinese: profile · date · device · threads · wall time · command."""
        prov = self.provenance
        label = "完整配置" if prov["profile"] == "full" else f"{prov['profile']} 配置"
        threads = f"，{prov['threads']} 个线程" if prov.get("threads") else ""
        commit = str(prov["commit"])[:7] + ("（有未提交的改动）" if prov.get("dirty") else "")
        return (
            f"{label} · {prov['date'][:10]} · {prov['device']}{threads} · "
            f"用时 {_duration(prov['wall_seconds'])} · 提交 {commit} · 命令 `{prov['command']}`"
        )

    def glue(self, *names: str, prefix: str = "full_") -> Record:
        """Glue the named values (all when none is named) as ``full_<name>``, and the provenance
        line as ``full_provenance`` (a markdown string: ``{glue:md}`full_provenance```)."""
        from lstm_course.claims import glue

        for key in names or tuple(self.values):
            glue(f"{prefix}{key}", self[key])
        glue(f"{prefix}provenance", self.provenance_line())
        return self


def load(path: Path) -> Record:
    """Read and validate one results file."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(
            f"no recorded results at {path}; record them with `lstm-course reproduce` (see CONTRIBUTING.md)"
        ) from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path} is not valid JSON: {exc}") from None
    prov = document.get("provenance", {})
    missing = [key for key in PROVENANCE_KEYS if key not in prov]
    if missing or "values" not in document:
        raise ResultsError(f"{path} lacks {', '.join(missing) or 'values'}")
    _check_values(document["values"])
    extra = {k: v for k, v in document.items() if k not in {"schema", "chapter", "name", "values", "provenance"}}
    return Record(
        document.get("chapter", path.parent.name),
        document.get("name", path.stem),
        document["values"],
        prov,
        path,
        extra,
    )


def recorded(key: str, *, profile: str = "full") -> Record:
    """The recorded results ``<chapter>/<name>`` (e.g. ``"ch07_sentiment/02_training"``).

    Raises:
        ResultsError: when the file is missing, incomplete or from another profile.
    """
    chapter, _, name = key.partition("/")
    if not name:
        raise ValueError(f"expected 'chapter/name', got {key!r}")
    record = load(results_dir() / chapter / f"{name}.json")
    if record.provenance["profile"] != profile:
        raise ResultsError(
            f"{record.path} was recorded with the {record.provenance['profile']!r} profile, not {profile!r}"
        )
    return record


def all_records(folder: Path | None = None) -> list[Record]:
    """Every results file under ``results/`` (benchmarks included)."""
    base = folder or results_dir()
    return [load(path) for path in sorted(base.glob("*/*.json"))]


# --- recording a chapter -------------------------------------------------------------------------


def chapter_notebooks(chapter: str, root: Path) -> list[Path]:
    """The section notebooks ``book/<chapter>/NN_*.ipynb`` of a chapter folder."""
    folder = root / "book" / chapter
    if not folder.is_dir():
        known = sorted(p.name for p in (root / "book").glob("ch*_*") if p.is_dir())
        raise ResultsError(f"no chapter folder {folder}; chapters: {', '.join(known)}")
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def execute_and_record(
    notebook: Path,
    *,
    chapter: str,
    profile: str = "full",
    threads: int | None = None,
    timeout: int | None = None,
    command: str,
    folder: Path | None = None,
    log: Any = print,
) -> Path:
    """Execute ``notebook`` in ``profile`` and write the values it glued as its results file.

    The notebook runs in a fresh kernel in its own folder (as in the book build); its outputs are
    not saved.  ``threads`` sets ``OMP_NUM_THREADS`` for the kernel.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    from lstm_course.claims import RECORD_ENV

    root = repo_root(notebook.parent)
    git = git_state(root)
    nb = nbformat.read(notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="lstm-course-record-") as tmp:
        record_to = Path(tmp) / "values.json"
        saved = {k: os.environ.get(k) for k in ("LSTM_COURSE_PROFILE", RECORD_ENV, "OMP_NUM_THREADS")}
        os.environ["LSTM_COURSE_PROFILE"] = profile
        os.environ[RECORD_ENV] = str(record_to)
        if threads is not None:
            os.environ["OMP_NUM_THREADS"] = str(threads)
        start = time.perf_counter()
        try:
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
            )
            client.execute()
        except DeadKernelError as exc:
            raise ResultsError(
                f"{notebook.name}: the kernel died in the {profile} profile (out of memory?): {exc}"
            ) from exc
        except CellExecutionError as exc:
            first = str(exc).strip().splitlines()
            raise ResultsError(
                f"{notebook.name}: a cell failed in the {profile} profile: {first[-1] if first else exc}"
            ) from exc
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        wall = time.perf_counter() - start
        values = json.loads(record_to.read_text(encoding="utf-8")) if record_to.exists() else {}
    if not values:
        raise ResultsError(f"{notebook.name} glued no values; nothing to record")
    device = values.pop("run_device", "cpu")
    threads_used = values.pop("run_threads", threads)
    prov = provenance(
        command=command,
        wall_seconds=wall,
        device=device_description(str(device)),
        profile=profile,
        threads=threads_used,
        root=root,
        git=git,
    )
    path = write_results(chapter, notebook.stem, values, prov, folder=folder)
    log(f"{notebook.name}: {len(values)} values in {_duration(wall)} -> {path}")
    return path


def reproduce(
    chapter: str,
    notebooks: list[str] | None = None,
    *,
    profile: str = "full",
    threads: int | None = None,
    timeout: int | None = None,
    folder: Path | None = None,
    log: Any = print,
) -> list[Path]:
    """Record the results of a chapter's notebooks (all, or those named), one file each."""
    root = repo_root()
    if root is None:
        raise ResultsError("run `lstm-course reproduce` inside a checkout of the course repository")
    found = chapter_notebooks(chapter, root)
    if notebooks:
        wanted = {n.removesuffix(".ipynb") for n in notebooks}
        unknown = wanted - {p.stem for p in found}
        if unknown:
            raise ResultsError(
                f"{chapter} has no notebook {', '.join(sorted(unknown))}; it has {', '.join(p.stem for p in found)}"
            )
        found = [p for p in found if p.stem in wanted]
    target = folder or results_dir()
    target.mkdir(parents=True, exist_ok=True)
    if not os.access(target, os.W_OK):
        raise ResultsError(f"cannot write to {target}")
    command = (
        " ".join(["lstm-course", "reproduce", *sys.argv[2:]])
        if sys.argv[1:2] == ["reproduce"]
        else f"lstm-course reproduce {chapter}"
    )
    return [
        execute_and_record(
            nb,
            chapter=chapter,
            profile=profile,
            threads=threads,
            timeout=timeout,
            command=command,
            folder=folder,
            log=log,
        )
        for nb in found
    ]
