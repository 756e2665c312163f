"""The installer (tools/): the lock's two sets, pip's settings translated for uv, the
per-set stamps, the progress lines and the Chromium decision."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tools import chromium, install, pip_config

ROOT = Path(__file__).resolve().parents[2]


def _hashes(lock: Path) -> dict[str, tuple[str, set[str]]]:
    """{name: (version, hashes)} of a hashed requirements file."""
    entries: dict[str, tuple[str, set[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock.read_text(encoding="utf-8")):
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", block)
        if match:
            name = re.sub(r"[-_.]+", "-", match[1]).lower()
            entries[name] = (match[2], set(re.findall(r"sha256:([0-9a-f]{64})", block)))
    return entries


def test_the_run_set_is_the_dev_sets_subset_at_the_same_versions_and_hashes() -> None:
    # Given the two locks / When read / Then every run pin is in dev with its version and
    # hashes, every pin has hashes, and dev adds the toolchain (playwright among it)
    run, dev = _hashes(install.LOCKS["run"]), _hashes(install.LOCKS["dev"])
    assert run and set(run) < set(dev)
    for name, (version, hashes) in run.items():
        assert dev[name][0] == version, name
        assert hashes and hashes <= dev[name][1], name
    assert all(hashes for _, hashes in dev.values())
    assert {"aws-cdk-lib", "constructs", "cdk-nag", "pyyaml", "moto", "uv", "pip"} <= set(run)
    assert {"playwright", "pytest", "mypy", "ruff"} <= set(dev) - set(run)


def test_the_cli_extra_alone_can_synthesize_and_the_ranges_stay_in_pyproject() -> None:
    # Given pyproject.toml / When its extras are read / Then cli holds the synth's packages
    # and dev builds on cli; versions are ranges (the lock pins them)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    cli = " ".join(extras["cli"])
    for package in ("aws-cdk-lib", "constructs", "cdk-nag", "PyYAML"):
        assert package in cli
    assert "fault-tolerant-backend[cli,bench]" in extras["dev"]
    assert not [r for r in extras["cli"] + project["dependencies"] if "==" in r]


def test_pip_config_list_is_merged_with_the_environment_winning() -> None:
    # Given pip's listing: files' global and install sections, then PIP_* variables
    listing = (
        "global.index-url='https://mirror.example/simple'\n"
        "global.extra-index-url='file:///opt/a/simple file:///opt/b/simple'\n"
        "install.find-links='/opt/wheels'\n"
        "download.cert='/ignored/for/install'\n"
        ":env:.find-links='/env/wheels /more/wheels'\n"
        ":env:.trusted_host='mirror.example'\n"
    )
    # When parsed / Then the variables win over the files and other commands are ignored
    settings = pip_config.parse_config_list(listing)
    assert settings == {
        "index-url": "https://mirror.example/simple",
        "extra-index-url": "file:///opt/a/simple file:///opt/b/simple",
        "find-links": "/env/wheels /more/wheels",
        "trusted-host": "mirror.example",
    }


def test_pips_settings_become_uvs_with_pips_index_choice() -> None:
    # Given pip's settings / When translated / Then uv gets the same registries, pip's
    # best-match across indexes, a comma list of links, the bundle and the trusted host
    settings = {
        "index-url": "https://mirror.example/simple",
        "extra-index-url": "file:///opt/a/simple\nfile:///opt/b/simple",
        "find-links": "/opt/wheels /more",
        "cert": "/etc/ssl/bundle.pem",
        "trusted-host": "mirror.example other.example",
        "default-timeout": "180",
        "no-index": "false",
    }
    assert pip_config.uv_environment(settings, {}) == {
        "UV_INDEX_URL": "https://mirror.example/simple",
        "UV_EXTRA_INDEX_URL": "file:///opt/a/simple file:///opt/b/simple",
        "UV_INDEX_STRATEGY": "unsafe-best-match",
        "UV_FIND_LINKS": "/opt/wheels,/more",
        "SSL_CERT_FILE": "/etc/ssl/bundle.pem",
        "UV_INSECURE_HOST": "mirror.example other.example",
        "UV_HTTP_TIMEOUT": "180",
    }
    assert pip_config.uv_arguments(settings) == []
    assert pip_config.uv_arguments({"no-index": "yes"}) == ["--no-index"]


def test_a_uv_variable_already_set_wins_and_isolated_pip_gives_nothing() -> None:
    # Given UV_INDEX_URL in the environment / When translated / Then it is left alone
    settings = {"index-url": "https://pip.example/simple", "cert": "/a.pem"}
    current = {"UV_INDEX_URL": "https://mine.example/simple"}
    assert pip_config.uv_environment(settings, current) == {"SSL_CERT_FILE": "/a.pem"}
    assert pip_config.uv_environment({**settings, "isolated": "1"}, {}) == {}


def _venv(tmp_path: Path) -> install.Venv:
    venv = install.Venv(tmp_path / ".venv")
    venv.path.mkdir()
    return venv


def _digest(name: str) -> str:
    return install.digest(install.LOCKS[name], ROOT / "pyproject.toml")


def test_run_after_a_current_dev_install_installs_nothing(tmp_path: Path) -> None:
    # Given a venv whose dev set is current / When the run set is asked for
    venv = _venv(tmp_path)
    venv.write_stamp("dev", _digest("dev"))
    # Then there is nothing to do and the run stamp is written (make's target is satisfied)
    assert install.python_phases(venv, "run") == []
    assert venv.stamped("run", _digest("run"))


def test_dev_after_run_installs_the_dev_set_into_the_existing_venv(tmp_path: Path) -> None:
    # Given a venv with the run set current (python and uv present)
    venv = _venv(tmp_path)
    venv.write_stamp("run", _digest("run"))
    (venv.path / "bin").mkdir()
    venv.python.touch()
    # When the dev set is asked for / Then only the packages phase runs (uv is not there:
    # it is installed first)
    titles = [phase.title for phase in install.python_phases(venv, "dev")]
    assert titles[-2].startswith("python packages (dev set, ")
    assert titles[-1] == "bytecode (compileall)"
    assert not any(title.startswith("python environment") for title in titles)


def test_a_stale_stamp_reinstalls_from_a_fresh_venv(tmp_path: Path) -> None:
    # Given no venv and a run stamp of another lock / When run is asked for / Then all phases
    venv = install.Venv(tmp_path / ".venv")
    titles = [phase.title for phase in install.python_phases(venv, "run")]
    assert [title.split(" (")[0] for title in titles] == [
        "python environment",
        "installer",
        "python packages",
        "bytecode",
    ]
    locked = len(install.pins(install.LOCKS["run"]))
    assert titles[2] == f"python packages (run set, {locked} locked)"


def test_the_run_set_leaves_the_cdk_bindings_to_compile_on_import(tmp_path: Path) -> None:
    # Given a venv's python / When the bytecode commands are made / Then both compile the
    # venv's site-packages; only the run set's leaves aws_cdk out
    python = tmp_path / ".venv" / "bin" / "python"
    run, dev = install.bytecode_command(python, "run"), install.bytecode_command(python, "dev")
    assert str(run[-1]).endswith("site-packages") and run[-1] == dev[-1]
    assert str(run[-1]).startswith(str(tmp_path / ".venv" / "lib"))
    excluded = re.compile(str(run[run.index("-x") + 1]))
    assert excluded.search("/v/lib/python3.11/site-packages/aws_cdk/aws_lambda/__init__.py")
    assert not excluded.search("/v/lib/python3.11/site-packages/boto3/__init__.py")
    assert not excluded.search("/v/lib/python3.11/site-packages/aws_cdk_lib-2.1.dist-info/x.py")
    assert "-x" not in dev


def test_one_line_per_phase_and_the_output_tail_on_failure() -> None:
    # Given two phases, the second failing with a long output
    lines: list[str] = []
    output = "\n".join(f"line {n}" for n in range(100))

    def fails() -> str | None:
        raise install.Failed("uv exited with 2", output)

    phases = [install.Phase("first", lambda: "uv"), install.Phase("second", fails)]
    # When run / Then the first is one line with its time, the second says why and shows
    # only the tail of the output
    with pytest.raises(install.Failed):
        install.run_phases(phases, out=lines.append)
    text = "".join(lines)
    assert re.match(r"install \[1/2\] first \.\.\. \d+\.\d s \(uv\)\n", text)
    assert "install [2/2] second ... failed after" in text
    assert "line 99" in text and "line 69" not in text


def test_requirement_block_is_the_pin_with_its_hashes() -> None:
    # Given the run lock / When uv's entry is taken / Then it is one pin with its hashes
    block = install.requirement_block(install.LOCKS["run"], "uv")
    assert block.startswith("uv==") and "--hash=sha256:" in block
    assert len([line for line in block.splitlines() if "==" in line]) == 1
    with pytest.raises(install.Failed):
        install.requirement_block(install.LOCKS["run"], "no-such-package")


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        (chromium.Machine("/usr/bin/chromium", False, None), chromium.Plan.PRESENT),
        (chromium.Machine(None, True, "/usr/bin/apt-get"), chromium.Plan.APT_INSTALL),
        (chromium.Machine(None, False, "/usr/bin/apt-get"), chromium.Plan.MISSING),
        (chromium.Machine(None, True, None), chromium.Plan.MISSING),
    ],
)
def test_chromium_is_installed_by_apt_only_as_root(
    machine: chromium.Machine, expected: chromium.Plan
) -> None:
    # Given what the machine has / When decided / Then present, apt-get as root, or the hint
    assert chromium.plan(machine) is expected


def test_a_missing_chromium_is_found_missing_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given FTB_CHROMIUM naming a browser that does not exist
    env = {"FTB_CHROMIUM": "no-such-chromium-for-the-test"}
    # When looked for / Then it is not found and the phase installs it or names what to install
    assert chromium.look(env).found is None
    monkeypatch.setattr(
        chromium, "look", lambda environ=None: chromium.Machine(None, False, "/usr/bin/apt-get")
    )
    with pytest.raises(SystemExit, match="apt-get install chromium"):
        install.chromium_phase(env)
    monkeypatch.setattr(
        chromium, "look", lambda environ=None: chromium.Machine(None, True, "/usr/bin/apt-get")
    )
    assert [p.title for p in install.chromium_phase(env)] == ["browser (apt-get install chromium)"]
    assert chromium.apt_commands("apt-get")[-1] == ["apt-get", "install", "-y", "-qq", "chromium"]


def test_npm_runs_for_make_run_only_when_there_are_runtime_packages(tmp_path: Path) -> None:
    # Given a package.json with only devDependencies, then one with dependencies
    bare = tmp_path / "package.json"
    bare.write_text('{"devDependencies": {"aws-cdk": "2.1148.1"}}', encoding="utf-8")
    assert install.npm_dependencies(bare) == {}
    bare.write_text('{"dependencies": {"uplot": "1.6.32"}}', encoding="utf-8")
    assert install.npm_dependencies(bare) == {"uplot": "1.6.32"}
    assert install.npm_dependencies(tmp_path / "absent.json") == {}


def test_the_cdk_cli_is_locked_at_an_exact_version() -> None:
    # Given package.json and its lock / Then aws-cdk is an exact version, the same in both
    import json

    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    locked = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    version = package["devDependencies"]["aws-cdk"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert locked["packages"]["node_modules/aws-cdk"]["version"] == version
    assert locked["packages"]["node_modules/aws-cdk"]["integrity"].startswith("sha512-")
