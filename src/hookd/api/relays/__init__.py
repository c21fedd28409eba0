"""/api/v1/relay: relays for ``hookd listen`` (docs/listen.md), and their WebSocket."""
