"""Layering: the four domain packages import neither Qt, SQLAlchemy nor mapping_tool; services,
store and security import no Qt. Checked by import-linter's contracts in pyproject.toml, and by
a plain AST scan so the rule holds even where import-linter is not installed."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ["importers", "risk_factors", "interventions", "referral_forms"]
QT_FREE = ["mapping_tool/services", "mapping_tool/store", "mapping_tool/security"]


def _imports(folder: Path) -> list[tuple[Path, str]]:
    found = []
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_stay_pure(package: str) -> None:
    bad = [
        f"{p.relative_to(ROOT)} imports {m}"
        for p, m in _imports(ROOT / package)
        if m.split(".")[0] in {"PySide6", "sqlalchemy", "mapping_tool", "alembic", "sqlcipher3"}
    ]
    assert bad == []


@pytest.mark.parametrize("package", QT_FREE)
def test_services_store_and_security_import_no_qt(package: str) -> None:
    bad = [f"{p.relative_to(ROOT)} imports {m}" for p, m in _imports(ROOT / package) if m.split(".")[0] == "PySide6"]
    assert bad == []


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (the AST scan above still applies)")
    result = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Contracts: 2 kept, 0 broken" in result.stdout
