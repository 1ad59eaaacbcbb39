"""``rural-ledger init``: a new ledger, its operator key and the genesis record."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from api.home import Home
from api.service.database import NO_LEDGER, make_engine
from api.service.migrate import migrate
from api.service.projections import ProjectionBackend
from contracts.rulebook import RULEBOOK
from ledger import store
from ledger.appender import Appender, Clock, Receipt, Submission, system_clock
from ledger.checkpoint import NoteSigner, generate_signer
from ledger.entry import build_entry, format_time, parse_submission
from ledger.errors import Category, Rejection
from ledger.signing import KeyFile, SigningKey, b64

ORIGIN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")


class AlreadyInitialised(Rejection):
    def __init__(self, message: str) -> None:
        super().__init__("ledger.already_initialised", message, category=Category.CONFLICT)


@dataclass(frozen=True)
class Genesis:
    origin: str
    operator_key: str
    root_org: str
    root_key_file: str
    receipt: Receipt
    rules_version: int


async def init_ledger(
    url: str,
    home: Home,
    origin: str,
    root_id: str,
    root_name: str,
    clock: Clock = system_clock,
    area_code: str = "371003",
    rules_version: int | None = RULEBOOK.current,
) -> Genesis:
    """Create the tables, the operator key (a 0600 file, never in the database), the root
    organisation's key and record 0 registering the root; then, unless ``rules_version`` is
    None, record 1 adopting that rule version (the current one by default)."""
    if not ORIGIN_PATTERN.match(origin):
        raise ValueError(f"origin must match {ORIGIN_PATTERN.pattern}, found {origin!r}")
    owner = make_engine(url, service_role=False, pool_size=1, ledger=NO_LEDGER)
    try:
        await migrate(owner)
        async with owner.begin() as conn:
            # Another county's ledger may share the database (docs/operations.md); this one may not.
            if origin in await conn.run_sync(store.ledger_ids):
                raise AlreadyInitialised(f"this database already holds ledger {origin!r}")
            signer_text, verifier_text = generate_signer(origin)
            home.write_operator_key(signer_text, verifier_text)
            home.blind_index_secret()
            await conn.run_sync(store.write_meta, store.LedgerMeta(origin, verifier_text), clock())
    finally:
        await owner.dispose()

    root_key = SigningKey.generate()
    key_file = home.org_key_file(root_id)
    KeyFile(root_id, root_key).write(key_file)
    engine = make_engine(url, ledger=origin)
    try:
        appender = Appender(engine, origin, NoteSigner.from_string(signer_text), ProjectionBackend(), clock)

        async def append_as_root(kind: str, payload: dict[str, Any]) -> Receipt:
            entry = build_entry(
                origin=origin,
                actor=root_id,
                key_id=root_key.key_id,
                kind=kind,
                entry_id=str(uuid.uuid4()),
                signed_at=format_time(clock()),
                payload=payload,
            )
            signed = parse_submission({"entry": entry, "sig": root_key.sign_entry(entry)}, origin)
            [result] = await appender.append([Submission(signed)])
            if isinstance(result, Rejection):
                raise result
            return result

        genesis = await append_as_root(
            "org.registered",
            {
                "id": root_id,
                "name": root_name,
                "type": "county",
                "parent": None,
                "public_keys": [b64(root_key.public_key)],
                "area_code": area_code,
            },
        )
        if rules_version is not None:  # a new ledger runs these rules from its record 1 on
            await append_as_root("rules.adopted", {"version": rules_version})
    finally:
        await engine.dispose()
    return Genesis(origin, verifier_text, root_id, str(key_file), genesis, rules_version or 1)
