"""The data layer against a real HTTP server on 127.0.0.1: good, truncated and wrong content, 404."""

from __future__ import annotations

import hashlib
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lstm_course.data import (
    REGISTRY,
    ChecksumError,
    Dataset,
    DataUnavailableError,
    UnknownDatasetError,
    cache_dir,
    fetch,
    sha256_of,
)

GOOD = b"The Time Traveller (for so it will be convenient to speak of him)\n" * 200
ROUTES = {
    "/good.txt": (200, GOOD),
    "/truncated.txt": (200, GOOD[: len(GOOD) // 2]),
    "/wrong.txt": (200, b"not the book at all\n" * 50),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        self.hits.append(self.path)
        status, body = ROUTES.get(self.path, (404, b"missing"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LSTM_COURSE_DATA", raising=False)
    _Handler.hits.clear()
    return tmp_path


def register(monkeypatch, server, route: str) -> Dataset:
    ds = Dataset("sample", "sample.txt", server + route, hashlib.sha256(GOOD).hexdigest(), "test file")
    monkeypatch.setitem(REGISTRY, "sample", ds)
    return ds


def cache_leftovers() -> list[str]:
    folder = cache_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_cache_dir_honours_xdg(env):
    assert cache_dir() == env / "xdg" / "lstm_course"


def test_download_verifies_and_caches(env, monkeypatch, server):
    register(monkeypatch, server, "/good.txt")
    path = fetch("sample", progress=False)
    assert path == cache_dir() / "sample.txt" and path.read_bytes() == GOOD
    assert fetch("sample", progress=False) == path
    assert _Handler.hits == ["/good.txt"], "the second call must come from the cache"


@pytest.mark.parametrize("route", ["/truncated.txt", "/wrong.txt"])
def test_bad_content_is_rejected_and_never_cached(env, monkeypatch, server, route):
    ds = register(monkeypatch, server, route)
    with pytest.raises(ChecksumError) as info:
        fetch("sample", progress=False)
    assert ds.sha256 in str(info.value) and ds.url in str(info.value)
    assert cache_leftovers() == [], "no partial or wrong file may remain in the cache"


def test_http_404_names_dataset_url_hash_and_folder(env, monkeypatch, server):
    ds = register(monkeypatch, server, "/missing.txt")
    with pytest.raises(DataUnavailableError) as info:
        fetch("sample", progress=False)
    message = str(info.value)
    for part in ("'sample'", ds.url, ds.sha256, str(cache_dir()), "LSTM_COURSE_DATA", "404"):
        assert part in message
    assert cache_leftovers() == []


def test_offline_gives_clear_error(env, monkeypatch):
    ds = Dataset("sample", "sample.txt", "http://127.0.0.1:9/none.txt", "0" * 64, "unreachable")
    monkeypatch.setitem(REGISTRY, "sample", ds)
    with pytest.raises(DataUnavailableError, match="To use it offline"):
        fetch("sample", progress=False, timeout=2)


def test_provided_folder_comes_first(env, monkeypatch, server):
    register(monkeypatch, server, "/good.txt")
    provided = env / "provided"
    provided.mkdir()
    (provided / "sample.txt").write_bytes(GOOD)
    monkeypatch.setenv("LSTM_COURSE_DATA", str(provided))
    assert fetch("sample", progress=False) == provided / "sample.txt"
    assert _Handler.hits == []


def test_corrupted_provided_copy_is_reported_and_not_used(env, monkeypatch, server):
    register(monkeypatch, server, "/good.txt")
    provided = env / "provided"
    provided.mkdir()
    (provided / "sample.txt").write_bytes(b"corrupted")
    monkeypatch.setenv("LSTM_COURSE_DATA", str(provided))
    with pytest.warns(UserWarning, match="provided copy .* is corrupted"):
        path = fetch("sample", progress=False)
    assert path == cache_dir() / "sample.txt" and path.read_bytes() == GOOD


def test_corrupted_cache_is_replaced(env, monkeypatch, server):
    register(monkeypatch, server, "/good.txt")
    cache_dir().mkdir(parents=True)
    (cache_dir() / "sample.txt").write_bytes(GOOD[:-1])
    with pytest.warns(UserWarning, match="cached copy .* is corrupted"):
        path = fetch("sample", progress=False)
    assert path.read_bytes() == GOOD and _Handler.hits == ["/good.txt"]


def test_unknown_name_lists_known_ones():
    with pytest.raises(UnknownDatasetError, match="timemachine") as info:
        fetch("timemachien")
    assert "online_shopping_10_cats" in str(info.value)


def test_registry_matches_shared_copies():
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    for ds in REGISTRY.values():
        assert sha256_of(shared / ds.filename) == ds.sha256


def test_cli_offline_error_is_one_line(tmp_path):
    env = {
        "XDG_CACHE_HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "no_proxy": "*",
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, "-m", "lstm_course.cli", "data", "fetch", "timemachine", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lstm-course: error: cannot download dataset 'timemachine'")
    assert "Traceback" not in result.stderr


def test_cli_unknown_dataset(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lstm_course.cli", "data", "fetch", "nope"], capture_output=True, text=True
    )
    assert result.returncode != 0 and "known datasets" in result.stderr and "Traceback" not in result.stderr
