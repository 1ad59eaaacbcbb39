"""A bidder's own registration on a listing, for the exchange centre that runs the listing (and
for a bidding entity, its own): its
identity as stored (a party id, or an entity's credit code and registered name), its deposit
and every act of its, with seqs. Not public: the public sees 竞买人 N only."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.exchange_board import bidder_label
from contracts.exchange.tables import Listing, ListingBidder, ListingStep
from contracts.orgs import Org
from ledger.errors import Category, Rejection


def is_the_bidder(caller: Org, b: ListingBidder | None) -> bool:
    """A bidding entity asking for its own registration (the entity bidder of its credit code)."""
    return (
        b is not None
        and b.bidder_kind == "entity"
        and caller.type == "bidding_entity"
        and caller.credit_code == b.bidder
    )


async def bidder_registration(
    session: AsyncSession, caller: Org, listing_id: str, number: int
) -> dict[str, Any]:
    """What the exchange centre of ``listing_id`` holds on its 竞买人 ``number``, asked by the
    organisation ``caller`` (authenticated): the listing's exchange centre, or the bidding entity
    that is that bidder. Any other caller is refused (403, whether or not the number exists); an
    unknown listing, or an unknown bidder asked by the exchange centre, is a 404."""
    listing = await session.get(Listing, listing_id)
    if listing is None:
        raise Rejection("exchange.listing_not_found", f"no listing {listing_id}", category=Category.NOT_FOUND)
    b = await session.get(ListingBidder, (listing_id, number))
    if caller.id != listing.exchange_id and not is_the_bidder(caller, b):
        raise Rejection(
            "auth.forbidden",
            f"{caller.id} does not run listing {listing_id}: only {listing.exchange_id} sees its "
            "bidders, and a bidding entity its own registration",
            category=Category.FORBIDDEN,
        )
    if b is None:
        raise Rejection(
            "exchange.bidder_not_found",
            f"no 竞买人 {number} on listing {listing_id}",
            category=Category.NOT_FOUND,
        )
    acts = (
        await session.exec(
            select(ListingStep)
            .where(ListingStep.listing_id == listing_id)
            .where(ListingStep.bidder == number)
            .order_by(col(ListingStep.seq))
        )
    ).all()
    entity = b.bidder_kind == "entity"
    return {
        "listing": listing_id,
        "number": number,
        "bidder": bidder_label(number),
        "kind": b.bidder_kind,
        "party": None if entity else b.bidder,
        "credit_code": b.bidder if entity else None,
        "name": b.bidder_name,
        "household": b.household_id,
        "priority": b.priority,
        "registered_seq": b.registered_seq,
        "deposit": {
            "state": b.deposit,
            "amount_fen": b.deposit_fen,
            "bank_reference": b.deposit_ref,
            "received_seq": b.deposit_seq,
            "settled_seq": b.settled_seq,
            "forfeit_reason": b.forfeit_reason,
        },
        "best_fen": b.best_fen,
        "best_seq": b.best_seq,
        "sealed_commitment": b.sealed,
        "sealed_seq": b.sealed_seq,
        "matched": b.matched,
        "acts": [{"seq": s.seq, "kind": s.kind, "at": s.at, "amount_fen": s.amount_fen} for s in acts],
    }
