"""The order in which a template's resources are provisioned: dependencies first."""

from __future__ import annotations

from ftb.localcloud.template.intrinsics import references
from ftb.localcloud.template.model import Resource, Template, TemplateError


def dependency_order(template: Template) -> list[Resource]:
    """Resources with every resource they reference first (Kahn's algorithm, template order)."""
    resources = template.resources
    deps: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        found = set(references(resource.properties)) | set(resource.depends_on)
        deps[logical_id] = {name for name in found if name in resources and name != logical_id}
    ordered: list[Resource] = []
    done: set[str] = set()
    pending = list(resources)
    while pending:
        ready = [name for name in pending if deps[name] <= done]
        if not ready:
            raise TemplateError(f"circular dependency among {', '.join(sorted(pending))}")
        for name in ready:
            ordered.append(resources[name])
            done.add(name)
        pending = [name for name in pending if name not in done]
    return ordered
