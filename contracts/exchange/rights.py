"""What may be listed on the exchange, who may bid for it, and how it moves on the certificate.

Four kinds of right are tradable: a land management right (lease, sub-contract or contribution
as shares, for a term within the remaining contract term, the land kept in agricultural use),
collective shares (to members of the same collective only), the homestead use right of a
settled household (to a qualifying member household of the same collective only) and a
collective operating asset's lease (on the members' meeting decision). From rule version 4 a
fifth: a confirmed land quota (地票, ``contracts.quotas``), for a total price, to any qualified
party or entity, no one with priority. Collective land ownership is never listed: there is no
such right to name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import msgspec

from contracts.assets import Category as AssetCategory
from contracts.assets import current_verification
from contracts.errors import RuleViolation
from contracts.exchange.tables import OPEN, Listing, ListingBidder
from contracts.homesteads import Homestead, held_homestead
from contracts.households import Household, HouseholdMember
from contracts.identifiers import InvalidIdentifier, validate_credit_code
from contracts.land import (
    ContractId,
    LandContract,
    ManagementTransfer,
    memberships_in_force,
    parcels_of,
)
from contracts.membership import IN_FORCE, LIVES_IN_VILLAGE, Membership
from contracts.orgs import Org, OrgId, is_self_or_ancestor
from contracts.parties import Party, Uuid
from contracts.policy import policy_for
from contracts.quotas.tables import LandQuota, quota_key
from contracts.registry import RecordContext
from contracts.shares import ShareHolding, give_units, scheme_of, take_units
from contracts.state import Change, Put, State, make
from ledger.errors import Category

Units = Annotated[int, msgspec.Meta(ge=1, le=10**12)]


class LandManagementRight(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="land_management"):
    contract: ContractId
    parcels: Annotated[list[str], msgspec.Meta(min_length=1, max_length=200)]
    mode: Literal["lease", "subcontract", "shares"]
    term_start: date
    term_end: date
    agricultural_use: bool


class SharesRight(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="shares"):
    collective: OrgId
    holder: Uuid
    units: Units


class HomesteadRight(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="homestead"):
    homestead: ContractId


class CollectiveAssetRight(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="collective_asset"):
    collective: OrgId
    asset: ContractId  # the collective's own code for the building, site or facility
    category: AssetCategory
    term_start: date
    term_end: date


Right = LandManagementRight | SharesRight | HomesteadRight | CollectiveAssetRight


class LandQuotaRight(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="land_quota"):
    quota: ContractId


# The rights ``exchange.listed`` names from rule version 4.
RightV4 = Right | LandQuotaRight


class PartyBidder(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="party"):
    party: Uuid


class EntityBidder(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="entity"):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    credit_code: str
    entity_type: Literal["cooperative", "family_farm", "company", "other"]


Bidder = PartyBidder | EntityBidder


@dataclass(frozen=True, slots=True)
class ListedRight:
    """A right found listable: what the listing row records of it."""

    type: str
    key: str
    collective_id: str
    holder: str
    quantity: int
    term_start: date | None
    term_end: date | None
    priority_collective: str | None
    priority_tenant: str | None
    parcels: tuple[str, ...] = ()


def refuse(code: str, message: str, category: Category = Category.RULE_VIOLATION) -> RuleViolation:
    return RuleViolation(code, message, category=category)


def require_jurisdiction(state: State, exchange_id: str, collective_id: str) -> Org:
    """The exchange centre ``exchange_id``, if its parent (the county or the township that runs
    it) is an ancestor of the right's collective."""
    exchange = state.get(Org, exchange_id)
    if exchange is None or exchange.type != "exchange_center":
        raise refuse(
            "exchange.not_an_exchange", f"{exchange_id} is not an exchange centre", Category.FORBIDDEN
        )
    if exchange.parent_id is None or not is_self_or_ancestor(state, exchange.parent_id, collective_id):
        raise refuse(
            "exchange.no_jurisdiction",
            f"{exchange_id} has no jurisdiction over {collective_id}",
            Category.FORBIDDEN,
        )
    return exchange


def _term(start: date, end: date, rec: RecordContext) -> None:
    if not start < end:
        raise refuse("exchange.bad_term", "a term ends after it starts")
    if start < rec.local_date:
        raise refuse("exchange.bad_term", "a term starts on the listing's day or later")


