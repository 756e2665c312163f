"""The operator commands: the same commands for the local cloud and a deployed stack."""
