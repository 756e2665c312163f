"""AWS Fault Injection Service, locally: the stack's `AWS::FIS::ExperimentTemplate`s executed
against the local Lambda runtime, and FIS's control plane on the local endpoint.

`model.py` (templates as CloudFormation declares them, validated as FIS does), `injector.py`
(what the FIS Lambda extension does inside an invocation), `experiment.py` (an experiment's
run: targets, actions in `startAfter` order, stop conditions), `service.py` (the experiments
of one local cloud), `api.py` (the REST operations on the endpoint), `provision.py` (the
template resource's provisioner).
"""

from ftb.localcloud.fis.api import FisApi
from ftb.localcloud.fis.injector import FisInjector, chain_faults
from ftb.localcloud.fis.model import ExperimentTemplate, TemplateInvalid
from ftb.localcloud.fis.service import FisService, FunctionTarget

__all__ = [
    "ExperimentTemplate",
    "FisApi",
    "FisInjector",
    "FisService",
    "FunctionTarget",
    "TemplateInvalid",
    "chain_faults",
]
