"""What the commands that act for an organisation share: the service they submit to, the key
file they sign with, the operator key their receipts are checked against, and how a refusal by
the ledger is told apart from input that cannot be used.

The service is a running ``rural-ledger serve`` (or ``demo``), reached over HTTP at ``--url``,
else ``RURAL_LEDGER_URL``, else http://127.0.0.1:8000: the command never writes to the
database itself, so it behaves the same on the ledger's own machine and in a village office,
and every entry passes the service's checks, rate limits and appender. The operator key comes
from ``--operator-key`` (the key or a file holding it), else the home's ``operator.pub``; it is
what makes a receipt worth checking, so it never comes from the service being checked. The
entry is signed for the ledger the operator key names (its name is the ledger's origin).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx

from api.cli.verify import read_key
from api.client import SubmitError
from api.home import Home
from ledger.checkpoint import NoteVerifier
from ledger.errors import MalformedError, Unavailable
from ledger.signing import KeyFile

DEFAULT_URL = "http://127.0.0.1:8000"
URL_ENV = "RURAL_LEDGER_URL"
EXIT_REFUSED = 1  # the ledger answered with a problem: nothing was stored

T = TypeVar("T")


def add_operator_key_option(p: argparse.ArgumentParser) -> None:
    """``--operator-key``; and ``--home``, also taken after the command (``rural-ledger --home``
    still works: the option keeps what was given before the command unless given again)."""
    p.add_argument(
        "--operator-key",
        metavar="VKEY_OR_FILE",
        help="the operator's verifier key, or a file holding it (default: the home's operator.pub)",
    )
    p.add_argument(
        "--home", default=argparse.SUPPRESS, help="the ledger's folder (default ./rural-ledger-data)"
    )


def add_acting_options(p: argparse.ArgumentParser) -> None:
    """``--as ORG``, ``--key FILE``, ``--url URL`` and ``--operator-key``."""
    p.add_argument("--as", dest="org", required=True, metavar="ORG", help="the organisation that signs")
    p.add_argument("--key", metavar="FILE", help="its key file (default: the home's keys/ORG.key)")
    p.add_argument(
        "--url",
        default=os.environ.get(URL_ENV, DEFAULT_URL),
        help=f"the ledger service (default ${URL_ENV}, else {DEFAULT_URL})",
    )
    add_operator_key_option(p)


def operator_verifier(args: argparse.Namespace) -> NoteVerifier:
    """The operator key that receipts are checked against."""
    if args.operator_key:
        return NoteVerifier.from_string(read_key(args.operator_key))
    path = Home.from_env(args.home).operator_pub_file
    try:
        text = path.read_text()
    except OSError as e:
        raise MalformedError(
            f"no operator key at {path}: pass --operator-key (the ledger's operator.pub) "
            "or --home (the ledger's folder)"
        ) from e
    return NoteVerifier.from_string(text.strip())


def signing_key(args: argparse.Namespace) -> KeyFile:
    """The key file of ``--as ORG``: ``--key``, else the home's; it must be that organisation's."""
    path = Path(args.key) if args.key else Home.from_env(args.home).org_key_file(args.org)
    if not path.is_file():
        raise MalformedError(
            f"no key file for {args.org} at {path}: make one with `rural-ledger keys --org {args.org}`, "
            "or pass --key FILE"
        )
    key = KeyFile.read(path)
    if key.org != args.org:
        raise MalformedError(f"{path} is the key file of {key.org!r}, not of {args.org!r}")
    return key


def read_json_object(source: str, what: str) -> dict[str, Any]:
    """A JSON object from the file ``source``, or from standard input when it is ``-``."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise MalformedError(f"cannot read the {what} {source}: {e}") from e
    try:
        value = json.loads(text)
    except ValueError as e:
        raise MalformedError(f"the {what} {source} is not JSON: {e}") from e
    if not isinstance(value, dict):
        raise MalformedError(f"the {what} {source} must be a JSON object, found {type(value).__name__}")
    return value


def unreachable(url: str, error: Exception) -> Unavailable:
    return Unavailable(
        f"no ledger service answered at {url} ({error.__class__.__name__}): "
        "start `rural-ledger serve`, or pass --url"
    )


def not_a_ledger(url: str, error: Exception) -> MalformedError:
    return MalformedError(f"the service at {url} did not answer as a ledger does: {error}")


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2), flush=True)


def refused(command: str, error: SubmitError) -> int:
    """Say what the ledger refused, in one line (its stable code and detail): exit 1."""
    print(f"rural-ledger {command}: refused: {error.code}: {error.message}", file=sys.stderr)
    return EXIT_REFUSED


def check_url(text: str) -> None:
    """``--url`` names a service: http or https, a host, a port in range."""
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as e:
        raise MalformedError(f"--url {text} is not a URL: {e}") from e
    if url.scheme not in ("http", "https") or not url.host or not 0 < (url.port or 80) < 65536:
        raise MalformedError(f"--url {text} names no service: give http://HOST[:PORT]")


def run_act(url: str, act: Coroutine[Any, Any, T]) -> T:
    """Run ``act`` against the service at ``url``: no answer at all is ``Unavailable`` (exit
    2), an answer that is not JSON is not a ledger's (exit 2); a refusal stays ``SubmitError``."""
    try:
        check_url(url)
    except MalformedError:
        act.close()  # never awaited
        raise
    try:
        return asyncio.run(act)
    except httpx.TransportError as e:
        raise unreachable(url, e) from e
    except json.JSONDecodeError as e:
        raise not_a_ledger(url, e) from e
