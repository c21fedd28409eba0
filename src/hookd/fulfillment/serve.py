"""Run a ``Fulfillment`` app under uvicorn (what ``hookd fulfill MODULE:APP`` calls)."""

from __future__ import annotations

import importlib
import os
import sys

import uvicorn

from hookd.fulfillment.app import Fulfillment

__all__ = ["load_target", "serve"]


def load_target(target: str) -> Fulfillment:
    """Import ``"package.module:attr"`` and return the ``Fulfillment`` it names.

    Raises ``ValueError`` with a readable message when the target is wrong.
    """
    module_name, sep, attr_path = target.partition(":")
    if not (sep and module_name and attr_path):
        raise ValueError(f"target {target!r} must look like 'package.module:app'")
    # Like `python -m` and uvicorn: modules in the working directory are importable.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from exc
    for attr in attr_path.split("."):
        try:
            found = getattr(found, attr)
        except AttributeError as exc:
            raise ValueError(f"{module_name!r} has no attribute {attr_path!r}") from exc
    if not isinstance(found, Fulfillment):
        raise ValueError(f"{target!r} is a {type(found).__name__}, not a hookd Fulfillment app")
    return found


def serve(target: str, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the ``Fulfillment`` app named by ``target`` ("module:attr") until interrupted."""
    app = load_target(target)
    uvicorn.run(app, host=host, port=port, proxy_headers=True)
