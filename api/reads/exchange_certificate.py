"""The transaction certificate (交易鉴证书) of a listing as JSON: the deal, the parties as the
ledger holds them, the seqs of every step, and the certificate's record with its inclusion
proof in the latest signed checkpoint (``api.reads.evidence``), so that a bank can check it
offline with the operator's key.

A certified listing's row never changes again (every act on a listing requires another
status), so the live row is the row as of the checkpoint; steps are bounded by its size."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.evidence import prove, snapshot
from api.reads.exchange_monitoring import regions
from contracts.exchange.tables import Listing, ListingBidder, ListingStep
from contracts.registry import CHINA_STANDARD_TIME
from ledger.entry import parse_time
from ledger.errors import Category, Rejection

# The certificate's groups of steps, by entry kind; other kinds go to ``others``.
STEP_GROUPS = {
    "exchange.bidder_registered": "registrations",
    "exchange.deposit_received": "deposits",
    "exchange.bid": "bids",
    "exchange.quote_sealed": "bids",
    "exchange.quote_opened": "bids",
    "exchange.priority_matched": "bids",
    "exchange.deposit_refunded": "refunds",
}
TRANSFEROR_KIND = {
    "land_management": "household",
    "homestead": "household",
    "shares": "party",
    "collective_asset": "collective",
}


def transferor_kind(listing: Listing) -> str:
    """Who sold: a land quota is sold by the household whose homestead was reclaimed, or by
    the collective for its own site."""
    if listing.right_type == "land_quota":
        return "collective" if listing.holder == listing.collective_id else "household"
    return TRANSFEROR_KIND[listing.right_type]


def step_seqs(listing: Listing, steps: list[ListingStep]) -> dict[str, Any]:
    """The seqs of ``steps`` grouped as the certificate shows them: the award and the contract
    it stands on are the last ones before the certificate (an earlier pair was undone by a
    default, and goes to ``others`` with it)."""
    assert listing.certificate_seq is not None and listing.paid_seq is not None
    before = [s for s in steps if s.seq < listing.certificate_seq]
    award = max(s.seq for s in before if s.kind == "exchange.awarded")
    contract = max(s.seq for s in before if s.kind == "exchange.contract_signed")
    single = {listing.listed_seq, award, contract, listing.paid_seq, listing.certificate_seq}
    grouped: dict[str, Any] = {g: [] for g in ("registrations", "deposits", "bids", "refunds", "others")}
    for s in steps:
        if s.seq not in single:
            grouped[STEP_GROUPS.get(s.kind, "others")].append(s.seq)
    return {
        "listing": listing.listed_seq,
        **{g: grouped[g] for g in ("registrations", "deposits", "bids")},
        "award": award,
        "contract": contract,
        "payment": listing.paid_seq,
        "refunds": grouped["refunds"],
        "certificate": listing.certificate_seq,
        "others": grouped["others"],
    }


def transferee(winner: ListingBidder) -> dict[str, Any]:
    return {
        "kind": winner.bidder_kind,
        "id": winner.bidder,
        "name": winner.bidder_name,
        "household": winner.household_id,
        "bidder": winner.number,
        "priority": winner.priority,
    }


def not_certified(listing_id: str, why: str) -> Rejection:
    return Rejection(
        "exchange.certificate_not_found",
        f"no transaction certificate for listing {listing_id}: {why}",
        category=Category.NOT_FOUND,
    )


async def exchange_certificate(
    conn: AsyncConnection, session: AsyncSession, listing_id: str
) -> dict[str, Any]:
    """The certificate of ``listing_id`` as ``ExchangeCertificate``'s fields; a 404 problem for
    a listing unknown or not certified (as of the latest checkpoint)."""
    listing = await session.get(Listing, listing_id)
    if listing is None:
        raise not_certified(listing_id, "there is no such listing")
    snap = await snapshot(conn)  # read after the listing: it covers the certificate if any
    seq = listing.certificate_seq
    if seq is None or seq >= snap.size or listing.winner is None:
        raise not_certified(listing_id, f"the listing is {listing.status}")
    winner = await session.get(ListingBidder, (listing.id, listing.winner))
    assert winner is not None
    steps = list(
        (
            await session.exec(
                select(ListingStep)
                .where(ListingStep.listing_id == listing.id, col(ListingStep.seq) < snap.size)
                .order_by(col(ListingStep.seq))
            )
        ).all()
    )
    proven = (await prove(conn, [seq], snap))[seq]
    evidence = proven.with_record()
    certified_at: str = evidence["record"]["recorded_at"]
    orgs = await regions(conn, [listing.exchange_id, listing.township_id, listing.collective_id], seq)
    assert listing.value_fen is not None and listing.price_fen is not None
    return {
        "certificate_no": listing.certificate_no,
        "listing": listing.id,
        "relisting_of": listing.relisting_of,
        "exchange": orgs[listing.exchange_id],
        "township": orgs[listing.township_id],
        "village": orgs[listing.collective_id],
        "right": {
            "type": listing.right_type,
            "key": listing.right_key,
            "terms": listing.right,
            "quantity": listing.quantity,
            "term_start": listing.term_start,
            "term_end": listing.term_end,
        },
        "transferor": {"kind": transferor_kind(listing), "id": listing.holder},
        "transferee": transferee(winner),
        "method": listing.method,
        "priority_model": listing.priority_model,
        "price_fen": listing.price_fen,
        "price_unit": listing.price_unit,
        "value_fen": listing.value_fen,
        "buyer_fee_fen": listing.buyer_fee_fen,
        "seller_fee_fen": listing.seller_fee_fen,
        "awarded_on": listing.awarded_on,
        "certified_at": certified_at,
        "certified_on": (parse_time(certified_at) + CHINA_STANDARD_TIME).date(),
        "steps": step_seqs(listing, steps),
        **evidence,
        "checkpoint": snap.json(),
    }
