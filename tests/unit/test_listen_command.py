"""hookd listen's pure parts: the local URL a relayed request goes to, and the relay endpoint's
filters made from the command's options."""

from __future__ import annotations

import pytest

from hookd.commands.client import CliError
from hookd.commands.listen import filters, local_url, socket_url


@pytest.mark.parametrize(
    ("forward_to", "path", "query", "url"),
    [
        ("http://localhost:3000/webhooks", "", "", "http://localhost:3000/webhooks"),
        ("http://localhost:3000/webhooks/", "/stripe", "a=1", "http://localhost:3000/webhooks/stripe?a=1"),
        ("http://localhost:3000/w?k=v", "", "a=1", "http://localhost:3000/w?k=v&a=1"),
        ("http://localhost:3000", "/x", "", "http://localhost:3000/x"),
    ],
)  # fmt: skip
def test_local_url(forward_to: str, path: str, query: str, url: str) -> None:
    assert local_url(forward_to, path, query) == url


def test_socket_url() -> None:
    assert socket_url("https://h.example/", "/api/v1/relay/r/listen") == (
        "wss://h.example/api/v1/relay/r/listen"
    )
    assert socket_url("http://127.0.0.1:8071", "/p") == "ws://127.0.0.1:8071/p"


def test_filters_from_options() -> None:
    assert filters(events=[], path=None, headers=[], for_app=False) == {
        "filterTypes": None,
        "filter": None,
    }
    chosen = filters(
        events=["invoice.paid,charge.failed"],
        path="^/relay/[^/]+/stripe",
        headers=["X-Env: prod"],
        for_app=False,
    )
    assert chosen == {
        "filterTypes": ["invoice.paid", "charge.failed"],
        "filter": {"path": {"$regex": "^/relay/[^/]+/stripe"}, "headers": {"x-env": "prod"}},
    }
    wild = filters(events=["invoice.*", "customer.created"], path=None, headers=[], for_app=True)
    assert wild == {
        "filterTypes": None,
        "filter": {"event_type": {"$regex": "^(?:customer\\.created|invoice\\..*)$"}},
    }


@pytest.mark.parametrize(
    ("events", "path", "headers", "for_app"),
    [(["a.*"], None, [], False), ([], "/x", [], True), ([], None, ["no colon"], False)],
)
def test_filters_refused(
    events: list[str], path: str | None, headers: list[str], for_app: bool
) -> None:
    with pytest.raises(CliError):
        filters(events=events, path=path, headers=headers, for_app=for_app)
