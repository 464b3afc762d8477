"""The shape of the code: the domain imports nothing outside itself, the services none of the
libraries that talk to the outside (the database, HTTP, the browser) nor the sandbox, modules
import each other without cycles, and no file or function outgrows what one can read."""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "snipe"
OUTSIDE = ("sqlalchemy", "httpx", "playwright", "snipe.sandbox", "alembic", "uvicorn", "fastapi")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


@cache
def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


def imported(tree: ast.AST, top_level_only: bool = False) -> set[str]:
    nodes = tree.body if top_level_only and isinstance(tree, ast.Module) else ast.walk(tree)
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_domain_imports_only_the_standard_library_and_itself():
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    wrong = {name: sorted(n for n in imported(tree) if n.split(".")[0] not in stdlib
                          and not n.startswith("snipe.domain"))
             for name, tree in modules().items() if name.startswith("snipe.domain")}
    assert {k: v for k, v in wrong.items() if v} == {}


def test_services_do_not_talk_to_the_outside_themselves():
    wrong = {name: sorted(n for n in imported(tree) if n.startswith(OUTSIDE))
             for name, tree in modules().items() if name.startswith("snipe.services")}
    assert {k: v for k, v in wrong.items() if v} == {}


def test_modules_import_each_other_without_cycles():
    known = set(modules())
    graph = {name: {n for n in imported(tree, top_level_only=True) if n in known and n != name}
             for name, tree in modules().items()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_no_file_or_function_outgrows_a_reading():
    long_files, long_functions = [], []
    for name, tree in modules().items():
        path = SRC.joinpath(*name.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_FILE_LINES:
            long_files.append((name, lines))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append((f"{name}.{node.name}", length))
    assert long_files == [] and long_functions == []


def test_a_second_site_family_needs_only_a_driver_in_the_registry():
    """The services reach a site only through the driver the registry gives them."""
    wrong = {name: sorted(n for n in imported(tree) if n.startswith("snipe.adapters.sites.x"))
             for name, tree in modules().items() if name.startswith("snipe.services")}
    assert {k: v for k, v in wrong.items() if v} == {}
