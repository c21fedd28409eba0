"""``hookd bin``: request bins from the terminal (docs/bins.md).

``create``, ``list``, ``get``, ``update``, ``delete``, ``requests``, ``tail`` (follows the bin's
server-sent events) and ``replay``. A family of ``commands.family`` on its ``ApiClient``: the
shared connection and output options, retries, idempotency keys and exit codes (2 invalid input,
3 not found, 4 authentication, 5 a server error or no server; ``replay``: 1 when the target did
not answer 2xx). Tables by default (a bin and a request have their own layout), ``-o json|yaml``
the API's answer; ``tail -o json`` one JSON object a line.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hookd.commands.client import CliError, ExitCode
from hookd.commands.family import Family, api, output_format, route, say, show
from hookd.commands.output import Format, to_yaml

family = Family(
    "bin", help="Request bins: capture URLs that store every request sent to them (docs/bins.md)."
)
ONE = "/api/v1/bin/{}"
BinArgument = Annotated[str, typer.Argument(help="the bin's id or uid")]


def _machine(ctx: typer.Context) -> bool:
    """JSON or YAML asked for: the API's answer is printed as it came."""
    return output_format(ctx) is not Format.TABLE


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


def _show_bin(ctx: typer.Context, found: dict[str, Any]) -> None:
    if _machine(ctx):
        show(ctx, found)
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
                raise CliError(f"--header {item!r} is not 'Name: value'")
            headers[name.strip()] = value.strip()
        answer["headers"] = headers
    if body is not None and body_file is not None:
        raise CliError("--body and --body-file: give one")
    if body_file is not None:
        try:
            body = body_file.read_text()
        except OSError as exc:
            raise CliError(f"--body-file: cannot read {body_file}: {exc.strerror}") from exc
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
LimitOption = Annotated[int, typer.Option(min=1, max=250)]


@family.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="a name for people")] = None,
    status: StatusOption = None,
    header: HeaderOption = None,
    body: BodyOption = None,
    body_file: BodyFileOption = None,
    delay_ms: DelayOption = None,
    ttl_seconds: TtlOption = None,
) -> None:
    """Make a bin: a capture URL that stores every request (any method, any path under it)."""
    fields: dict[str, Any] = {"answer": _answer(status, header, body, body_file, delay_ms)}
    if name is not None:
        fields["name"] = name
    if ttl_seconds is not None:
        fields["ttlSeconds"] = ttl_seconds
    _show_bin(ctx, api(ctx).post("/api/v1/bin", fields))


@family.command("list")
def list_bins(ctx: typer.Context, limit: LimitOption = 50) -> None:
    """List bins."""
    page = api(ctx).get("/api/v1/bin", limit=limit)
    if _machine(ctx):
        show(ctx, page)
        return
    _table(
        ["ID", "NAME", "ANSWER", "TTL", "CAPTURE URL"],
        [
            [b["id"], b["name"], str(b["answer"]["statusCode"]), f"{b['ttlSeconds']}s", b["url"]]
            for b in page["data"]
        ],
    )


@family.command("get")
def get(ctx: typer.Context, bin_id: BinArgument) -> None:
    """Show a bin: its capture URL, answer and limits."""
    _show_bin(ctx, api(ctx).get(route(ONE, bin_id)))


@family.command("update")
def update(
    ctx: typer.Context,
    bin_id: BinArgument,
    status: StatusOption = None,
    header: HeaderOption = None,
    body: BodyOption = None,
    body_file: BodyFileOption = None,
    delay_ms: DelayOption = None,
    ttl_seconds: TtlOption = None,
) -> None:
    """Change a bin's answer (the options given; the rest stays) or TTL."""
    client = api(ctx)
    changes = _answer(status, header, body, body_file, delay_ms)
    fields: dict[str, Any] = {}
    if changes:
        current = client.get(route(ONE, bin_id))["answer"]
        fields["answer"] = {**current, **changes}
    if ttl_seconds is not None:
        fields["ttlSeconds"] = ttl_seconds
    _show_bin(ctx, client.patch(route(ONE, bin_id), fields))


@family.command("delete")
def delete(ctx: typer.Context, bin_id: BinArgument) -> None:
    """Delete a bin and every request it captured."""
    api(ctx).delete(route(ONE, bin_id))
    say(f"bin {bin_id} deleted")


@family.command("requests")
def requests(
    ctx: typer.Context,
    bin_id: BinArgument,
    request_id: Annotated[
        str | None, typer.Argument(help="one request: shown whole (headers, body)")
    ] = None,
    limit: LimitOption = 50,
) -> None:
    """List what a bin captured, newest first; or show one request whole."""
    client = api(ctx)
    if request_id is not None:
        found = client.get(route(ONE + "/request/{}", bin_id, request_id))
        if _machine(ctx):
            show(ctx, found)
        else:
            _show_request(found)
        return
    page = client.get(route(ONE + "/request", bin_id), limit=limit)
    if _machine(ctx):
        show(ctx, page)
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


@family.command("tail")
def tail(
    ctx: typer.Context,
    bin_id: BinArgument,
    count: Annotated[int | None, typer.Option(min=1, help="stop after this many requests")] = None,
) -> None:
    """Follow a bin live: print each request as it arrives (Ctrl-C stops). -o json prints one
    JSON object a line, -o yaml one document each."""
    fmt = output_format(ctx)
    seen = 0
    try:
        for event, data in api(ctx).events(route(ONE + "/stream", bin_id)):
            if event == "" and data.startswith("following"):
                say(f"hookd: {data}; waiting for requests (Ctrl-C stops)")
            if event != "request":
                continue
            request = json.loads(data)
            if fmt is Format.JSON:
                typer.echo(json.dumps(request))
            elif fmt is Format.YAML:
                typer.echo("---\n" + to_yaml(request), nl=False)
            else:
                typer.echo(request_line(request))
            sys.stdout.flush()
            seen += 1
            if count is not None and seen >= count:
                return
    except KeyboardInterrupt:
        return
    raise CliError("the stream ended: the bin was deleted", ExitCode.NOT_FOUND)


@family.command("replay")
def replay(
    ctx: typer.Context,
    bin_id: BinArgument,
    request_id: Annotated[str, typer.Argument(help="the captured request's id")],
    to: Annotated[str, typer.Option("--to", help="the URL to send it to")],
    timeout_ms: Annotated[
        int | None, typer.Option(min=1, max=60_000, help="[default: HOOKD_REQUEST_TIMEOUT]")
    ] = None,
) -> None:
    """Send a captured request to a URL: same method, headers and exact body. Exit 0 when it
    answered 2xx, 1 otherwise."""
    fields: dict[str, Any] = {"url": to}
    if timeout_ms is not None:
        fields["timeoutMs"] = timeout_ms
    path = route(ONE + "/request/{}/replay", bin_id, request_id)
    answer = api(ctx).post(path, fields)
    if _machine(ctx):
        show(ctx, answer)
    elif answer["error"]:
        typer.echo(f"no answer after {answer['durationMs']} ms: {answer['error']}")
    else:
        typer.echo(f"{answer['statusCode']} in {answer['durationMs']} ms")
        text = answer["bodyText"]
        body = text if text is not None else base64.b64decode(answer["body"]).hex()
        if body:
            typer.echo(body)
    if not 200 <= answer["statusCode"] < 300:
        raise typer.Exit(int(ExitCode.FAILED))


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
