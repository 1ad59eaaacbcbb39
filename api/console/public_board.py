"""The exchange's public announcement board (交易公告), no sign-in, no personal data.

- ``GET /board``: the listings with their terms, reserve, high bid and the countdown by the
  service's clock, filtered by exchange, township, right type and status, in pages of
  ``PAGE_SIZE`` (``?after=`` the last listing of the page before).
- ``GET /board/{listing}``: one listing's announcement, every step of it (each linked to its
  record's verification page) and its result: the price awarded and, once issued, the
  transaction certificate's verification link.
- ``GET /board/results``: the results (成交公示) and the listings that failed or were withdrawn,
  in the order they were decided.

The Atom feed of the same (``/v1/exchange/feed.atom``) is linked from each. A filter that is
not well formed answers 400 and an unknown listing 404, both as pages.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from api.console.public_board_reads import (
    ID_TEXT,
    PAGE_SIZE,
    RIGHT_TYPES,
    STATUSES,
    BoardQuery,
    certificate_of,
    countdown,
    filter_choices,
    money,
    org_names,
    places,
    public_headers,
    seq_after,
)
from api.console.render import choices, page
from api.http.dependencies import Db, Service, Session
from api.reads.exchange_board import board, listing_detail, results
from api.reads.printed_page import beijing_time, verify_path
from ledger.errors import Rejection

BOARD_NAV = (
    ("/board", "board.nav.board"),
    ("/board/results", "board.nav.results"),
    ("/checkpoint", "board.nav.checkpoint"),
    ("/verify", "nav.verify"),
    ("/", "nav.ledger_home"),
)
FEED = "/v1/exchange/feed.atom"
MAX_AGE = 30  # seconds: a countdown a cache shows is at most this late
STEPS_SHOWN = 120  # the latest steps a listing's page lists (all are in its JSON): under 100 KB


def board_page(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Response[str]:
    return page(
        request,
        template,
        status_code=status_code,
        headers=public_headers(request, MAX_AGE),
        nav=BOARD_NAV,
        feed=FEED,
        money=lambda fen, unit: money(fen, unit, choices(request).lang),
        countdown=countdown,
        when=beijing_time,
        verify_path=verify_path,
        **context,
    )


@get("/board", include_in_schema=False, name="public_board")
async def board_list(request: Request[Any, Any, Any], service: Service, session: Session) -> Response[str]:
    query = BoardQuery.of(request.query_params)
    options = await filter_choices(session)
    context: dict[str, Any] = {
        "query": query,
        "options": options,
        "right_types": RIGHT_TYPES,
        "statuses": STATUSES,
        "now": beijing_time(service.appender.clock()),
    }
    if query.bad is not None:
        names = await org_names(session, {*options["exchange"], *options["township"]})
        return board_page(request, "board_list.html", 400, items=[], next_page=None, names=names, **context)
    found = await board(
        session,
        service.appender.clock(),
        status=query.status,
        exchange=query.exchange,
        township=query.township,
        right_type=query.right_type,
        after=query.after,
        limit=PAGE_SIZE,
    )
    next_page = None if found["next"] is None else {**query.filters(), "after": found["next"]}
    names = await org_names(session, places(found["items"]) | {*options["exchange"], *options["township"]})
    return board_page(
        request, "board_list.html", items=found["items"], next_page=next_page, names=names, **context
    )


@get("/board/results", include_in_schema=False, name="public_board_results")
async def board_results(request: Request[Any, Any, Any], session: Session) -> Response[str]:
    after = seq_after(request.query_params.get("after"))
    if after is None:
        return board_page(request, "board_results.html", 400, items=[], next_page=None, bad=True, names={})
    found = await results(session, after, PAGE_SIZE)
    next_page = None if found["next"] is None else {"after": found["next"]}
    names = await org_names(session, places(found["items"]))
    return board_page(
        request, "board_results.html", items=found["items"], next_page=next_page, bad=False, names=names
    )


@get("/board/{listing:str}", include_in_schema=False, name="public_board_listing")
async def board_listing(
    request: Request[Any, Any, Any], service: Service, db: Db, session: Session, listing: FromPath[str]
) -> Response[str]:
    if not ID_TEXT.fullmatch(listing):
        return board_page(request, "board_missing.html", 404, listing=listing)
    try:
        found = await listing_detail(db, session, listing, service.appender.clock())
    except Rejection as e:
        if e.code != "exchange.listing_not_found":
            raise
        return board_page(request, "board_missing.html", 404, listing=listing)
    certificate = await certificate_of(session, listing)
    steps = found["steps"]
    return board_page(
        request,
        "board_listing.html",
        x=found,
        names=await org_names(session, places([found])),
        steps=steps[-STEPS_SHOWN:],
        all_steps=len(steps),
        certificate=certificate,
        now=beijing_time(service.appender.clock()),
    )


ROUTES: list[Any] = [board_list, board_results, board_listing]
