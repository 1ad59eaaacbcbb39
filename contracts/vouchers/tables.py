"""The house vouchers' projection tables: price schedules, the developer pool and its projects,
vouchers and every movement of each, redemptions and the purchases they pay toward, and the one
compensation (voucher or cash) of each withdrawn homestead."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# A voucher's status. ``active``: spendable (balance > 0 while unexpired); ``spent``: a redemption
# brought the balance to 0; ``transferred``: its whole balance passed to its children;
# ``expired``: past its validity, the remainder due in cash (``cash_due_fen``); ``cashed_out``:
# that cash paid.
ACTIVE = "active"
SPENT = "spent"
TRANSFERRED = "transferred"
EXPIRED = "expired"
CASHED_OUT = "cashed_out"


class PriceSchedule(SQLModel, table=True):
    """A county's construction-land quota prices per zone (fen per m²) from ``effective_from``."""

    __tablename__ = "voucher_price_schedules"
    id: str = Field(primary_key=True)
    county_id: str = Field(index=True)
    effective_from: date
    prices: dict[str, Any] = Field(sa_type=JSONB)  # zone -> fen per m²
    published_seq: int = Field(sa_type=BigInteger)


class PoolDeveloper(SQLModel, table=True):
    """A developer in (or once in) its county's voucher pool."""

    __tablename__ = "voucher_pool_developers"
    developer_id: str = Field(primary_key=True)
    county_id: str = Field(index=True)
    status: str  # in_pool | left
    admitted_seq: int = Field(sa_type=BigInteger)
    left_seq: int | None = Field(default=None, sa_type=BigInteger)


class PoolProject(SQLModel, table=True):
    """A pool developer's housing project, by its presale permit (预售许可证) number."""

    __tablename__ = "voucher_pool_projects"
    id: str = Field(primary_key=True)
    developer_id: str = Field(index=True)
    county_id: str = Field(index=True)
    presale_permit: str = Field(index=True)
    area_code: str  # where the project lies (6, 9 or 12 digits)
    registered_seq: int = Field(sa_type=BigInteger)


class Voucher(SQLModel, table=True):
    """A house voucher (房票): its face, what was used and what is left, and the terms copied from
    the county's policy when it was issued (a later policy never alters it). Always
    ``balance_fen = face_fen - used_fen - transferred_fen >= 0``."""

    __tablename__ = "vouchers"
    id: str = Field(primary_key=True)
    county_id: str = Field(index=True)
    township_id: str = Field(index=True)
    collective_id: str = Field(index=True)
    household_id: str = Field(index=True)
    homestead_id: str = Field(index=True)
    holders: list[str] = Field(sa_type=JSONB)  # party ids, real-name
    parent_id: str | None = Field(default=None, index=True)  # the voucher it was split from
    generation: int  # 0 issued, 1 transferred
    schedule_id: str
    zone: str
    area_m2: int
    price_fen_per_m2: int = Field(sa_type=BigInteger)
    appraisal: str  # the house appraisal's document hash
    appraisal_fen: int = Field(sa_type=BigInteger)
    face_fen: int = Field(sa_type=BigInteger)
    used_fen: int = Field(sa_type=BigInteger)  # Σ redemption amounts
    bonus_fen: int = Field(sa_type=BigInteger)  # Σ bonus granted on them
    transferred_fen: int = Field(sa_type=BigInteger)
    balance_fen: int = Field(sa_type=BigInteger)
    issued_seq: int = Field(sa_type=BigInteger)
    issued_on: date
    valid_until: date
    bonus_tiers: list[Any] = Field(sa_type=JSONB)  # [[bound month, bp], ...]
    transfers_allowed: int
    par_share_bp: int
    floor_m2_per_person: int
    stages: list[Any] = Field(sa_type=JSONB)  # [[stage, bp], ...]
    status: str
    cash_due_fen: int | None = Field(default=None, sa_type=BigInteger)
    ended_seq: int | None = Field(default=None, sa_type=BigInteger)
    redemptions: int = 0


class VoucherMovement(SQLModel, table=True):
    """One record that changed a voucher (issued, redeemed, transferred out or in, expired,
    cashed out) and the balance it left."""

    __tablename__ = "voucher_movements"
    voucher_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True, sa_type=BigInteger)
    kind: str
    amount_fen: int = Field(sa_type=BigInteger)
    bonus_fen: int = Field(sa_type=BigInteger)
    balance_fen: int = Field(sa_type=BigInteger)
    ref: str | None = None  # the redemption, a child voucher, or the parent


class Redemption(SQLModel, table=True):
    """A voucher spent with a pool developer against a purchase contract, and how far the county
    has settled its value with the developer, stage by stage."""

    __tablename__ = "voucher_redemptions"
    id: str = Field(primary_key=True)
    voucher_id: str = Field(index=True)
    developer_id: str = Field(index=True)
    project_id: str = Field(index=True)
    county_id: str = Field(index=True)
    holder: str
    purchase_contract: str
    unit: str
    price_fen: int = Field(sa_type=BigInteger)
    amount_fen: int = Field(sa_type=BigInteger)
    bonus_bp: int
    bonus_fen: int = Field(sa_type=BigInteger)
    value_fen: int = Field(sa_type=BigInteger)
    month_of_voucher: int
    redeemed_seq: int = Field(sa_type=BigInteger)
    redeemed_on: date
    stages: list[Any] = Field(sa_type=JSONB)  # [[stage, bp], ...], the voucher's
    settled_stages: int = 0
    settled_fen: int = Field(default=0, sa_type=BigInteger)


class Purchase(SQLModel, table=True):
    """A purchase contract with a developer and the value every redemption applied to it."""

    __tablename__ = "voucher_purchases"
    developer_id: str = Field(primary_key=True)
    purchase_contract: str = Field(primary_key=True)
    project_id: str
    price_fen: int = Field(sa_type=BigInteger)
    applied_fen: int = Field(sa_type=BigInteger)


class HomesteadCompensation(SQLModel, table=True):
    """The one compensation of a household for a homestead it gave up: a voucher or cash."""

    __tablename__ = "homestead_compensations"
    homestead_id: str = Field(primary_key=True)
    household_id: str = Field(primary_key=True)
    choice: str  # voucher | cash
    amount_fen: int = Field(sa_type=BigInteger)
    voucher_id: str | None = None
    seq: int = Field(sa_type=BigInteger)


TABLES = (
    PriceSchedule,
    PoolDeveloper,
    PoolProject,
    Voucher,
    VoucherMovement,
    Redemption,
    Purchase,
    HomesteadCompensation,
)
