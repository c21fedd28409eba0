"""py-spy attached to a running process: an SVG flame graph plus a top-functions summary."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.procs import PYTHON, spawn, stop

LINE_NUMBER = re.compile(r":\d+\)$")
RATE = 100  # samples per second: enough for a ranking, light on a 2-core machine


def py_spy() -> str | None:
    local = Path(PYTHON).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@dataclass(frozen=True, slots=True)
class Hotspot:
    function: str
    self_pct: float
    total_pct: float


class PySpy:
    """Two py-spy recorders (SVG and raw collapsed stacks) on one pid; ``stop()`` ends them."""

    def __init__(self, pid: int, svg: Path, raw: Path, *, max_seconds: float) -> None:
        self.pid = pid
        self.svg = svg
        self.raw = raw
        self.max_seconds = max_seconds
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        binary = py_spy()
        if binary is None:
            raise SystemExit("py-spy is required for profiling: pip install py-spy")
        # The flame graph shows every busy thread; the ranking counts only samples holding the
        # GIL, i.e. where the one core that Python code can use goes.
        for fmt, out, extra in (("flamegraph", self.svg, []), ("raw", self.raw, ["--gil"])):
            args = [binary, "record", "--pid", str(self.pid), "--rate", str(RATE), *extra]
            args += ["--duration", str(int(self.max_seconds)), "--nonblocking"]
            args += ["--format", fmt, "-o", str(out)]
            self._procs.append(spawn(args, log=out.with_suffix(".log")))

    def stop(self) -> None:
        for proc in self._procs:
            stop(proc, sig=signal.SIGINT, grace=30)  # py-spy writes its output on SIGINT


def hotspots(
    raw: Path, *, top: int = 15, inclusive_filter: str = "hookd/"
) -> tuple[int, list[Hotspot], list[Hotspot]]:
    """Samples; functions ranked by self share; ``inclusive_filter`` frames by inclusive share."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # "function (path:line)" -> "function (path)": rank functions, not single lines.
        frames = [LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            if inclusive_filter in frame:
                inclusive[frame] += count

    def ranked(counter: Counter[str]) -> list[Hotspot]:
        return [
            Hotspot(name, own[name] / total * 100, inclusive[name] / total * 100)
            for name, _ in counter.most_common(top)
        ]

    if total == 0:
        return 0, [], []
    return total, ranked(own), ranked(inclusive)
