"""The task domain: the contract of a task and its rules, importable everywhere.

Models and limits, the record schema with its reads and writes, the status mapping, execution
naming and ARNs, digests, the failure simulation and the error types. The Lambda handlers,
the operator commands (`ftb.ops`) and the tests import it under this one name; it imports
neither of them, nor Powertools.
"""
