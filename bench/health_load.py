"""Health probes under load: how fast ``hookd serve`` answers its health routes while 200
producers create messages as fast as they can.

    python -m bench.health_load [--producers 200] [--seconds 20]

A fresh SQLite file, one application (no endpoint unless ``--endpoint URL``), and the closed-loop
load generator (``bench.loadgen``, aiohttp, ``--producers`` requests in flight). Once the load
runs, one thread per route probes it every 100 ms the way a Kubernetes kubelet does: a new TCP
connection per probe, ``Connection: close``, the time to the whole answer; on the API port and
on the health port (``HOOKD_HEALTH_PORT``, answered by a thread). Prints a table of the probes
(p50, p99, max, non-2xx answers) and the messages the server created meanwhile.
Target: p99 under 100 ms for liveness and readiness (a kubelet's default timeout is 1 s).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.hookd_server import TOKEN, HookdServer
from bench.procs import free_port, python_module, spawn, stop

# (the port: "api" or "health" (HOOKD_HEALTH_PORT), the path)
ROUTES = (
    ("api", "/api/v1/health"),
    ("api", "/api/v1/health/live"),
    ("api", "/api/v1/health/ready"),
    ("health", "/livez"),
    ("health", "/readyz"),
)
PROBE_EVERY = 0.1


def probe(port: int, path: str) -> tuple[int, float]:
    """One kubelet-style probe: (status, seconds to the whole answer); status 0 on failure."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            request = f"GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
            sock.sendall(request.encode())
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    except OSError:
        return 0, time.perf_counter() - started
    elapsed = time.perf_counter() - started
    try:
        return int(data.split(b" ", 2)[1]), elapsed
    except (IndexError, ValueError):
        return 0, elapsed


def probe_loop(port: int, path: str, until: float, out: list[tuple[int, float]]) -> None:
    while time.monotonic() < until:
        began = time.monotonic()
        out.append(probe(port, path))
        time.sleep(max(0.0, PROBE_EVERY - (time.monotonic() - began)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--producers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="probing time under load")
    parser.add_argument("--endpoint", default="", help="an endpoint URL for the application")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hookd-health-") as directory:
        workdir = Path(directory)
        health_port = free_port()
        server = HookdServer(workdir / "hookd", env={"HOOKD_HEALTH_PORT": str(health_port)})
        ports = {"api": server.port, "health": health_port}
        server.start()
        loadgen = None
        try:
            app_id = server.create_app("health")
            if args.endpoint:
                server.create_endpoint(app_id, args.endpoint)
            loadgen = spawn(
                python_module(
                    "bench.loadgen",
                    "--base-url", server.base_url,
                    "--token", TOKEN,
                    "--app", app_id,
                    "--count", "10000000",
                    "--concurrency", str(args.producers),
                    "--deadline", str(args.seconds + 60),
                    "--out", str(workdir / "loadgen.txt"),
                ),
                log=workdir / "loadgen.log",
            )  # fmt: skip
            time.sleep(3.0)  # the producers connect and the load settles
            before = time.monotonic()
            until = before + args.seconds
            results: dict[tuple[str, str], list[tuple[int, float]]] = {r: [] for r in ROUTES}
            threads = [
                threading.Thread(
                    target=probe_loop, args=(ports[port], path, until, results[port, path])
                )
                for port, path in ROUTES
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            probed = time.monotonic() - before
        finally:
            if loadgen is not None:
                stop(loadgen)
            server.stop()
        messages = server.count_rows("messages")
    print(
        f"health probes under {args.producers} concurrent producers "
        f"({probed:.0f} s of probes; {messages:,} messages created in the whole run)"
    )
    print(
        f"{'port':<7} {'route':<24} {'probes':>7} {'non-2xx':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8}"
    )
    for (port, path), samples in results.items():
        times = [seconds * 1000 for _, seconds in samples]
        bad = sum(1 for status, _ in samples if not 200 <= status < 300)
        print(
            f"{port:<7} {path:<24} {len(samples):>7} {bad:>8} {statistics.median(times):>8.1f} "
            f"{percentile(times, 0.99):>8.1f} {max(times):>8.1f}"
        )


if __name__ == "__main__":
    main()
