"""After the trade: ``quota.proceeds_split`` (the exchange centre that certified the quota's
listing pays the deal's value out between the household and the collective, by the county's
shares, to the fen) and ``quota.used`` (落地: the county lands the quota in a city zone, once).

The trade itself is the exchange's: a confirmed quota is listed (``exchange.listed`` from rule
version 4), bid for, awarded and paid like any right, and moves to the winner on
``exchange.certificate_issued`` (``contracts.exchange``).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from contracts.errors import RuleViolation
from contracts.exchange.common import Fen
from contracts.exchange.tables import Listing
from contracts.land import ContractId
from contracts.orgs import Org
from contracts.parties import Sha256Hex
from contracts.policy import policy_for
from contracts.quotas.common import QUOTA_COUNTY, QUOTA_EXCHANGE, county_quota, quota_of, quota_reads
from contracts.registry import Payload, RecordContext, rule
from contracts.state import Change, Put, State
from contracts.vouchers.terms import VOUCHER_VERSION
from ledger.errors import Category

# The city zone a quota lands in: the district's area code and the plan's zone code.
CityZone = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}-[0-9A-Z]{1,16}$")]
TRADED = ("traded", "used")


class ProceedsSplit(Payload, frozen=True):
    quota: ContractId
    household_fen: Fen
    collective_fen: Fen
    payment: Sha256Hex


class QuotaUsed(Payload, frozen=True):
    quota: ContractId
    zone: CityZone
    approval: Sha256Hex


def _not_listing_exchange(message: str) -> RuleViolation:
    return RuleViolation("quota.not_listing_exchange", message, category=Category.FORBIDDEN)


@rule(
    "quota.proceeds_split",
    ProceedsSplit,
    prefetch=lambda p, rec: quota_reads(p.quota),
    signed_by=QUOTA_EXCHANGE,
    version=VOUCHER_VERSION,
)
def split_proceeds(state: State, rec: RecordContext, p: ProceedsSplit) -> list[Change]:
    """The exchange centre pays a traded quota's proceeds out, once: the household's share by the
    county's policy, the rest to the collective.

    The share is the county's for a withdrawn homestead (85 % by default) or for a collective
    site (none by default), rounded down to the fen."""
    actor = state.get(Org, rec.actor)
    if actor is None or actor.type != "exchange_center":
        raise _not_listing_exchange(f"{rec.actor} is not an exchange centre")
    quota = quota_of(state, p.quota)
    if quota.status not in TRADED:
        raise RuleViolation("quota.not_traded", f"quota {quota.id} is {quota.status}, not traded yet")
    listing = state.get(Listing, quota.listing_id) if quota.listing_id else None
    if listing is None or listing.exchange_id != rec.actor:
        raise _not_listing_exchange(
            f"quota {quota.id} was traded on listing {quota.listing_id} of another centre"
        )
    if quota.split_seq is not None:
        raise RuleViolation(
            "quota.already_split", f"quota {quota.id}'s proceeds were split at seq {quota.split_seq}"
        )
    assert quota.value_fen is not None
    if p.household_fen + p.collective_fen != quota.value_fen:
        raise RuleViolation(
            "quota.split_not_summing",
            f"{p.household_fen} + {p.collective_fen} fen is not the deal's {quota.value_fen} fen",
        )
    policy = policy_for(state, quota.county_id)
    share_bp = (
        policy.land_quota_household_share_bp
        if quota.source == "homestead"
        else policy.land_quota_site_household_share_bp
    )
    due = quota.value_fen * share_bp // 10_000
    if p.household_fen != due:
        raise RuleViolation(
            "quota.split_off_policy",
            f"the household's share is {share_bp / 100:g}% of {quota.value_fen} fen, rounded down: {due} fen",
        )
    update = {"household_fen": p.household_fen, "collective_fen": p.collective_fen, "split_seq": rec.seq}
    return [Put(quota.model_copy(update=update))]


@rule(
    "quota.used",
    QuotaUsed,
    prefetch=lambda p, rec: quota_reads(p.quota),
    signed_by=QUOTA_COUNTY,
    version=VOUCHER_VERSION,
)
def use_quota(state: State, rec: RecordContext, p: QuotaUsed) -> list[Change]:
    """The county lands a traded quota (落地) in a city zone on the land-use approval: once,
    never again."""
    quota = county_quota(state, rec, p.quota)
    if quota.status == "used":
        raise RuleViolation(
            "quota.already_used", f"quota {quota.id} was used in {quota.used_zone} at seq {quota.used_seq}"
        )
    if quota.status != "traded":
        raise RuleViolation(
            "quota.not_traded", f"quota {quota.id} is {quota.status}: only a traded quota is used"
        )
    update = {"status": "used", "used_zone": p.zone, "used_seq": rec.seq}
    return [Put(quota.model_copy(update=update))]


RULES = (split_proceeds, use_quota)
