"""sip/ must stay sans-I/O and stdlib-only (DESIGN.md layout table)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import centrex.sip

FORBIDDEN = {"asyncio", "socket", "ssl", "selectors", "threading", "time", "sqlalchemy"}


def test_sip_imports_only_stdlib_without_io() -> None:
    root = Path(centrex.sip.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in FORBIDDEN, f"{path.name} imports {name}"
                assert (
                    top in sys.stdlib_module_names or name.startswith("centrex.sip") or top == "__future__"
                ), f"{path.name} imports non-stdlib {name}"
