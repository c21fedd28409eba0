"""The consumer portal at ``/portal`` (issue 17): the pages an application's consumers use to
manage their endpoints and read their messages, opened with the magic link of
``POST /api/v1/auth/app-portal-access/{app_id}`` and embeddable in the product's own pages.

It is the console's machinery (``api.console``: templates, forms, CSRF, security headers)
with another visitor: an app portal token's principal (one application, some capabilities,
some feature flags) instead of an admin. The parts:

- ``sessions``: the token as the session (cookie attributes for iframes), the visitor;
- ``routing``: ``PortalRoute``, the console's route class with the portal's visitor, the
  capability of each route (``rules``) and ``HOOKD_PORTAL_FRAME_ANCESTORS``;
- ``theme``: the embedding product's colours, font, logo and hidden sections, checked;
- ``render``: ``portal_page()``; ``pages``: one module per page.
"""
