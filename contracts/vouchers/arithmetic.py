"""A voucher's arithmetic, as pure functions of dates and integers (no state): its validity,
the month of its life a redemption falls in and that month's bonus, the settlement stages of a
redemption and the cash due at expiry. Money is integer fen; every division rounds down."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from contracts.land import add_months  # the same day months later, clamped to the month's end

BP = 10_000  # basis points in a whole


def valid_until(issued_on: date, validity_months: int) -> date:
    """The last day a voucher is redeemed or transferred: the day before ``validity_months``
    months after issue."""
    return add_months(issued_on, validity_months) - timedelta(days=1)


def month_of_voucher(issued_on: date, today: date) -> int:
    """Which month of its life the voucher is in on ``today`` (1 from the day of issue): 1 + the
    largest m >= 0 with ``add_months(issued_on, m) <= today``."""
    if today < issued_on:
        raise ValueError(f"{today} is before the voucher's issue on {issued_on}")
    # A first guess from the calendar months between the dates, then corrected by at most one.
    m = max(0, (today.year - issued_on.year) * 12 + today.month - issued_on.month)
    while m > 0 and add_months(issued_on, m) > today:
        m -= 1
    while add_months(issued_on, m + 1) <= today:
        m += 1
    return m + 1


def bonus_bp(tiers: Iterable[Sequence[int]], month: int) -> int:
    """The bonus rate of month ``month``: the first tier (by bound) whose bound >= month, else 0."""
    for bound, bp in sorted((int(t[0]), int(t[1])) for t in tiers):
        if month <= bound:
            return bp
    return 0


def redemption_bonus(amount_fen: int, bp: int) -> int:
    """The bonus on ``amount_fen`` used at rate ``bp``, rounded down to the fen."""
    return amount_fen * bp // BP


def expiry_cash(face_fen: int, used_fen: int, bonus_fen: int, balance_fen: int, par_share_bp: int) -> int:
    """The cash an expired voucher's remainder is paid in: at par when at least ``par_share_bp``
    of the face was used; otherwise less the bonus granted, pro rata to the unused share
    (``balance - bonus * balance // face``). Nothing used means no bonus granted: the whole
    balance."""
    if used_fen * BP >= par_share_bp * face_fen:
        return balance_fen
    return balance_fen - bonus_fen * balance_fen // face_fen


def stage_amounts(value_fen: int, stages: Iterable[Sequence[Any]]) -> list[tuple[str, int]]:
    """Each settlement stage's payment of a redemption of ``value_fen``: the stages' cumulative
    shares, each rounded down, differenced, so that they sum to ``value_fen`` exactly (given
    shares summing to 10000 bp)."""
    amounts: list[tuple[str, int]] = []
    cumulative, paid = 0, 0
    for name, bp in stages:
        cumulative += int(bp)
        due = value_fen * cumulative // BP
        amounts.append((str(name), due - paid))
        paid = due
    return amounts


def face_value(area_m2: int, prices: Mapping[str, int], zone: str, appraisal_fen: int) -> int:
    """A homestead's voucher face (or cash compensation): its area at the schedule's price for
    its zone plus the house's appraised value (``KeyError`` for a zone not priced)."""
    return area_m2 * int(prices[zone]) + appraisal_fen
