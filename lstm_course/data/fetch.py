"""Find, verify and (if needed) download a dataset file.

Lookup order for :func:`fetch`:

1. the folder named by ``LSTM_COURSE_DATA`` (a copy you placed there yourself);
2. the per-user cache, ``$XDG_CACHE_HOME/lstm_course`` (default ``~/.cache/lstm_course``);
3. the dataset's public URL, downloaded into the cache.

Every copy is checked against the registry's SHA-256 before it is returned; a corrupted
copy is reported with a warning and never used.  Downloads go to a temporary file in the
cache folder and are renamed into place only after the hash matches, so a half-written
file can never be found there.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from lstm_course.data.registry import REGISTRY, Dataset

DATA_ENV_VAR = "LSTM_COURSE_DATA"
_CHUNK = 1 << 16
#: A ``.part`` file of a download untouched for this long was left by a killed download.
STALE_PART_SECONDS = 3600
_warned_data_folders: set[str] = set()


class DataError(RuntimeError):
    """Base class of the data layer's errors."""


class UnknownDatasetError(DataError, KeyError):
    """The name is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ChecksumError(DataError):
    """A downloaded file does not have the expected SHA-256."""


class DataUnavailableError(DataError):
    """No verified copy exists locally and the download failed."""


def cache_dir() -> Path:
    """The per-user cache folder (honours ``XDG_CACHE_HOME``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lstm_course"


def get_dataset(name: str) -> Dataset:
    """Return the registry entry for ``name`` or raise :class:`UnknownDatasetError`."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise UnknownDatasetError(f"unknown dataset {name!r}; known datasets: {known}") from None


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(name: str, *, timeout: float = 60.0, progress: bool = True) -> Path:
    """Return the path of a verified local copy of dataset ``name``, downloading it if needed.

    Args:
        name: a key of :data:`lstm_course.data.registry.REGISTRY`.
        timeout: seconds before a stalled download is abandoned.
        progress: show a tqdm progress bar while downloading.

    Raises:
        UnknownDatasetError: ``name`` is not registered (the message lists the known names).
        ChecksumError: the downloaded bytes do not match the registry's SHA-256.
        DataUnavailableError: no verified copy exists and the download failed; the message
            names the URL, the expected hash and where to put the file by hand.
    """
    ds = get_dataset(name)
    candidate = provided_path(ds)
    if candidate is not None and candidate.is_file():
        if _verified(candidate, ds, "provided"):
            return candidate
    cached = cache_dir() / ds.filename
    remove_stale_parts(cached.parent)
    if cached.is_file():
        actual = sha256_of(cached)
        if actual == ds.sha256:
            return cached
        try:
            cached.unlink()
        except OSError as exc:
            raise DataUnavailableError(
                f"the cached copy of {ds.name!r} at {cached} is corrupted (sha256 {actual[:12]}…) and cannot "
                f"be deleted ({exc.strerror or exc}); delete it yourself, or set XDG_CACHE_HOME to a "
                "writable folder"
            ) from None
        _warn_corrupted(cached, ds, actual, " It is deleted and fetched again.")
    return _download(ds, cached, timeout=timeout, progress=progress)


def provided_path(ds: Dataset) -> Path | None:
    """Where ``LSTM_COURSE_DATA`` would hold ``ds`` (``None`` when unset); warns once if it is no folder."""
    provided = os.environ.get(DATA_ENV_VAR)
    if not provided:
        return None
    folder = Path(provided).expanduser()
    if not folder.is_dir() and provided not in _warned_data_folders:
        _warned_data_folders.add(provided)
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        warnings.warn(
            f"{DATA_ENV_VAR}={provided} {what}; it is ignored and the data comes from the cache or a download",
            stacklevel=3,
        )
    return folder / ds.filename


def remove_stale_parts(folder: Path, max_age: float = STALE_PART_SECONDS) -> list[Path]:
    """Delete ``.part`` files of downloads killed more than ``max_age`` seconds ago; return them.

    A download in progress keeps writing to its ``.part`` file, so a recent one is left alone.
    """
    removed = []
    try:
        parts = list(folder.glob(".*.part"))
    except OSError:
        return removed
    now = time.time()
    for part in parts:
        try:
            if now - part.stat().st_mtime > max_age:
                part.unlink()
                removed.append(part)
        except OSError:
            pass
    return removed


def _verified(path: Path, ds: Dataset, kind: str) -> bool:
    actual = sha256_of(path)
    if actual == ds.sha256:
        return True
    _warn_corrupted(path, ds, actual, " It is ignored.", kind=kind)
    return False


def _warn_corrupted(path: Path, ds: Dataset, actual: str, extra: str, kind: str = "cached") -> None:
    warnings.warn(
        f"The {kind} copy of {ds.name!r} at {path} is corrupted (sha256 {actual}, expected {ds.sha256}).{extra}",
        stacklevel=4,
    )


def _download(ds: Dataset, target: Path, *, timeout: float, progress: bool) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{ds.filename}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise DataUnavailableError(
            f"cannot download {ds.name!r}: the cache folder {target.parent} is not writable "
            f"({exc.strerror or exc}); set XDG_CACHE_HOME to a writable folder, or put a verified copy "
            f"in the folder named by {DATA_ENV_VAR}"
        ) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _stream(ds, out, timeout=timeout, progress=progress)
        if digest != ds.sha256:
            raise ChecksumError(
                f"downloaded {ds.name!r} from {ds.url} but its sha256 is {digest}, "
                f"expected {ds.sha256}; the file was discarded. Try again later, or "
                f"{_manual_hint(ds)}"
            )
        os.replace(tmp, target)
        return target
    finally:
        tmp.unlink(missing_ok=True)


def _stream(ds: Dataset, out, *, timeout: float, progress: bool) -> str:
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(ds.url, timeout=timeout) as response:
            status = getattr(response, "status", 200)
            if status != 200:
                raise DataUnavailableError(_unavailable(ds, f"HTTP status {status}"))
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = _progress_bar(ds, total, progress)
            try:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
            finally:
                bar.close()
    except urllib.error.HTTPError as exc:
        raise DataUnavailableError(_unavailable(ds, f"HTTP {exc.code} {exc.reason}")) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataUnavailableError(_unavailable(ds, str(reason))) from exc
    return digest.hexdigest()


def _progress_bar(ds: Dataset, total: int | None, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=f"下载 {ds.filename}", disable=not enabled, leave=False)


def _manual_hint(ds: Dataset) -> str:
    return (
        f"download it yourself from {ds.url} and place it as {ds.filename} in "
        f"{cache_dir()} or in a folder named by the environment variable {DATA_ENV_VAR} "
        f"(expected sha256 {ds.sha256})."
    )


def _unavailable(ds: Dataset, reason: str) -> str:
    return f"cannot download dataset {ds.name!r} from {ds.url} ({reason}). To use it offline, " + _manual_hint(ds)
