"""``hookd listen``: a relay's requests replayed to a local URL (docs/listen.md), instead of ngrok.

The command gets a relay from the server with the commands' ``ApiClient`` (``PUT
/api/v1/relay/{uid}``, or an application's own relay with ``--app``; ``--source`` attaches the
relay to a source), then holds a WebSocket to ``/api/v1/relay/{id}/listen``: an outward
connection, so it crosses NAT and needs no inbound port. Each ``request`` frame is replayed to
``--forward-to`` with its method, path under the relay URL, query, headers and exact body, and
the local answer goes back as an ``answer`` frame (or a ``failure`` when the local server did not
answer). The socket is opened again after a backoff when it drops; a refusal (bad token, no such
relay, not allowed) ends the command with its exit code.

Filters are the relay endpoint's (``filterTypes`` and a JSON filter), applied by the server:
what a listener filters out is never sent to it (and never waits for it).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hookd.commands import config
from hookd.commands.client import ApiClient, CliError, ExitCode
from hookd.commands.family import ApiCommand, api, given, output_format, say
from hookd.commands.output import Format
from hookd.core.relay_frames import (
    SUBPROTOCOL,
    FrameError,
    Ready,
    RelayedAnswer,
    RelayedRequest,
    RelayFailure,
    decode,
    encode,
)

if TYPE_CHECKING:  # imported when the command runs: `hookd --help` does without them
    import httpx

DEFAULT_RELAY = "hookd-listen"
# The server closes a socket it refuses with one of these (api/relays/socket.py).
REFUSALS = {
    4400: ExitCode.INVALID,
    4401: ExitCode.AUTH,
    4403: ExitCode.AUTH,
    4404: ExitCode.NOT_FOUND,
}
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
LOCAL_TIMEOUT = 60.0
MAX_FRAME_BYTES = 64 * 1024 * 1024
TABLE_ROWS = 20
# The local answer's framing and encoding are undone by httpx: the relay sends the body as read.
NOT_RETURNED = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection"})
_HEADER = re.compile(r"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):\s*(.*)$")


@dataclass(frozen=True, slots=True)
class Shown:
    """One request as the terminal shows it."""

    at: datetime
    method: str
    path: str
    event_type: str | None
    status: int | None
    duration_ms: int | None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "time": self.at.isoformat(),
            "method": self.method,
            "path": self.path,
            "eventType": self.event_type,
            "status": self.status,
            "durationMs": self.duration_ms,
            "error": self.error,
        }


def local_url(forward_to: str, path: str, query: str) -> str:
    """``forward_to`` with the path under the relay URL and the request's query added."""
    base, _, own_query = forward_to.partition("?")
    url = base.rstrip("/") + path if path else base
    queries = [part for part in (own_query, query) if part]
    return url + ("?" + "&".join(queries) if queries else "")


def filters(
    *, events: list[str], path: str | None, headers: list[str], for_app: bool
) -> dict[str, Any]:
    """The relay endpoint's ``filterTypes`` and ``filter`` for the options given."""
    names = [name.strip() for value in events for name in value.split(",") if name.strip()]
    exact = [name for name in names if "*" not in name]
    patterns = [name for name in names if "*" in name]
    view: dict[str, Any] = {}
    if patterns:
        if not for_app:
            raise CliError("event type wildcards (a.*) are for --app only", ExitCode.INVALID)
        alternatives = "|".join(re.escape(p).replace(r"\*", ".*") for p in [*exact, *patterns])
        view["event_type"] = {"$regex": f"^(?:{alternatives})$"}
        exact = []
    if path is not None:
        if for_app:
            raise CliError("--path filters requests; an application's messages have none")
        view["path"] = {"$regex": path}
    for header in headers:
        match = _HEADER.match(header)
        if match is None:
            raise CliError(f"--header takes 'Name: value', not {header!r}", ExitCode.INVALID)
        view.setdefault("headers", {})[match.group(1).lower()] = match.group(2)
    return {"filterTypes": exact or None, "filter": view or None}


def relay_for(
    client: ApiClient, relay: str, source: str | None, app: str | None, chosen: dict[str, Any]
) -> dict[str, Any]:
    """The relay to listen on, attached and filtered as asked."""
    from hookd.commands.family import route

    if app is not None:
        found: dict[str, Any] = client.post(route("/api/v1/app/{}/relay", app), chosen)["relay"]
        return found
    if source is not None:
        found = client.put(route("/api/v1/relay/{}", relay), {})
        client.post(route("/api/v1/relay/{}/attach", found["id"]), {"source": source, **chosen})
        return found
    found = client.put(route("/api/v1/relay/{}", relay), chosen)
    return found


