"""The relays' listeners in this process (docs/listen.md): ``hub`` maps each relay to the
``hookd listen`` sockets connected to it; ``destination`` is the ``relay://`` endpoints' way
out, through the hub, for the delivery worker."""

from hookd.engine.relay.destination import RelayDestination
from hookd.engine.relay.hub import NoListener, RelayHub

__all__ = ["NoListener", "RelayDestination", "RelayHub"]
