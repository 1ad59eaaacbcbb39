"""Dividends: a declaration of an amount out of distributable income, paid per unit held.

Payout rule (stated once, applied everywhere): each holder's exact share is
``amount * units / total``; every holder gets the floor of it, and the fen left over go one
each to the holders with the largest fractional remainders, ties broken by holder id. The
payouts therefore sum to the declared amount to the fen. Holdings are those at the
declaration's record. A settled-in-town member keeps receiving dividends.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from sqlalchemy import BigInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.households import require_collective
from contracts.land import ContractId
from contracts.parties import Sha256Hex
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.shares import ShareHolding, scheme_of
from contracts.state import Change, Put, State, Where, make

Fen = Annotated[int, msgspec.Meta(ge=0, le=10**15)]


class Dividend(SQLModel, table=True):
    __tablename__ = "dividends"
    id: str = Field(primary_key=True)
    collective_id: str = Field(index=True)
    distributable_fen: int = Field(sa_type=BigInteger)
    amount_fen: int = Field(sa_type=BigInteger)
    units: int = Field(sa_type=BigInteger)
    declared_seq: int = Field(sa_type=BigInteger)
    # holder -> [units, amount_fen]: the payout list is one fact of one record, fixed when it
    # is declared and always read whole, so it is one value, not a row per holder.
    payouts: dict[str, list[int]] = Field(sa_type=JSONB)


TABLES = (Dividend,)


class DividendDeclared(Payload, frozen=True):
    dividend: ContractId
    distributable_fen: Fen
    amount_fen: Fen
    resolution: Sha256Hex


def payouts(amount: int, holdings: dict[str, int]) -> dict[str, int]:
    """Split ``amount`` fen over ``holdings`` (holder -> units) by the largest remainder."""
    total = sum(holdings.values())
    if total <= 0:
        return {}
    base = {h: amount * u // total for h, u in holdings.items()}
    left = amount - sum(base.values())
    by_remainder = sorted(holdings, key=lambda h: (-(amount * holdings[h] % total), h))
    for h in by_remainder[:left]:
        base[h] += 1
    return base


@rule(
    "dividend.declared",
    DividendDeclared,
    prefetch=lambda p, rec: [(Dividend, (p.dividend,)), Where(ShareHolding, "collective_id", rec.actor)],
    signed_by=Signers(("village_collective",), "the collective whose shares they are"),
)
def declare_dividend(state: State, rec: RecordContext, p: DividendDeclared) -> list[Change]:
    """The collective declares a dividend out of distributable income, paid per unit held, to the fen."""
    require_collective(state, rec.actor)
    scheme_of(state, rec.actor)
    if state.get(Dividend, p.dividend) is not None:
        raise RuleViolation("dividend.exists", f"dividend {p.dividend} exists")
    if p.amount_fen > p.distributable_fen:
        raise RuleViolation(
            "dividend.over_distributable",
            f"{p.amount_fen} fen declared out of {p.distributable_fen} distributable",
        )
    holdings = {h.holder: h.units for h in state.find(ShareHolding, collective_id=rec.actor) if h.units > 0}
    split = payouts(p.amount_fen, holdings)
    return [
        Put(
            make(
                Dividend,
                id=p.dividend,
                collective_id=rec.actor,
                distributable_fen=p.distributable_fen,
                amount_fen=p.amount_fen,
                units=sum(holdings.values()),
                declared_seq=rec.seq,
                payouts={h: [holdings[h], fen] for h, fen in sorted(split.items())},
            )
        )
    ]