async def _replay(
    http: httpx.AsyncClient, forward_to: str, request: RelayedRequest
) -> RelayedAnswer | RelayFailure:
    import httpx

    url = local_url(forward_to, request.path, request.query)
    started = time.perf_counter()
    try:
        response = await http.request(
            request.method, url, content=request.body, headers=list(request.headers)
        )
    except httpx.HTTPError as exc:
        return RelayFailure(request.id, f"{type(exc).__name__}: {exc}" if str(exc) else repr(exc))
    elapsed = round((time.perf_counter() - started) * 1000)
    headers = tuple(
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in NOT_RETURNED
    )
    return RelayedAnswer(request.id, response.status_code, headers, response.content, elapsed)


class Screen:
    """Where requests are shown: JSON lines, a live table (a terminal) or one line each."""

    def __init__(self, print_json: bool) -> None:
        self.print_json = print_json
        self.rows: deque[Shown] = deque(maxlen=TABLE_ROWS)
        self.live: Any = None
        if not print_json and sys.stdout.isatty():
            from rich.live import Live

            self.live = Live(self._table(), auto_refresh=False)
            self.live.start()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title="hookd listen", expand=False)
        for column in ("time", "method", "path", "event type", "status", "duration"):
            table.add_column(column)
        for row in self.rows:
            status = row.error or ("" if row.status is None else str(row.status))
            duration = "" if row.duration_ms is None else f"{row.duration_ms} ms"
            table.add_row(
                row.at.strftime("%H:%M:%S"),
                row.method,
                row.path or "/",
                row.event_type or "",
                status,
                duration,
            )
        return table

    def show(self, row: Shown) -> None:
        if self.print_json:
            typer.echo(json.dumps(row.as_json()))
            return
        if self.live is not None:
            self.rows.append(row)
            self.live.update(self._table(), refresh=True)
            return
        status = row.error or str(row.status)
        typer.echo(
            f"{row.at:%H:%M:%S} {row.method} {row.path or '/'} {row.event_type or '-'} "
            f"{status} {row.duration_ms if row.duration_ms is not None else '-'} ms"
        )

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def socket_url(server: str, listen_path: str) -> str:
    """The WebSocket URL of a relay's listen path on ``server`` (http -> ws, https -> wss)."""
    scheme, _, rest = server.rstrip("/").partition("://")
    return ("wss" if scheme == "https" else "ws") + "://" + rest + listen_path


@dataclass
class Session:
    """One ``hookd listen`` run: what it forwards and how it shows it."""

    url: str
    token: str
    forward_to: str
    screen: Screen
    max_connections: int
    count: int | None
    note: Callable[[str], None] = say
    handled: int = 0

    async def run(self) -> None:
        """Hold the socket, reconnecting with backoff, until ``count`` requests were answered."""
        import httpx
        import websockets
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        backoff = FIRST_BACKOFF
        limits = httpx.Limits(max_connections=self.max_connections)
        async with httpx.AsyncClient(timeout=LOCAL_TIMEOUT, limits=limits) as http:
            while True:
                try:
                    async with websockets.connect(
                        self.url,
                        additional_headers={"Authorization": f"Bearer {self.token}"},
                        subprotocols=[websockets.Subprotocol(SUBPROTOCOL)],
                        max_size=MAX_FRAME_BYTES,
                    ) as socket:
                        done = await self._serve(socket, http)
                        backoff = FIRST_BACKOFF
                        if done:
                            return
                except ConnectionClosed as exc:
                    refusal = exc.rcvd.code if exc.rcvd is not None else None
                    if refusal in REFUSALS:
                        reason = exc.rcvd.reason if exc.rcvd is not None else ""
                        raise CliError(f"the server refused: {reason}", REFUSALS[refusal]) from exc
                except (OSError, InvalidHandshake, TimeoutError) as exc:
                    self.note(f"cannot connect to {self.url}: {exc}")
                self.note(f"reconnecting in {backoff:g} s")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def _serve(self, socket: Any, http: httpx.AsyncClient) -> bool:
        """Answer the socket's requests until it closes (False) or ``count`` is reached."""
        gate = asyncio.Semaphore(self.max_connections)
        sending = asyncio.Lock()
        tasks: set[asyncio.Task[None]] = set()
        finished = asyncio.Event()

        async def answer(request: RelayedRequest) -> None:
            async with gate:
                reply = await _replay(http, self.forward_to, request)
            async with sending:
                await socket.send(encode(reply))
            self._show(request, reply)
            self.handled += 1
            if self.count is not None and self.handled >= self.count:
                finished.set()

        async def read() -> None:
            async for text in socket:
                try:
                    frame = decode(text)
                except FrameError as exc:
                    self.note(f"ignored a frame the server sent: {exc}")
                    continue
                if isinstance(frame, Ready):
                    self.note(f"connected: {frame.url} -> {self.forward_to}")
                elif isinstance(frame, RelayedRequest):
                    task = asyncio.create_task(answer(frame))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)

        reader = asyncio.create_task(read())
        waiter = asyncio.create_task(finished.wait())
        try:
            await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            if finished.is_set():
                reader.cancel()
            else:
                for task in list(tasks):  # the server retries what was not answered
                    task.cancel()
        if reader.done() and not reader.cancelled() and reader.exception() is not None:
            raise reader.exception()  # type: ignore[misc]
        return finished.is_set()

    def _show(self, request: RelayedRequest, reply: RelayedAnswer | RelayFailure) -> None:
        now = datetime.now(UTC)
        if isinstance(reply, RelayedAnswer):
            row = Shown(
                now,
                request.method,
                request.path,
                request.event_type,
                reply.status,
                reply.duration_ms,
            )
        else:
            row = Shown(
                now, request.method, request.path, request.event_type, None, None, reply.detail
            )
        self.screen.show(row)


