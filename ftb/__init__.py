"""ftb: the command line of the fault-tolerant task backend (`ftb local` and operator commands)."""
