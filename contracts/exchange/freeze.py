"""Rights under an open listing are frozen (rule version 3): while a listing is announced,
awarded, contracted or paid, the registry's own kinds do not move what it lists, so the
winner who paid always receives the right on the certificate.

Revisions of the registry's kinds, here rather than beside their earlier versions because
``contracts.exchange`` reads shares, land and homesteads (their modules cannot import it).
Each runs the version in force before it, then refuses what would move a listed right:
shares beyond the holder's free units less those listed, transferred, pledged or bought back
(``shares.units_listed``), a listed
homestead (``homestead.listed``), a lease of listed parcels for an overlapping term, and the
transfer or return of a contract with an open listing (``land.parcels_listed``).
"""

from __future__ import annotations

from contracts.errors import RuleViolation
from contracts.exchange.tables import OPEN, Listing
from contracts.homesteads import (
    HOMESTEAD_COLLECTIVE,
    HomesteadTransferred,
    HomesteadWithdrawn,
    transfer_homestead_v2,
    withdraw_homestead,
)
from contracts.land import (
    CONTRACTING_COLLECTIVE,
    ContractingRightTransferred,
    LandReturned,
    ManagementTransferred,
    return_land,
    transfer_contracting_right,
    transfer_management,
)
from contracts.registry import RecordContext, revision
from contracts.shares import (
    SHARES_COLLECTIVE,
    ShareHolding,
    SharesBoughtBack,
    SharesPledged,
    SharesTransferred,
    buy_back,
    pledge_shares_v2,
    transfer_shares,
)
from contracts.state import Change, State, Where


def shares_key(collective_id: str, holder: str) -> str:
    return f"shares:{collective_id}:{holder}"


def homestead_key(homestead_id: str) -> str:
    return f"homestead:{homestead_id}"


def land_key(contract_id: str) -> str:
    return f"land:{contract_id}"


def listing_reads(right_key: str) -> list[Where]:
    """The prefetch hint of ``open_listings(state, right_key)``."""
    return [Where(Listing, "right_key", right_key)]


def open_listings(state: State, right_key: str) -> list[Listing]:
    """The listings of ``right_key`` not yet ended (announced, awarded, contracted or paid)."""
    return [x for x in state.find(Listing, right_key=right_key) if x.status in OPEN]


def require_units_unlisted(state: State, collective_id: str, holder: str, units: int) -> None:
    """``units`` of the holding are free (neither pledged nor under an open listing)."""
    listed = sum(int(x.right["units"]) for x in open_listings(state, shares_key(collective_id, holder)))
    h = state.get(ShareHolding, collective_id, holder)
    if listed and h is not None and units > h.units - h.pledged_units - listed:
        raise RuleViolation(
            "shares.units_listed",
            f"{listed} of {holder}'s {h.units} units are under an open listing and "
            f"{h.pledged_units} pledged: they do not move until the listing ends",
        )


@revision(
    transfer_shares,
    version=3,
    reads=lambda p, rec: listing_reads(shares_key(rec.actor, p.holder)),
    signed_by=SHARES_COLLECTIVE,
)
def transfer_shares_v3(state: State, rec: RecordContext, p: SharesTransferred) -> list[Change]:
    """Version 3: units under an open listing on the exchange are not transferred."""
    changes = list(transfer_shares.apply(state, rec, p))
    require_units_unlisted(state, rec.actor, p.holder, p.units)
    return changes


@revision(
    buy_back,
    version=3,
    reads=lambda p, rec: listing_reads(shares_key(rec.actor, p.holder)),
    signed_by=SHARES_COLLECTIVE,
)
def buy_back_v3(state: State, rec: RecordContext, p: SharesBoughtBack) -> list[Change]:
    """Version 3: units under an open listing on the exchange are not bought back."""
    changes = list(buy_back.apply(state, rec, p))
    require_units_unlisted(state, rec.actor, p.holder, p.units)
    return changes


@revision(
    pledge_shares_v2,
    version=3,
    reads=lambda p, rec: listing_reads(shares_key(rec.actor, p.holder)),
    signed_by=SHARES_COLLECTIVE,
)
def pledge_shares_v3(state: State, rec: RecordContext, p: SharesPledged) -> list[Change]:
    """Version 3: units under an open listing on the exchange are not pledged."""
    changes = list(pledge_shares_v2.apply(state, rec, p))
    require_units_unlisted(state, rec.actor, p.holder, p.units)
    return changes


