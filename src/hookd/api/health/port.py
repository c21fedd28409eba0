"""``HOOKD_HEALTH_PORT``: the health routes on a port of their own, answered by a thread.

On the API port a probe is answered as soon as its head is read (``api/connections``), but
reading it still takes turns of the event loop, and under saturation (hundreds of producers on
one process) each turn carries hundreds of requests. Here a thread with its own listening
socket answers: it needs the GIL for microseconds, not a turn of the loop, so a kubelet's 1 s
timeout never restarts a process for being busy. What it reports still comes from the loop:
readiness from ``Readiness`` (the database check), liveness from the loop's heartbeat (503 when
the loop has not turned for 10 s, which no amount of load explains).

The standard library's ``ThreadingHTTPServer``: one short-lived thread per probe, HTTP/1.0
(one request per connection, as kubelets send them), a 2 s socket timeout per request.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import orjson

from hookd.api.health.routes import Readiness
from hookd.api.request_log import request_id_from

NOT_FOUND = orjson.dumps({"code": "not_found", "detail": "not a health path"})


class _Probe(BaseHTTPRequestHandler):
    readiness: ClassVar[Readiness]
    timeout = 2.0  # a client that does not send its request in 2 s loses its thread
    server_version = "hookd"
    sys_version = ""

    def _answer(self, *, head: bool) -> None:
        answer = self.readiness.answer(self.path.partition("?")[0], off_loop=True)
        status, body = answer if answer is not None else (404, NOT_FOUND)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Request-Id", request_id_from(self.headers.get("X-Request-Id")))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # probes every few seconds are no news


@contextlib.contextmanager
def health_port(host: str, port: int, readiness: Readiness) -> Iterator[int]:
    """Serve the health routes on ``host:port`` from a thread; yields the bound port."""
    handler = type("Probe", (_Probe,), {"readiness": readiness})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="hookd health port", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
