"""Which requests are authenticated by an API token: ``Authorization: Bearer <token>`` on
/api/. Depends on nothing of ours, so the CSRF extension (revive.extensions), the app's user
loading (revive.app) and the API's auth (revive.api.auth) share one definition.

Such a request is authenticated by the token alone, never by a session cookie it may also
carry; it is therefore exempt from CSRF (a browser adds cookies to cross-site requests on its
own, never an Authorization header). Elsewhere (the HTML pages) the header is ignored.
"""

from __future__ import annotations

from flask import request

API_PREFIX = "/api/"
SCHEME = "bearer"


def bearer_token() -> str | None:
    """The token of this request's ``Authorization: Bearer`` header on /api/, else None.
    A Bearer header with nothing after it counts (as an empty, hence rejected, token)."""
    if not request.path.startswith(API_PREFIX):
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != SCHEME:
        return None
    return token.strip()
