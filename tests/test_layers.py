"""The layers of docs/architecture.md, checked on every import (nested ones too): a package may
import only the packages below it, so the DP core can be read and audited on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "askfirst"
# What each package may import of askfirst, besides itself.
ALLOWED: dict[str, set[str]] = {
    "privacy": set(),  # pure DP building blocks: bounding, mechanisms, accounting, noisy counts
    "engines": {"privacy", "settings"},
    "recommenders": {"privacy", "engines"},
}


def imported_packages(path: Path) -> set[str]:
    """The askfirst packages a module imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found |= {name.split(".")[1] for name in names if name.startswith("askfirst.")}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    reaching_up = {
        str(path.relative_to(SOURCE)): sorted(
            imported_packages(path) - ALLOWED[package] - {package}
        )
        for path in sorted((SOURCE / package).rglob("*.py"))
    }
    assert {module: up for module, up in reaching_up.items() if up} == {}


def test_the_check_sees_an_import_that_reaches_up(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from askfirst.training.pipeline import train\n")
    assert imported_packages(module) == {"training"}


def test_the_web_app_never_waits_on_a_matrix_homeserver() -> None:
    """The Matrix sync runs in its own process (`askfirst matrix sync`): no page or API route
    imports it, so a homeserver that is down or slow can never hold up a request."""
    reaching = [
        str(path.relative_to(SOURCE))
        for path in sorted((SOURCE / "web").rglob("*.py"))
        if "matrix" in imported_packages(path)
    ]
    assert reaching == []


def test_the_matrix_source_sits_above_consent_and_below_the_web() -> None:
    """It writes chat data (workspace) and records answers (consent); nothing trains from it."""
    used = set().union(*(imported_packages(p) for p in (SOURCE / "matrix").rglob("*.py")))
    assert used - {"matrix"} <= {"clock", "consent", "journal", "settings", "store", "workspace"}
