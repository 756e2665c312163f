"""Hot reload of a running local cloud: watch the app's sources (`watcher.py`), find each
function's code source (`code_sources.py`), diff templates and sort what is live
(`diff.py`), apply it (`apply.py`), and the loop tying them together (`reloader.py`)."""

from ftb.localcloud.hot_reload.apply import Outcome, ReloadError, apply_template
from ftb.localcloud.hot_reload.diff import (
    Action,
    Plan,
    ResourceChange,
    TemplateDiff,
    diff_templates,
    effective_body,
    plan_changes,
)
from ftb.localcloud.hot_reload.reloader import HotReloader, compile_errors, watched_paths

__all__ = [
    "Action",
    "HotReloader",
    "Outcome",
    "Plan",
    "ReloadError",
    "ResourceChange",
    "TemplateDiff",
    "apply_template",
    "compile_errors",
    "diff_templates",
    "effective_body",
    "plan_changes",
    "watched_paths",
]
