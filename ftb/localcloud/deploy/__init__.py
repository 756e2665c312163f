"""The deploy engine: the one way a template reaches the running local cloud. The start
applies the template to an empty cloud, a hot reload the difference between the running
template and a new one; both through `apply_template` (`apply.py`), over the parts and state
in `RunningStack` (`running.py`), with the diff and what of it is live in `diff.py`."""

from ftb.localcloud.deploy.apply import (
    Outcome,
    ReloadError,
    apply_template,
    merge_spec,
    swap_functions,
)
from ftb.localcloud.deploy.diff import (
    Action,
    Plan,
    ResourceChange,
    TemplateDiff,
    diff_templates,
    effective_body,
    plan_changes,
)
from ftb.localcloud.deploy.running import RunningStack

__all__ = [
    "Action",
    "Outcome",
    "Plan",
    "ReloadError",
    "ResourceChange",
    "RunningStack",
    "TemplateDiff",
    "apply_template",
    "diff_templates",
    "effective_body",
    "merge_spec",
    "plan_changes",
    "swap_functions",
]
