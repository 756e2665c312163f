"""Benchmarks: figures, not assertions (`python -m bench.<name>`)."""
