"""Monitoring counts (信息管理系统) of a county, township or village."""

from __future__ import annotations

import msgspec

from api.http.wire.records import SignedCheckpoint


class Region(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str
    type: str
    area_code: str | None


class Figures(msgspec.Struct, forbid_unknown_fields=True):
    """Counts and areas (m²) as of the seq; ``transfer_filings`` by scope."""

    members_by_status: dict[str, int]
    people_settled_in_town: int
    households: int
    households_settled_in_town: int
    transfer_filings: dict[str, int]
    land_contracts: int
    land_area_m2: int
    homesteads_held: int
    homesteads_withdrawn: int
    homestead_area_m2: int
    settled_retained_land_area_m2: int
    settled_retained_homestead_area_m2: int


class RegionFigures(msgspec.Struct, forbid_unknown_fields=True):
    org: Region
    figures: Figures


class MonitoringCounts(msgspec.Struct, forbid_unknown_fields=True):
    """The region's figures and each child organisation's (a county's townships, a township's
    villages)."""

    org: Region
    as_of: int
    checkpoint: SignedCheckpoint
    figures: Figures
    children: list[RegionFigures]
