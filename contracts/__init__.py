"""Domain rules: pure, deterministic, no I/O."""