def _overlaps(a: tuple[date | None, date | None], b: tuple[date | None, date | None]) -> bool:
    if None in a or None in b:
        return True
    return a[0] < b[1] and b[0] < a[1]  # type: ignore[operator]


def listable(state: State, rec: RecordContext, right: Right) -> ListedRight:
    """``right`` as listable now, or the refusal that says why it is not."""
    if isinstance(right, LandManagementRight):
        return _land(state, rec, right)
    if isinstance(right, SharesRight):
        holding = state.get(ShareHolding, right.collective, right.holder)
        if holding is None or holding.units < right.units:
            raise refuse("exchange.right_not_held", f"{right.holder} does not hold {right.units} units")
        if holding.units - holding.pledged_units < right.units:
            raise refuse("exchange.right_pledged", f"{holding.pledged_units} of the units are pledged")
        return ListedRight(
            "shares",
            f"shares:{right.collective}:{right.holder}",
            right.collective,
            right.holder,
            right.units,
            None,
            None,
            None,
            None,
        )
    if isinstance(right, HomesteadRight):
        h = state.get(Homestead, right.homestead)
        if h is None or h.status != "held":
            raise refuse("exchange.right_not_held", f"homestead {right.homestead} is not held")
        members = memberships_in_force(state, h.household_id)
        if not members or any(m.status != "settled_in_town" for m in members):
            raise refuse(
                "exchange.holder_not_settled",
                "a homestead is listed for a household whose members in force all settled in town, "
                "rights retained",
            )
        return ListedRight(
            "homestead",
            f"homestead:{h.id}",
            h.collective_id,
            h.household_id,
            h.area_m2,
            None,
            None,
            None,
            None,
        )
    _term(right.term_start, right.term_end, rec)
    verification = current_verification(state, right.collective)
    operating = (verification.details.get("operating_assets") or []) if verification else []
    if not any(a.get("category") == right.category for a in operating):
        raise refuse(
            "exchange.right_not_held",
            f"{right.collective}'s asset verification lists no operating asset of category {right.category}",
        )
    return ListedRight(
        "collective_asset",
        f"asset:{right.collective}:{right.asset}",
        right.collective,
        right.collective,
        1,
        right.term_start,
        right.term_end,
        right.collective,
        None,
    )


def listable_v4(state: State, rec: RecordContext, right: RightV4) -> ListedRight:
    """``listable``, and a land quota: listable once confirmed, by its holder, whole."""
    if not isinstance(right, LandQuotaRight):
        return listable(state, rec, right)
    quota = state.get(LandQuota, right.quota)
    if quota is None or quota.status != "confirmed" or quota.quota_m2 is None:
        status = quota.status if quota else "unknown"
        raise refuse("exchange.right_not_held", f"land quota {right.quota} is {status}, not confirmed")
    return ListedRight(
        "land_quota",
        quota_key(quota.id),
        quota.collective_id,
        quota.holder,
        quota.quota_m2,
        None,
        None,
        None,
        None,
    )


def _land(state: State, rec: RecordContext, right: LandManagementRight) -> ListedRight:
    contract = state.get(LandContract, right.contract)
    if contract is None or contract.status != "active":
        raise refuse("exchange.right_not_held", f"no contract {right.contract} in force")
    if not right.agricultural_use:
        raise refuse("exchange.use_change_forbidden", "a management right is traded for agricultural use")
    _term(right.term_start, right.term_end, rec)
    if right.term_end > contract.term_end:
        raise refuse(
            "exchange.term_exceeds_contract",
            f"the term ends {right.term_end}, after the contract's remaining term ({contract.term_end})",
        )
    if len(set(right.parcels)) != len(right.parcels):
        raise refuse("exchange.bad_parcels", "a parcel is listed twice")
    try:
        parcels = parcels_of(state, contract.id, list(right.parcels))
    except RuleViolation as e:
        raise refuse("exchange.right_not_held", e.message) from e
    tenant, tenant_end = None, None
    for t in state.find(ManagementTransfer, contract_id=contract.id):
        if not set(t.parcels) & set(right.parcels):
            continue
        if _overlaps((t.term_start, t.term_end), (right.term_start, right.term_end)):
            raise refuse(
                "exchange.already_transferred",
                f"parcels are under transfer {t.id} until {t.term_end}, overlapping the term",
            )
        # The sitting tenant: a transfer running now that ends by the new term's start.
        if t.term_end >= rec.local_date and (tenant_end is None or t.term_end > tenant_end):
            tenant, tenant_end = t.transferee, t.term_end
    return ListedRight(
        "land_management",
        f"land:{contract.id}",
        contract.collective_id,
        contract.household_id,
        sum(p.area_m2 for p in parcels),
        right.term_start,
        right.term_end,
        contract.collective_id,
        tenant,
        tuple(right.parcels),
    )


