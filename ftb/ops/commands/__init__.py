"""The operator commands: one module each, each with `register(subparsers)`.

`ftb.cli` holds the one registry that lists them.
"""
