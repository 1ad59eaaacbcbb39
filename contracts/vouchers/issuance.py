"""Compensation for a homestead given up: ``voucher.issued`` (a house voucher) or
``voucher.cash_compensated`` (cash instead), each signed by the county's housing authority, each
computed the same way from the price schedule in force (area × the zone's price + the appraised
house value). A household is compensated once per homestead: a voucher or cash, never both, never
two vouchers. The homestead was given up by a recorded withdrawal (``homestead.withdrawn``) or by
a certified exchange listing of it (the household that listed it is compensated)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.errors import RuleViolation
from contracts.exchange.common import Fen, PositiveFen
from contracts.exchange.tables import Listing
from contracts.homesteads import Homestead
from contracts.households import HouseholdMember
from contracts.land import ContractId
from contracts.orgs import township_of
from contracts.parties import Party, Sha256Hex
from contracts.policy import county_of, policy_for
from contracts.registry import Payload, RecordContext, rule
from contracts.state import Change, Put, State, Where, make
from contracts.vouchers.arithmetic import face_value, valid_until
from contracts.vouchers.common import (
    HOUSING_AUTHORITY,
    Holders,
    authority_county,
    forbidden,
    movement,
    terms,
    unique,
)
from contracts.vouchers.schedules import schedule_in_force
from contracts.vouchers.tables import ACTIVE, HomesteadCompensation, PriceSchedule, Voucher
from contracts.vouchers.terms import VOUCHER_VERSION


class VoucherIssued(Payload, frozen=True):
    voucher: ContractId
    homestead: ContractId
    holders: Holders
    schedule: ContractId
    appraisal: Sha256Hex  # the house appraisal report
    appraisal_fen: Fen
    face_fen: PositiveFen


class CashCompensated(Payload, frozen=True):
    homestead: ContractId
    schedule: ContractId
    appraisal: Sha256Hex
    appraisal_fen: Fen
    amount_fen: PositiveFen
    payment: Sha256Hex  # the bank's payment advice


@dataclass(frozen=True, slots=True)
class GivenUp:
    """A homestead a household gave up, and how: by withdrawal (with the compensation it chose
    there) or by an exchange transfer (either compensation)."""

    homestead: Homestead
    household_id: str
    withdrawal_choice: str | None  # cash | voucher, for a withdrawal


def _given_up(state: State, homestead_id: str) -> list[GivenUp]:
    """Every household that gave up the homestead, in the order they did."""
    h = state.get(Homestead, homestead_id)
    if h is None:
        return []
    found: list[tuple[int, GivenUp]] = [
        (listing.certificate_seq or 0, GivenUp(h, listing.holder, None))
        for listing in state.find(Listing, right_key=f"homestead:{homestead_id}")
        if listing.right_type == "homestead" and listing.status == "certified"
    ]
    if h.status == "withdrawn":
        found.append((h.withdrawn_seq or 0, GivenUp(h, h.household_id, h.compensation)))
    return [g for _, g in sorted(found, key=lambda x: x[0])]


def to_compensate(state: State, homestead_id: str, authority_county_id: str) -> GivenUp:
    """The household to compensate for the homestead: the first that gave it up and has not been
    compensated for it (refused when none gave it up, or each was compensated already)."""
    given_up = _given_up(state, homestead_id)
    if not given_up:
        raise RuleViolation(
            "voucher.no_withdrawal",
            f"no withdrawal of homestead {homestead_id} and no certified exchange transfer of it is recorded",
        )
    county = county_of(state, given_up[0].homestead.collective_id)
    if county != authority_county_id:
        raise forbidden(
            "voucher.not_housing_authority",
            f"homestead {homestead_id} lies in county {county}, not {authority_county_id}",
        )
    for g in given_up:
        if state.get(HomesteadCompensation, homestead_id, g.household_id) is None:
            return g
    compensated = state.get(HomesteadCompensation, homestead_id, given_up[-1].household_id)
    assert compensated is not None
    raise RuleViolation(
        "voucher.already_compensated",
        f"household {compensated.household_id} was compensated for homestead {homestead_id} "
        f"({compensated.choice}, seq {compensated.seq}): one voucher or cash, never both",
    )


def checked_face(
    state: State,
    rec: RecordContext,
    county_id: str,
    h: Homestead,
    schedule_id: str,
    appraisal_fen: int,
    amount_fen: int,
) -> PriceSchedule:
    """The schedule in force today, if it is ``schedule_id`` and gives ``amount_fen``."""
    schedule = state.get(PriceSchedule, schedule_id)
    if schedule is None or schedule.county_id != county_id:
        raise RuleViolation("voucher.unknown_schedule", f"no price schedule {schedule_id} of {county_id}")
    current = schedule_in_force(state, county_id, rec.local_date)
    if current is None or current.id != schedule.id:
        raise RuleViolation(
            "voucher.schedule_not_in_force",
            f"the schedule in force on {rec.local_date} is {current.id if current else 'none'}, "
            f"not {schedule.id}",
        )
    if h.zone not in schedule.prices:
        raise RuleViolation("voucher.zone_not_priced", f"schedule {schedule.id} prices no {h.zone} zone")
    face = face_value(h.area_m2, schedule.prices, h.zone, appraisal_fen)
    if amount_fen != face:
        raise RuleViolation(
            "voucher.face_value_mismatch",
            f"{h.area_m2} m² × {schedule.prices[h.zone]} fen ({h.zone}) + {appraisal_fen} fen appraised "
            f"= {face} fen, not {amount_fen}",
        )
    return schedule


def _reads(homestead_id: str, schedule_id: str) -> list[tuple[type, tuple[str, ...]] | Where]:
    return [
        (Homestead, (homestead_id,)),
        (PriceSchedule, (schedule_id,)),
        Where(Listing, "right_key", f"homestead:{homestead_id}"),
    ]


@rule(
    "voucher.issued",
    VoucherIssued,
    prefetch=lambda p, rec: [
        (Voucher, (p.voucher,)),
        *_reads(p.homestead, p.schedule),
        *[(Party, (h,)) for h in p.holders],
        *[(HouseholdMember, (h,)) for h in p.holders],
    ],
    signed_by=HOUSING_AUTHORITY,
    version=VOUCHER_VERSION,
)
def issue_voucher(state: State, rec: RecordContext, p: VoucherIssued) -> list[Change]:
    """The housing authority issues a house voucher (房票) to the household that gave up a
    homestead, its face computed from the price schedule in force and the appraised house.

    The holders are members of the household, by name; the county's voucher terms are copied
    onto the voucher."""
    county = authority_county(state, rec)
    if state.get(Voucher, p.voucher) is not None:
        raise RuleViolation("voucher.exists", f"voucher {p.voucher} exists")
    g = to_compensate(state, p.homestead, county)
    if g.withdrawal_choice == "cash":
        raise RuleViolation(
            "voucher.household_chose_cash", f"the withdrawal of homestead {p.homestead} recorded cash"
        )
    h = g.homestead
    schedule = checked_face(state, rec, county, h, p.schedule, p.appraisal_fen, p.face_fen)
    unique(p.holders, "holders")
    for party in p.holders:
        link = state.get(HouseholdMember, party)
        if state.get(Party, party) is None or link is None or link.household_id != g.household_id:
            raise RuleViolation(
                "voucher.holder_not_of_household",
                f"holder {party} is no registered member of household {g.household_id}",
            )
    policy = policy_for(state, county)
    voucher = make(
        Voucher,
        id=p.voucher,
        county_id=county,
        township_id=township_of(state, h.collective_id),
        collective_id=h.collective_id,
        household_id=g.household_id,
        homestead_id=h.id,
        holders=list(p.holders),
        parent_id=None,
        generation=0,
        schedule_id=schedule.id,
        zone=h.zone,
        area_m2=h.area_m2,
        price_fen_per_m2=int(schedule.prices[h.zone]),
        appraisal=p.appraisal,
        appraisal_fen=p.appraisal_fen,
        face_fen=p.face_fen,
        used_fen=0,
        bonus_fen=0,
        transferred_fen=0,
        balance_fen=p.face_fen,
        issued_seq=rec.seq,
        issued_on=rec.local_date,
        valid_until=valid_until(rec.local_date, policy.voucher_validity_months),
        **terms(policy),
        status=ACTIVE,
        cash_due_fen=None,
        ended_seq=None,
        redemptions=0,
    )
    compensation = make(
        HomesteadCompensation,
        homestead_id=h.id,
        household_id=g.household_id,
        choice="voucher",
        amount_fen=p.face_fen,
        voucher_id=p.voucher,
        seq=rec.seq,
    )
    return [Put(voucher), movement(rec, voucher, p.face_fen), Put(compensation)]


@rule(
    "voucher.cash_compensated",
    CashCompensated,
    prefetch=lambda p, rec: _reads(p.homestead, p.schedule),
    signed_by=HOUSING_AUTHORITY,
    version=VOUCHER_VERSION,
)
def compensate_in_cash(state: State, rec: RecordContext, p: CashCompensated) -> list[Change]:
    """The housing authority pays the household cash instead of a voucher for the homestead it
    gave up, computed as the voucher's face would be."""
    county = authority_county(state, rec)
    g = to_compensate(state, p.homestead, county)
    if g.withdrawal_choice == "voucher":
        raise RuleViolation(
            "voucher.household_chose_voucher", f"the withdrawal of homestead {p.homestead} recorded a voucher"
        )
    checked_face(state, rec, county, g.homestead, p.schedule, p.appraisal_fen, p.amount_fen)
    compensation = make(
        HomesteadCompensation,
        homestead_id=p.homestead,
        household_id=g.household_id,
        choice="cash",
        amount_fen=p.amount_fen,
        voucher_id=None,
        seq=rec.seq,
    )
    return [Put(compensation)]


RULES = (issue_voucher, compensate_in_cash)
