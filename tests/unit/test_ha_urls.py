"""The multi-host ``DATABASE_URL`` (docs/ha.md) as SQLAlchemy's asyncpg dialect takes it, and
the positions a replica read names (``api.service.replica``)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from api.service.database import asyncpg_url
from api.service.replica import wanted_size


def test_a_multi_host_url_names_every_server_with_its_port() -> None:
    url = asyncpg_url("postgresql://rl:pw@db1:5433,db2,10.0.0.3:6000/ledger?target_session_attrs=read-write")
    assert url == (
        "postgresql+asyncpg://rl:pw@/ledger?host=db1:5433&host=db2:5432&host=10.0.0.3:6000"
        "&target_session_attrs=read-write"
    )
    parsed = make_url(url)
    assert parsed.query["host"] == ("db1:5433", "db2:5432", "10.0.0.3:6000")
    assert parsed.query["target_session_attrs"] == "read-write"
    assert parsed.database == "ledger" and parsed.username == "rl" and parsed.password == "pw"


def test_a_one_host_url_is_only_given_the_driver() -> None:
    assert asyncpg_url("postgres://u@h:1/d?sslmode=require") == "postgresql+asyncpg://u@h:1/d?sslmode=require"
    assert asyncpg_url("postgresql://postgres:@/postgres?host=/tmp/x") == (
        "postgresql+asyncpg://postgres:@/postgres?host=/tmp/x"
    )


@pytest.mark.parametrize("bad", ["postgresql://u@h1:5432,:5433/d", "postgresql://u@h1,h2:port/d"])
def test_a_server_without_host_or_with_a_bad_port_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="server"):
        asyncpg_url(bad)


@pytest.mark.parametrize(
    ("path", "query", "wanted"),
    [
        ({}, {}, None),
        ({"seq": 9}, {}, 10),  # a record at seq 9 needs a tree of 10
        ({}, {"seq": "4", "size": "7"}, 7),
        ({}, {"from": "3", "to": "12"}, 12),
        ({}, {"after": "-1"}, 0),
        ({}, {"after": "99", "limit": "5000"}, 100),
        ({}, {"size": "x"}, None),  # not an integer: the route refuses it, no position
        ({}, {"size": str(10**30)}, 10**30),
    ],
)
def test_the_tree_size_a_read_needs(
    path: dict[str, object], query: dict[str, object], wanted: int | None
) -> None:
    assert wanted_size(path, query) == wanted
