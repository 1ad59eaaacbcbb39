"""Building a small collective registry through the real API: persons, households, members."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from api.client import Person
from contracts.identifiers import resident_id_check_char
from ledger.signing import KeyFile
from tests.support import LedgerFixture

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def new_person(rng: random.Random, born: date | None = None, sex: str | None = None) -> Person:
    born = born or date(1950, 1, 1) + timedelta(days=rng.randrange(60 * 365))
    sex = sex or rng.choice("MF")
    serial = rng.randrange(0, 499) * 2 + (1 if sex == "M" else 0)
    first17 = f"371003{born:%Y%m%d}{serial:03d}"
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return Person(
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        name,
        first17 + resident_id_check_char(first17),
        sex,
        born.isoformat(),
        f"13{rng.randrange(10**9):09d}",
    )


def hexdigest(label: str) -> str:
    import hashlib

    return hashlib.sha256(label.encode()).hexdigest()


@dataclass
class Village:
    """A township and a village collective, with helpers to fill the village."""

    fx: LedgerFixture
    township: str
    village: str
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    @property
    def key(self) -> KeyFile:
        return self.fx.keys[self.village]

    @property
    def code(self) -> str:
        return self.fx.codes[self.village]

    async def append(self, kind: str, payload: dict[str, Any], key: KeyFile | None = None) -> Any:
        return await self.fx.client.append(key or self.key, kind, payload)

    async def submit(self, kind: str, payload: dict[str, Any], key: KeyFile | None = None) -> Any:
        """Raw response, for tests that expect a refusal."""
        return await self.fx.submit(key or self.key, kind, payload)

    async def person(self, person: Person | None = None) -> Person:
        person = person or new_person(self.rng)
        await self.fx.origin_ready()
        item = await self.fx.client.person_entry(self.key, person, clock=self.fx.clock)
        await self.fx.client.submit(item)
        return person

    async def household(self, size: int = 3) -> tuple[str, list[Person]]:
        people = [await self.person() for _ in range(size)]
        household = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        relations = (["head", "spouse"] + ["child"] * max(size - 2, 0))[:size]
        await self.append(
            "household.registered",
            {
                "household": household,
                "head": people[0].party,
                "members": [
                    {"party": p.party, "relation": r} for p, r in zip(people, relations, strict=True)
                ],
            },
        )
        return household, people

    def decision(
        self,
        *,
        contested: bool = False,
        votes_for: int = 40,
        attendance: int = 50,
        eligible: int = 60,
        meeting: str = "members_assembly",
        notice_days: int = 7,
    ) -> dict[str, Any]:
        start = self.fx.clock().date()
        return {
            "meeting": meeting,
            "eligible": eligible,
            "attendance": attendance,
            "votes_for": votes_for,
            "contested": contested,
            "notice_start": start.isoformat(),
            "notice_end": (start + timedelta(days=notice_days)).isoformat(),
            "evidence": [hexdigest("minutes")],
        }

    async def admit(self, party: str, household: str | None = None, **decision: Any) -> Any:
        return await self.append(
            "member.admitted",
            {"party": party, "basis": "hukou", "household": household, "decision": self.decision(**decision)},
        )

    async def members(self, size: int = 3) -> tuple[str, list[Person]]:
        """A household whose people are admitted and confirmed members."""
        household, people = await self.household(size)
        for p in people:
            await self.admit(p.party, household)
        self.fx.clock.advance(days=8)  # type: ignore[attr-defined]
        for p in people:
            await self.append("member.confirmed", {"party": p.party})
        return household, people

    def parcel(self, n: int) -> str:
        return f"{self.code}{n:07d}"


async def village(fx: LedgerFixture, township: str, village_id: str) -> Village:
    if township not in fx.keys:
        await fx.register("county", township, "township")
    await fx.register(township, village_id, "village_collective")
    return Village(fx, township, village_id, random.Random(village_id))
