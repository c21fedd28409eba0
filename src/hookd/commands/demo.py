"""``hookd demo``: a webhook sent, delivered, captured and verified, in one command.

Against a running server (``hookd serve`` or ``make run`` in another terminal), it makes (or
reuses, by uid ``hookd-demo``) an application, a request bin and an endpoint pointing at the
bin's capture URL; sends a message; waits for its delivery; reads the request the bin captured
and checks its Standard Webhooks signature with the endpoint's secret; and prints each step,
with where to see the message in the console.

The server delivers to its own capture URL, a loopback address by default, which the SSRF guard
allows because it is the server's own public URL (``HOOKD_ALLOW_OWN_URL``, docs/bins.md).
"""

from __future__ import annotations

import base64
import sys
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from hookd.commands.client import (
    ApiClient,
    ApiError,
    AuthFailed,
    CliError,
    ExitCode,
    NotFound,
    Unreachable,
)
from hookd.commands.family import API_PANEL, ApiCommand, api, output_format, route, show
from hookd.commands.output import Format
from hookd.core import signing

DEMO_UID = "hookd-demo"
EVENT_TYPE = "demo.hello"
POLL_SECONDS = 0.2


def _mark(ok: bool) -> str:
    """A check mark, or plain text where the terminal cannot show one."""
    mark = "✓" if ok else "✗"
    try:
        mark.encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ok" if ok else "FAILED"
    return mark


def _hint(exc: CliError) -> CliError:
    """The error, with what to do about it where the demo knows."""
    if isinstance(exc, Unreachable):
        hint = (
            "Start a server first, in another terminal: `hookd serve` (or `make run` in a "
            "checkout), then run `hookd demo` again; or pass --server."
        )
    elif isinstance(exc, AuthFailed) or exc.exit_code is ExitCode.AUTH:
        hint = (
            "The server refused the token: pass --token (or set HOOKD_TOKEN) with the admin "
            "token; `hookd serve` stores it in .hookd/admin_token."
        )
    elif isinstance(exc, ApiError) and exc.code == "url_not_allowed":
        hint = (
            "The server refuses to deliver to its own capture URL: it runs with "
            "HOOKD_ALLOW_OWN_URL=false, or HOOKD_PUBLIC_URL names another address. Restart it "
            "with HOOKD_ALLOW_OWN_URL=true (the default), or allow the address with "
            "HOOKD_ALLOW_NETWORKS (e.g. 127.0.0.1/32), and run hookd demo again."
        )
    else:
        return exc
    return CliError(f"{exc.message}\n\n{hint}", exc.exit_code)


def _get_or_create(client: ApiClient, path: str, body: dict[str, Any]) -> Any:
    """The demo's object at ``path`` (its uid), made when missing: reruns reuse it."""
    try:
        return client.get(f"{path}/{DEMO_UID}")
    except NotFound:
        return client.post(path, body)


def _endpoint(client: ApiClient, app_id: str, url: str) -> Any:
    fields = {
        "uid": DEMO_UID,  # a PUT replaces every field: the uid is said again to keep it
        "url": url,
        "description": "hookd demo: delivers to the demo's request bin",
    }
    return client.put(route("/api/v1/app/{}/endpoint/{}", app_id, DEMO_UID), fields)


