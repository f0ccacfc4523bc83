"""The build's plan is pure: what to build and in which order, decided without a kernel.

(That the pipeline imports nothing of the analysis is tests/test_architecture.py's.)"""

from __future__ import annotations

import doctest
import os
import time
from pathlib import Path

import pytest

from cxtradeoff.errors import ConfigError
from cxtradeoff.paths import PACKAGE_DIR
from cxtradeoff.pipeline import plan
from cxtradeoff.pipeline.config import BuildConfig, ReportSpec
from cxtradeoff.pipeline.plan import Previous, make_plan


def _spec(name: str, *deps: str, **params: object) -> ReportSpec:
    return ReportSpec(name, Path(f"{name}.ipynb"), name.title(), parameters=dict(params),
                      depends_on=list(deps))  # fmt: skip


PIPELINE = PACKAGE_DIR / "pipeline"
A, B, C, E = _spec("a"), _spec("b"), _spec("c", "a", "b"), _spec("e")
SPECS = [A, B, C, E]
INPUTS = {s.name: {f"{s.name}.ipynb": f"hash-{s.name}"} for s in SPECS}
FILES = frozenset(f"{s.name}.html" for s in SPECS)


def _plan(previous: dict[str, Previous] | None = None, **kw: object) -> plan.Plan:
    options: dict = {"inputs": INPUTS, "existing": FILES, "formats": ("html",), **kw}
    return make_plan(SPECS, previous=previous or {}, **options)


def _built(**changes: str) -> dict[str, Previous]:
    """What the last build recorded, with every report up to date unless changed."""
    keys = _plan().keys
    return {n: Previous("ok", changes.get(n, keys[n]), (f"{n}.html",)) for n in keys}


def test_a_first_build_builds_everything_readers_last_and_shared_ones_first() -> None:
    result = _plan()
    assert [s.name for s in result.todo][:2] in (["a", "b"], ["b", "a"])
    names = [s.name for s in result.todo]
    assert names.index("c") > max(names.index("a"), names.index("b"))
    assert result.up_to_date == []


def test_nothing_changed_nothing_to_do() -> None:
    result = _plan(_built())
    assert result.todo == [] and result.up_to_date == ["a", "b", "c", "e"]


@pytest.mark.parametrize(
    ("previous", "options", "rebuilt"),
    [
        ({"b": "old-key"}, {}, {"b", "c"}),  # a changed report and its reader
        ({"c": "old-key"}, {}, {"c"}),  # a reader alone
        ({}, {"existing": FILES - {"e.html"}}, {"e"}),  # an output went missing
        ({}, {"force": True}, {"a", "b", "c", "e"}),
        ({}, {"formats": ("html", "pdf")}, {"a", "b", "c", "e"}),  # formats are in the key
    ],
)  # fmt: skip
def test_exactly_the_reports_that_need_it_are_rebuilt(
    previous: dict, options: dict, rebuilt: set[str]
) -> None:
    result = _plan(_built(**previous), **options)
    assert {s.name for s in result.todo} == rebuilt
    assert set(result.up_to_date) == {"a", "b", "c", "e"} - rebuilt


def test_a_failed_report_is_rebuilt_and_a_changed_parameter_changes_the_key() -> None:
    previous = _built()
    previous["e"] = Previous("failed", None, ("e.html",))
    assert [s.name for s in _plan(previous).todo] == ["e"]
    changed = make_plan([_spec("e", draws=1000)], inputs=INPUTS, previous=_built(),
                        existing=FILES, formats=("html",))  # fmt: skip
    assert [s.name for s in changed.todo] == ["e"]


def test_ready_and_failed_dependencies_decide_what_starts() -> None:
    assert plan.ready(SPECS, {}) == [A, B, E]
    assert plan.ready([C], {"a": "ok"}) == []
    assert plan.ready([C], {"a": "ok", "b": "failed"}) == [C]
    assert plan.failed_dependencies(C, {"a": "ok", "b": "failed"}) == ["b"]
    assert plan.dependents(SPECS)["a"] == {"c"}


def test_select_adds_dependencies_and_names_unknown_reports() -> None:
    config = BuildConfig(path=Path("r.yaml"), root=Path(), reports=SPECS)
    assert [s.name for s in plan.select(config, ["c"])] == ["a", "b", "c"]
    assert plan.select(config, []) == SPECS
    with pytest.raises(ConfigError, match="no report named 'z'"):
        plan.select(config, ["z"])


def test_docstring_examples() -> None:
    assert doctest.testmod(plan).failed == 0


