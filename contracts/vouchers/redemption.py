"""Spending a voucher: ``voucher.redeemed``, signed by a developer of the voucher county's pool
against a purchase contract on one of its projects in the county (partial use allowed, never
beyond the balance, only while valid, the month's bonus applied), and ``voucher.settled``, the
county's housing authority paying the developer a redemption's value stage by stage."""

from __future__ import annotations

from typing import Annotated

import msgspec

from contracts.errors import RuleViolation
from contracts.exchange.common import Fen, PositiveFen
from contracts.land import ContractId
from contracts.orgs import Org
from contracts.parties import Sha256Hex, Uuid
from contracts.policy import SettlementStage
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Put, State, make
from contracts.vouchers.arithmetic import bonus_bp, month_of_voucher, redemption_bonus, stage_amounts
from contracts.vouchers.common import (
    HOUSING_AUTHORITY,
    authority_county,
    forbidden,
    movement,
    not_past_validity,
    require_authority_of,
    voucher_of,
)
from contracts.vouchers.pool import in_pool
from contracts.vouchers.tables import ACTIVE, SPENT, PoolDeveloper, PoolProject, Purchase, Redemption, Voucher
from contracts.vouchers.terms import VOUCHER_VERSION
from ledger.errors import Category

Unit = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Za-z][0-9A-Za-z-]{0,31}$")]


class Redeemed(Payload, frozen=True):
    redemption: ContractId
    voucher: ContractId
    holder: Uuid
    project: ContractId
    purchase_contract: Sha256Hex
    unit: Unit  # the flat's number in the project
    price_fen: PositiveFen
    amount_fen: PositiveFen


class Settled(Payload, frozen=True):
    redemption: ContractId
    stage: SettlementStage
    amount_fen: Fen
    payment: Sha256Hex


def _project(state: State, project_id: str, developer_id: str, county: Org) -> PoolProject:
    project = state.get(PoolProject, project_id)
    if project is None:
        raise RuleViolation("voucher.unknown_project", f"no project {project_id} in the pool")
    if project.developer_id != developer_id:
        raise RuleViolation(
            "voucher.project_not_developers", f"project {project_id} is {project.developer_id}'s"
        )
    if not county.area_code or not project.area_code.startswith(county.area_code):
        raise RuleViolation(
            "voucher.outside_county",
            f"project {project_id} lies in {project.area_code}, outside county {county.area_code}: "
            "a voucher is spent only in the county that issued it",
        )
    return project