def _wait_for_attempt(client: ApiClient, app_id: str, msg_id: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    path = route("/api/v1/app/{}/attempt/msg/{}", app_id, msg_id)
    while True:
        attempts = client.get(path)["data"]
        if attempts:
            return attempts[-1]  # the first attempt (newest first)
        if time.monotonic() > deadline:
            raise CliError(
                f"no delivery attempt of {msg_id} within {timeout:g} s: is the server's worker "
                "running (HOOKD_ROLE all or a worker process)?",
                ExitCode.SERVER,
            )
        time.sleep(POLL_SECONDS)


def _captured(client: ApiClient, bin_id: str, msg_id: str, timeout: float) -> Any:
    """The request the bin captured for ``msg_id`` (its webhook-id header)."""
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(route("/api/v1/bin/{}/request", bin_id), limit=50)
        for request in page["data"]:
            headers = {name.lower(): value for name, value in request["headers"]}
            if msg_id in (headers.get("webhook-id"), headers.get("svix-id")):
                return request
        if time.monotonic() > deadline:
            raise CliError(
                f"the bin did not capture {msg_id} within {timeout:g} s", ExitCode.SERVER
            )
        time.sleep(POLL_SECONDS)


def verify_signature(request: dict[str, Any], secret: str) -> str:
    """Check the captured request's Standard Webhooks signature (``webhook-*`` headers, or
    ``svix-*``) with the endpoint's secret; return what matched; SignatureError otherwise."""
    headers = {name.lower(): value for name, value in request["headers"]}
    prefix = "webhook" if "webhook-id" in headers else "svix"
    try:
        msg_id = headers[f"{prefix}-id"]
        timestamp = headers[f"{prefix}-timestamp"]
        signature = headers[f"{prefix}-signature"]
    except KeyError as exc:
        raise signing.SignatureError(f"the request has no {exc.args[0]} header") from None
    body = base64.b64decode(request["body"])
    key = signing.parse_verifying_key(secret)
    signing.verify([key], msg_id, timestamp, signature, body, now=datetime.now(UTC))
    return f"{prefix}-signature {signature.split()[0][:16]}..."


def demo(
    ctx: typer.Context,
    timeout: Annotated[float, typer.Option(min=1, help="seconds to wait for the delivery")] = 30.0,
) -> None:
    """Send a webhook to a request bin on a running server and check it arrived signed.

    Its steps print on stdout; with -o json|yaml they go to stderr and stdout has a summary."""
    machine = output_format(ctx) is not Format.TABLE
    try:
        summary = _run(api(ctx), timeout, err=machine)
    except CliError as exc:
        raise _hint(exc) from exc
    if machine:
        show(ctx, summary)


def _run(client: ApiClient, timeout: float, *, err: bool) -> dict[str, Any]:
    """The demo's steps; what it made and saw."""

    def echo(line: str) -> None:
        typer.echo(line, err=err)

    def step(what: str, detail: str, ok: bool = True) -> None:
        echo(f"  {_mark(ok)} {what:<12} {detail}")

    echo(f"hookd demo against {client.base_url}\n")
    app = _get_or_create(client, "/api/v1/app", {"name": "hookd demo", "uid": DEMO_UID})
    step("application", f"{app['id']} ({app['name']})")
    bin_ = _get_or_create(client, "/api/v1/bin", {"name": "hookd demo", "uid": DEMO_UID})
    step("request bin", f"{bin_['id']} captures at {bin_['url']}")
    endpoint = _endpoint(client, app["id"], bin_["url"])
    step("endpoint", f"{endpoint['id']} delivers to the bin")
    payload = {"hello": "world", "sentBy": "hookd demo", "at": datetime.now(UTC).isoformat()}
    message = client.post(
        route("/api/v1/app/{}/msg", app["id"]), {"eventType": EVENT_TYPE, "payload": payload}
    )
    msg_id = message["id"]
    step("message", f"{msg_id} ({EVENT_TYPE}) sent")
    attempt = _wait_for_attempt(client, app["id"], msg_id, timeout)
    answered = attempt["responseStatusCode"]
    delivered = 200 <= answered < 300
    step(
        "delivered" if delivered else "not delivered",
        f"attempt {attempt['id']}: the bin answered {answered} "
        f"in {attempt['responseDurationMs']} ms"
        if answered
        else f"attempt {attempt['id']}: {attempt['response']}",
        delivered,
    )
    if not delivered:
        raise CliError("the delivery failed; see the attempt above", ExitCode.SERVER)
    request = _captured(client, bin_["id"], msg_id, timeout)
    step(
        "captured",
        f"{request['method']} with {request['bodySize']} bytes: {request['bodyText'] or ''}",
    )
    secret = client.get(route("/api/v1/app/{}/endpoint/{}/secret", app["id"], endpoint["id"]))
    try:
        matched = verify_signature(request, secret["key"])
    except signing.SignatureError as exc:
        step("signature", f"NOT verified: {exc}", False)
        raise CliError("the captured request's signature does not verify", ExitCode.SERVER) from exc
    step("signature", f"verified with the endpoint's secret (Standard Webhooks): {matched}")
    console = f"{client.base_url}/console/apps/{app['id']}/messages/{msg_id}"
    echo("")
    echo("See the message and its attempt in the console:")
    echo(f"  {console}")
    echo("What the bin captured, headers and body:")
    echo(f"  hookd bin requests {bin_['id']} {request['id']}")
    echo("Watch the bin live (then send to its URL from anywhere):")
    echo(f"  hookd bin tail {bin_['id']}")
    return {
        "appId": app["id"],
        "binId": bin_["id"],
        "binUrl": bin_["url"],
        "endpointId": endpoint["id"],
        "msgId": msg_id,
        "attemptId": attempt["id"],
        "requestId": request["id"],
        "signatureVerified": True,
        "console": console,
    }


def register(cli: typer.Typer) -> None:
    cli.command("demo", cls=ApiCommand, rich_help_panel=API_PANEL)(demo)
