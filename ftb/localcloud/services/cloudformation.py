"""AWS CloudFormation: the stack itself, answered by ftb/localcloud/cloudformation (moto's
knows nothing of the stack the local cloud provisioned, so it is never consulted)."""

from __future__ import annotations

from ftb.localcloud.registry import Service, register

register(
    Service(
        name="cloudformation",
        signing_name="cloudformation",
        moto_responses=(("cloudformation", "CloudFormationResponse"),),
        moto_consulted=False,
    )
)
