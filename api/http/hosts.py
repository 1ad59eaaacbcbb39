"""Which ledger a request is for, by the host name it was sent to (several ledgers, one process).

A ledger's host names are, by default, its origin's part before the first ``/``
(``wendeng.ledger.example/v1`` → ``wendeng.ledger.example``). A ``hosts`` file in its home, when
present, replaces that default with its own list: one name a line, ``#`` comments, blank lines
skipped (list the origin's host there too if it should still be served). Names are compared
without case, without a trailing dot and without the port the ``Host`` header may carry.

The table is checked whole before anything is served: every home must hold a ledger, no two
homes the same ledger, no name two ledgers, and every ledger at least one name; otherwise
``MalformedError`` names the homes in conflict, and ``serve`` stops in one line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from api.home import Home
from ledger.errors import MalformedError

HOMES_ENV = "RURAL_LEDGER_HOMES"  # several home folders, separated by os.pathsep
HOSTS_FILE = "hosts"
# A DNS name or IPv4 address (letters, digits, '-', '.', '_'), or an IPv6 address in brackets.
HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?|\[[0-9a-f:.]{2,45}\]")


def homes_from_env(env: Mapping[str, str] = os.environ) -> list[Home]:
    """``RURAL_LEDGER_HOMES``'s folders, in order; else the one home (``RURAL_LEDGER_HOME``)."""
    folders = [p for p in env.get(HOMES_ENV, "").split(os.pathsep) if p.strip()]
    return [Home(Path(p)) for p in folders] or [Home.from_env(env.get("RURAL_LEDGER_HOME"))]


def normal_host(text: str) -> str:
    """``text`` as names are compared: lower case, no trailing dot."""
    return text.strip().lower().rstrip(".")


def request_host(header: bytes | None) -> str | None:
    """The host name a ``Host`` header names, port stripped; None when there is none."""
    if not header:
        return None
    text = header.decode("latin-1").strip()
    if text.startswith("["):  # [IPv6]:port
        end = text.find("]")
        name = text[: end + 1] if end > 0 else text
    else:
        name = text.partition(":")[0]
    return normal_host(name) or None


def origin_host(origin: str) -> str:
    return normal_host(origin.split("/", 1)[0])


def listed_hosts(path: Path) -> list[str]:
    """The names a ``hosts`` file lists; ``MalformedError`` on a line that is not a host name."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise MalformedError(f"cannot read {path}: {e}") from e
    names = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name = normal_host(line)
        if not HOST_NAME.fullmatch(name):
            raise MalformedError(
                f"{path}:{number}: a host name a line (no port, no path), found {line[:80]!r}"
            )
        names.append(name)
    return names


@dataclass(frozen=True)
class ServedLedger:
    """One ledger of the process: its home, its origin and the host names routed to it."""

    home: Home
    origin: str
    hosts: tuple[str, ...]

    @classmethod
    def of(cls, home: Home) -> ServedLedger:
        origin = home.origin()
        if origin is None:
            raise MalformedError(f"no ledger in {home.root.absolute()}: no operator.pub there")
        file = home.root / HOSTS_FILE
        hosts = listed_hosts(file) if file.exists() else [origin_host(origin)]
        if not hosts:
            raise MalformedError(f"{file} lists no host name: the ledger {origin!r} would never be reached")
        return cls(home, origin, tuple(dict.fromkeys(hosts)))


def host_table(ledgers: Sequence[ServedLedger]) -> dict[str, ServedLedger]:
    """Each host name → its ledger; ``MalformedError`` when two ledgers share an origin or a name."""
    by_origin: dict[str, ServedLedger] = {}
    table: dict[str, ServedLedger] = {}
    for ledger in ledgers:
        if (same := by_origin.setdefault(ledger.origin, ledger)) is not ledger:
            raise MalformedError(
                f"{same.home.root} and {ledger.home.root} are homes of the same ledger {ledger.origin!r}"
            )
        for name in ledger.hosts:
            if (other := table.setdefault(name, ledger)) is not ledger:
                raise MalformedError(
                    f"the host {name!r} names two ledgers, {other.origin!r} ({other.home.root}) and "
                    f"{ledger.origin!r} ({ledger.home.root}): "
                    f"give each home a {HOSTS_FILE} file of its own names"
                )
    return table


def served_ledgers(homes: Iterable[Home]) -> list[ServedLedger]:
    """The ledgers of ``homes``, once their host table is known to be sound."""
    ledgers = [ServedLedger.of(home) for home in homes]
    host_table(ledgers)
    return ledgers
