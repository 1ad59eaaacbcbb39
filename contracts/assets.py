"""Asset verification (清产核资): a collective's inventory of operating assets (quantified into
shares), liabilities, and resource and non-operating assets (listed, never quantified). A later
verification supersedes an earlier one; none is ever edited."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import BigInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.households import require_collective
from contracts.land import ContractId
from contracts.parties import Sha256Hex
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Put, State, make

Fen = Annotated[int, msgspec.Meta(ge=0, le=10**15)]
# What an asset is, from a closed list (农村集体资产清产核资 classes): never a free-text label.
Category = Literal[
    "factory_rental",
    "market",
    "cold_store",
    "berth",
    "shop",
    "livestock_farm",
    "enterprise_equity",
    "collective_forest",
    "barren_hills",
    "farmland",
    "water_area",
    "village_office",
    "school",
    "clinic",
    "road",
    "irrigation",
    "other",
]


class AssetVerification(SQLModel, table=True):
    __tablename__ = "asset_verifications"
    id: str = Field(primary_key=True)
    collective_id: str = Field(index=True)
    as_of: date
    operating_fen: int = Field(sa_type=BigInteger)
    liabilities_fen: int = Field(sa_type=BigInteger)
    net_operating_fen: int = Field(sa_type=BigInteger)
    details: dict[str, Any] = Field(sa_type=JSONB)
    audit_statement: str
    verified_seq: int = Field(sa_type=BigInteger)
    superseded_by: str | None = None


TABLES = (AssetVerification,)


class AssetItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    category: Category
    value_fen: Fen


class ListedAsset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A resource or non-operating asset: listed, not quantified (area or value optional)."""

    category: Category
    area_m2: Annotated[int, msgspec.Meta(ge=0)] | None = None
    value_fen: Fen | None = None


class AssetsVerified(Payload, frozen=True):
    verification: ContractId
    as_of: date
    operating_assets: Annotated[list[AssetItem], msgspec.Meta(min_length=1, max_length=500)]
    liabilities_fen: Fen
    resource_assets: list[ListedAsset] = []
    non_operating_assets: list[ListedAsset] = []
    audit_statement: Sha256Hex = "0" * 64


def current_verification(state: State, collective_id: str) -> AssetVerification | None:
    rows = [v for v in state.find(AssetVerification, collective_id=collective_id) if v.superseded_by is None]
    return rows[0] if rows else None


@rule(
    "assets.verified",
    AssetsVerified,
    prefetch=lambda p, rec: [(AssetVerification, (p.verification,))],
    signed_by=Signers(("village_collective",), "the collective itself"),
)
def verify_assets(state: State, rec: RecordContext, p: AssetsVerified) -> list[Change]:
    """The collective records an asset verification (清产核资): operating assets, liabilities and listed
    assets."""
    require_collective(state, rec.actor)
    if state.get(AssetVerification, p.verification) is not None:
        raise RuleViolation("assets.exists", f"verification {p.verification} exists")
    previous = current_verification(state, rec.actor)
    if previous is not None and p.as_of < previous.as_of:
        raise RuleViolation(
            "assets.older_than_current", f"the current verification is as of {previous.as_of}"
        )
    operating = sum(a.value_fen for a in p.operating_assets)
    details = msgspec.to_builtins(
        {
            "operating_assets": p.operating_assets,
            "resource_assets": p.resource_assets,
            "non_operating_assets": p.non_operating_assets,
        }
    )
    changes: list[Change] = [
        Put(
            make(
                AssetVerification,
                id=p.verification,
                collective_id=rec.actor,
                as_of=p.as_of,
                operating_fen=operating,
                liabilities_fen=p.liabilities_fen,
                net_operating_fen=operating - p.liabilities_fen,
                details=details,
                audit_statement=p.audit_statement,
                verified_seq=rec.seq,
                superseded_by=None,
            )
        )
    ]
    if previous is not None:
        changes.append(Put(previous.model_copy(update={"superseded_by": p.verification})))
    return changes
