"""The ledger's home folder: the embedded database, the operator key and organisation keys.

rural-ledger-data/
    pgdata/          embedded PostgreSQL (unused when DATABASE_URL is set)
    operator.key     the operator's note signer key (mode 0600; never in the database)
    operator.pub     the operator's verifier key, for auditors
    keys/ORG.key     organisation signing keys made by this installation (mode 0600)
    blind-index.key  the operator's secret for resident-ID blind indexes (mode 0600)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ledger.checkpoint import NoteSigner, NoteVerifier
from ledger.signing import KeyFile

DEFAULT_HOME = Path("rural-ledger-data")


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_env(cls, path: Path | str | None = None) -> Home:
        return cls(Path(path or os.environ.get("RURAL_LEDGER_HOME") or DEFAULT_HOME))

    @property
    def operator_key_file(self) -> Path:
        return self.root / "operator.key"

    @property
    def operator_pub_file(self) -> Path:
        return self.root / "operator.pub"

    def org_key_file(self, org_id: str) -> Path:
        return self.root / "keys" / f"{org_id}.key"

    def write_operator_key(self, signer: str, verifier: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.operator_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(signer + "\n")
        self.operator_pub_file.write_text(verifier + "\n")

    def origin(self) -> str | None:
        """The origin of the ledger this home is for, as its operator's verifier key names it;
        None before ``rural-ledger init`` made one."""
        try:
            text = self.operator_pub_file.read_text().strip()
        except OSError:
            return None
        return NoteVerifier.from_string(text).name

    def operator_signer(self) -> NoteSigner:
        try:
            text = self.operator_key_file.read_text().strip()
        except OSError as e:
            raise FileNotFoundError(
                f"no operator key at {self.operator_key_file}: run `rural-ledger init` first"
            ) from e
        return NoteSigner.from_string(text)

    @property
    def blind_index_file(self) -> Path:
        return self.root / "blind-index.key"

    def blind_index_secret(self) -> bytes:
        """The operator's HMAC key for blind indexes, made on first use (32 random bytes)."""
        path = self.blind_index_file
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return bytes.fromhex(path.read_text().strip())
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        return bytes.fromhex(path.read_text().strip())

    def org_key(self, org_id: str) -> KeyFile:
        return KeyFile.read(self.org_key_file(org_id))
