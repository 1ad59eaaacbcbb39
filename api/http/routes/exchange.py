"""The exchange's public reads (农村产权交易中心): the announcement board, a listing with its full
history and proofs, the results (成交公示) and their Atom feed; and, for the exchange centre
that runs a listing (a signed request), one bidder's registration and acts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.params import PathParameter, QueryParameter

from api.http.dependencies import Db, Service, Session, SignedCaller
from api.http.routes.paging import After, AfterSeq, Id, IdFilter, Limit
from api.http.wire import exchange as wire
from api.http.wire import from_dict
from api.reads.exchange_bidder import bidder_registration
from api.reads.exchange_board import board, listing_detail, results
from api.reads.exchange_feed import ATOM_MEDIA_TYPE, atom_feed, feed_items

ListingStatus = Annotated[
    Literal["open", "announced", "awarded", "contracted", "paid", "certified", "failed", "withdrawn"] | None,
    QueryParameter(description="a listing status; `open` is `announced`"),
]
RightType = Annotated[
    Literal["land_management", "shares", "homestead", "collective_asset", "land_quota"] | None,
    QueryParameter(),
]
BidderNumber = Annotated[int, PathParameter(ge=1, le=100_000, description="the bidder's number N (竞买人 N)")]
FeedLimit = Annotated[int, QueryParameter(ge=1, le=1000, description="how many entries, newest first")]


class ExchangeController(Controller):
    path = "/v1/exchange"
    tags = ["exchange"]

    @get(
        "/listings",
        operation_id="listExchangeListings",
        summary="The announcement board: listings with their terms, high bid, countdown and result",
        description="No personal data: bidders appear as 竞买人 N. Countdowns are by the service's clock.",
    )
    async def list_listings(
        self,
        service: Service,
        session: Session,
        status: ListingStatus = None,
        exchange: IdFilter = None,
        township: IdFilter = None,
        right_type: RightType = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.BoardPage:
        found = await board(
            session,
            service.appender.clock(),
            status=status,
            exchange=exchange,
            township=township,
            right_type=right_type,
            after=after,
            limit=limit,
        )
        return from_dict(wire.BoardPage, found)

    @get(
        "/listings/{listing:str}",
        operation_id="getExchangeListing",
        summary="One listing with every step of its history, each with its inclusion proof",
        description="Each step's record is `GET /v1/entries/{seq}`; its leaf hash and proof lead to "
        "the signed checkpoint given.",
    )
    async def get_listing(
        self, service: Service, db: Db, session: Session, listing: Id
    ) -> wire.ListingDetail:
        found = await listing_detail(db, session, listing, service.appender.clock())
        return from_dict(wire.ListingDetail, found)

    @get(
        "/listings/{listing:str}/bidders/{number:int}",
        operation_id="getExchangeBidder",
        summary="A bidder's registration, deposit and acts (signed request by the listing's exchange, "
        "or by the bidding entity itself)",
    )
    async def get_bidder(
        self, caller: SignedCaller, session: Session, listing: Id, number: BidderNumber
    ) -> wire.BidderRegistration:
        found = await bidder_registration(session, caller.org, listing, number)
        return from_dict(wire.BidderRegistration, found)

    @get(
        "/results",
        operation_id="listExchangeResults",
        summary="Results (成交公示) and failed or withdrawn listings, in the order they were recorded",
    )
    async def list_results(
        self, session: Session, after: AfterSeq = -1, limit: Limit = 100
    ) -> wire.ResultPage:
        return from_dict(wire.ResultPage, await results(session, after, limit))

    @get(
        "/feed.atom",
        operation_id="getExchangeFeed",
        media_type=ATOM_MEDIA_TYPE,
        summary="An Atom feed of announcements and results, newest first",
    )
    async def feed(
        self, request: Request[Any, Any, Any], service: Service, session: Session, limit: FeedLimit = 50
    ) -> Response[str]:
        items = await feed_items(session, limit)
        base = str(request.base_url).rstrip("/")
        xml = atom_feed(service.origin, base, items, service.appender.clock())
        return Response(xml, media_type=ATOM_MEDIA_TYPE)
