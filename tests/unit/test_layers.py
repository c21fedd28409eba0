"""The layers of docs/architecture.md, as import-linter contracts in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from importlinter import cli

ROOT = Path(__file__).resolve().parents[2]


def test_no_layer_imports_a_higher_one_and_the_api_does_not_import_the_store() -> None:
    exit_code = cli.lint_imports(
        config_filename=str(ROOT / "pyproject.toml"),
        limit_to_contracts=("layers", "api-not-store"),
        no_cache=True,
        no_logo=True,
    )
    assert exit_code == 0, "a wrong-way import: see the broken contract above"
