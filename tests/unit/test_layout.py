"""The tree keeps its shape: no import cycle, layers import downwards only, packages are used
through their faces, modules stay small and log lines are named one way."""

from __future__ import annotations

import ast
import graphlib
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PRODUCT = ("orchestrator", "agents", "schemas")
MAX_MODULE_LINES = 400
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"schemas", "orchestrator.errors"}),
    frozenset({"orchestrator.engine"}),
    frozenset(
        {
            "orchestrator.adapters",
            "orchestrator.auth",
            "orchestrator.logs",
            "orchestrator.settings",
            "orchestrator.testing",
        }
    ),
    frozenset({"orchestrator.playbook"}),
    frozenset({"orchestrator.runtime", "orchestrator.notify"}),
    frozenset({"orchestrator.api", "orchestrator.drills"}),
    frozenset(
        {
            "orchestrator.testing.servers",
            "orchestrator.testing.monitoring",
            "orchestrator.demo",
            "agents",
        }
    ),
    frozenset({"orchestrator.cli", "orchestrator.__main__"}),
)
"""Lowest first: a module may import its own layer's parts and the layers below, never above.
A module belongs to the longest name in here that is it or contains it."""
LOG_EVENT = re.compile(r"^[a-z][a-z_]*(\.[a-z_]+)+$")
LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical"})


@dataclass(frozen=True, slots=True)
class Module:
    """One product module: its dotted name, file, and whether it is a package's __init__."""

    name: str
    path: Path
    is_package: bool


@cache
def modules() -> dict[str, Module]:
    """Every module of the product packages by dotted name."""
    found: dict[str, Module] = {}
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            found[name] = Module(name, path, is_package)
    return found


def _known(name: str) -> str | None:
    """The product module `name` is, or is inside (an attribute of a module), or None."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


@cache
def declared(name: str) -> frozenset[str]:
    """The names in the `__all__` of package `name` (read from its source), or none."""
    module = modules().get(name)
    if module is None or not module.is_package:
        return frozenset()
    for node in ast.parse(module.path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def imports_of(module: Module) -> Iterator[tuple[str, int]]:
    """(module imported, line) for every import in `module`, function-level ones included."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            offered = declared(base)
            targets = [
                base if alias.name in offered else f"{base}.{alias.name}" for alias in node.names
            ]
        else:
            continue
        for target in targets:
            resolved = _known(target)
            if resolved is not None and resolved != module.name:
                yield resolved, node.lineno


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module name -> the product modules it imports."""
    return {
        name: frozenset(target for target, _ in imports_of(module))
        for name, module in modules().items()
    }


def cycle_in(edges: dict[str, frozenset[str]]) -> list[str] | None:
    """One import cycle of `edges` (graphlib's topological sort finds it), or None."""
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as error:
        return list(error.args[1])
    return None


def layer_of(name: str) -> int:
    """The index in LAYERS of the longest entry that is `name` or one of its packages (the
    root package's own __init__, which imports nothing, is at the bottom)."""
    if name == "orchestrator":
        return 0
    best: tuple[int, int] | None = None
    for level, members in enumerate(LAYERS):
        for member in members:
            inside = name == member or name.startswith(member + ".")
            if inside and (best is None or len(member) > best[0]):
                best = (len(member), level)
    assert best is not None, f"{name} belongs to no layer: add it to LAYERS"
    return best[1]


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check below can fail: a three-module loop is reported, a chain is not."""
    loop = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    found = cycle_in(loop)
    assert found is not None
    assert set(found) == {"a", "b", "c"}
    assert cycle_in({"a": frozenset({"b"}), "b": frozenset()}) is None


def test_no_module_imports_itself_back() -> None:
    """No import cycle among the product modules, counting imports inside functions."""
    assert len(graph()) > 100
    assert cycle_in(graph()) is None


def test_every_module_has_a_layer_and_imports_downwards() -> None:
    """The engine imports no runtime, API, drill or CLI; runtimes never import what uses them."""
    upward = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in graph().items()
        for target in sorted(targets)
        if layer_of(target) > layer_of(name)
    ]
    assert upward == []


def test_the_engine_imports_nothing_of_the_product_but_errors_and_schemas() -> None:
    """The core's only product dependencies are the exception tree and the wire schemas."""
    outside = {
        target
        for name, targets in graph().items()
        if name.startswith("orchestrator.engine")
        for target in targets
        if not target.startswith("orchestrator.engine")
    }
    assert {t for t in outside if not t.startswith("schemas")} == {"orchestrator.errors"}


@pytest.mark.parametrize("name", sorted(modules()), ids=str)
def test_module_stays_small(name: str) -> None:
    """No product module is longer than MAX_MODULE_LINES lines."""
    lines = len(modules()[name].path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name} has {lines} lines; split it by job"


def log_events(path: Path) -> Iterator[tuple[str | None, int]]:
    """(event name, line) of every `log.<level>(...)` call; None when it is not a literal."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "log"
        ):
            first = node.args[0] if node.args else None
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            yield (first.value if literal else None), node.lineno  # type: ignore[union-attr]


def test_log_event_names_are_noun_dot_verb() -> None:
    """Every log line of the product is named `noun.verb` (lower case, dotted), as a literal."""
    seen = [
        (module.path.relative_to(ROOT), line, event)
        for module in modules().values()
        for event, line in log_events(module.path)
    ]
    assert len(seen) > 20
    assert [(str(p), n, e) for p, n, e in seen if e is None or not LOG_EVENT.match(e)] == []


def face_bypasses() -> list[str]:
    """Product imports of a plain module from outside its package (the root package's own
    modules, such as errors and logs, are public as they are)."""
    found = []
    for module in modules().values():
        for target, line in imports_of(module):
            owner = target.rpartition(".")[0]
            plain = not modules()[target].is_package
            outside = not (module.name == owner or module.name.startswith(owner + "."))
            if plain and outside and owner not in ("", "orchestrator"):
                found.append(f"{module.path.relative_to(ROOT)}:{line} imports {target}")
    return found


def test_packages_are_used_through_their_faces() -> None:
    """Product code outside a package imports from the package's __init__, never a submodule."""
    assert face_bypasses() == []


@pytest.mark.parametrize(
    "name", sorted(n for n, m in modules().items() if m.is_package and n != "orchestrator"), ids=str
)
def test_package_face_declares_what_it_offers(name: str) -> None:
    """Each package's __init__ has an `__all__` whose every name exists in the package."""
    face = importlib.import_module(name)
    exported = getattr(face, "__all__", None)
    assert exported is not None, f"{name}/__init__.py has no __all__"
    assert len(set(exported)) == len(exported)
    assert [n for n in exported if not hasattr(face, n)] == []
