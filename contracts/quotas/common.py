"""What every quota kind does first: find the quota and check the signer acts on it."""

from __future__ import annotations

from contracts.errors import RuleViolation
from contracts.orgs import Org
from contracts.quotas.tables import LandQuota
from contracts.registry import RecordContext, Signers
from contracts.state import State
from ledger.errors import Category

QUOTA_COLLECTIVE = Signers(("village_collective",), "the village collective of the reclaimed site")
QUOTA_COUNTY = Signers(("county",), "the county of the quota's site")
QUOTA_EXCHANGE = Signers(("exchange_center",), "the exchange centre that certified the quota's listing")


def quota_reads(quota_id: str) -> list[tuple[type, tuple[str]]]:
    return [(LandQuota, (quota_id,))]


def quota_of(state: State, quota_id: str) -> LandQuota:
    quota = state.get(LandQuota, quota_id)
    if quota is None:
        raise RuleViolation("quota.unknown", f"no land quota {quota_id}", category=Category.NOT_FOUND)
    return quota


def county_quota(state: State, rec: RecordContext, quota_id: str) -> LandQuota:
    """The quota, if the signer is the county of its site."""
    actor = state.get(Org, rec.actor)
    if actor is None or actor.type != "county":
        raise RuleViolation("quota.not_county", f"{rec.actor} is not a county", category=Category.FORBIDDEN)
    quota = quota_of(state, quota_id)
    if quota.county_id != rec.actor:
        raise RuleViolation(
            "quota.not_county",
            f"quota {quota_id} is in county {quota.county_id}",
            category=Category.FORBIDDEN,
        )
    return quota


def require_status(quota: LandQuota, needed: str) -> None:
    if quota.status != needed:
        raise RuleViolation(
            "quota.wrong_status", f"quota {quota.id} is {quota.status}; this needs it {needed}"
        )
