"""What the voucher kinds share: who signs them (the county, its housing authority, a developer
of its pool), the voucher a record acts on, the terms a voucher copies from the county's policy
at issuance, and the movement row each changing record leaves."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from contracts.errors import RuleViolation
from contracts.orgs import Org
from contracts.parties import Uuid
from contracts.policy import Policy, county_of
from contracts.registry import RecordContext, Signers
from contracts.state import Put, State, make
from contracts.vouchers.tables import CASHED_OUT, EXPIRED, Voucher, VoucherMovement
from ledger.errors import Category

PricePerM2 = Annotated[int, msgspec.Meta(ge=1, le=10**7)]  # fen per m²
Holders = Annotated[list[Uuid], msgspec.Meta(min_length=1, max_length=10)]  # party ids, each once

COUNTY = Signers(("county",), "the county, for its own voucher programme")
HOUSING_AUTHORITY = Signers(("housing_authority",), "the housing authority of the voucher's county")


def forbidden(code: str, message: str) -> RuleViolation:
    return RuleViolation(code, message, category=Category.FORBIDDEN)


def require_county(state: State, rec: RecordContext) -> Org:
    """The signer, a county (it runs its own price schedules and developer pool)."""
    org = state.get(Org, rec.actor)
    if org is None or org.type != "county":
        raise forbidden("voucher.not_county", f"{rec.actor} is not a county")
    return org


def authority_county(state: State, rec: RecordContext) -> str:
    """The county of the signer, a housing authority."""
    org = state.get(Org, rec.actor)
    county = county_of(state, rec.actor) if org is not None else None
    if org is None or org.type != "housing_authority" or county is None:
        raise forbidden("voucher.not_housing_authority", f"{rec.actor} is not a county's housing authority")
    return county


def require_authority_of(county: str, authority_county_id: str, what: str) -> None:
    if county != authority_county_id:
        raise forbidden(
            "voucher.not_housing_authority",
            f"{what} is of county {county}; the signer is the housing authority of {authority_county_id}",
        )


def voucher_of(state: State, voucher_id: str) -> Voucher:
    v = state.get(Voucher, voucher_id)
    if v is None:
        raise RuleViolation(
            "voucher.unknown_voucher", f"no voucher {voucher_id}", category=Category.NOT_FOUND
        )
    return v


def unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise RuleViolation("payload.invalid", f"{what} names someone twice", category=Category.INVALID)


def terms(policy: Policy) -> dict[str, Any]:
    """The terms a voucher copies from its county's policy when issued (a later policy change
    never alters an issued voucher)."""
    return {
        "bonus_tiers": [[bound, bp] for bound, bp in policy.voucher_bonus_bp_by_month],
        "transfers_allowed": policy.voucher_transfers_allowed,
        "par_share_bp": policy.voucher_par_share_bp,
        "floor_m2_per_person": policy.voucher_transfer_floor_m2_per_person,
        "stages": [[stage, bp] for stage, bp in policy.voucher_settlement_stages],
    }


def not_past_validity(v: Voucher, rec: RecordContext) -> None:
    """A voucher is spent or transferred only on or before its last valid day, and never once
    expired or cashed out."""
    if rec.local_date > v.valid_until or v.status in (EXPIRED, CASHED_OUT):
        raise RuleViolation(
            "voucher.expired", f"voucher {v.id} was valid until {v.valid_until}; it is {v.status}"
        )


def movement(rec: RecordContext, v: Voucher, amount: int, bonus: int = 0, ref: str | None = None) -> Put:
    """The movement row of this record on voucher ``v`` (as it is after the record)."""
    return Put(
        make(
            VoucherMovement,
            voucher_id=v.id,
            seq=rec.seq,
            kind=rec.kind,
            amount_fen=amount,
            bonus_fen=bonus,
            balance_fen=v.balance_fen,
            ref=ref,
        )
    )