@rule(
    "voucher.redeemed",
    Redeemed,
    prefetch=lambda p, rec: [
        (Org, (rec.actor,)),
        (Redemption, (p.redemption,)),
        (Voucher, (p.voucher,)),
        (PoolDeveloper, (rec.actor,)),
        (PoolProject, (p.project,)),
        (Purchase, (rec.actor, p.purchase_contract)),
    ],
    signed_by=Signers(("developer",), "a developer of the voucher county's pool, for itself"),
    version=VOUCHER_VERSION,
)
def redeem(state: State, rec: RecordContext, p: Redeemed) -> list[Change]:
    """A pool developer takes part of a voucher's balance toward a purchase contract for a flat in
    its project; the voucher pays the amount plus the bonus of the voucher's month."""
    developer = state.get(Org, rec.actor)
    if developer is None or developer.type != "developer":
        raise forbidden("voucher.not_developer", f"{rec.actor} is not a developer")
    if state.get(Redemption, p.redemption) is not None:
        raise RuleViolation("voucher.redemption_exists", f"redemption {p.redemption} exists")
    v = voucher_of(state, p.voucher)
    in_pool(state, developer.id, v.county_id)
    county = state.get(Org, v.county_id)
    assert county is not None
    project = _project(state, p.project, developer.id, county)
    not_past_validity(v, rec)
    if v.status != ACTIVE:
        raise RuleViolation("voucher.not_active", f"voucher {v.id} is {v.status}")
    if p.holder not in v.holders:
        raise RuleViolation("voucher.not_holder", f"{p.holder} is not a holder of voucher {v.id}")
    # The invariant: a voucher is never spent beyond its balance, so the balance never goes negative.
    if p.amount_fen > v.balance_fen:
        raise RuleViolation(
            "voucher.beyond_balance", f"voucher {v.id} has {v.balance_fen} fen left, not {p.amount_fen}"
        )
    month = month_of_voucher(v.issued_on, rec.local_date)
    bp = bonus_bp(v.bonus_tiers, month)
    bonus = redemption_bonus(p.amount_fen, bp)
    value = p.amount_fen + bonus
    purchase = state.get(Purchase, developer.id, p.purchase_contract)
    if purchase is not None and purchase.price_fen != p.price_fen:
        raise RuleViolation(
            "voucher.purchase_price_differs",
            f"purchase contract {p.purchase_contract} was recorded at {purchase.price_fen} fen",
        )
    applied = (purchase.applied_fen if purchase else 0) + value
    if applied > p.price_fen:
        raise RuleViolation(
            "voucher.beyond_price",
            f"vouchers would pay {applied} fen toward a purchase of {p.price_fen} fen",
        )
    balance = v.balance_fen - p.amount_fen
    spent = v.model_copy(
        update={
            "used_fen": v.used_fen + p.amount_fen,
            "bonus_fen": v.bonus_fen + bonus,
            "balance_fen": balance,
            "redemptions": v.redemptions + 1,
            **({"status": SPENT, "ended_seq": rec.seq} if balance == 0 else {}),
        }
    )
    redemption = make(
        Redemption,
        id=p.redemption,
        voucher_id=v.id,
        developer_id=developer.id,
        project_id=project.id,
        county_id=v.county_id,
        holder=p.holder,
        purchase_contract=p.purchase_contract,
        unit=p.unit,
        price_fen=p.price_fen,
        amount_fen=p.amount_fen,
        bonus_bp=bp,
        bonus_fen=bonus,
        value_fen=value,
        month_of_voucher=month,
        redeemed_seq=rec.seq,
        redeemed_on=rec.local_date,
        stages=[list(s) for s in v.stages],
        settled_stages=0,
        settled_fen=0,
    )
    paid = (
        purchase.model_copy(update={"applied_fen": applied})
        if purchase
        else make(
            Purchase,
            developer_id=developer.id,
            purchase_contract=p.purchase_contract,
            project_id=project.id,
            price_fen=p.price_fen,
            applied_fen=applied,
        )
    )
    return [Put(spent), movement(rec, spent, p.amount_fen, bonus, p.redemption), Put(redemption), Put(paid)]


@rule(
    "voucher.settled",
    Settled,
    prefetch=lambda p, rec: [(Redemption, (p.redemption,))],
    signed_by=HOUSING_AUTHORITY,
    version=VOUCHER_VERSION,
)
def settle(state: State, rec: RecordContext, p: Settled) -> list[Change]:
    """The housing authority pays the developer one stage of a redemption's value (contract,
    registration, handover: the voucher's stages, in order, each once)."""
    county = authority_county(state, rec)
    r = state.get(Redemption, p.redemption)
    if r is None:
        raise RuleViolation(
            "voucher.unknown_redemption", f"no redemption {p.redemption}", category=Category.NOT_FOUND
        )
    require_authority_of(r.county_id, county, f"redemption {r.id}")
    due = stage_amounts(r.value_fen, r.stages)
    names = [name for name, _ in due]
    if p.stage not in names:
        raise RuleViolation("voucher.unknown_stage", f"redemption {r.id} settles in stages {names}")
    i = names.index(p.stage)
    if i < r.settled_stages:
        raise RuleViolation("voucher.stage_settled", f"stage {p.stage} of redemption {r.id} is settled")
    if i > r.settled_stages:
        raise RuleViolation(
            "voucher.stage_out_of_order", f"stage {names[r.settled_stages]} of redemption {r.id} comes first"
        )
    if p.amount_fen != due[i][1]:
        raise RuleViolation(
            "voucher.settlement_mismatch",
            f"stage {p.stage} of {r.value_fen} fen pays {due[i][1]} fen, not {p.amount_fen}",
        )
    row = r.model_copy(update={"settled_stages": i + 1, "settled_fen": r.settled_fen + p.amount_fen})
    return [Put(row)]


RULES = (redeem, settle)
