"""Land quotas (增减挂钩节余指标 / 地票): collective building land reclaimed to farmland (a
withdrawn homestead, a disused collective site) becomes a building-land quota, confirmed in m²,
traded on the exchange like any other right, its proceeds split between the household and the
collective by the county's policy, and used once (落地) in a city zone. Rule version 4 brings its
kinds: ``reclamation`` (applied, project approved, accepted, confirmed) and ``trade`` (the
proceeds split, the use); the listing and the move to the buyer are the exchange's version-4
revisions (``contracts.exchange``)."""

from typing import Any

from sqlmodel import SQLModel

from contracts.quotas import reclamation, trade
from contracts.quotas.tables import LandQuota
from contracts.registry import Rule

TABLES: tuple[type[SQLModel], ...] = (LandQuota,)
RULES: tuple[Rule[Any], ...] = (*reclamation.RULES, *trade.RULES)

__all__ = ["RULES", "TABLES", "LandQuota"]
