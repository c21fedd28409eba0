"""The layers of docs/architecture.md, as import-linter contracts in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from importlinter import cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_layers_contracts_are_kept() -> None:
    """No layer imports a higher one, the API not the store, core nothing impure."""
    exit_code = cli.lint_imports(
        config_filename=str(ROOT / "pyproject.toml"),
        limit_to_contracts=("layers", "api-not-store", "core-pure", "no-web-below-api"),
        no_cache=True,
        no_logo=True,
    )
    assert exit_code == 0, "a wrong-way import: see the broken contract above"
