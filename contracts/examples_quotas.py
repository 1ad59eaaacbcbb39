"""Example payloads of the land-quota kinds (``contracts.examples`` lists them with the rest).

The same story as ``contracts.examples``: the household's homestead of 180 m² (ZJD-371003106201-0045),
withdrawn for a house voucher, is reclaimed to farmland. 后疃村 applies with the household's
consent; 文登区 approves the reclamation project, the joint acceptance measures 176 m² of the
site reclaimed, and the county confirms a quota of 176 m² (0.264 亩). The county's exchange
centre lists it for a total price (reserve 52,800 yuan, about 200,000 yuan per 亩); the city's
construction investment company (竞买人 1) outbids the neighbouring household's head (竞买人 2) at
56,000 yuan and receives the quota on the certificate. The centre pays the proceeds out by the
county's default shares (85 % to the household, 15 % to the collective) and the county lands the
quota in a zone of 环翠区's plan.

The examples' own ids (organisations, the household, the homestead) are ``contracts.examples``'s,
read when an example is made (that module imports this one first).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

Example = dict[str, Any]

QUOTA = "DP-371003106201-2026-0003"  # 地票 number: county, village, year, serial
QUOTA_M2 = 176  # measured at the joint acceptance
QUOTA_LISTING = "GP-371003-2026-0047"
QUOTA_CERTIFICATE = "JZ-371003-2026-0047"
QUOTA_RESERVE_FEN = 5_280_000  # 52,800 yuan for the whole quota: 300 yuan per m²
QUOTA_INCREMENT_FEN = 100_000  # 1,000 yuan
QUOTA_DEPOSIT_FEN = 1_056_000  # 20 % of the reserve
QUOTA_OPENS_AT = "2026-10-27T01:00:00Z"  # 09:00 China Standard Time, after the announcement
QUOTA_CLOSES_AT = "2026-10-27T03:00:00Z"
QUOTA_DEAL_FEN = 5_600_000  # the company's winning bid, 56,000 yuan
QUOTA_HOUSEHOLD_FEN = 4_760_000  # 85 %
QUOTA_COLLECTIVE_FEN = 840_000  # 15 %
QUOTA_BUYER_NAME = "威海市文登区城市建设投资有限公司"
QUOTA_BUYER_CREDIT_CODE = "91371003MA3R7T5K0L"  # 91: a company
QUOTA_BUYER = 1  # 竞买人 1: the company
QUOTA_MEMBER_BIDDER = 2  # 竞买人 2: the neighbouring household's head
QUOTA_ZONE = "371002-HC0307"  # 环翠区, the plan's zone HC0307


def _hash(description: str) -> str:
    return hashlib.sha256(description.encode()).hexdigest()  # as ``examples.document_hash``


def _homestead() -> str:
    from contracts import examples  # imports this module first: read its ids when called

    return str(examples.HOMESTEAD)


def quota_applied() -> Example:
    return {
        "quota": QUOTA,
        "site": {"type": "homestead", "homestead": _homestead()},
        "holder_consent": _hash("the household's written consent to reclaim homestead ZJD-371003106201-0045"),
        "collective_consent": _hash(
            "后疃村 members' meeting: decision to reclaim homestead ZJD-371003106201-0045"
        ),
    }


def quota_project_approved() -> Example:
    return {
        "quota": QUOTA,
        "project_document": _hash("文登区 approval of reclamation project FK-371003-2026-0012"),
    }


def quota_accepted() -> Example:
    return {
        "quota": QUOTA,
        "measured_m2": QUOTA_M2,
        "acceptance_document": _hash("joint acceptance of reclamation project FK-371003-2026-0012: 176 m²"),
    }


def quota_confirmed() -> Example:
    return {"quota": QUOTA, "quota_m2": QUOTA_M2}


def quota_listed() -> Example:
    """``exchange.listed`` of the quota (rule version 4): a total price, open to any qualified
    party or company."""
    return {
        "listing": QUOTA_LISTING,
        "right": {"type": "land_quota", "quota": QUOTA},
        "consent": _hash("the household's written consent to list land quota DP-371003106201-2026-0003"),
        "reserve_fen": QUOTA_RESERVE_FEN,
        "price_unit": "total",
        "increment_fen": QUOTA_INCREMENT_FEN,
        "deposit_fen": QUOTA_DEPOSIT_FEN,
        "method": "auction",
        "bidding_opens_at": QUOTA_OPENS_AT,
        "bidding_closes_at": QUOTA_CLOSES_AT,
    }


def quota_buyer() -> Example:
    """The company as a bidder (``exchange.bidder_registered``'s ``bidder``)."""
    return {
        "type": "entity",
        "name": QUOTA_BUYER_NAME,
        "credit_code": QUOTA_BUYER_CREDIT_CODE,
        "entity_type": "company",
    }


def quota_proceeds_split() -> Example:
    return {
        "quota": QUOTA,
        "household_fen": QUOTA_HOUSEHOLD_FEN,
        "collective_fen": QUOTA_COLLECTIVE_FEN,
        "payment": _hash("settlement account debit advice: proceeds of land quota DP-371003106201-2026-0003"),
    }


def quota_used() -> Example:
    return {
        "quota": QUOTA,
        "zone": QUOTA_ZONE,
        "approval": _hash(
            "威海市 land-use approval of zone 371002-HC0307, landing DP-371003106201-2026-0003"
        ),
    }


QUOTA_EXAMPLES: dict[str, Callable[[], Example]] = {
    "quota.applied": quota_applied,
    "quota.project_approved": quota_project_approved,
    "quota.accepted": quota_accepted,
    "quota.confirmed": quota_confirmed,
    "quota.proceeds_split": quota_proceeds_split,
    "quota.used": quota_used,
}
