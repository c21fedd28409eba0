"""``hookd bin``: request bins from the terminal (docs/bins.md).

``create``, ``list``, ``get``, ``update``, ``delete``, ``requests``, ``tail`` (follows the bin's
server-sent events) and ``replay``. Tables by default, ``--output json`` for scripts; exit codes:
0 success, 1 a server error or no server, 2 invalid input, 3 not found, 4 the token was refused.

The HTTP calls are the few functions under "The API" below.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import httpx

app = typer.Typer(
    name="bin",
    help="Request bins: capture URLs that store every request sent to them (docs/bins.md).",
    no_args_is_help=True,
)

DEFAULT_SERVER = "http://127.0.0.1:8071"
TOKEN_FILE = "admin_token"  # noqa: S105 - a file name (hookd serve stores the token in it)
TIMEOUT_SECONDS = 30.0

EXIT_SERVER, EXIT_INVALID, EXIT_NOT_FOUND, EXIT_REFUSED = 1, 2, 3, 4


class Output(StrEnum):
    table = "table"
    json = "json"


ServerOption = Annotated[
    str | None,
    typer.Option("--server", envvar="HOOKD_URL", help=f"The hookd API [default: {DEFAULT_SERVER}]"),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="HOOKD_TOKEN",
        help="Admin token [default: HOOKD_ADMIN_TOKEN, else the one hookd serve stored]",
        show_default=False,
    ),
]
OutputOption = Annotated[Output, typer.Option("--output", "-o", help="table or json")]


# ---- The API: the only functions that speak HTTP.


class ApiError(Exception):
    """The server refused the call (``status`` >= 400, with its ``code`` and ``detail``), or
    could not be reached (``status`` 0)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{detail} ({code})" if status else detail)
        self.status = status
        self.code = code
        self.detail = detail


def stored_token() -> str | None:
    """The admin token ``hookd serve`` stored in the default data directory, if any."""
    from hookd.config import Settings

    path: Path = Settings().data_dir / TOKEN_FILE
    return path.read_text().strip() if path.exists() else None


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    token: str


def server_from(server: str | None, token: str | None) -> Server:
    """The server and token to use: the options (or HOOKD_URL, HOOKD_TOKEN), else
    HOOKD_ADMIN_TOKEN, else the token stored in the data directory, on 127.0.0.1:8071."""
    found = token or os.environ.get("HOOKD_ADMIN_TOKEN") or stored_token()
    if not found:
        fail(
            "no admin token: pass --token, set HOOKD_TOKEN, or run this where `hookd serve` "
            f"stored it ({Path('.hookd') / TOKEN_FILE})",
            EXIT_REFUSED,
        )
    return Server((server or DEFAULT_SERVER).rstrip("/"), found)


def _client(server: Server, timeout: float | None = TIMEOUT_SECONDS) -> httpx.Client:
    import httpx

    return httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=httpx.Timeout(TIMEOUT_SECONDS, read=timeout),
    )


def _error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = str(body.get("code") or "http_error") if isinstance(body, dict) else "http_error"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # validation errors: [{"loc": [...], "msg": "..."}]
        detail = "; ".join(
            f"{'.'.join(str(part) for part in item.get('loc', [])[1:])}: {item.get('msg')}"
            for item in detail
            if isinstance(item, dict)
        )
    return ApiError(response.status_code, code, str(detail or response.reason_phrase))


def call(
    server: Server,
    method: str,
    path: str,
    *,
    body: Any = None,
    params: dict[str, Any] | None = None,
) -> Any:
    """One API call; its JSON answer (None for 204); ApiError otherwise."""
    import httpx

    try:
        with _client(server) as client:
            response = client.request(method, path, json=body, params=params)
    except httpx.HTTPError as exc:
        raise ApiError(0, "unreachable", f"cannot reach {server.url}: {exc}") from exc
    if response.status_code >= 400:
        raise _error(response)
    return response.json() if response.content else None


def events(server: Server, path: str) -> Iterator[tuple[str, str]]:
    """The server-sent events of ``path``: (event, data) pairs, a comment as ("", text)."""
    import httpx

    try:
        with _client(server, timeout=None) as client, client.stream("GET", path) as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            event, data = "message", []
            for line in response.iter_lines():
                if line.startswith(":"):
                    yield "", line[1:].strip()
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line and data:
                    yield event, "\n".join(data)
                    event, data = "message", []
    except httpx.HTTPError as exc:
        raise ApiError(0, "unreachable", f"lost {server.url}: {exc}") from exc


# ---- Output and exit codes.


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"hookd: {message}", err=True)
    raise typer.Exit(code)


def exit_code(error: ApiError) -> int:
    if error.status in (401, 403):
        return EXIT_REFUSED
    if error.status == 404:
        return EXIT_NOT_FOUND
    if 400 <= error.status < 500:
        return EXIT_INVALID
    return EXIT_SERVER


