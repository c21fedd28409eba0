"""hookd's commands for the API: `hookd <family> <verb>` (docs/cli.md).

The root command (`hookd.cli`) stays where the server's commands are (serve, migrate, prune,
fulfill, call); this package holds the client side and is in the same layer as ``hookd.cli``
(the top one of the import-linter layers contract in pyproject.toml). It imports nothing of the
server: commands talk to a server over HTTP only.

Shared pieces (import them, do not copy them):

- ``client``: ``ApiClient`` (httpx): base URL and bearer token, JSON, retries on 429/503
  honouring ``Retry-After``, an ``Idempotency-Key`` on every POST; the API's errors as exceptions
  that carry the exit code (``ExitCode``: 0 ok, 1 failed outcome, 2 invalid input, 3 not found,
  4 auth, 5 server error or unreachable).
- ``family``: ``Family`` (a sub-app, ``hookd NAME ...``) whose commands get the connection and
  output options (``--server --token --profile -o/--output``); inside a command,
  ``api(ctx)`` is the client, ``show(ctx, answer, columns)`` prints it, ``say(...)`` writes a
  note on stderr, ``route(template, *ids)`` builds a path; ``LimitOption``, ``IteratorOption``,
  ``DataOption`` and ``page(...)`` for lists and bodies.
- ``config``: ``resolve(...)`` (flags > ``HOOKD_URL``/``HOOKD_TOKEN`` > profile > local admin
  token) and the profiles file ``hookd login`` writes.
- ``output``: tables (rich), ``--output json|yaml``.
- ``inputs``: JSON options (text, ``@file``, ``-``), times (``2h`` or ISO 8601), ``key=value``.
- ``progress``: ``follow(client, task)`` polls a background task with a progress bar.
- ``resource``: ``build(Resource(...))``, the family of a resource's list, get, create, update
  and delete made from a description (its path, id, columns, helps and ``Field``s); ``app.py``
  is the shortest example. Describe such a family there rather than write its verbs out.

Adding a command family (or a top-level command such as ``hookd demo``):

1. Write ``hookd/commands/<name>.py``::

       import typer
       from hookd.commands.family import Family, api, route, show

       family = Family("bin", help="Request bins: ...")

       @family.command("get")
       def get_bin(ctx: typer.Context, bin_id: str) -> None:
           \"\"\"Show a bin.\"\"\"
           show(ctx, api(ctx).get(route("/api/v1/bin/{}", bin_id)))

       def register(cli: typer.Typer) -> None:
           cli.add_typer(family)

   A family added to the root is listed in ``hookd --help``'s API panel. A top-level command
   registers itself instead:
   ``cli.command("demo", cls=ApiCommand, rich_help_panel=API_PANEL)(demo)`` (both from
   ``family``: the same options, errors and exit codes as a family's verbs).
2. Add ``"<name>"`` to ``COMMAND_MODULES`` below (the order is the order of ``hookd --help``).
3. Keep imports of heavy modules (rich, yaml, anything of the server) inside functions:
   ``hookd --help`` imports every command module.
4. Test it against a live server (tests/integration/test_cli_*.py run the real entry point).
"""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = (
    "login",
    "app",
    "endpoint",
    "event_type",
    "msg",
    "attempt",
    "source",
    "request",
    "key",
    "alert",
    "task",
    "bins",
    "demo",
    "listen",
)


def register(cli: typer.Typer) -> None:
    """Add every command module's commands to the ``hookd`` command."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(cli)
