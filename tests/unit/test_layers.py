"""The layers, read from the source: ``api -> contracts -> ledger`` and ``seed -> api``, never
back, and no HTTP in the core (refusals carry a category; only ``api/`` turns one into a status)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ("ledger", "contracts")
# What a package may import from the project's own packages.
ALLOWED = {"ledger": {"ledger"}, "contracts": {"contracts", "ledger"}}
HTTP_MODULES = ("litestar", "http", "httpx", "starlette", "api")


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", CORE)
def test_the_core_imports_only_below_itself(package: str) -> None:
    for path in sources(package):
        for name in imported(ast.parse(path.read_text())):
            top = name.split(".")[0]
            if top in ("ledger", "contracts", "api", "seed", "tests"):
                assert top in ALLOWED[package], f"{path.relative_to(ROOT)} imports {name}"
            assert top not in HTTP_MODULES or top in ALLOWED[package], (
                f"{path.relative_to(ROOT)} imports {name}"
            )


@pytest.mark.parametrize("package", CORE)
def test_no_http_status_in_the_core(package: str) -> None:
    """No status number passed as a keyword, no ``status_code``, no HTTP status constant.
    (Rows have a ``status`` too: a word such as "active", never a number.)"""
    for path in sources(package):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.keyword) and node.arg in ("status", "status_code"):
                value = node.value
                assert not (isinstance(value, ast.Constant) and isinstance(value.value, int)), where
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("status_code",) and not node.attr.startswith("HTTP_"), where
            if isinstance(node, ast.Name):
                assert not node.id.startswith("HTTP_") and node.id != "HTTPStatus", where


def test_api_never_imports_seed() -> None:
    """``seed`` builds on ``api``; the command line finds seed's commands through the
    ``rural_ledger.commands`` entry points, never by importing it."""
    for path in sources("api"):
        for name in imported(ast.parse(path.read_text())):
            assert name.split(".")[0] != "seed", f"{path.relative_to(ROOT)} imports {name}"
