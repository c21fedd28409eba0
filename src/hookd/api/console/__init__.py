"""The web console at ``/console`` (issue 17): server-rendered pages, served by every process
that serves the API.

Jinja2 templates (autoescaped) and htmx, vendored in ``static/vendor`` with its licence: nothing
to build, nothing fetched from elsewhere at run time. The pages read and write through the same
services as the API. The parts:

- ``site.install``: adds the console to the FastAPI app (pages, static files, ``GET /``);
- ``routing``: ``ConsoleRoute``, the route class every page uses: sign-in required, CSRF checked on
  every state change, the security headers, service errors as pages;
- ``sessions``: who the visitor is (``principal_for_token``, the session cookie);
- ``security``: the headers, the CSRF token, the cookies;
- ``render``: the Jinja2 environment and ``page()``; ``forms``: reading posted forms;
- ``pages``: one module per page, listed in ``pages.PAGES`` (docs/console.md: adding a page).
"""
