"""What each route needs, in one table: ``(method, path template) -> Rule``.

The routers that ``api.app`` includes with ``api.auth.authorize`` look their routes up here. A
route missing from the table is for full admins only (the admin token, API keys of scope
``admin``): a new route is safe until it is given a rule, and so is any router included with
``require_admin``. docs/access.md shows the same table by route family.

- ``app_rule(capability)``: under ``/api/v1/app/{app_id}``; read-only keys read it when the
  capability is ``ViewBase``; a principal of one application reaches only its own application
  (any other answers 404, as a missing one), with the capability.
- ``read_rule()``: outside any application; read-only keys read it, application principals
  only when ``shared``.
- ``ADMIN_ONLY``: full admins.
"""

from __future__ import annotations

from hookd.core.access import ADMIN_ONLY, Capability, Rule, app_rule, read_rule

VIEW = Capability.VIEW_BASE
SECRET = Capability.VIEW_ENDPOINT_SECRET
ROTATE = Capability.MANAGE_ENDPOINT_SECRET
TRANSFORM = Capability.MANAGE_TRANSFORMATIONS
ATTEMPT = Capability.CREATE_ATTEMPTS
ENDPOINT = Capability.MANAGE_ENDPOINT
APP = Capability.MANAGE_APPLICATION

APPS = "/api/v1/app"
AN_APP = "/api/v1/app/{app_id}"
ENDPOINTS = f"{AN_APP}/endpoint"
AN_ENDPOINT = f"{ENDPOINTS}/{{endpoint_id}}"
MESSAGES = f"{AN_APP}/msg"
A_MESSAGE = f"{MESSAGES}/{{msg_id}}"
SOURCES = "/ingest/api/v1/source"
A_SOURCE = f"{SOURCES}/{{source_id}}"
SOURCE_ENDPOINT = f"{A_SOURCE}/endpoint/{{endpoint_id}}"
OPERATIONAL = "/api/v1/operational-webhook/endpoint"
AN_OPERATIONAL = f"{OPERATIONAL}/{{endpoint_id}}"

RULES: dict[tuple[str, str], Rule] = {
    # Applications: the list and creating one are not any one application's.
    ("GET", APPS): read_rule(),
    ("GET", AN_APP): app_rule(VIEW),
    ("PUT", AN_APP): app_rule(APP),
    ("PATCH", AN_APP): app_rule(APP),
    ("DELETE", AN_APP): app_rule(APP),
    # Endpoints.
    ("GET", ENDPOINTS): app_rule(VIEW),
    ("POST", ENDPOINTS): app_rule(ENDPOINT),
    ("GET", AN_ENDPOINT): app_rule(VIEW),
    ("PUT", AN_ENDPOINT): app_rule(ENDPOINT),
    ("PATCH", AN_ENDPOINT): app_rule(ENDPOINT),
    ("DELETE", AN_ENDPOINT): app_rule(ENDPOINT),
    ("GET", f"{AN_ENDPOINT}/secret"): app_rule(SECRET),
    ("POST", f"{AN_ENDPOINT}/secret/rotate"): app_rule(ROTATE),
    ("GET", f"{AN_ENDPOINT}/headers"): app_rule(VIEW),  # sensitive headers are named only
    ("PUT", f"{AN_ENDPOINT}/headers"): app_rule(ENDPOINT),
    ("PATCH", f"{AN_ENDPOINT}/headers"): app_rule(ENDPOINT),
    ("POST", f"{AN_ENDPOINT}/recover"): app_rule(ATTEMPT),
    ("GET", f"{AN_ENDPOINT}/stats"): app_rule(VIEW),
    ("GET", f"{AN_ENDPOINT}/health"): app_rule(VIEW),
    ("GET", f"{AN_ENDPOINT}/transformation"): app_rule(TRANSFORM),
    ("PATCH", f"{AN_ENDPOINT}/transformation"): app_rule(TRANSFORM),
    ("POST", f"{AN_ENDPOINT}/call"): app_rule(APP),
    # The application's own relay (hookd listen --app): an endpoint of it, so ManageEndpoint.
    ("POST", f"{AN_APP}/relay"): app_rule(ENDPOINT),
    # Messages and attempts.
    ("GET", MESSAGES): app_rule(VIEW),
    ("POST", MESSAGES): app_rule(APP),
    ("POST", f"{MESSAGES}/bulk-expunge"): app_rule(APP),
    ("POST", f"{MESSAGES}/expunge-all-contents"): app_rule(APP),
    ("GET", A_MESSAGE): app_rule(VIEW),
    ("DELETE", f"{A_MESSAGE}/content"): app_rule(APP),
    ("GET", f"{AN_APP}/attempt/endpoint/{{endpoint_id}}"): app_rule(VIEW),
    ("GET", f"{AN_APP}/attempt/msg/{{msg_id}}"): app_rule(VIEW),
    ("GET", f"{A_MESSAGE}/attempt/{{attempt_id}}"): app_rule(VIEW),
    ("DELETE", f"{A_MESSAGE}/attempt/{{attempt_id}}/content"): app_rule(APP),
    ("GET", f"{A_MESSAGE}/endpoint"): app_rule(VIEW),
    ("GET", f"{AN_ENDPOINT}/msg"): app_rule(VIEW),
    ("POST", f"{A_MESSAGE}/endpoint/{{endpoint_id}}/resend"): app_rule(ATTEMPT),
    # App portal access: minted and expired for an application by its admins (never by a portal
    # token: it lacks ManageApplication).
    ("POST", "/api/v1/auth/app-portal-access/{app_id}"): app_rule(APP),
    ("POST", "/api/v1/auth/app/{app_id}/expire-all"): app_rule(APP),
    # Event types are every application's: read with ViewBase, written by admins.
    ("GET", "/api/v1/event-type"): read_rule(shared=True),
    ("GET", "/api/v1/event-type/{name}"): read_rule(shared=True),
    # Background tasks: an application's principal reads its application's tasks by id.
    ("GET", "/api/v1/background-task"): read_rule(),
    ("GET", "/api/v1/background-task/{task_id}"): Rule(VIEW, owned=True),
    # Ingest and operational webhooks: admins; read-only keys read them, secrets and
    # transformations excepted.
    ("GET", SOURCES): read_rule(),
    ("GET", A_SOURCE): read_rule(),
    ("GET", f"{A_SOURCE}/endpoint"): read_rule(),
    ("GET", SOURCE_ENDPOINT): read_rule(),
    ("GET", f"{SOURCE_ENDPOINT}/headers"): read_rule(),
    ("GET", f"{A_SOURCE}/request"): read_rule(),
    ("GET", f"{A_SOURCE}/request/{{request_id}}"): read_rule(),
    ("GET", OPERATIONAL): read_rule(),
    ("GET", AN_OPERATIONAL): read_rule(),
    ("GET", f"{AN_OPERATIONAL}/headers"): read_rule(),
}
# Routes every principal may call, which decide themselves (logout: portal tokens only).
SELF_CHECKED = frozenset({("POST", "/api/v1/auth/logout")})


def rule_for(method: str, path: str) -> Rule:
    """The rule of ``method`` on the route ``path`` (a template); full admins only when none."""
    return RULES.get(("GET" if method == "HEAD" else method, path), ADMIN_ONLY)
