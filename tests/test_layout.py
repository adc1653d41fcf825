"""The package layout follows the data flow: no module imports from a later folder.

Levels: model -> frontends -> evaluation -> formulations -> methods -> views -> studies ->
cli. Every import of a module (top-level or inside a function, found with ``ast``) must stay
at its own level or below.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

LEVELS = {"aras.model": 1, "aras.frontends": 2, "aras.evaluation": 3, "formulations": 4,
          "aras.methods": 5, "aras.views": 6, "aras.studies": 7, "cli": 8}


def level(module: str) -> int | None:
    for prefix, lv in LEVELS.items():
        if module == prefix or module.startswith(prefix + "."):
            return lv
    return None


def modules() -> dict[str, Path]:
    out = {"cli": ROOT / "cli.py"}
    for pkg in ("aras", "formulations"):
        for p in (ROOT / pkg).rglob("*.py"):
            rel = p.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts).removesuffix(".__init__")
            out[name] = p
    return out


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_no_module_imports_from_a_later_folder() -> None:
    upward = []
    for name, path in modules().items():
        mine = level(name)
        if mine is None:  # the top-level aras package: lazy short paths only
            continue
        for imp in imports(path):
            theirs = level(imp)
            if theirs is not None and theirs > mine:
                upward.append(f"{name} imports {imp}")
    assert upward == []


def test_every_module_is_in_a_folder_of_the_flow() -> None:
    loose = [n for n in modules() if level(n) is None and n != "aras"]
    assert loose == []
