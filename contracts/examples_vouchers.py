"""Example payloads of the house-voucher kinds (``contracts.examples`` lists them with the rest).

The same story as ``contracts.examples``: the household withdraws its homestead of 180 m² in the
plain zone on 10 March 2026 (``homestead.withdrawn``'s example) and takes a house voucher. On 20
March the county publishes its construction-land quota prices from 1 April (plain: 1,600 yuan
per m²); its developer is admitted to the voucher pool on 1 April with a project in the
township's seat. On 15 April the county's housing authority issues the voucher to the head and
the spouse: 180 m² × 1,600 yuan + the house appraised at 180,000 yuan = 468,000 yuan, valid 24
months, to 14 April 2028. In its second month (1 June) the head spends 300,000 yuan of it on a
flat of 980,000 yuan, and the month's 5 % bonus makes it pay 315,000 yuan; the county pays the
developer 30 % of that on the contract. Had the household chosen cash, the authority would have
paid the same 468,000 yuan. Where the county allows it, the household may instead pass the whole
voucher on (on 10 May), split between the neighbours' head and spouse. The voucher expires with
no more used: 64 % of the face, under the county's 85 % par share, so the 168,000 yuan left is
paid after deducting the bonus granted pro rata (15,000 × 168,000 ÷ 468,000 = 5,384.61 yuan):
162,615.39 yuan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

Example = dict[str, Any]

DEVELOPER = "developer-wendeng"  # the county's developer, in the voucher pool
HOUSING_AUTHORITY = "housing-wendeng"  # the county's housing authority (住房和城乡建设局)
SCHEDULE = "JG-371003-2026-04"  # the price schedule from April 2026
SCHEDULE_FROM = "2026-04-01"
PRICES_FEN_PER_M2 = {
    "suburb": 200_000,
    "plain": 160_000,
    "plain_saline": 120_000,
    "hilly_flat": 140_000,
    "hilly_slope": 100_000,
}
PROJECT = "XM-371003-2026-0003"
PRESALE_PERMIT = "WDFY-2026-018"  # 文登区商品房预售许可证 2026 第018号
PROJECT_AREA_CODE = "371003106001"  # the township's seat (its residents' committee)
VOUCHER = "FP-371003-2026-0001"  # 房票 number
APPRAISAL_FEN = 18_000_000  # 180,000 yuan
FACE_FEN = 46_800_000  # 180 m² × 160,000 fen + the appraisal
REDEMPTION = "FPDH-371003-2026-0001"
UNIT = "3-2-501"  # building 3, entrance 2, flat 501
PRICE_FEN = 98_000_000  # the flat: 980,000 yuan
REDEEMED_FEN = 30_000_000
BONUS_FEN = 1_500_000  # 5 % in the voucher's second month
CONTRACT_STAGE_FEN = 9_450_000  # 30 % of the 31,500,000 fen applied
EXPIRY_CASH_FEN = 16_261_539  # 16,800,000 − 1,500,000 × 16,800,000 // 46,800,000
SPLIT_TO_HEAD_FEN = 26_800_000
SPLIT_TO_SPOUSE_FEN = 20_000_000


def document_hash(description: str) -> str:
    return hashlib.sha256(description.encode()).hexdigest()


def _story() -> Any:
    """The examples' ids (imported when called: ``contracts.examples`` imports this module)."""
    from contracts import examples

    return examples


def voucher_prices_published() -> Example:
    return {"schedule": SCHEDULE, "effective_from": SCHEDULE_FROM, "prices": dict(PRICES_FEN_PER_M2)}


def voucher_developer_admitted() -> Example:
    return {"developer": DEVELOPER}


def voucher_project_registered() -> Example:
    return {
        "project": PROJECT,
        "developer": DEVELOPER,
        "presale_permit": PRESALE_PERMIT,
        "area_code": PROJECT_AREA_CODE,
    }


def voucher_developer_left() -> Example:
    return {"developer": DEVELOPER}


def appraisal() -> str:
    return document_hash(f"appraisal report of the house on homestead {_story().HOMESTEAD}")


def voucher_issued() -> Example:
    ex = _story()
    return {
        "voucher": VOUCHER,
        "homestead": ex.HOMESTEAD,
        "holders": [ex.HEAD, ex.SPOUSE],
        "schedule": SCHEDULE,
        "appraisal": appraisal(),
        "appraisal_fen": APPRAISAL_FEN,
        "face_fen": FACE_FEN,
    }


def voucher_cash_compensated() -> Example:
    ex = _story()
    return {
        "homestead": ex.HOMESTEAD,
        "schedule": SCHEDULE,
        "appraisal": appraisal(),
        "appraisal_fen": APPRAISAL_FEN,
        "amount_fen": FACE_FEN,
        "payment": document_hash(f"bank payment advice: cash compensation for homestead {ex.HOMESTEAD}"),
    }


def voucher_redeemed() -> Example:
    ex = _story()
    return {
        "redemption": REDEMPTION,
        "voucher": VOUCHER,
        "holder": ex.HEAD,
        "project": PROJECT,
        "purchase_contract": document_hash(f"purchase contract of flat {UNIT} in project {PROJECT}"),
        "unit": UNIT,
        "price_fen": PRICE_FEN,
        "amount_fen": REDEEMED_FEN,
    }


def voucher_settled() -> Example:
    return {
        "redemption": REDEMPTION,
        "stage": "contract",
        "amount_fen": CONTRACT_STAGE_FEN,
        "payment": document_hash(f"payment to the developer: redemption {REDEMPTION}, contract stage"),
    }


def voucher_transferred() -> Example:
    ex = _story()
    return {
        "voucher": VOUCHER,
        "consent": document_hash(f"the holders' written consent to transfer voucher {VOUCHER}"),
        "housing_record": document_hash(f"housing record of household {ex.HOUSEHOLD}: 126 m² kept"),
        "household_floor_area_m2": 126,  # 42 m² for each of its three members
        "parts": [
            {"voucher": f"{VOUCHER}-1", "holders": [ex.NEIGHBOUR_HEAD], "amount_fen": SPLIT_TO_HEAD_FEN},
            {"voucher": f"{VOUCHER}-2", "holders": [ex.NEIGHBOUR_SPOUSE], "amount_fen": SPLIT_TO_SPOUSE_FEN},
        ],
    }


def voucher_expired() -> Example:
    return {"voucher": VOUCHER, "cash_fen": EXPIRY_CASH_FEN}


def voucher_cashed_out() -> Example:
    return {
        "voucher": VOUCHER,
        "amount_fen": EXPIRY_CASH_FEN,
        "payment": document_hash(f"bank payment advice: voucher {VOUCHER} cashed out at expiry"),
    }


VOUCHER_EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "voucher.prices_published": voucher_prices_published,
    "voucher.developer_admitted": voucher_developer_admitted,
    "voucher.project_registered": voucher_project_registered,
    "voucher.developer_left": voucher_developer_left,
    "voucher.issued": voucher_issued,
    "voucher.cash_compensated": voucher_cash_compensated,
    "voucher.redeemed": voucher_redeemed,
    "voucher.settled": voucher_settled,
    "voucher.transferred": voucher_transferred,
    "voucher.expired": voucher_expired,
    "voucher.cashed_out": voucher_cashed_out,
}
