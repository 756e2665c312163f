"""A synthesized CloudFormation template: its model, its intrinsic functions resolved to local
values, and the order its resources are provisioned in."""

from ftb.localcloud.template.intrinsics import (
    FallbackAttr,
    Resolver,
    StackContext,
    references,
    ssm_placeholder,
    stable_id,
)
from ftb.localcloud.template.model import (
    ACCOUNT_ID,
    NO_VALUE,
    PARTITION,
    URL_SUFFIX,
    Resource,
    Template,
    TemplateError,
    load_template,
)
from ftb.localcloud.template.order import dependency_order

__all__ = [
    "ACCOUNT_ID",
    "NO_VALUE",
    "PARTITION",
    "URL_SUFFIX",
    "FallbackAttr",
    "Resolver",
    "Resource",
    "StackContext",
    "Template",
    "TemplateError",
    "dependency_order",
    "load_template",
    "references",
    "ssm_placeholder",
    "stable_id",
]
