"""`make bench`: the local cloud's figures, measured, never asserted (see bench/runner.py)."""
