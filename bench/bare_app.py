"""Baselines: bare Starlette endpoints that only answer.

``/in/{source}`` answers 200 (the ingest scenario's baseline); ``/api/v1/app/{app}/msg`` answers
201 with a message id (the create API scenario's: what the load generator, uvicorn and the
loopback cost by themselves at the same rate).

Run as ``python -m bench.bare_app --port PORT``; served by uvicorn with the same settings as
``hookd serve`` (one process, uvloop, httptools, no access log).
"""

from __future__ import annotations

import argparse
import itertools

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def accept(request: Request) -> Response:
    await request.body()  # read what was sent, as any receiver must
    return Response(b'{"ok":true}', status_code=200, media_type="application/json")


_created = itertools.count()


async def create(request: Request) -> Response:
    await request.body()
    # An id of its own per create: the load generator's records are keyed by it.
    body = b'{"id":"msg_bare%d"}' % next(_created)
    return Response(body, status_code=201, media_type="application/json")


async def health(request: Request) -> Response:
    return Response(b"ok")


app = Starlette(
    routes=[
        Route("/in/{source}", accept, methods=["POST"]),
        Route("/api/v1/app/{app_id}/msg", create, methods=["POST"]),
        Route("/health", health),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
