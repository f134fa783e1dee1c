"""The package keeps its layers: no import cycle, no import that goes up a layer.

The layers are the table under "## Architecture" in CONTRIBUTING.md (one row per layer, lowest
first, module patterns in backticks); this test reads them from there, so the map and the code
cannot drift apart.  Every import counts: module level and inside functions.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lstm_course"


def layers() -> list[list[str]]:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"\|\s*\d+\s*\|", line)]
    found = [re.findall(r"`(lstm_course[\w.*]*)`", row.split("|")[2]) for row in rows]
    assert found and all(found), "CONTRIBUTING.md's Architecture table lists no layers"
    return found


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """``module -> package modules it imports`` (relative imports resolved)."""
    mods = modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                candidates = [f"{base}.{a.name}" for a in node.names] + [base]
            else:
                continue
            for target in candidates:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target.startswith("lstm_course") and target != name:
                    targets.add(target)
                    break
        graph[name] = targets
    return graph


def layer_of(module: str, table: list[list[str]]) -> int:
    for index, patterns in enumerate(table):
        if any(fnmatch.fnmatchcase(module, p) for p in patterns):
            return index
    raise AssertionError(f"{module} is in no layer of CONTRIBUTING.md's Architecture table")


def test_every_module_has_a_layer():
    table = layers()
    for module in modules():
        layer_of(module, table)


def test_no_import_goes_up_a_layer():
    table, upward = layers(), []
    for module, targets in import_graph().items():
        for target in targets:
            if layer_of(target, table) > layer_of(module, table):
                upward.append(
                    f"{module} (layer {layer_of(module, table)}) imports {target} (layer {layer_of(target, table)})"
                )
    assert not upward, "imports that go up a layer:\n" + "\n".join(sorted(upward))


def test_no_import_cycle():
    graph, state, cycles = import_graph(), {}, []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if target == "lstm_course" or node == "lstm_course":
                continue  # the root only names subpackages for lazy loading
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target) :] + [target]))
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_check_detects_a_cycle(monkeypatch):
    fake = {"lstm_course.a": {"lstm_course.b"}, "lstm_course.b": {"lstm_course.a"}}
    import sys

    monkeypatch.setattr(sys.modules[__name__], "import_graph", lambda: fake)
    try:
        test_no_import_cycle()
    except AssertionError as exc:
        assert "lstm_course.a -> lstm_course.b -> lstm_course.a" in str(exc)
    else:
        raise AssertionError("a cycle went unnoticed")