def not_listed_twice(state: State, listed: ListedRight, ignore: str | None = None) -> None:
    """No right is under two open listings, and no asset lease is sold twice for one term
    (land leases sold before are management transfers, which ``listable`` checks)."""
    for other in state.find(Listing, right_key=listed.key):
        if other.id == ignore:
            continue
        if listed.parcels and not set(listed.parcels) & set(other.right.get("parcels") or ()):
            continue
        if other.status in OPEN:
            raise refuse("exchange.already_listed", f"the right is under listing {other.id}")
        if (
            other.status == "certified"
            and listed.type == "collective_asset"
            and _overlaps((other.term_start, other.term_end), (listed.term_start, listed.term_end))
        ):
            raise refuse("exchange.already_transferred", f"the asset is leased under {other.id} then")


@dataclass(frozen=True, slots=True)
class Qualified:
    bidder: str
    kind: str
    name: str | None
    household_id: str | None
    priority: bool


def _member_in_force(state: State, party: str, collective_id: str) -> Membership | None:
    m = state.get(Membership, party)
    return m if m is not None and m.collective_id == collective_id and m.status in IN_FORCE else None


def needs_capacity(listing: Listing) -> bool:
    """A land transferee always shows agricultural capacity; other listings may ask it."""
    return listing.right_type == "land_management" or bool(
        listing.qualifications.get("agricultural_capacity")
    )


def qualify(state: State, listing: Listing, bidder: Bidder, agricultural_capacity: str | None) -> Qualified:
    """``bidder`` as qualified for ``listing``, with its priority, or the refusal."""
    q = listing.qualifications
    if isinstance(bidder, EntityBidder):
        try:
            code = validate_credit_code(bidder.credit_code)
        except InvalidIdentifier as e:
            raise refuse("payload.invalid", f"bidder's credit code: {e}", Category.INVALID) from e
        if listing.right_type in ("shares", "homestead") or q.get("members_only"):
            raise refuse(
                "exchange.bidder_not_member", "only members of the collective may bid for this right"
            )
        types = q.get("entity_types") or []
        if types and bidder.entity_type not in types:
            raise refuse("exchange.bidder_not_qualified", f"the listing admits entities of types {types}")
        if needs_capacity(listing) and agricultural_capacity is None:
            raise refuse("exchange.no_agricultural_capacity", "a land transferee shows agricultural capacity")
        return Qualified(code, "entity", bidder.name, None, code == listing.priority_tenant)
    party = bidder.party
    if state.get(Party, party) is None:
        raise refuse("exchange.unknown_bidder", f"party {party} is not registered")
    link = state.get(HouseholdMember, party)
    household = link.household_id if link else None
    if (household is not None and household == listing.holder) or party == listing.holder:
        raise refuse("exchange.bidder_is_holder", "the holder does not bid for its own right")
    member = _member_in_force(state, party, listing.collective_id)
    if listing.right_type == "shares":
        if member is None:
            raise refuse("exchange.bidder_not_member", "shares go only to members of the same collective")
        units = int(listing.right["units"])
        scheme = scheme_of(state, listing.collective_id)
        try:
            give_units(
                state, scheme, policy_for(state, listing.collective_id), party, units, income_only=False
            )
        except RuleViolation as e:
            raise refuse("exchange.over_holder_cap", e.message) from e
    elif listing.right_type == "homestead":
        _homestead_buyer(state, listing, member, household)
    elif q.get("members_only") and member is None:
        raise refuse("exchange.bidder_not_member", "the listing admits members of the collective only")
    if needs_capacity(listing) and agricultural_capacity is None:
        raise refuse("exchange.no_agricultural_capacity", "a land transferee shows agricultural capacity")
    priority = party == listing.priority_tenant or (
        listing.priority_collective is not None
        and _member_in_force(state, party, listing.priority_collective) is not None
    )
    return Qualified(party, "party", None, household, priority)


