"""Seeded persons: Faker ``zh_CN`` names and phones, resident ID numbers (GB 11643) whose birth
date, sex digit and check character agree with the person."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import date, timedelta

from faker import Faker
from faker.providers.person.zh_CN import Provider

from api.client import Person
from contracts.identifiers import resident_id_check_char

# Where spouses who marry in from outside the county were born (Shandong county codes).
ELSEWHERE = (
    "370102",
    "370203",
    "370212",
    "370602",
    "370613",
    "370687",
    "370785",
    "371102",
    "371311",
    "370883",
)


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class PersonMaker:
    """Makes persons from one seeded ``Faker`` and one ``random.Random``; resident ID numbers are
    unique across everything one maker made (the ledger refuses a number registered twice)."""

    def __init__(self, seed: int) -> None:
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.used: set[str] = set()
        # Faker's own surname frequencies, drawn with cumulative weights computed once
        # (``fake.last_name()`` recomputes them on every call, a third of a person's cost).
        surnames: dict[str, float] = Provider.last_names  # type: ignore[assignment]
        self.surnames = list(surnames)
        self.surname_weights = list(itertools.accumulate(surnames.values()))

    def last_name(self) -> str:
        return self.fake.random.choices(self.surnames, cum_weights=self.surname_weights)[0]

    def reseed(self, rng: random.Random) -> None:
        """Tie the names that follow to ``rng``'s state, so each village's people depend only
        on the seed and the village, not on how many people other villages made first."""
        self.fake.seed_instance(rng.getrandbits(64))

    def resident_id(self, rng: random.Random, area: str, born: date, sex: str) -> str:
        for _ in range(1000):
            serial = rng.randrange(500) * 2 + (1 if sex == "M" else 0)  # 17th digit odd: male
            first17 = f"{area}{born:%Y%m%d}{serial:03d}"
            number = first17 + resident_id_check_char(first17)
            if number not in self.used:
                self.used.add(number)
                return number
        raise RuntimeError(f"no free resident ID number left for {area} {born}")

    def person(
        self,
        rng: random.Random,
        area: str,
        born: date,
        sex: str,
        *,
        surname: str | None = None,
        phone: str | None = None,
    ) -> Person:
        fake = self.fake
        given = fake.first_name_male() if sex == "M" else fake.first_name_female()
        return Person(
            party=new_uuid(rng),
            name=(surname or self.last_name()) + given,
            id_number=self.resident_id(rng, area, born, sex),
            sex=sex,
            birth_date=born.isoformat(),
            phone=phone or fake.phone_number(),
        )


def birth_date(rng: random.Random, age: int, on: date) -> date:
    """A birth date making someone ``age`` full years old on ``on``."""
    latest = (
        on.replace(year=on.year - age) if not (on.month == 2 and on.day == 29) else date(on.year - age, 2, 28)
    )
    return latest - timedelta(days=rng.randrange(365))


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def surname_of(person: Person) -> str:
    """Zh_CN Faker surnames are one character, except a few two-character ones."""
    two = (
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "令狐",
        "夏侯",
    )
    return person.name[:2] if person.name[:2] in two else person.name[:1]
