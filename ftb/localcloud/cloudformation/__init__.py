"""The provisioned template as a CloudFormation stack on the local endpoint: what the stack is
(`stack.py`) and the query-protocol operations that read it (`api.py`)."""

from ftb.localcloud.cloudformation.api import CloudFormationApi
from ftb.localcloud.cloudformation.stack import StackDescription, StackResource, describe_stack

__all__ = ["CloudFormationApi", "StackDescription", "StackResource", "describe_stack"]
