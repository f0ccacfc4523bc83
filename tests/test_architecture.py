"""The import rules of docs/architecture.md hold: each layer imports only what it may.

Every ``import`` of a ``cxtradeoff`` module anywhere in a module's source (top level or
inside a function) is checked, so a lazy import cannot hide a crossing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cxtradeoff.paths import PACKAGE_DIR

#: the foundation: no layer above is imported from here
CORE = frozenset({"errors", "paths", "files", "contracts", "formatting", "limits", "datafiles"})
#: the command line: may import any layer (it wires them together)
ENTRY = frozenset({"cli", "commands", "report_checks", "__init__", "__main__"})
#: which layers each layer may import
ALLOWED = {
    "core": {"core"},
    "analysis": {"core", "analysis"},
    "pipeline": {"core", "pipeline"},
    "delivery": {"core", "delivery"},
    "entry": {"core", "analysis", "pipeline", "delivery", "entry"},
}


def layer(module: str) -> str:
    """The layer of a module given as ``cxtradeoff.a.b`` (or ``cxtradeoff``)."""
    parts = module.split(".")[1:] or ["__init__"]
    head = parts[0]
    if head in CORE:
        return "core"
    if head in ENTRY:
        return "entry"
    if head in {"pipeline", "delivery"}:
        return head
    return "analysis"


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base != "cxtradeoff":  # "from cxtradeoff import x": only x counts
                found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "cxtradeoff"]


def _known(name: str) -> str:
    """``cxtradeoff.x.y`` where y may be a name imported from module x: the module part."""
    modules = {m for m, _ in _modules()}
    while name not in modules and "." in name:
        name = name.rpartition(".")[0]
    return name


MODULES = _modules()


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_each_module_imports_only_what_its_layer_may(module: str, path: Path) -> None:
    mine = layer(module)
    crossings = [
        f"{path.name}:{line} imports {target} ({layer(target)} layer)"
        for line, raw in _imports(module, path)
        if layer(target := _known(raw)) not in ALLOWED[mine]
    ]
    assert not crossings, f"{module} is in the {mine} layer, which may import only " + (
        f"{sorted(ALLOWED[mine])}:\n" + "\n".join(crossings)
    )


def test_the_rules_catch_a_crossing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from cxtradeoff.model import compute\n", encoding="utf-8")
    (line, target), *_ = _imports("cxtradeoff.pipeline.bad", bad)
    assert (line, layer(_known(target))) == (2, "analysis")
    assert "analysis" not in ALLOWED[layer("cxtradeoff.pipeline.bad")]


def test_every_layer_named_in_the_architecture_page_exists() -> None:
    text = (PACKAGE_DIR.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in ALLOWED:
        assert f"**{name}**" in text, name
    for module in CORE:
        assert f"`{module}`" in text, module
