"""Hot reload of a running local cloud: watch the app's sources (`watcher.py`), find each
function's code source (`code_sources.py`), and the loop tying them together
(`reloader.py`), which applies each change through the deploy engine (ftb/localcloud/deploy),
the same one that applies the template at the start."""

from ftb.localcloud.hot_reload.reloader import HotReloader, compile_errors, watched_paths

__all__ = ["HotReloader", "compile_errors", "watched_paths"]
