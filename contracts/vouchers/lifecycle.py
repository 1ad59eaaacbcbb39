"""The rest of a voucher's life: ``voucher.transferred`` (once, whole or split among several
transferees, where the county's terms allow it: the children keep their parent's terms, issue
date and expiry, and a transferred voucher is never transferred again), ``voucher.expired``
(after its last valid day: the remainder due in cash by the par-share rule) and
``voucher.cashed_out`` (that cash paid, once). No kind pledges a voucher: there is no pledge."""

from __future__ import annotations

from typing import Annotated

import msgspec

from contracts.errors import RuleViolation
from contracts.exchange.common import Fen, PositiveFen
from contracts.households import members_of
from contracts.land import Area, ContractId
from contracts.orgs import Org
from contracts.parties import Party, Sha256Hex
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Put, State
from contracts.vouchers.arithmetic import expiry_cash
from contracts.vouchers.common import (
    HOUSING_AUTHORITY,
    Holders,
    authority_county,
    forbidden,
    movement,
    not_past_validity,
    require_authority_of,
    unique,
    voucher_of,
)
from contracts.vouchers.tables import ACTIVE, CASHED_OUT, EXPIRED, TRANSFERRED, Voucher
from contracts.vouchers.terms import VOUCHER_VERSION


class Part(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    voucher: ContractId  # the child voucher's id
    holders: Holders
    amount_fen: PositiveFen


class Transferred(Payload, frozen=True):
    voucher: ContractId
    consent: Sha256Hex  # the holders' written consent
    housing_record: Sha256Hex  # the housing record showing the floor area the household keeps
    household_floor_area_m2: Area
    parts: Annotated[list[Part], msgspec.Meta(min_length=1, max_length=10)]


class Expired(Payload, frozen=True):
    voucher: ContractId
    cash_fen: Fen


class CashedOut(Payload, frozen=True):
    voucher: ContractId
    amount_fen: Fen
    payment: Sha256Hex


def _authority_voucher(state: State, rec: RecordContext, voucher_id: str) -> Voucher:
    county = authority_county(state, rec)
    v = voucher_of(state, voucher_id)
    require_authority_of(v.county_id, county, f"voucher {v.id}")
    return v


@rule(
    "voucher.transferred",
    Transferred,
    prefetch=lambda p, rec: [
        (Voucher, (p.voucher,)),
        *[(Voucher, (part.voucher,)) for part in p.parts],
        *[(Party, (h,)) for part in p.parts for h in part.holders],
    ],
    signed_by=HOUSING_AUTHORITY,
    version=VOUCHER_VERSION,
)
def transfer(state: State, rec: RecordContext, p: Transferred) -> list[Change]:
    """The housing authority records a voucher's transfer, whole or split: the parent's whole
    balance passes to the child vouchers, one per transferee's part."""
    v = _authority_voucher(state, rec, p.voucher)
    if v.transfers_allowed == 0:
        raise RuleViolation("voucher.transfer_not_allowed", f"voucher {v.id}'s terms allow no transfer")
    if v.generation >= 1:
        raise RuleViolation(
            "voucher.transferred_again",
            f"voucher {v.id} was itself transferred: it is never transferred again",
        )
    not_past_validity(v, rec)
    if v.status != ACTIVE:
        raise RuleViolation("voucher.not_active", f"voucher {v.id} is {v.status}")
    people = len(members_of(state, v.household_id))
    if p.household_floor_area_m2 < v.floor_m2_per_person * people:
        raise RuleViolation(
            "voucher.floor_area_short",
            f"the household of {people} keeps {p.household_floor_area_m2} m², under "
            f"{v.floor_m2_per_person} m² per person",
        )
    if sum(part.amount_fen for part in p.parts) != v.balance_fen:
        raise RuleViolation(
            "voucher.parts_not_summing", f"the parts do not sum to the balance of {v.balance_fen} fen"
        )
    ids = [part.voucher for part in p.parts]
    for child_id in ids:
        if child_id == v.id or ids.count(child_id) > 1 or state.get(Voucher, child_id) is not None:
            raise RuleViolation("voucher.exists", f"voucher {child_id} exists or is named twice")
    for part in p.parts:
        unique(part.holders, "a part's holders")
        for party in part.holders:
            if state.get(Party, party) is None:
                raise RuleViolation("voucher.unknown_holder", f"party {party} is not registered")
    parent = v.model_copy(
        update={
            "status": TRANSFERRED,
            "transferred_fen": v.transferred_fen + v.balance_fen,
            "balance_fen": 0,
            "ended_seq": rec.seq,
        }
    )
    changes: list[Change] = [Put(parent), movement(rec, parent, v.balance_fen, ref=",".join(ids))]
    for part in p.parts:
        child = v.model_copy(
            update={
                "id": part.voucher,
                "holders": list(part.holders),
                "parent_id": v.id,
                "generation": v.generation + 1,
                "face_fen": part.amount_fen,
                "used_fen": 0,
                "bonus_fen": 0,
                "transferred_fen": 0,
                "balance_fen": part.amount_fen,
                "issued_seq": rec.seq,
                "status": ACTIVE,
                "cash_due_fen": None,
                "ended_seq": None,
                "redemptions": 0,
            }
        )
        changes += [Put(child), movement(rec, child, part.amount_fen, ref=v.id)]
    return changes


@rule(
    "voucher.expired",
    Expired,
    prefetch=lambda p, rec: [(Org, (rec.actor,)), (Voucher, (p.voucher,))],
    signed_by=Signers(("county", "housing_authority"), "the voucher's county or its housing authority"),
    version=VOUCHER_VERSION,
)
def expire(state: State, rec: RecordContext, p: Expired) -> list[Change]:
    """A voucher past its last valid day expires: its remainder is due in cash, at par when the
    county's par share of its face was used, otherwise less the bonus granted, pro rata."""
    actor = state.get(Org, rec.actor)
    if actor is not None and actor.type == "county":
        v = voucher_of(state, p.voucher)
        if v.county_id != actor.id:
            raise forbidden("voucher.not_county", f"voucher {v.id} is of county {v.county_id}")
    else:
        v = _authority_voucher(state, rec, p.voucher)
    if rec.local_date <= v.valid_until:
        raise RuleViolation("voucher.not_expired", f"voucher {v.id} is valid until {v.valid_until}")
    if v.status != ACTIVE:
        raise RuleViolation("voucher.not_active", f"voucher {v.id} is {v.status}")
    cash = expiry_cash(v.face_fen, v.used_fen, v.bonus_fen, v.balance_fen, v.par_share_bp)
    if p.cash_fen != cash:
        raise RuleViolation(
            "voucher.cash_mismatch",
            f"{v.used_fen} of {v.face_fen} fen used, {v.bonus_fen} fen bonus granted: "
            f"the {v.balance_fen} fen left is paid as {cash} fen",
        )
    # The balance stays what was never used; the cash due is recorded beside it.
    row = v.model_copy(update={"status": EXPIRED, "cash_due_fen": cash, "ended_seq": rec.seq})
    return [Put(row), movement(rec, row, cash)]


@rule(
    "voucher.cashed_out",
    CashedOut,
    prefetch=lambda p, rec: [(Org, (rec.actor,)), (Voucher, (p.voucher,))],
    signed_by=HOUSING_AUTHORITY,
    version=VOUCHER_VERSION,
)
def cash_out(state: State, rec: RecordContext, p: CashedOut) -> list[Change]:
    """The housing authority pays an expired voucher's cash due, once."""
    v = _authority_voucher(state, rec, p.voucher)
    if v.status == CASHED_OUT:
        raise RuleViolation(
            "voucher.already_cashed_out", f"voucher {v.id} was cashed out at seq {v.ended_seq}"
        )
    if v.status != EXPIRED:
        raise RuleViolation(
            "voucher.not_expired_yet", f"voucher {v.id} is {v.status}; it is cashed out once expired"
        )
    if p.amount_fen != v.cash_due_fen:
        raise RuleViolation(
            "voucher.cash_mismatch", f"voucher {v.id}'s cash due is {v.cash_due_fen} fen, not {p.amount_fen}"
        )
    row = v.model_copy(update={"status": CASHED_OUT, "ended_seq": rec.seq})
    return [Put(row), movement(rec, row, p.amount_fen)]


RULES = (transfer, expire, cash_out)
