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
from typing import Annotated, Any, NoReturn

import typer

from hookd.commands.bins import (
    EXIT_REFUSED,
    EXIT_SERVER,
    ApiError,
    Server,
    ServerOption,
    TokenOption,
    call,
    exit_code,
    fail,
    server_from,
)
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


def _step(what: str, detail: str, ok: bool = True) -> None:
    typer.echo(f"  {_mark(ok)} {what:<12} {detail}")


def _refused(exc: ApiError, what: str) -> NoReturn:
    """Say why a call failed, and what to do about it, and exit."""
    if exc.status == 0:
        fail(
            f"{exc}\n\nStart a server first, in another terminal: `hookd serve` (or "
            "`make run` in a checkout), then run `hookd demo` again; or pass --server.",
            EXIT_SERVER,
        )
    if exc.status in (401, 403):
        fail(
            f"{exc}\n\nThe server refused the token: pass --token (or set HOOKD_TOKEN) with "
            "the admin token; `hookd serve` stores it in .hookd/admin_token.",
            EXIT_REFUSED,
        )
    if exc.code == "url_not_allowed":
        fail(
            f"{exc}\n\nThe server refuses to deliver to its own capture URL: it runs with "
            "HOOKD_ALLOW_OWN_URL=false, or HOOKD_PUBLIC_URL names another address. Restart it "
            "with HOOKD_ALLOW_OWN_URL=true (the default), or allow the address with "
            "HOOKD_ALLOW_NETWORKS (e.g. 127.0.0.1/32), and run hookd demo again.",
            EXIT_SERVER,
        )
    fail(f"{what}: {exc}", exit_code(exc))


def _api(server: Server, method: str, path: str, **kwargs: Any) -> Any:
    try:
        return call(server, method, path, **kwargs)
    except ApiError as exc:
        _refused(exc, f"{method} {path}")


def _get_or_create(server: Server, path: str, body: dict[str, Any]) -> Any:
    """The demo's object at ``path`` (its uid), made when missing: reruns reuse it."""
    try:
        return call(server, "GET", f"{path}/{DEMO_UID}")
    except ApiError as exc:
        if exc.status != 404:
            _refused(exc, f"GET {path}/{DEMO_UID}")
    return _api(server, "POST", path, body=body)


def _endpoint(server: Server, app_id: str, url: str) -> Any:
    fields = {
        "uid": DEMO_UID,  # a PUT replaces every field: the uid is said again to keep it
        "url": url,
        "description": "hookd demo: delivers to the demo's request bin",
    }
    return _api(server, "PUT", f"/api/v1/app/{app_id}/endpoint/{DEMO_UID}", body=fields)


def _wait_for_attempt(server: Server, app_id: str, msg_id: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    path = f"/api/v1/app/{app_id}/attempt/msg/{msg_id}"
    while True:
        attempts = _api(server, "GET", path)["data"]
        if attempts:
            return attempts[-1]  # the first attempt (newest first)
        if time.monotonic() > deadline:
            fail(
                f"no delivery attempt of {msg_id} within {timeout:g} s: is the server's worker "
                "running (HOOKD_ROLE all or a worker process)?",
                EXIT_SERVER,
            )
        time.sleep(POLL_SECONDS)


def _captured(server: Server, bin_id: str, msg_id: str, timeout: float) -> Any:
    """The request the bin captured for ``msg_id`` (its webhook-id header)."""
    deadline = time.monotonic() + timeout
    while True:
        page = _api(server, "GET", f"/api/v1/bin/{bin_id}/request", params={"limit": 50})
        for request in page["data"]:
            headers = {name.lower(): value for name, value in request["headers"]}
            if msg_id in (headers.get("webhook-id"), headers.get("svix-id")):
                return request
        if time.monotonic() > deadline:
            fail(f"the bin did not capture {msg_id} within {timeout:g} s", EXIT_SERVER)
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
    server: ServerOption = None,
    token: TokenOption = None,
    timeout: Annotated[float, typer.Option(min=1, help="seconds to wait for the delivery")] = 30.0,
) -> None:
    """Send a webhook to a request bin on a running server and check it arrived signed."""
    target = server_from(server, token)
    typer.echo(f"hookd demo against {target.url}\n")
    app = _get_or_create(target, "/api/v1/app", {"name": "hookd demo", "uid": DEMO_UID})
    _step("application", f"{app['id']} ({app['name']})")
    bin_ = _get_or_create(target, "/api/v1/bin", {"name": "hookd demo", "uid": DEMO_UID})
    _step("request bin", f"{bin_['id']} captures at {bin_['url']}")
    endpoint = _endpoint(target, app["id"], bin_["url"])
    _step("endpoint", f"{endpoint['id']} delivers to the bin")
    payload = {"hello": "world", "sentBy": "hookd demo", "at": datetime.now(UTC).isoformat()}
    message = _api(
        target,
        "POST",
        f"/api/v1/app/{app['id']}/msg",
        body={"eventType": EVENT_TYPE, "payload": payload},
    )
    msg_id = message["id"]
    _step("message", f"{msg_id} ({EVENT_TYPE}) sent")
    attempt = _wait_for_attempt(target, app["id"], msg_id, timeout)
    answered = attempt["responseStatusCode"]
    delivered = 200 <= answered < 300
    _step(
        "delivered" if delivered else "not delivered",
        f"attempt {attempt['id']}: the bin answered {answered} "
        f"in {attempt['responseDurationMs']} ms"
        if answered
        else f"attempt {attempt['id']}: {attempt['response']}",
        delivered,
    )
    if not delivered:
        fail("the delivery failed; see the attempt above", EXIT_SERVER)
    request = _captured(target, bin_["id"], msg_id, timeout)
    _step(
        "captured",
        f"{request['method']} with {request['bodySize']} bytes: {request['bodyText'] or ''}",
    )
    secret = _api(target, "GET", f"/api/v1/app/{app['id']}/endpoint/{endpoint['id']}/secret")
    try:
        matched = verify_signature(request, secret["key"])
    except signing.SignatureError as exc:
        _step("signature", f"NOT verified: {exc}", False)
        fail("the captured request's signature does not verify", EXIT_SERVER)
    _step("signature", f"verified with the endpoint's secret (Standard Webhooks): {matched}")
    typer.echo("")
    typer.echo("See the message and its attempt in the console:")
    typer.echo(f"  {target.url}/console/apps/{app['id']}/messages/{msg_id}")
    typer.echo("What the bin captured, headers and body:")
    typer.echo(f"  hookd bin requests {bin_['id']} {request['id']}")
    typer.echo("Watch the bin live (then send to its URL from anywhere):")
    typer.echo(f"  hookd bin tail {bin_['id']}")


def register(cli: typer.Typer) -> None:
    cli.command(name="demo")(demo)
