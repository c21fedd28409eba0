"""What each portal page needs, in one table: ``(method, path template) -> Capability``.

The portal's route class (``routing.PortalRoute``) looks every signed-in route up here before
the page runs; a route missing from the table is refused (403), so a new page is closed until
it is given its capability. The capabilities are the API's (``api.access.rules``) for the same
actions, so a token can do in the portal exactly what it can do with the API.
"""

from __future__ import annotations

from hookd.api.access.rules import ATTEMPT, ENDPOINT, ROTATE, SECRET, TRANSFORM, VIEW
from hookd.core.access import Capability

ENDPOINTS = "/portal/endpoints"
AN_ENDPOINT = f"{ENDPOINTS}/{{endpoint_id}}"
MESSAGES = "/portal/messages"

RULES: dict[tuple[str, str], Capability] = {
    ("POST", "/portal/sign-out"): VIEW,
    ("GET", ENDPOINTS): VIEW,
    ("GET", f"{ENDPOINTS}/new"): ENDPOINT,
    ("POST", f"{ENDPOINTS}/new"): ENDPOINT,
    ("GET", AN_ENDPOINT): VIEW,
    ("GET", f"{AN_ENDPOINT}/edit"): ENDPOINT,
    ("POST", f"{AN_ENDPOINT}/edit"): ENDPOINT,
    ("POST", f"{AN_ENDPOINT}/enabled"): ENDPOINT,
    ("GET", f"{AN_ENDPOINT}/delete"): ENDPOINT,
    ("POST", f"{AN_ENDPOINT}/delete"): ENDPOINT,
    ("GET", f"{AN_ENDPOINT}/secret"): SECRET,
    ("POST", f"{AN_ENDPOINT}/secret/rotate"): ROTATE,
    ("POST", f"{AN_ENDPOINT}/recover"): ATTEMPT,
    # An example event is a message to one endpoint: an attempt the consumer creates.
    ("POST", f"{AN_ENDPOINT}/send-example"): ATTEMPT,
    ("GET", f"{AN_ENDPOINT}/transformation"): TRANSFORM,
    ("POST", f"{AN_ENDPOINT}/transformation"): TRANSFORM,
    ("GET", MESSAGES): VIEW,
    ("GET", f"{MESSAGES}/{{msg_id}}"): VIEW,
    ("POST", f"{MESSAGES}/{{msg_id}}/resend"): ATTEMPT,
    ("GET", "/portal/event-types"): VIEW,
}


def capability_for(method: str, path: str) -> Capability | None:
    """The capability a portal route needs; None: the route is not in the table (refused)."""
    return RULES.get(("GET" if method == "HEAD" else method, path))
