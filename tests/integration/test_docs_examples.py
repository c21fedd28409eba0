"""The README's and docs' shell and Python examples, run as printed against a live `hookd serve`.

Every fenced ``sh``/``bash``/``python`` block of README.md and docs/*.md is an example. A block
that cannot run here (it installs hookd, starts a long-running server, needs a production
database or a service the reader has) says so on the line above its fence:
``<!-- example: not run: <why> -->``. Every other block runs, in the order printed, against one
fresh server per document, set up the way the README tells a new user: `hookd serve` in an empty
directory, generating its admin token into ``.hookd/admin_token``. The only change made to a
block is the port (8071 in the docs, a free one here). Shell blocks run in bash with ``set -euo
pipefail``, ``hookd`` on the PATH (as in an activated virtual environment) and ``curl`` failing
on any 4xx/5xx answer; the Python blocks of one document share one interpreter, as a reader's
session would. The server runs the API role only, so nothing is delivered to the docs'
placeholder URLs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.launcher import HookdProcess, start_hookd
from tests.support import REPO, free_port

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
LANGUAGES = {"sh": "sh", "bash": "sh", "shell": "sh", "python": "python"}
NOT_RUN = re.compile(r"^<!--\s*example:\s*not run:\s*(\S.*?)\s*-->$")
DOCS_PORT = re.compile(r"(localhost|127\.0\.0\.1):8071\b")

# Prepended to every shell block: curl fails on an error answer, as a reader would notice one.
SHELL_PREAMBLE = """\
curl() { command curl --silent --show-error --fail-with-body "$@"; echo; }
"""

# Runs the Python blocks of one document in one namespace: a JSON string per line on stdin (the
# block), a JSON object per line on stdout ({"ok": bool, "error": str}); the blocks' own output
# goes to stderr.
PYTHON_RUNNER = """\
import json, sys, traceback
answers, sys.stdout = sys.stdout, sys.stderr
namespace = {"__name__": "__main__"}
for line in sys.stdin:
    try:
        exec(compile(json.loads(line), "<example>", "exec"), namespace)
        answer = {"ok": True}
    except BaseException:
        answer = {"ok": False, "error": traceback.format_exc()}
    answers.write(json.dumps(answer) + "\\n")
    answers.flush()
"""


@dataclass(frozen=True)
class Example:
    document: Path
    line: int
    language: str  # "sh" or "python"
    code: str
    not_run: str | None  # why, when the block is marked as not run

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(REPO)}:{self.line}"


def examples(document: Path) -> list[Example]:
    """The shell and Python blocks of a Markdown document, in order."""
    found: list[Example] = []
    lines = document.read_text().splitlines()
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if opened is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not FENCE.match(lines[end]):
            end += 1
        language = LANGUAGES.get(opened.group(1))
        if language is not None:
            previous = next((line for line in reversed(lines[:index]) if line.strip()), "")
            marked = NOT_RUN.match(previous.strip())
            found.append(
                Example(
                    document=document,
                    line=index + 1,
                    language=language,
                    code="\n".join(lines[index + 1 : end]) + "\n",
                    not_run=marked.group(1) if marked else None,
                )
            )
        index = end + 1
    return found


def runnable_documents() -> list[Path]:
    return [doc for doc in DOCUMENTS if any(e.not_run is None for e in examples(doc))]


def test_the_docs_have_examples_that_run() -> None:
    """The examples are found (a broken parser would make the run below vacuous)."""
    every = [example for document in DOCUMENTS for example in examples(document)]
    ran = [example for example in every if example.not_run is None]
    assert len(ran) >= 15, [example.where for example in every]
    readme = [example for example in ran if example.document.name == "README.md"]
    assert {example.language for example in readme} == {"sh", "python"}


class DocsServer:
    """`hookd serve --role api` in an empty directory, as `make run` leaves a new user."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.process: HookdProcess | None = None

    def start(self) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("HOOKD_") or key == "HOOKD_TEST_SUBPROCESS"
        }
        env["HOOKD_PORT"] = str(self.port)
        env["HOOKD_ROLE"] = "api"
        self.process = start_hookd(
            ["serve"], env=env, cwd=self.home, stdout=self.home / "server.log"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.home / "server.log").read_text()[-3000:])
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hookd did not start: {(self.home / 'server.log').read_text()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def docs_home(tmp_path: Path) -> Iterator[DocsServer]:
    server = DocsServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _environment(server: DocsServer) -> dict[str, str]:
    token = (server.home / ".hookd" / "admin_token").read_text().strip()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKD_")}
    bin_dir = str(Path(sys.executable).parent)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        TOKEN=token,
        HOOKD_ADMIN_TOKEN=token,
        HOOKD_PORT=str(server.port),
        HOOKD_URL=server.url,
    )
    return env


def _on_port(code: str, server: DocsServer) -> str:
    return DOCS_PORT.sub(lambda found: f"{found.group(1)}:{server.port}", code)


@pytest.mark.parametrize(
    "document", runnable_documents(), ids=lambda document: str(document.relative_to(REPO))
)
def test_examples_run_as_printed(document: Path, docs_home: DocsServer) -> None:
    env = _environment(docs_home)
    python = subprocess.Popen(
        [sys.executable, "-c", PYTHON_RUNNER],
        cwd=docs_home.home,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(docs_home.home / "python-examples.log").open("w"),
        text=True,
    )
    assert python.stdin is not None and python.stdout is not None
    try:
        for example in examples(document):
            if example.not_run is not None:
                continue
            code = _on_port(example.code, docs_home)
            if example.language == "sh":
                done = subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", SHELL_PREAMBLE + code],
                    cwd=docs_home.home,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                assert done.returncode == 0, (
                    f"{example.where} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
                )
            else:
                python.stdin.write(json.dumps(code) + "\n")
                python.stdin.flush()
                answer = json.loads(python.stdout.readline() or '{"ok": false, "error": "died"}')
                assert answer["ok"], f"{example.where} failed:\n{answer['error']}"
    finally:
        python.stdin.close()
        python.wait(timeout=30)