def require_homestead_unlisted(state: State, homestead_id: str) -> None:
    for x in open_listings(state, homestead_key(homestead_id)):
        raise RuleViolation(
            "homestead.listed",
            f"homestead {homestead_id} is under listing {x.id}: it does not move until the listing ends",
        )


@revision(
    transfer_homestead_v2,
    version=3,
    reads=lambda p, rec: listing_reads(homestead_key(p.homestead)),
    signed_by=HOMESTEAD_COLLECTIVE,
)
def transfer_homestead_v3(state: State, rec: RecordContext, p: HomesteadTransferred) -> list[Change]:
    """Version 3: a homestead under an open listing on the exchange is not transferred."""
    changes = list(transfer_homestead_v2.apply(state, rec, p))
    require_homestead_unlisted(state, p.homestead)
    return changes


@revision(
    withdraw_homestead,
    version=3,
    reads=lambda p, rec: listing_reads(homestead_key(p.homestead)),
    signed_by=HOMESTEAD_COLLECTIVE,
)
def withdraw_homestead_v3(state: State, rec: RecordContext, p: HomesteadWithdrawn) -> list[Change]:
    """Version 3: a homestead under an open listing on the exchange is not withdrawn."""
    changes = list(withdraw_homestead.apply(state, rec, p))
    require_homestead_unlisted(state, p.homestead)
    return changes


def require_parcels_unlisted(state: State, contract_id: str, parcels: list[str] | None = None) -> None:
    """No open listing of the contract names any of ``parcels`` (``None``: any parcel at all)."""
    for x in open_listings(state, land_key(contract_id)):
        listed = sorted(set(x.right["parcels"]) & set(parcels)) if parcels is not None else x.right["parcels"]
        if listed:
            raise RuleViolation(
                "land.parcels_listed",
                f"{listed} of contract {contract_id} are under listing {x.id}: "
                "they do not move until the listing ends",
            )


@revision(
    transfer_management,
    version=3,
    reads=lambda p, rec: listing_reads(land_key(p.contract)),
    signed_by=CONTRACTING_COLLECTIVE,
)
def transfer_management_v3(state: State, rec: RecordContext, p: ManagementTransferred) -> list[Change]:
    """Version 3: parcels under an open listing on the exchange are not transferred for a term
    overlapping the listed one (another parcel, or the years after, still may be)."""
    changes = list(transfer_management.apply(state, rec, p))
    for x in open_listings(state, land_key(p.contract)):
        listed = sorted(set(x.right["parcels"]) & set(p.parcels))
        # The same overlap as two management transfers': each term starts before the other
        # ends (a land listing always has its term).
        start, end = x.term_start, x.term_end
        if listed and start is not None and end is not None and start < p.term_end and p.term_start < end:
            raise RuleViolation(
                "land.parcels_listed",
                f"{listed} are under listing {x.id} from {start} to {end}, overlapping the term",
            )
    return changes


@revision(
    transfer_contracting_right,
    version=3,
    reads=lambda p, rec: listing_reads(land_key(p.contract)),
    signed_by=CONTRACTING_COLLECTIVE,
)
def transfer_contracting_right_v3(
    state: State, rec: RecordContext, p: ContractingRightTransferred
) -> list[Change]:
    """Version 3: a contract with parcels under an open listing on the exchange is not transferred."""
    changes = list(transfer_contracting_right.apply(state, rec, p))
    require_parcels_unlisted(state, p.contract)
    return changes


@revision(
    return_land,
    version=3,
    reads=lambda p, rec: listing_reads(land_key(p.contract)),
    signed_by=CONTRACTING_COLLECTIVE,
)
def return_land_v3(state: State, rec: RecordContext, p: LandReturned) -> list[Change]:
    """Version 3: a contract with parcels under an open listing on the exchange is not returned."""
    changes = list(return_land.apply(state, rec, p))
    require_parcels_unlisted(state, p.contract)
    return changes