def api(server: Server, method: str, path: str, **kwargs: Any) -> Any:
    """:func:`call`, its failure told on stderr with the exit code it deserves."""
    try:
        return call(server, method, path, **kwargs)
    except ApiError as exc:
        fail(str(exc), exit_code(exc))


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _table(columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")  # wrapped, never cut: ids are copied from it
    for row in rows:
        table.add_row(*row)
    # Piped: as wide as the rows (a terminal's width otherwise).
    Console(width=None if sys.stdout.isatty() else 1000).print(table)


def _bin_rows(bins: list[dict[str, Any]]) -> None:
    _table(
        ["ID", "NAME", "ANSWER", "TTL", "CAPTURE URL"],
        [
            [b["id"], b["name"], str(b["answer"]["statusCode"]), f"{b['ttlSeconds']}s", b["url"]]
            for b in bins
        ],
    )


def _show_bin(found: dict[str, Any], output: Output) -> None:
    if output == Output.json:
        print_json(found)
        return
    answer = found["answer"]
    typer.echo(f"bin         {found['id']} ({found['name']})")
    typer.echo(f"capture URL {found['url']}")
    headers = ", ".join(f"{k}: {v}" for k, v in answer["headers"].items())
    typer.echo(
        f"answer      {answer['statusCode']}"
        + (f" [{headers}]" if headers else "")
        + (f" {answer['body']!r}" if answer["body"] else "")
        + (f" after {answer['delayMs']} ms" if answer["delayMs"] else "")
    )
    typer.echo(
        f"keeps       the last {found['maxRequests']} requests for {found['ttlSeconds']} s, "
        f"bodies up to {found['maxBodyBytes']} bytes"
    )


def request_line(request: dict[str, Any]) -> str:
    """One captured request in a line: time, method, path?query, size, answer."""
    target = request["path"] or "/"
    if request["query"]:
        target += "?" + request["query"]
    return (
        f"{request['receivedAt']}  {request['method']:<7} {target}  "
        f"{request['bodySize']} B  from {request['remoteIp'] or '?'}  "
        f"-> {request['responseStatusCode']}  {request['id']}"
    )


# ---- The commands.


def _answer(
    status: int | None,
    header: list[str] | None,
    body: str | None,
    body_file: Path | None,
    delay_ms: int | None,
) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    if status is not None:
        answer["statusCode"] = status
    if header:
        headers: dict[str, str] = {}
        for item in header:
            name, sep, value = item.partition(":")
            if not sep or not name.strip():
                fail(f"--header {item!r} is not 'Name: value'", EXIT_INVALID)
            headers[name.strip()] = value.strip()
        answer["headers"] = headers
    if body is not None and body_file is not None:
        fail("--body and --body-file: give one", EXIT_INVALID)
    if body_file is not None:
        body = body_file.read_text()
    if body is not None:
        answer["body"] = body
    if delay_ms is not None:
        answer["delayMs"] = delay_ms
    return answer


StatusOption = Annotated[int | None, typer.Option(help="the answer's status [default: 200]")]
HeaderOption = Annotated[
    list[str] | None, typer.Option("--header", "-H", help="'Name: value' of the answer; repeatable")
]
BodyOption = Annotated[str | None, typer.Option(help="the answer's body (text)")]
BodyFileOption = Annotated[Path | None, typer.Option(help="the answer's body, from a file")]
DelayOption = Annotated[
    int | None, typer.Option(help="wait this many ms before answering (at most 60000)")
]
TtlOption = Annotated[
    int | None, typer.Option(help="forget a request this many seconds after it came")
]


@app.command()
def create(
    name: Annotated[str | None, typer.Option(help="a name for people")] = None,
    status: StatusOption = None,
    header: HeaderOption = None,
    body: BodyOption = None,
    body_file: BodyFileOption = None,
    delay_ms: DelayOption = None,
    ttl_seconds: TtlOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Make a bin: a capture URL that stores every request (any method, any path under it)."""
    fields: dict[str, Any] = {"answer": _answer(status, header, body, body_file, delay_ms)}
    if name is not None:
        fields["name"] = name
    if ttl_seconds is not None:
        fields["ttlSeconds"] = ttl_seconds
    _show_bin(api(server_from(server, token), "POST", "/api/v1/bin", body=fields), output)


@app.command(name="list")
def list_bins(
    limit: Annotated[int, typer.Option(min=1, max=250)] = 50,
    server: ServerOption = None,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List bins."""
    page = api(server_from(server, token), "GET", "/api/v1/bin", params={"limit": limit})
    if output == Output.json:
        print_json(page)
    else:
        _bin_rows(page["data"])


@app.command()
def get(
    bin_id: Annotated[str, typer.Argument(help="the bin's id or uid")],
    server: ServerOption = None,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show a bin: its capture URL, answer and limits."""
    _show_bin(api(server_from(server, token), "GET", f"/api/v1/bin/{bin_id}"), output)


@app.command()
def update(
    bin_id: Annotated[str, typer.Argument(help="the bin's id or uid")],
    status: StatusOption = None,
    header: HeaderOption = None,
    body: BodyOption = None,
    body_file: BodyFileOption = None,
    delay_ms: DelayOption = None,
    ttl_seconds: TtlOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Change a bin's answer (the options given; the rest stays) or TTL."""
    target = server_from(server, token)
    changes = _answer(status, header, body, body_file, delay_ms)
    fields: dict[str, Any] = {}
    if changes:
        current = api(target, "GET", f"/api/v1/bin/{bin_id}")["answer"]
        fields["answer"] = {**current, **changes}
    if ttl_seconds is not None:
        fields["ttlSeconds"] = ttl_seconds
    _show_bin(api(target, "PATCH", f"/api/v1/bin/{bin_id}", body=fields), output)


@app.command()
def delete(
    bin_id: Annotated[str, typer.Argument(help="the bin's id or uid")],
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a bin and every request it captured."""
    api(server_from(server, token), "DELETE", f"/api/v1/bin/{bin_id}")
    typer.echo(f"bin {bin_id} deleted", err=True)


@app.command()
def requests(
    bin_id: Annotated[str, typer.Argument(help="the bin's id or uid")],
    request_id: Annotated[
        str | None, typer.Argument(help="one request: shown whole (headers, body)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=250)] = 50,
    server: ServerOption = None,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List what a bin captured, newest first; or show one request whole."""
    target = server_from(server, token)
    if request_id is not None:
        found = api(target, "GET", f"/api/v1/bin/{bin_id}/request/{request_id}")
        if output == Output.json:
            print_json(found)
        else:
            _show_request(found)
        return
    page = api(target, "GET", f"/api/v1/bin/{bin_id}/request", params={"limit": limit})
    if output == Output.json:
        print_json(page)
        return
    _table(
        ["RECEIVED", "METHOD", "PATH", "BYTES", "FROM", "ANSWER", "ID"],
        [
            [
                r["receivedAt"],
                r["method"],
                (r["path"] or "/") + (f"?{r['query']}" if r["query"] else ""),
                str(r["bodySize"]),
                r["remoteIp"] or "",
                str(r["responseStatusCode"]),
                r["id"],
            ]
            for r in page["data"]
        ],
    )


def _show_request(request: dict[str, Any]) -> None:
    typer.echo(request_line(request))
    for name, value in request["headers"]:
        typer.echo(f"  {name}: {value}")
    typer.echo("")
    if request["bodyText"] is not None:
        typer.echo(request["bodyText"])
    else:
        typer.echo(f"({request['bodySize']} bytes, not UTF-8; base64:)")
        typer.echo(request["body"])


@app.command()
def tail(
    bin_id: Annotated[str, typer.Argument(help="the bin's id or uid")],
    count: Annotated[int | None, typer.Option(min=1, help="stop after this many requests")] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: Annotated[
        Output, typer.Option("--output", "-o", help="table: a line each; json: one JSON each")
    ] = Output.table,
) -> None:
    """Follow a bin live: print each request as it arrives (Ctrl-C stops)."""
    target = server_from(server, token)
    seen = 0
    try:
        for event, data in events(target, f"/api/v1/bin/{bin_id}/stream"):
            if event == "" and data.startswith("following"):
                typer.echo(f"hookd: {data}; waiting for requests (Ctrl-C stops)", err=True)
            if event != "request":
                continue
            request = json.loads(data)
            typer.echo(json.dumps(request) if output == Output.json else request_line(request))
            sys.stdout.flush()
            seen += 1
            if count is not None and seen >= count:
                return
    except ApiError as exc:
        fail(str(exc), exit_code(exc))
    except KeyboardInterrupt:
        return
    fail("the stream ended: the bin was deleted", EXIT_NOT_FOUND)


@app.command()
def replay(
    bin_id: Annotated[str, typer.Argument(help="the bin's id or uid")],
    request_id: Annotated[str, typer.Argument(help="the captured request's id")],
    to: Annotated[str, typer.Option("--to", help="the URL to send it to")],
    timeout_ms: Annotated[
        int | None, typer.Option(min=1, max=60_000, help="[default: HOOKD_REQUEST_TIMEOUT]")
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Send a captured request to a URL: same method, headers and exact body. Exit 0 when it
    answered 2xx, 1 otherwise."""
    fields: dict[str, Any] = {"url": to}
    if timeout_ms is not None:
        fields["timeoutMs"] = timeout_ms
    path = f"/api/v1/bin/{bin_id}/request/{request_id}/replay"
    answer = api(server_from(server, token), "POST", path, body=fields)
    if output == Output.json:
        print_json(answer)
    elif answer["error"]:
        typer.echo(f"no answer after {answer['durationMs']} ms: {answer['error']}")
    else:
        typer.echo(f"{answer['statusCode']} in {answer['durationMs']} ms")
        text = answer["bodyText"]
        body = text if text is not None else base64.b64decode(answer["body"]).hex()
        if body:
            typer.echo(body)
    raise typer.Exit(0 if 200 <= answer["statusCode"] < 300 else 1)


def register(cli: typer.Typer) -> None:
    cli.add_typer(app, name="bin")
