"""Read models: what the registry routes show, as of any seq, with the evidence to check it."""
