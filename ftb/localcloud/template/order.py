"""The order in which a template's resources are provisioned: dependencies first."""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

from ftb.localcloud.template.intrinsics import references
from ftb.localcloud.template.model import Resource, Template, TemplateError


def dependency_order(template: Template) -> list[Resource]:
    """Resources with every resource they reference (or `DependsOn`) first.

    graphlib orders them; within each batch whose dependencies are all met, resources keep
    their template order, so the order is deterministic. References to names that are not
    resources (parameters, pseudo parameters) do not order anything.
    """
    resources = template.resources
    position = {logical_id: index for index, logical_id in enumerate(resources)}
    graph = TopologicalSorter[str]()
    for logical_id, resource in resources.items():
        found = set(references(resource.properties)) | set(resource.depends_on)
        graph.add(logical_id, *(name for name in found if name in resources and name != logical_id))
    try:
        graph.prepare()
    except CycleError as error:
        cycle = sorted(set(error.args[1]))
        raise TemplateError(f"circular dependency among {', '.join(cycle)}") from None
    ordered: list[Resource] = []
    while graph.is_active():
        ready = sorted(graph.get_ready(), key=position.__getitem__)
        ordered.extend(resources[name] for name in ready)
        graph.done(*ready)
    return ordered
