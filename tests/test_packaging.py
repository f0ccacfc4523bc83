"""The pinned lock, pyproject.toml, environment.yml and the Makefile agree."""

from __future__ import annotations

import re
import subprocess
import tomllib

import yaml

from cxtradeoff.paths import ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"requirements.lock: {line!r} is not pinned with =="
            pins[_norm(name)] = version
    return pins


def _direct() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["test"]]


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = {}
    for item in pip_section:
        if item.startswith("-e"):
            continue
        name, sep, version = item.partition("==")
        assert sep, f"environment.yml: {item!r} is not pinned with =="
        pins[_norm(name)] = version
    return pins


def test_every_direct_dependency_is_pinned_in_the_lock() -> None:
    lock = _lock()
    missing = [d for d in _direct() if _norm(d) not in lock]
    assert not missing, f"not pinned in requirements.lock: {missing}"


def test_environment_yml_lists_the_same_packages_at_the_same_versions() -> None:
    lock, env = _lock(), _environment_pins()
    assert set(env) == {_norm(d) for d in _direct()}
    mismatched = {n: (v, lock[n]) for n, v in env.items() if lock.get(n) != v}
    assert not mismatched, f"environment.yml vs requirements.lock: {mismatched}"
    python = [
        d
        for d in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
        if isinstance(d, str) and d.startswith("python")
    ]
    assert python == ["python=3.11"]


def test_installed_versions_match_the_lock() -> None:
    from importlib import metadata

    lock = _lock()
    wrong = {}
    for dep in _direct():
        installed = metadata.version(dep)
        if installed != lock[_norm(dep)]:
            wrong[dep] = (installed, lock[_norm(dep)])
    assert not wrong, f"installed vs locked: {wrong}"


def test_makefile_help_lists_the_documented_targets() -> None:
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    for target in ("report", "test", "lab", "setup"):
        assert re.search(rf"make {target}\s+\S", out), out


def test_setup_stamp_is_keyed_on_the_lock_and_up_to_date() -> None:
    """After set-up, `make` finds nothing to redo: the stamp named by the lock hash exists."""
    stamps = list((ROOT / ".venv").glob(".setup-*"))
    assert len(stamps) == 1, stamps
    # -q: exit 0 only when the stamp target is up to date (nothing would run).
    q = subprocess.run(["make", "-q", str(stamps[0].relative_to(ROOT))], cwd=ROOT, check=False)
    assert q.returncode == 0
    dry = subprocess.run(
        ["make", "-n", "setup"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "pip install" not in dry.stdout


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci
    head = readme[:1500]
    assert "make report" in head and "make test" in head
