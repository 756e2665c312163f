"""`make bench`: every section in one run, a progress display while it runs, a table at the
end, the figures as JSON and a chart under bench/results/ (ignored by git).

Sections are modules of this package with `measure(...) -> dict`. The core ones always run;
the optional ones (OPTIONAL_SECTIONS) run when their module exists. Each `measure` gets the
keyword arguments its signature names, among: quick, tasks, work_dir, root, progress,
start_cloud (a function returning a started BenchCloud: name, set_env=..., extra_args=...).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from bench import cold_imports, end_to_end, intake, report, startup
from bench.cloud import REPO_ROOT, BenchCloud

RESULTS = REPO_ROOT / "bench" / "results"
FAILURE_RATES = (0.0, 0.3)
# Sections other engineers add: run when the module exists (bench/<name>.py with measure()).
OPTIONAL_SECTIONS = (
    "logs_insights",
    "persistence",
    "hot_reload",
    "alarms",
    "cold_start",
    "first_run",
    "console",
)


def _bare_engine(rate: float, tasks: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, "-m", "bench.bare_engine", f"{rate:g}", str(tasks)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        raise RuntimeError(f"bare engine failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def ratios(local: dict[str, Any], bare: dict[str, Any]) -> dict[str, float | None]:
    """Each figure of the local cloud divided by the bare engine's (throughput: higher is
    better, so local/bare is the share of the limit reached)."""

    def ratio(key: str) -> float | None:
        a, b = local.get(key), bare.get(key)
        return round(a / b, 2) if isinstance(a, int | float) and b else None

    return {
        key: ratio(key)
        for key in ("tasks_per_second", "drain_seconds", "latency_p50_s", "latency_p95_s")
    }


def call_with_known_arguments(function: Callable[..., Any], offered: dict[str, Any]) -> Any:
    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return function(**offered)
    return function(**{name: value for name, value in offered.items() if name in parameters})


def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    quick = bool(args.quick)
    tasks = args.tasks or (200 if quick else 2000)
    work_dir = Path(tempfile.mkdtemp(prefix="ftb-bench-"))
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "tasks": tasks,
        "machine": {
            "python": platform.python_version(),
            "cpus": __import__("os").cpu_count(),
            "platform": platform.platform(),
        },
        "errors": {},
    }
    optional = []
    for name in OPTIONAL_SECTIONS:
        try:
            optional.append((name, importlib.import_module(f"bench.{name}")))
        except ModuleNotFoundError as error:
            if error.name != f"bench.{name}":
                raise
    Step = Callable[[Callable[[str], None]], Any]
    plan: list[tuple[str, Step]] = [
        ("cold_imports", lambda say: cold_imports.measure(quick=quick, progress=say)),
        ("startup", lambda say: startup.measure(work_dir, quick=quick, progress=say)),
        ("intake", lambda say: _intake(work_dir, quick, say)),
    ]
    for rate in FAILURE_RATES:
        plan.append((f"end_to_end:{rate:g}", _end_to_end_step(rate, tasks, work_dir, args)))
        plan.append((f"bare_engine:{rate:g}", _bare_engine_step(rate, tasks)))

    def start_cloud(name: str, **kwargs: Any) -> BenchCloud:
        return BenchCloud(name, work_dir, **kwargs).start()

    offered = {
        "quick": quick,
        "tasks": tasks,
        "work_dir": work_dir,
        "root": REPO_ROOT,
        "start_cloud": start_cloud,
    }
    for name, module in optional:
        plan.append((name, _optional_step(module, offered)))
    if args.only:
        wanted = set(args.only.split(","))
        plan = [(name, step) for name, step in plan if name.split(":")[0] in wanted]

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[section]:<18}"),
        BarColumn(bar_width=20),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        overall = progress.add_task("", total=len(plan), section="make bench")
        for name, step in plan:
            section = progress.add_task("starting", total=None, section=name)

            def say(message: str, section: TaskID = section) -> None:
                progress.update(section, description=message)

            started = time.monotonic()
            try:
                figures = step(say)
                section_name, _, key = name.partition(":")
                if key:
                    results.setdefault(section_name, {})[key] = figures
                else:
                    results[section_name] = figures
                progress.update(
                    section,
                    description=f"done in {time.monotonic() - started:.0f} s",
                    total=1,
                    completed=1,
                )
            except Exception as error:  # one failing section must not lose the others
                results["errors"][name] = "".join(traceback.format_exception(error))[-4000:]
                progress.update(section, description=f"[red]failed: {error}", total=1, completed=1)
            progress.advance(overall)
    for key, local in results.get("end_to_end", {}).items():
        bare = results.get("bare_engine", {}).get(key)
        if bare:
            local["ratio_to_bare"] = ratios(local, bare)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def _end_to_end_step(
    rate: float, tasks: int, work_dir: Path, args: argparse.Namespace
) -> Callable[[Callable[[str], None]], Any]:
    def step(say: Callable[[str], None]) -> Any:
        return end_to_end.measure(rate, tasks, work_dir, say, history_sample=args.histories)

    return step


def _bare_engine_step(rate: float, tasks: int) -> Callable[[Callable[[str], None]], Any]:
    def step(say: Callable[[str], None]) -> Any:
        say(f"{tasks} tasks in process, FAILURE_RATE {rate:g}")
        return _bare_engine(rate, tasks)

    return step


def _optional_step(module: Any, offered: dict[str, Any]) -> Callable[[Callable[[str], None]], Any]:
    def step(say: Callable[[str], None]) -> Any:
        return call_with_known_arguments(module.measure, {**offered, "progress": say})

    return step


def _intake(work_dir: Path, quick: bool, say: Callable[[str], None]) -> dict[str, Any]:
    cloud = BenchCloud("intake", work_dir, set_env={"process-task:FAILURE_RATE": "0"})
    cloud.start()
    try:
        figures = intake.measure(cloud, quick=quick, progress=say)
    finally:
        cloud.stop()
    figures["resources"] = cloud.resources()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--tasks", type=int, default=0, help="end-to-end tasks (default 2000)")
    parser.add_argument(
        "--histories", type=int, default=None, help="read at most this many histories per run"
    )
    parser.add_argument("--only", help="comma-separated sections (e.g. intake,end_to_end)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    console = Console()
    results = run(args, console)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / f"bench-{stamp}.json"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    (args.out / "latest.json").write_text(json_path.read_text(encoding="utf-8"), encoding="utf-8")
    chart_path = args.out / f"bench-{stamp}.png"
    try:
        from bench import chart

        chart.draw(results, chart_path)
    except Exception as failure:  # the figures matter more than the picture
        results["errors"]["chart"] = repr(failure)
    console.print(report.table(results))
    console.print(f"figures: {json_path}\nchart:   {chart_path}")
    for name, error in results["errors"].items():
        console.print(f"[red]{name} failed:[/red]\n{error}")
    return 1 if results["errors"] else 0
