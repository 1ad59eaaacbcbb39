"""``rural-ledger witness serve``: a witness speaking C2SP tlog-witness (docs/witness.md)."""