# --------------------------------------------------------------------------- the runner


class FakeExecutor:
    """An executor that 'builds' a report by writing its HTML, with ``slots`` at once;
    it records the order reports start in and the most that ran at once."""

    def __init__(self, settings, *, slots: int = 2, notes=(), fail=frozenset()) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.settings, self.slots = settings, slots
        self.pool = ThreadPoolExecutor(max_workers=slots)
        self.inflight: list = []
        self.started: list[str] = []
        self.most = 0
        self._notes, self.fail = list(notes), fail
        self.closed = False

    def open(self) -> None:
        pass

    def room(self) -> int:
        self.inflight = [f for f in self.inflight if not f.done()]
        return self.slots - len(self.inflight)

    def busy(self) -> list:
        return []

    def submit(self, job):
        from cxtradeoff.errors import RenderError
        from cxtradeoff.pipeline.run import Staged

        self.started.append(job.spec.name)
        self.most = max(self.most, len([f for f in self.inflight if not f.done()]) + 1)

        def build() -> Staged:
            time.sleep(0.02)
            if job.spec.name in self.fail:
                raise RenderError(f"{job.spec.name} failed on purpose")
            page = job.stage / f"{job.spec.name}.html"
            page.write_text(job.spec.name)
            return Staged({"html": page}, phases={"cells": 0.01})

        future = self.pool.submit(build)
        self.inflight.append(future)
        return future

    def no_more_work(self) -> None:
        pass

    def notes(self) -> list[tuple[str, str]]:
        notes, self._notes = self._notes, []
        return notes

    def browser_version(self) -> str | None:
        return None

    def interrupt(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
        self.pool.shutdown(wait=True)


def _run(tmp_path: Path, specs: list[ReportSpec], **options: object):
    from cxtradeoff.pipeline.run import Runner

    made: list[FakeExecutor] = []
    ended: dict[str, str] = {}
    events: list = []

    def make(settings):
        made.append(FakeExecutor(settings, **options))
        return made[0]

    def finish(job, staged, error) -> str:
        ended[job.spec.name] = "ok" if error is None else "failed"
        return ended[job.spec.name]

    runner = Runner(plan.start_order(specs), keys={s.name: "k" for s in specs},
                    inputs={s.name: {} for s in specs}, out_dir=tmp_path, jobs=2,
                    formats=("html",), verbose=False, done={}, chromium=None, finish=finish,
                    skip=lambda spec, failed: ended.__setitem__(spec.name, "skipped"),
                    progress=events.append, executor=make)  # fmt: skip
    runner.run()
    return made[0], ended, events, runner


def test_the_runner_starts_a_report_after_what_it_reads_and_within_the_executors_room(
    tmp_path: Path,
) -> None:
    executor, ended, events, _ = _run(tmp_path, SPECS, slots=2)
    assert ended == dict.fromkeys(["a", "b", "c", "e"], "ok")
    assert executor.started.index("c") > max(
        executor.started.index("a"), executor.started.index("b")
    )
    assert executor.most <= 2 and executor.closed
    assert sorted(e.report for e in events if e.kind == "phases") == sorted(executor.started)
    assert not list(tmp_path.glob(".staging-*"))  # every staging folder removed


def test_the_runner_passes_on_what_the_executor_says_and_skips_readers_of_a_failure(
    tmp_path: Path,
) -> None:
    note = ("a", "worker tcp://w:1 was lost while building it; retried on worker tcp://w:2")
    _, ended, events, runner = _run(tmp_path, SPECS, notes=[note], fail={"b"})
    assert ended == {"a": "ok", "b": "failed", "c": "skipped", "e": "ok"}
    assert runner.notes == [f"{note[0]}: {note[1]}"]
    assert any(e.kind == "note" and e.report == "a" for e in events)


def test_importing_the_pipeline_has_no_side_effect(tmp_path: Path) -> None:
    """No umask change, no thread, no file or folder made (the kernels' tmp included)."""
    import subprocess
    import sys

    modules = ["cxtradeoff.pipeline." + p.stem for p in sorted(PIPELINE.glob("*.py"))]
    modules += ["cxtradeoff.commands.build", "cxtradeoff.report_checks"]
    imports = "; ".join(f"import {m}" for m in modules)
    code = f"import os, threading; os.umask(0o027); {imports}; "
    code += "print(oct(os.umask(0)), threading.active_count())"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env=env)  # fmt: skip
    assert run.stdout.split() == ["0o27", "1"]
    assert list(tmp_path.iterdir()) == []
