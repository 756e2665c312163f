"""AWS FIS: the stack's experiment templates, run by the local FIS (ftb/localcloud/fis) at the
Lambda runtime's fault hook. moto's FIS is never consulted (it would hold no template of the
stack and run nothing); a reload registers the templates again."""

from __future__ import annotations

from ftb.localcloud.fis.provision import EXPERIMENT_TEMPLATE, experiment_template_provisioner
from ftb.localcloud.registry import Service, register

register(
    Service(
        name="fis",
        signing_name="fis",
        moto_responses=(("fis", "FISResponse"),),
        moto_consulted=False,
        rest=True,
        provisioners={EXPERIMENT_TEMPLATE: experiment_template_provisioner},
        rebuilt_prefixes=(EXPERIMENT_TEMPLATE,),
    )
)
