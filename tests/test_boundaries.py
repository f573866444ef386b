"""The architecture, checked: where SQL may live, who may import whom, module sizes.

ARCHITECTURE.md: storage/ is the only code that knows a database (SQL also lives in the
engine's own store, sync/store/); sync/ never imports Flask, the server or storage;
storage/ never imports Flask or the server. Modules stay under 400 lines unless they say
at the top why not.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
    r"|CREATE\s+(UNIQUE\s+)?(TABLE|INDEX|TRIGGER)|PRAGMA\s|BEGIN\s+IMMEDIATE|json_extract)",
    re.IGNORECASE | re.DOTALL,
)
DATABASE_MODULES = {"sqlite3", "sqlite_utils", "psycopg", "psycopg_pool"}
LIMIT = 400


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return {name.split(".")[0] for name in names} | names


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", _modules("server"), ids=_name)
def test_the_server_holds_no_sql_and_no_database_driver(path: Path) -> None:
    assert not _imports(path) & DATABASE_MODULES
    assert [text for text in _strings(path) if SQL.search(text)] == []


@pytest.mark.parametrize("path", [p for p in _modules("sync") if "store" not in p.parts],
                         ids=_name)
def test_the_engine_outside_its_store_holds_no_sql(path: Path) -> None:
    assert not _imports(path) & DATABASE_MODULES
    assert [text for text in _strings(path) if SQL.search(text)] == []


@pytest.mark.parametrize("path", _modules("sync"), ids=_name)
def test_the_engine_imports_neither_flask_nor_the_server_nor_storage(path: Path) -> None:
    assert not _imports(path) & {"flask", "server", "storage"}


@pytest.mark.parametrize("path", [p for p in _modules("storage") if "contract" not in p.parts],
                         ids=_name)
def test_storage_imports_neither_flask_nor_the_server(path: Path) -> None:
    assert not _imports(path) & {"flask", "server"}


@pytest.mark.parametrize(
    "path", [p for p in _modules("server", "sync", "storage") if not p.name.startswith("test_")],
    ids=_name)
def test_modules_stay_under_400_lines_or_say_why(path: Path) -> None:
    lines = path.read_text().splitlines()
    if len(lines) > LIMIT:
        head = "\n".join(lines[:30]).lower()
        assert "lines because" in head, f"{len(lines)} lines and no reason at the top"
