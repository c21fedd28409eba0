"""A virtualenv with rasa-sdk, built once per machine in the user's cache directory.

rasa-sdk pins pydantic<2.14 and websockets<16 (every 3.x release), so it cannot be installed
beside hookd; the oracle runs in its own interpreter and the tests talk to it over loopback
HTTP or read its printed JSON. It lives outside the repository (``$XDG_CACHE_HOME`` or
``~/.cache``, ``hookd/oracles/``; ``HOOKD_ORACLE_CACHE`` overrides) so that fresh clones on the
same machine, CI's included, reuse it instead of installing it again. The build holds a lock
file beside it: parallel test workers (pytest-xdist) and concurrent runs build it once, the
others wait for it and reuse it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RASA_SDK_VERSION = "3.21.1"
CACHE = Path(
    os.environ.get("HOOKD_ORACLE_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hookd" / "oracles"
)
VENV = CACHE / f"rasa-sdk-{RASA_SDK_VERSION}"
# Written last, so a venv whose install was interrupted is rebuilt rather than trusted.
MARKER = VENV / f".installed-rasa-sdk-{RASA_SDK_VERSION}"
SCRIPT = Path(__file__).with_name("action_server.py")


def _unavailable(reason: str) -> None:
    if os.environ.get("HOOKD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"rasa-sdk oracle unavailable: {reason}")
    pytest.skip(f"rasa-sdk oracle unavailable: {reason}")


def _python() -> Path:
    return VENV / "bin" / "python"


def oracle_python() -> Path:
    """The venv's interpreter, installing rasa-sdk on first use (about a minute)."""
    if MARKER.exists():
        return _python()
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{VENV.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not MARKER.exists():  # not built by whoever held the lock before
            _build()
    return _python()


def _build() -> None:
    """Install rasa-sdk into a new venv; the marker is written last."""
    shutil.rmtree(VENV, ignore_errors=True)
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(_python()), "-m", "pip", "install", "--quiet", f"rasa-sdk=={RASA_SDK_VERSION}"],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
        except subprocess.TimeoutExpired:
            _unavailable(f"{' '.join(step[:3])} timed out")
        if done.returncode != 0:
            _unavailable(f"{' '.join(step[:4])} failed: {done.stderr.strip()[-500:]}")
    MARKER.touch()
