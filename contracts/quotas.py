"""Land quotas (增减挂钩节余指标 / 地票): collective building land reclaimed to farmland becomes
a building-land quota, traded on the exchange and used once. Rule version 4 brings its kinds."""

from typing import Any

from contracts.registry import Rule

TABLES: tuple[type, ...] = ()
RULES: tuple[Rule[Any], ...] = ()
