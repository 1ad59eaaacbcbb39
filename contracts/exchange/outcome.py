"""Who wins a listing, what the deal is worth and what it costs: pure functions of the rows.

The ranking is the one rule every priority model shares: a higher valid amount first; at an
equal amount a priority holder before anyone else, several priority holders in the order of
the listing's lottery, and other bidders by the earliest bid. The models differ only in what
they let a priority holder submit (an equal bid under ``tie``, a match within the response
window under ``in_auction_match``, a match of the final high bid under ``post_close_match``),
which the bidding rules enforce.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, timedelta

from contracts.exchange.tables import Listing, ListingBidder
from contracts.policy import Policy


def lottery_rank(seed: str, number: int) -> str:
    """A bidder's place in the listing's lottery: fixed by the listing entry's seed, so a
    replay draws the same order."""
    return hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()


def ranking(listing: Listing, bidders: Iterable[ListingBidder]) -> list[ListingBidder]:
    """Bidders with a valid amount in award order, best first; barred bidders and those whose
    deposit is no longer held (forfeited, refunded) are out."""
    eligible = [
        b
        for b in bidders
        if b.best_fen is not None
        and b.best_fen >= listing.reserve_fen
        and b.bidder not in listing.barred
        and b.deposit in ("held", "credited")
    ]

    def key(b: ListingBidder) -> tuple[int, int, str, int]:
        assert b.best_fen is not None and b.best_seq is not None
        if b.priority:
            return (-b.best_fen, 0, lottery_rank(listing.lottery_seed, b.number), 0)
        return (-b.best_fen, 1, "", b.best_seq)

    return sorted(eligible, key=key)


def months_between(start: date, end: date) -> int:
    """The whole months of a term from ``start`` to ``end``, both days in it, as terms are
    written (a lease from 2026-07-01 to 2036-06-30 runs 120 months); at least one."""
    after = end + timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month - (1 if after.day < start.day else 0)
    return max(months, 1)


MAX_DEAL_FEN = 10**13  # 1,000 亿元: no deal of a county's exchange is worth more


def deal_value(listing: Listing, price_fen: int) -> int:
    """The whole deal in fen: the price itself for a total price; for a price per 亩 per year,
    price × area in 亩 (m² × 15 / 10,000) × years (months / 12), rounded half up to the fen."""
    if listing.price_unit == "total":
        return price_fen
    assert listing.term_start is not None and listing.term_end is not None
    months = months_between(listing.term_start, listing.term_end)
    numerator = price_fen * listing.quantity * 15 * months
    denominator = 10_000 * 12
    return (2 * numerator + denominator) // (2 * denominator)


def per_mu_year(listing: Listing) -> int | None:
    """The deal's price per 亩 per year in fen, for comparing land deals (rounded half up)."""
    if listing.value_fen is None or listing.term_start is None or listing.term_end is None:
        return None
    if listing.right_type not in ("land_management",):
        return None
    if listing.price_unit == "per_mu_year":
        return listing.price_fen
    months = months_between(listing.term_start, listing.term_end)
    numerator = listing.value_fen * 10_000 * 12
    denominator = listing.quantity * 15 * months
    return (2 * numerator + denominator) // (2 * denominator)


def exchange_fee(value_fen: int, policy: Policy) -> int:
    """The county's tiered marginal fee on a deal value, with its minimum."""
    fee_numerator, lower = 0, 0
    for tier in policy.exchange_fee_tiers:
        upper = value_fen if tier.up_to_fen is None else min(value_fen, tier.up_to_fen)
        if upper > lower:
            fee_numerator += (upper - lower) * tier.rate_bp
            lower = upper
        if tier.up_to_fen is None or value_fen <= tier.up_to_fen:
            break
    fee = (2 * fee_numerator + 10_000) // 20_000  # basis points, rounded half up
    return max(fee, policy.exchange_fee_min_fen)
