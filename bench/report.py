"""The table `make bench` prints at the end (the JSON holds everything; this is the summary)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from bench import cost

TARGETS = {
    "intake 8 clients": ">= 100 POST/s, p95 < 150 ms",
    "end to end 0": ">= 50 tasks/s, >= 60 % of bare",
    "peak RSS": "< 800 MB at 2,000 tasks (PSS)",
    "cached start-up": "< 1 s to ready",
    "idle stop": "< 1 s",
    "cold start": "<= 1.5x the reference",
}


def _mb(value: Any) -> str:
    return f"{value:.0f}" if isinstance(value, int | float) else "n/a"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(results: dict[str, Any]) -> Table:
    out = Table(
        title=f"make bench ({'QUICK' if results.get('quick') else 'full'}, "
        f"{results.get('tasks')} tasks, {results['machine']['cpus']} CPUs)"
    )
    out.add_column("section")
    out.add_column("figure")
    out.add_column("value", justify="right")
    out.add_column("target / reference")
    intake = results.get("intake", {})
    for clients, level in (intake.get("levels") or {}).items():
        target = TARGETS["intake 8 clients"] if clients == "8" else ""
        out.add_row(
            "intake",
            f"{clients} client(s): POST/s; p50/p95/p99 ms",
            f"{level['per_second']:.1f}; {level['p50_ms']:.0f}/{level['p95_ms']:.0f}/"
            f"{level['p99_ms']:.0f}",
            target,
        )
    for key, run in (results.get("end_to_end") or {}).items():
        bare = (results.get("bare_engine") or {}).get(key, {})
        ratio = (run.get("ratio_to_bare") or {}).get("tasks_per_second")
        out.add_row(
            f"end to end {key}",
            "tasks/s; drain s; latency p50/p95 s",
            f"{run['tasks_per_second']:.1f}; {run['drain_seconds']:.1f}; "
            f"{run['latency_p50_s']:.2f}/{run['latency_p95_s']:.2f}",
            TARGETS["end to end 0"] if key == "0" else "",
        )
        if bare:
            out.add_row(
                f"bare engine {key}",
                "tasks/s; drain s; latency p50/p95 s",
                f"{bare['tasks_per_second']:.1f}; {bare['drain_seconds']:.1f}; "
                f"{bare['latency_p50_s']:.2f}/{bare['latency_p95_s']:.2f}",
                f"local/bare throughput {ratio:.0%}" if ratio is not None else "",
            )
        resources = run.get("resources", {})
        out.add_row(
            f"end to end {key}",
            "peak RSS / PSS MB; CPU s; processes",
            f"{resources.get('peak_rss_mb', 0):.0f} / {_mb(resources.get('peak_pss_mb'))}; "
            f"{resources.get('cpu_seconds', 0):.1f}; "
            f"{resources.get('peak_processes', 0)}",
            TARGETS["peak RSS"],
        )
        billing = run.get("billing")
        if billing:
            out.add_row(
                f"billing {key}",
                "state transitions per task",
                f"{billing['transitions_per_task']:.3f}",
                f"design minimum {billing['design_minimum']:.3f}",
            )
            dollars = cost.per_million(billing, float(key))
            out.add_row(
                f"billing {key}",
                "AWS $ per million tasks",
                f"{dollars['total']:.2f}",
                ", ".join(f"{k} {v:.2f}" for k, v in dollars.items() if k != "total"),
            )
    start = results.get("startup") or {}
    if "cold_synth_ready_s" in start:
        out.add_row("start-up", "cold synth to ready s", _fmt(start["cold_synth_ready_s"]), "")
    if start:
        out.add_row(
            "start-up",
            "cached to ready s",
            _fmt(start["cached_ready_s"]),
            TARGETS["cached start-up"],
        )
        out.add_row(
            "stop", "Ctrl-C to exit, idle s", _fmt(start["idle_stop_s"]), TARGETS["idle stop"]
        )
    _cold_start_rows(out, results.get("cold_start") or {})
    _first_run_rows(out, results.get("first_run") or {})
    imports = results.get("cold_imports") or {}
    if imports:
        out.add_row("import only", "import boto3 ms", _fmt(imports["boto3_ms"]), "the reference")
        # CPU time next to wall time: on a loaded machine the wall ratios say little.
        cpu = imports.get("boto3_cpu_ms")
        if cpu is not None:
            out.add_row("import only", "import boto3 CPU ms", _fmt(cpu), "the reference")
        for name, figures in imports["functions"].items():
            cpu_ratio = figures.get("cpu_ratio_to_boto3")
            out.add_row(
                "import only",
                f"{name} ms (x boto3)" + ("; CPU x boto3" if cpu_ratio is not None else ""),
                f"{figures['import_ms']:.0f} ({figures['ratio_to_boto3']:.2f}x)"
                + (f"; {cpu_ratio:.2f}x" if cpu_ratio is not None else ""),
                "part of init",
            )
    known = {
        "intake",
        "end_to_end",
        "bare_engine",
        "startup",
        "cold_imports",
        "cold_start",
        "first_run",
        "errors",
        "machine",
        "quick",
        "tasks",
        "started_at",
        "finished_at",
    }
    for section, figures in results.items():
        if section in known or not isinstance(figures, dict):
            continue
        for key, value in figures.items():
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                out.add_row(section, key, _fmt(value), "")
    return out


def _cold_start_rows(out: Table, figures: dict[str, Any]) -> None:
    """Init + first invocation (Lambda's Init Duration + Duration) per function."""
    if not figures:
        return
    base = figures["boto3_first_call"]
    out.add_row(
        "cold start",
        "boto3 + one SQS call ms (CPU)",
        f"{base['cold_start_ms']:.0f} ({base['cold_start_cpu_ms']:.0f})",
        "the reference",
    )
    for name, mine in figures["functions"].items():
        out.add_row(
            "cold start",
            f"{name} init + 1st call ms (x ref; CPU x ref)",
            f"{mine['init_ms']:.0f} + {mine['first_invocation_ms']:.0f}"
            f" ({mine['ratio_to_boto3_first_call']:.2f}x; "
            f"{mine['cpu_ratio_to_boto3_first_call']:.2f}x)",
            TARGETS["cold start"],
        )


def _first_run_rows(out: Table, figures: dict[str, Any]) -> None:
    """The first `make run` of a fresh clone until it serves, next to pip install boto3."""
    for condition in ("warm", "cold"):
        run = figures.get(condition)
        if not run:
            continue
        out.add_row(
            "first make run",
            f"{condition}: to ready s (install + ftb local); CPU s",
            f"{run['ready_seconds']:.0f} ({run['install_seconds']:.0f} + "
            f"{run['ftb_local_seconds']:.0f}); {run.get('cpu_seconds', 0):.0f}",
            f"< {run['target_s']:.0f} s",
        )
        out.add_row(
            "first make run",
            f"{condition}: pip install boto3 s",
            _fmt(run["pip_install_boto3_seconds"]),
            "the reference",
        )
    for key, label in (("venv_run_set_mb", "run set"), ("venv_dev_set_mb", "dev set")):
        if key in figures:
            out.add_row("first make run", f".venv MB, {label}", _fmt(figures[key]), "")