ForwardOption = Annotated[
    str,
    typer.Option(
        "--forward-to", "-f", help="the local URL requests are replayed to", show_default=False
    ),
]
RelayOption = Annotated[
    str, typer.Option("--relay", help="the relay's uid: the same public URL on every run")
]
SourceOption = Annotated[
    str | None, typer.Option("--source", help="also forward what this source accepts (id or uid)")
]
AppOption = Annotated[
    str | None,
    typer.Option("--app", help="listen on this application's messages (id or uid)"),
]
EventsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--events", help="only these event types (repeat or comma-separate; a.* with --app)"
    ),
]
PathOption = Annotated[
    str | None, typer.Option("--path", help="only requests whose path matches this RE2 pattern")
]
HeaderOption = Annotated[
    list[str] | None,
    typer.Option("--header", "-H", help="only requests with this header: 'Name: value'"),
]
MaxConnectionsOption = Annotated[
    int, typer.Option("--max-connections", min=1, help="local requests in flight at once")
]
PrintJsonOption = Annotated[
    bool,
    typer.Option(
        "--print-json", help="one JSON line per request on stdout, for scripts (or -o json)"
    ),
]
CountOption = Annotated[
    int | None, typer.Option("--count", min=1, help="stop after this many requests")
]


def listen(
    ctx: typer.Context,
    forward_to: ForwardOption,
    relay: RelayOption = DEFAULT_RELAY,
    source: SourceOption = None,
    app: AppOption = None,
    events: EventsOption = None,
    path: PathOption = None,
    header: HeaderOption = None,
    max_connections: MaxConnectionsOption = 10,
    print_json: PrintJsonOption = False,
    count: CountOption = None,
) -> None:
    """Replay a relay's requests to a local URL: a public URL for your laptop, without ngrok."""
    if not forward_to.startswith(("http://", "https://")):
        raise CliError("--forward-to must be an http:// or https:// URL", ExitCode.INVALID)
    if source is not None and app is not None:
        raise CliError("--source and --app do not go together", ExitCode.INVALID)
    chosen = filters(events=events or [], path=path, headers=header or [], for_app=app is not None)
    client = api(ctx)
    found = relay_for(client, relay, source, app, chosen)
    options = given(ctx)
    connection = config.resolve(server=options.server, token=options.token, profile=options.profile)
    say(f"relay {found['id']}: {found['url']}")
    say(f"forwarding to {forward_to}")
    screen = Screen(print_json or output_format(ctx) is Format.JSON)
    session = Session(
        url=socket_url(client.base_url, found["listenPath"]),
        token=config.require_token(connection),
        forward_to=forward_to,
        screen=screen,
        max_connections=max_connections,
        count=count,
    )
    try:
        asyncio.run(session.run())
    except KeyboardInterrupt:
        pass
    finally:
        screen.close()


def register(cli: typer.Typer) -> None:
    cli.command(name="listen", cls=ApiCommand)(listen)
