"""The local CloudWatch: metrics collected from the stack, alarms evaluated as CloudWatch does
(on a clock `ftb local --alarm-period-scale` can speed up), and its API on the endpoint.

Modules: store (datapoints and statistics), emf (embedded metric format), collectors (Lambda,
SQS, Step Functions), metric_math, evaluation (the state rules), alarms (configuration, state,
history), handler (the API), provisioner (AWS::CloudWatch::Alarm), service (ties them
together); the moto internals it reads are in moto_internals/metric_sources.py.
"""

# Importing the package registers the AWS::CloudWatch::Alarm provisioner.
from ftb.localcloud.cloudwatch import provisioner  # noqa: F401
from ftb.localcloud.cloudwatch.service import NOT_EMULATED, LocalCloudWatch, transition_line

__all__ = ["NOT_EMULATED", "LocalCloudWatch", "transition_line"]
