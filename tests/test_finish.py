"""Finishing a build without kernels: commits, recovery after a kill, landing page, log."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from cxtradeoff.contracts import Manifest, ReportEntry, load_manifest
from cxtradeoff.errors import OutputError
from cxtradeoff.pipeline import finish


def _manifest(**reports: str) -> Manifest:
    """A manifest whose report ``name`` lists ``name.html``, whose text is ``reports[name]``."""
    return Manifest(build_id="b1", built_at="2026-01-01T00:00:00+00:00", config="reports.yaml",
                    reports={name: ReportEntry(title=text, notebook="n.ipynb", status="ok",
                                               outputs={"html": f"{name}.html"})
                             for name, text in reports.items()})  # fmt: skip


def _staged(out: Path, name: str, text: str) -> Path:
    stage = out / f".staging-{name}-x"
    stage.mkdir(exist_ok=True)
    (stage / f"{name}.html").write_text(text)
    return stage / f"{name}.html"


def _agree(out: Path) -> None:
    """Every report's file, manifest entry and landing-page row say the same thing."""
    manifest = load_manifest(out / "manifest.json")
    index = (out / "index.html").read_text()
    for name, entry in manifest.reports.items():
        assert (out / f"{name}.html").read_text() == entry.title, name
        assert entry.title in index


def test_a_commit_puts_files_manifest_and_landing_page_in_place(tmp_path: Path) -> None:
    finish.commit(tmp_path, _manifest(a="A1"), moves=[(_staged(tmp_path, "a", "A1"), "a.html")])
    _agree(tmp_path)
    (tmp_path / "failed").mkdir()
    (tmp_path / "failed" / "a.ipynb").write_text("{}")
    finish.commit(tmp_path, _manifest(a="A2"), moves=[(_staged(tmp_path, "a", "A2"), "a.html")],
                  removals=["failed/a.ipynb"])  # fmt: skip
    _agree(tmp_path)
    assert not (tmp_path / "failed" / "a.ipynb").exists()
    assert not list(tmp_path.glob(".staging-commit-*"))
    assert oct((tmp_path / "a.html").stat().st_mode & 0o777) == "0o644"


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no ``except Exception`` catches it."""


@pytest.mark.parametrize("moves_done", [0, 1, 2])
def test_a_commit_killed_half_way_is_finished_by_the_next_build(
    tmp_path: Path, monkeypatch, moves_done: int
) -> None:
    """Killed after 0, 1 or 2 of its renames (the report, the manifest, the landing page), a
    commit leaves its journal; recovery finishes it, and everything agrees again."""
    finish.commit(tmp_path, _manifest(a="A1", b="B1"),
                  moves=[(_staged(tmp_path, "a", "A1"), "a.html"), (_staged(tmp_path, "b", "B1"), "b.html")])  # fmt: skip
    real_move, calls = finish.move_into_place, []

    def dying_move(src: Path, dest: Path) -> Path:
        if len(calls) == moves_done:
            raise Killed
        calls.append(dest)
        return real_move(src, dest)

    monkeypatch.setattr(finish, "move_into_place", dying_move)
    with pytest.raises(Killed):
        finish.commit(
            tmp_path, _manifest(a="A2", b="B1"), moves=[(_staged(tmp_path, "a", "A2"), "a.html")]
        )
    monkeypatch.setattr(finish, "move_into_place", real_move)
    warnings = finish.recover(tmp_path)
    assert len(warnings) == 1 and "killed build" in warnings[0]
    _agree(tmp_path)
    assert (tmp_path / "a.html").read_text() == "A2"  # rolled forward, not back
    assert not list(tmp_path.glob(".staging-*"))


def test_a_commit_that_cannot_write_leaves_nothing_and_names_the_reason(
    tmp_path: Path, monkeypatch
) -> None:
    finish.commit(tmp_path, _manifest(a="A1"), moves=[(_staged(tmp_path, "a", "A1"), "a.html")])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    def full(path: object, text: str) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(finish, "atomic_write_text", full)
    with pytest.raises(OutputError, match="disk full") as info:
        finish.commit(tmp_path, _manifest(a="A2"), moves=[(_staged(tmp_path, "a", "A2"), "a.html")])
    assert "index.html" in info.value.path and info.value.exit_code == 73
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert not list(tmp_path.glob(".staging-commit-*"))


def test_ctrl_c_during_a_commit_waits_until_it_is_done(tmp_path: Path, monkeypatch) -> None:
    real_move = finish.move_into_place

    def interrupted_move(src: Path, dest: Path) -> Path:
        os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of the renames
        return real_move(src, dest)

    monkeypatch.setattr(finish, "move_into_place", interrupted_move)
    with pytest.raises(KeyboardInterrupt):
        finish.commit(tmp_path, _manifest(a="A1"), moves=[(_staged(tmp_path, "a", "A1"), "a.html")])
    _agree(tmp_path)  # the interrupt came after the whole commit
    assert not list(tmp_path.glob(".staging-commit-*"))


def test_a_previous_manifest_of_another_version_is_a_warning_and_a_full_rebuild(
    tmp_path: Path,
) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"build_id": "x", "reports": {}}))
    manifest, warning = finish.read_previous(tmp_path)
    assert manifest is None and warning and "every report is rebuilt" in warning
    assert finish.read_previous(tmp_path / "none") == (None, None)


def test_long_messages_go_to_the_build_log(tmp_path: Path) -> None:
    finisher = finish.Finisher(out_dir=tmp_path, root=tmp_path, build_id="b", built_at="t",
                               config="c", order=[], formats=("pdf",), commit=None, versions={},
                               entries={})  # fmt: skip
    log = "\n".join(f"[pid=1][err] browser line {i}" for i in range(54))
    short = finisher._shorten("rep", "PDF not printed: Target crashed", log)
    assert short.count("\n") == 0 and "full message in" in short and "browser line" not in short
    assert "browser line 53" in (tmp_path / "build.log").read_text()
    assert finisher._shorten("rep", "one line", "") == "one line"


def test_landing_page_words_numbers_as_the_reports_do_and_escapes_everything(
    results_template: str,
) -> None:
    headline = {**json.loads(results_template)["headline"], "currency": "EUR", "npv_mean": 2.5e6,
                "p_loss": 0.004, "scenario": "hybrid"}  # fmt: skip

    def entry(k: float | None, name: str) -> dict:
        return {"title": f"<i>{name}</i>", "notebook": "n.ipynb", "status": "ok",
                "outputs": {"html": f"{name}.html"}, "display_name": "<script>alert(1)</script>",
                "headline": {**headline, "break_even_conversion_npv": k}}  # fmt: skip

    manifest = Manifest(build_id="b", built_at="t", config="reports.yaml", reports={
        "a": entry(1.3, "a"), "b": entry(-0.2, "b"), "c": entry(0.0589, "c"), "d": entry(None, "d")})  # fmt: skip
    page = finish.render_index(manifest)
    assert "always pays" in page and "never pays" in page and "5.9%" in page
    assert "no exposure" in page  # the words formatting.py gives an undefined break-even
    assert "EUR 2.5 million" in page and "less than 1%" in page and "Hybrid" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<i>" not in page and "&lt;i&gt;a&lt;/i&gt;" in page
