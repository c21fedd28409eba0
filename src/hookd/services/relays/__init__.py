"""Relays (docs/listen.md): the server side of ``hookd listen``.

A relay is a source of the built-in type ``relay`` (``core.providers.relay``): its URL
``/relay/{token}`` stores each request (persist-then-ack, as any source) and its hidden
application holds one endpoint, ``relay://{relay id}``, through which the worker delivers to the
relay's connected listeners (``engine.relay``). A listener attached to another source or to an
application is one more ``relay://`` endpoint there. ``relays`` makes, finds, attaches and
deletes relays; ``receive`` stores what the relay URL receives; ``originals`` finds the request
a relayed message came from, so a listener replays it exactly.
"""
