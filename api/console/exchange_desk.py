"""The exchange centre staff's desk (``/console/exchange/...``): what every page of it shares.

Served to users of role ``exchange_staff`` (of an ``exchange_center`` organisation) only, and
only for the listings their own centre runs: ``own_listing`` loads a listing named in a path
and refuses another centre's (403 ``console.forbidden``) or an unknown one (404
``console.not_found``). Pages go through ``exchange_page`` (the desk's navigation, the money
and time helpers every template uses). The listing's own pages (``/listings/{listing}``, its
bidders and deposits) are in ``api.console.exchange_listing*`` and ``exchange_bidders*``; the
live bidding page and the deal (award to certificate) link from there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from api.console.desk import desk_page
from api.console.guard import ConsoleRefusal, SignedIn, for_roles
from api.console.render import choices
from api.console.vouchers_pages_reads import fen_of, yuan
from api.http.dependencies import Service
from api.reads.exchange_board import area_mu, bidder_label
from contracts.exchange.tables import Listing
from ledger.entry import parse_time
from ledger.errors import Category

CHINA_STANDARD_TIME = timedelta(hours=8)
ROLE = for_roles("exchange_staff")
HOME = "/console/exchange/"
LISTINGS = HOME + "listings/"
NAV = (
    (HOME, "exchange.nav.listings"),
    (LISTINGS + "new", "exchange.nav.new_listing"),
)

__all__ = [
    "HOME",
    "LISTINGS",
    "NAV",
    "ROLE",
    "area_mu",
    "bidder_label",
    "china_time",
    "countdown",
    "exchange_page",
    "fen_of",
    "listing_path",
    "now_of",
    "own_listing",
    "yuan",
]


def listing_path(listing_id: str, *rest: str) -> str:
    """The console path of a listing's page (``rest``: ``bidding``, ``deal``, ``bidders/new`` ...)."""
    return "/".join((LISTINGS + listing_id, *rest))


def now_of(service: Service) -> datetime:
    """The ledger's clock: the one the rules read, so countdowns agree with refusals."""
    return service.appender.clock()


def countdown(seconds: int | None, lang: str = "en") -> str | None:
    """``seconds`` ahead as ``3d 4:05:06`` (``3天 4:05:06`` in Chinese); None for none."""
    if seconds is None:
        return None
    seconds = max(seconds, 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}{'天' if lang == 'zh' else 'd'} {clock}" if days else clock


def china_time(instant: str | None) -> str:
    """A ledger time (RFC 3339 UTC) as China Standard Time, to the minute: ``2026-04-24 09:00``."""
    if not instant:
        return "—"
    try:
        return (parse_time(instant) + CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return instant


def exchange_page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response[Any]:
    """A page of the exchange desk: its navigation and the helpers its templates use (``yuan``,
    ``area_mu``, ``bidder_label``, ``listing_path``, ``countdown`` in the page's language,
    ``china_time``)."""
    lang = choices(request).lang
    helpers = {
        "yuan": yuan,
        "area_mu": area_mu,
        "bidder_label": bidder_label,
        "listing_path": listing_path,
        "countdown": lambda seconds: countdown(seconds, lang),
        "china_time": china_time,
    }
    return desk_page(request, console, template, NAV, status_code=status_code, **{**helpers, **context})


async def own_listing(session: AsyncSession, console: SignedIn, listing_id: str) -> Listing:
    """The listing ``listing_id`` if the user's exchange centre runs it; another centre's is
    refused 403 ``console.forbidden``, an unknown one 404 ``console.not_found`` (the guard has
    already refused other roles)."""
    listing = await session.get(Listing, listing_id)
    if listing is None:
        raise ConsoleRefusal("console.not_found", f"no listing {listing_id}", Category.NOT_FOUND)
    if listing.exchange_id != console.user.org_id:
        raise ConsoleRefusal("console.forbidden", f"listing {listing_id} is run by another exchange centre")
    return listing
