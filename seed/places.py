"""The places a seeded county is made of, modelled on the 2017 Weihai policy's own.

The ledger has one root (the genesis county). Which places go under it depends on the root's
area code:

- ``371000`` (威海市, the city that issued the policy): every area the policy names (环翠区,
  文登区, 荣成市, 乳山市, 南海新区) contributes townships, named with their area
  (``荣成市俚岛镇``). The ledger's codes must extend the root's, so township codes are
  ``371000`` + three digits; the area's own county code still appears in its residents' ID
  numbers. This is the demo's shape: one ledger for the policy's whole jurisdiction.
- one of the four county codes: only that area's townships (plus 南海新区's for 文登区, which
  it lies in), with real-looking codes ``<county>1NN``.
- any other code: invented township names under the root.

Township codes end ``1NN`` (towns, as in GB/T 10114 practice), village codes ``2NN``
(village committees). The five towns the policy names come first; the others are
illustrative names, not a gazetteer.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

POLICY_TOWNS = ("泊于镇", "崮山镇", "张村镇", "俚岛镇", "蔄山镇")


@dataclass(frozen=True)
class Area:
    """A district or county-level city (or the 南海新区 zone) and its townships."""

    name: str
    county_code: str  # the 6-digit code residents' ID numbers start with
    towns: tuple[str, ...]


AREAS = (
    Area("环翠区", "371002", ("泊于镇", "崮山镇", "张村镇", "羊亭镇", "温泉镇", "桥头镇")),
    Area("文登区", "371003", ("泽头镇", "宋村镇", "高村镇", "侯家镇", "界石镇", "米山镇")),
    Area("荣成市", "371082", ("俚岛镇", "蔄山镇", "成山镇", "埠柳镇", "港西镇", "夏庄镇")),
    Area("乳山市", "371083", ("海阳所镇", "白沙滩镇", "大孤山镇", "冯家镇", "下初镇", "午极镇")),
    Area("南海新区", "371003", ("张家产镇", "观海镇", "望岛镇")),
)
CITY_CODE = "371000"

INVENTED_SYLLABLES = "海山泉石港岭河桥崖峰湾泊松柳杏槐枣"
VILLAGE_SURNAMES = "王李张刘于孙丛林谷毕曲宋姜鞠初慕战邹汤夏隋徐"
VILLAGE_SUFFIXES = (
    "家庄",
    "家疃",
    "格庄",
    "家泊",
    "家夼",
    "家岭",
    "家洼",
    "家沟",
    "家村",
    "家埠",
    "家寨",
    "家屯",
)
VILLAGE_PREFIXES = ("", "", "", "", "东", "西", "南", "北", "前", "后", "上", "下", "大", "小")
# Homestead zones (DOMAIN.md caps) and how often a village lies in each.
ZONES = (("plain", 40), ("hilly_flat", 35), ("suburb", 15), ("plain_saline", 5), ("hilly_slope", 5))


@dataclass(frozen=True)
class Township:
    id: str
    name: str
    code: str  # 9 digits
    area: Area


@dataclass(frozen=True)
class VillagePlace:
    id: str
    name: str  # the village's own name (王家庄村)
    org_name: str  # the collective economic organisation's name
    code: str  # 12 digits
    township: Township
    zone: str


def areas_for(root_code: str, root_name: str) -> tuple[list[Area], bool]:
    """The areas under a root, and whether township names carry their area's name."""
    if root_code == CITY_CODE:
        return list(AREAS), True
    mine = [a for a in AREAS if a.county_code == root_code]
    if mine:
        return mine, False
    return [Area(root_name, root_code, ())], False


def township_count(villages: int) -> int:
    """About twenty villages a township, and at least five townships when there are five
    villages to share, so even a small demo shows every area."""
    return max(min(villages, 5), math.ceil(villages / 20))


def plan_townships(rng: random.Random, root_code: str, root_name: str, count: int) -> list[Township]:
    areas, prefixed = areas_for(root_code, root_name)
    # The areas in turn, each with the towns the policy names first.
    queues = [[(a, t) for t in sorted(a.towns, key=lambda t: t not in POLICY_TOWNS)] for a in areas]
    named: list[tuple[Area, str]] = []
    while any(queues):
        for queue in queues:
            if queue:
                named.append(queue.pop(0))
    taken = {t for _, t in named}
    turn = 0
    while len(named) < count:  # then invented ones, spread over the areas
        name = "".join(rng.sample(INVENTED_SYLLABLES, 2)) + "镇"
        if name not in taken:
            taken.add(name)
            named.append((areas[turn % len(areas)], name))
            turn += 1
    townships = []
    for i, (area, town) in enumerate(named[:count]):
        code = f"{root_code}{101 + i:03d}"
        townships.append(Township(f"town-{code}", f"{area.name}{town}" if prefixed else town, code, area))
    return townships


def plan_villages(rng: random.Random, townships: list[Township], count: int) -> list[VillagePlace]:
    """``count`` villages spread over the townships, each with a unique name in its township."""
    per = [count // len(townships) + (1 if i < count % len(townships) else 0) for i in range(len(townships))]
    zones, weights = zip(*ZONES, strict=True)
    villages = []
    for township, n in zip(townships, per, strict=True):
        names: set[str] = set()
        for j in range(n):
            while True:
                name = (
                    rng.choice(VILLAGE_PREFIXES)
                    + rng.choice(VILLAGE_SURNAMES)
                    + rng.choice(VILLAGE_SUFFIXES)
                    + "村"
                )
                if name not in names:
                    names.add(name)
                    break
            code = f"{township.code}{201 + j:03d}"  # about twenty a township: never past 999
            zone = rng.choices(zones, weights)[0]
            villages.append(
                VillagePlace(
                    f"vil-{code}", name, f"{township.name}{name}股份经济合作社", code, township, zone
                )
            )
    return villages
