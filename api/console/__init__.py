"""The web console and the public pages of certificate verification, server-rendered from
Jinja2 templates in Simplified Chinese with an English switch. Every style and script is served
by the service itself under ``/console/static``: no CDN, no front-end build chain.

``console_routes()`` is the one hook the app factory calls: it returns every console and public
page's route handler (the sign-in pages' from ``api.console.auth_routes``, the verification
pages' from ``api.console.public_routes``) and the static files' router.
"""

from __future__ import annotations

from typing import Any


def console_routes() -> list[Any]:
    """Every console route handler, in registration order; a new list for every app."""
    from api.console.audit_desk import ROUTES as AUDIT
    from api.console.auth_routes import ROUTES as AUTH
    from api.console.collective_desk import ROUTES as COLLECTIVE_DESK
    from api.console.collective_routes import ROUTES as COLLECTIVE
    from api.console.county import ROUTES as COUNTY
    from api.console.developer import ROUTES as DEVELOPER
    from api.console.exchange_bidders import ROUTES as EXCHANGE_BIDDERS
    from api.console.exchange_bidding import ROUTES as EXCHANGE_BIDDING
    from api.console.exchange_deal import ROUTES as EXCHANGE_DEAL
    from api.console.exchange_listing import ROUTES as EXCHANGE
    from api.console.exchange_listing_new import ROUTES as EXCHANGE_NEW
    from api.console.public_board import ROUTES as BOARD
    from api.console.public_board_checkpoint import ROUTES as CHECKPOINT
    from api.console.public_routes import ROUTES as PUBLIC
    from api.console.static_files import static_router
    from api.console.township import ROUTES as TOWNSHIP

    return [
        static_router(),
        *AUTH,
        *PUBLIC,
        *BOARD,
        *CHECKPOINT,
        *COLLECTIVE,
        *COLLECTIVE_DESK,
        *TOWNSHIP,
        *COUNTY,
        *EXCHANGE_NEW,
        *EXCHANGE,
        *EXCHANGE_BIDDERS,
        *EXCHANGE_BIDDING,
        *EXCHANGE_DEAL,
        *DEVELOPER,
        *AUDIT,
    ]
