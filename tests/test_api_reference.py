"""The reference appendix: the API page documents every public module, function and class of
lstm_course; the notation page's gate orders are those :mod:`lstm_course.convert` uses."""

from __future__ import annotations

import html as html_lib
import importlib
import inspect
import pkgutil
import re
from collections import Counter
from pathlib import Path

import pytest

import lstm_course

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "book" / "appendix" / "api.md"
NOTATION_PAGE = ROOT / "book" / "appendix" / "notation.md"
# ``.. automodule:: name`` inside ```{eval-rst} blocks, or the MyST form ```{automodule} name
_AUTOMODULE = re.compile(r"(?:^\.\. automodule::|^```\{automodule\})[ \t]+(\S+)", re.M)


def _modules() -> list[str]:
    """Every public module of the package: walked, not listed by hand, so new modules count too."""
    names = ["lstm_course"]
    for info in pkgutil.walk_packages(lstm_course.__path__, "lstm_course."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _documented_modules() -> list[str]:
    return _AUTOMODULE.findall(API_PAGE.read_text(encoding="utf-8"))


def _public_members(module_name: str):
    """Public functions and classes defined in ``module_name`` (re-exports count where defined)."""
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) != module_name:
            continue
        if exported is not None and name not in exported:
            continue
        yield name, obj


def test_walk_finds_the_package_layout():
    modules = _modules()
    for expected in (
        "lstm_course.params",
        "lstm_course.numpy.lstm",
        "lstm_course.torch.lstm",
        "lstm_course.tf.lstm",
        "lstm_course.check.core",
        "lstm_course.cli",
    ):
        assert expected in modules
    assert not any("._" in name for name in modules)


def test_every_module_is_on_the_api_page():
    missing = sorted(set(_modules()) - set(_documented_modules()))
    assert not missing, f"add these modules to {API_PAGE.relative_to(ROOT)}: {missing}"


def test_api_page_lists_no_stale_or_duplicate_module():
    documented = _documented_modules()
    stale = sorted(set(documented) - set(_modules()))
    assert not stale, f"{API_PAGE.relative_to(ROOT)} documents modules that do not exist: {stale}"
    twice = sorted(name for name, count in Counter(documented).items() if count > 1)
    assert not twice, f"documented twice (duplicate object descriptions): {twice}"


@pytest.mark.parametrize("module_name", _modules())
def test_module_and_public_members_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    assert (module.__doc__ or "").strip(), f"{module_name} has no module docstring"
    undocumented = [name for name, obj in _public_members(module_name) if not inspect.getdoc(obj)]
    assert not undocumented, f"{module_name}: no docstring for {undocumented}"


@pytest.mark.slow
def test_built_api_page_has_every_module_and_member(built_site):
    html = (built_site / "book" / "appendix" / "api.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    missing = [f"module-{m}" for m in _modules() if f"module-{m}" not in ids]
    missing += [f"{m}.{n}" for m in _modules() for n, _ in _public_members(m) if f"{m}.{n}" not in ids]
    assert not missing, f"not on the built API page: {missing[:20]} ({len(missing)} in all)"
    # the docstrings are rendered, not only the names: every plain-text first docstring line is there
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", html)).split())
    plain = [inspect.getdoc(obj).splitlines()[0] for m in _modules() for _, obj in _public_members(m)]
    plain = [line for line in plain if re.fullmatch(r"[A-Za-z ,;.()-]+", line)]
    assert len(plain) > 20
    absent = [line for line in plain if " ".join(line.split()) not in text]
    assert not absent, f"docstrings not rendered: {absent[:5]}"


def test_notation_page_gate_orders_match_convert():
    from lstm_course import convert

    rows = re.findall(
        r"^\| (?:LSTM|GRU) \|[^|]*\| ([a-z, ]+) \| `(\w+)` \|$", NOTATION_PAGE.read_text(encoding="utf-8"), flags=re.M
    )
    assert len(rows) == 7, rows
    names = {"g": "c", "n": "h"}  # PyTorch's letters for the candidates
    for order, constant in rows:
        letters = tuple(names.get(x.strip(), x.strip()) for x in order.split(","))
        assert letters == tuple(getattr(convert, constant)), (constant, order)
