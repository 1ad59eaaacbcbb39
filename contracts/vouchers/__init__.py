"""House vouchers (房票): what a withdrawn or exchanged homestead becomes when the household
takes a voucher instead of cash, spendable with the county's pool of developers, never spent
twice or beyond its balance. Rule version 4 brings its kinds: price schedules
(``schedules``), the developer pool (``pool``), issuance or cash instead (``issuance``),
redemption and staged settlement (``redemption``), transfer, expiry and cash-out
(``lifecycle``). No kind pledges a voucher."""

from typing import Any

from contracts.registry import Rule
from contracts.vouchers import issuance, lifecycle, pool, redemption, schedules
from contracts.vouchers.tables import TABLES
from contracts.vouchers.terms import VOUCHER_VERSION

RULES: tuple[Rule[Any], ...] = (
    *schedules.RULES,
    *pool.RULES,
    *issuance.RULES,
    *redemption.RULES,
    *lifecycle.RULES,
)

__all__ = ["RULES", "TABLES", "VOUCHER_VERSION"]