def _homestead_buyer(
    state: State, listing: Listing, member: Membership | None, household_id: str | None
) -> None:
    if member is None or member.status != LIVES_IN_VILLAGE or household_id is None:
        raise refuse(
            "exchange.bidder_not_member",
            "a homestead goes only to a member household of the same collective living in the village",
        )
    household = state.get(Household, household_id)
    if household is None or household.status != "active" or household.collective_id != listing.collective_id:
        raise refuse("exchange.bidder_not_member", "the bidder's household is not of the collective")
    if household.house_given_up or held_homestead(state, household_id) is not None:
        raise refuse(
            "exchange.bidder_not_qualified",
            "a household that holds a homestead, or gave up its house, gets no other",
        )


def move_right(state: State, rec: RecordContext, listing: Listing, winner: ListingBidder) -> list[Change]:
    """The changes that move the listed right to the winner, checked once more: the right
    moves exactly when the certificate is recorded."""
    right: dict[str, Any] = listing.right
    if listing.right_type == "land_management":
        contract = state.get(LandContract, right["contract"])
        if contract is None or contract.status != "active" or contract.household_id != listing.holder:
            raise refuse("exchange.right_not_held", "the contract is no longer the holder's, in force")
        for t in state.find(ManagementTransfer, contract_id=contract.id):
            if set(t.parcels) & set(right["parcels"]) and _overlaps(
                (t.term_start, t.term_end), (listing.term_start, listing.term_end)
            ):
                raise refuse("exchange.already_transferred", f"parcels are under transfer {t.id}")
        return [
            Put(
                make(
                    ManagementTransfer,
                    id=f"exchange:{listing.id}",
                    contract_id=contract.id,
                    mode=right["mode"],
                    transferee=winner.bidder,
                    transferee_name=winner.bidder_name,
                    parcels=list(right["parcels"]),
                    term_start=listing.term_start,
                    term_end=listing.term_end,
                    filed_seq=rec.seq,
                )
            )
        ]
    if listing.right_type == "shares":
        units = int(right["units"])
        holding = state.get(ShareHolding, listing.collective_id, listing.holder)
        if holding is None:
            raise refuse("exchange.right_not_held", "the holder holds no shares any more")
        try:
            source = take_units(holding, units)
            target = give_units(
                state,
                scheme_of(state, listing.collective_id),
                policy_for(state, listing.collective_id),
                winner.bidder,
                units,
                income_only=False,
            )
        except RuleViolation as e:
            raise refuse("exchange.right_not_held", e.message) from e
        return [Put(source), Put(target)]
    if listing.right_type == "homestead":
        h = state.get(Homestead, right["homestead"])
        if h is None or h.status != "held" or h.household_id != listing.holder:
            raise refuse("exchange.right_not_held", "the homestead is no longer the holder's")
        assert winner.household_id is not None
        household = state.get(Household, winner.household_id)
        if household is None or household.house_given_up or held_homestead(state, household.id) is not None:
            raise refuse("exchange.bidder_not_qualified", "the winner's household now holds a homestead")
        seller = state.get(Household, listing.holder)
        changes: list[Change] = [Put(h.model_copy(update={"household_id": household.id}))]
        if seller is not None:
            changes.append(Put(seller.model_copy(update={"house_given_up": True})))
        return changes
    return []  # a collective asset's lease: the certified listing is the lease's record


def move_quota(state: State, rec: RecordContext, listing: Listing, winner: ListingBidder) -> list[Change]:
    """The change that moves a listed land quota to the winner (rule version 4), checked once
    more: still confirmed, still the seller's."""
    quota = state.get(LandQuota, listing.right["quota"])
    if quota is None or quota.status != "confirmed" or quota.holder != listing.holder:
        raise refuse("exchange.right_not_held", "the land quota is no longer the holder's, confirmed")
    update = {
        "holder": winner.bidder,
        "holder_kind": winner.bidder_kind,
        "status": "traded",
        "listing_id": listing.id,
        "value_fen": listing.value_fen,
        "traded_seq": rec.seq,
    }
    return [Put(quota.model_copy(update=update))]


def seller_exempt(state: State, listing: Listing) -> bool:
    """Member farmers and collectives selling pay no exchange fee (a land quota is sold by the
    household of the withdrawn homestead or by the collective)."""
    if listing.right_type in ("collective_asset", "land_quota"):
        return True
    if listing.right_type == "shares":
        return _member_in_force(state, listing.holder, listing.collective_id) is not None
    return bool(memberships_in_force(state, listing.holder))
