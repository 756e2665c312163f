"""Test support, in one place and imported under one name: `tests.support.<module>`."""
