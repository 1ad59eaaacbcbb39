"""The land quotas' projection table: one row per quota, from its application to its use.

It imports nothing of the exchange, which reads it (a quota listed, moved on the certificate)."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

# A quota's status, in the only order it moves: ``applied`` (the collective's application with
# the holder's consent), ``approved`` (the reclamation project), ``accepted`` (joint acceptance,
# area measured), ``confirmed`` (the quota in m²: listable), ``traded`` (moved to the buyer on
# the exchange certificate), ``used`` (落地, once, against a city zone).
STATUSES = ("applied", "approved", "accepted", "confirmed", "traded", "used")


class LandQuota(SQLModel, table=True):
    """A building-land quota (增减挂钩节余指标 / 地票) from one reclaimed site and where it stands.
    ``holder`` is the household (a withdrawn homestead's) or the collective (a collective
    site's) until the trade, then the buyer: a party id or an entity's credit code."""

    __tablename__ = "land_quotas"
    id: str = Field(primary_key=True)
    county_id: str = Field(index=True)
    township_id: str = Field(index=True)
    collective_id: str = Field(index=True)
    source: str  # homestead | collective_site
    site: str = Field(index=True)  # the homestead's id, or the collective site's parcel code
    household_id: str | None = None  # the withdrawn homestead's household
    site_area_m2: int
    holder: str
    holder_kind: str  # household | collective | party | entity
    status: str
    applied_seq: int = Field(sa_type=BigInteger)
    holder_consent: str
    collective_consent: str
    project_document: str | None = None
    approved_seq: int | None = Field(default=None, sa_type=BigInteger)
    measured_m2: int | None = None
    acceptance_document: str | None = None
    accepted_seq: int | None = Field(default=None, sa_type=BigInteger)
    quota_m2: int | None = None
    confirmed_seq: int | None = Field(default=None, sa_type=BigInteger)
    listing_id: str | None = None
    value_fen: int | None = Field(default=None, sa_type=BigInteger)
    traded_seq: int | None = Field(default=None, sa_type=BigInteger)
    household_fen: int | None = Field(default=None, sa_type=BigInteger)
    collective_fen: int | None = Field(default=None, sa_type=BigInteger)
    split_seq: int | None = Field(default=None, sa_type=BigInteger)
    used_zone: str | None = None
    used_seq: int | None = Field(default=None, sa_type=BigInteger)


def quota_key(quota_id: str) -> str:
    """The right key of a quota's exchange listing."""
    return f"quota:{quota_id}"
