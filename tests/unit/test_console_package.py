"""The console ships in the wheel: templates, static files and the vendored htmx (with its
licence and the checksum its README records); the tests' axe-core does not."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

from hatchling.builders.wheel import WheelBuilder

from hookd.api.console import render
from tests.support import REPO

CONSOLE = REPO / "src" / "hookd" / "api" / "console"


def _shipped_files() -> list[str]:
    return sorted(
        path.relative_to(REPO / "src").as_posix()
        for folder in ("templates", "static")
        for path in (CONSOLE / folder).rglob("*")
        if path.is_file()
    )


def test_the_wheel_holds_every_template_and_static_file(tmp_path: Path) -> None:
    (wheel,) = WheelBuilder(str(REPO)).build(directory=str(tmp_path), versions=["standard"])
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = _shipped_files()
    assert "hookd/api/console/static/vendor/htmx-LICENSE.txt" in wanted
    assert [name for name in wanted if name not in names] == []
    assert not [name for name in names if "axe" in name]


def test_vendored_files_match_their_recorded_checksums() -> None:
    for readme in (
        CONSOLE / "static" / "vendor" / "README.md",
        REPO / "tests" / "browser" / "vendor" / "README.md",
    ):
        rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", readme.read_text(), re.M)
        assert rows, readme
        for name, digest in rows:
            assert hashlib.sha256((readme.parent / name).read_bytes()).hexdigest() == digest, name


def test_the_layout_loads_the_vendored_htmx() -> None:
    (htmx,) = (CONSOLE / "static" / "vendor").glob("htmx-*.min.js")
    assert f"static('vendor/{htmx.name}')" in (CONSOLE / "templates" / "base.html").read_text()
    assert render.static_url(f"vendor/{htmx.name}").startswith("/console/static/vendor/htmx-")
