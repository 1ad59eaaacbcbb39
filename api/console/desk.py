"""A signed-in user's desk page: what every role's page carries around its own content (the
user and their organisation, the sign-out form's CSRF token, the desk's navigation, the phrase
of a refusal), never kept by a cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Request, Response

from api.console.auth_routes import PRIVATE
from api.console.forms import refusal_key
from api.console.guard import SignedIn
from api.console.render import page


def desk_page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    template: str,
    nav: Sequence[tuple[str, str]],
    *,
    status_code: int = 200,
    **context: Any,
) -> Response[Any]:
    # A page may bring its own phrase for refusals (the context wins over the default).
    defaults = {"user": console.user, "csrf": console.csrf_token, "nav": nav, "refusal_key": refusal_key}
    return page(request, template, status_code=status_code, headers=PRIVATE, **{**defaults, **context})
