"""Developer tooling run by the system Python before .venv exists (standard library only)."""
