"""Benchmarks: figures, not assertions (`make bench`)."""
