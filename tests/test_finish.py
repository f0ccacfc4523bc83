"""Finishing a build without kernels: commits, recovery after a kill, landing page, log."""

from __future__ import annotations

import json
import os
import re
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


# ---------------------------------------------------------------------------- dashboard


def _company_entry(results, **changes) -> dict:
    head = {"currency": results.currency, **results.headline.model_dump()}
    return {"title": f"Savings versus loyalty: {results.display_name}", "notebook": "n.ipynb",
            "status": "ok", "profile": results.profile, "display_name": results.display_name,
            "headline": head, "outputs": {"html": "x.html", "pdf": "x.pdf",
                                          "results": f"{results.profile}.results.json"},
            **changes}  # fmt: skip


def _brief_entry(name: str) -> dict:
    return {"title": f"Decision brief: {name}", "notebook": "06-brief.ipynb", "status": "ok",
            "depends_on": [name], "outputs": {"html": f"{name}.brief.html", "pdf": f"{name}.brief.pdf"}}  # fmt: skip


@pytest.fixture(scope="module")
def company_results():
    from cxtradeoff.pilot import pilot_file_path, read_pilot_file
    from cxtradeoff.profiles import load_profiles
    from cxtradeoff.results import build_results

    scenarios = ["status_quo", "hybrid", "full_automation", "reversal"]
    profiles = load_profiles()
    pilot = read_pilot_file(pilot_file_path("telecom-illustrative-pilot.csv"))
    return {
        "spanish": build_results(profiles["spanish_telecom"], scenarios, draws=300, seed=2),
        "telecom": build_results(profiles["telecom"], scenarios, draws=300, seed=2, pilot=pilot),
        "bank": build_results(profiles["retail_bank"], scenarios, draws=300, seed=2),
    }


def test_the_landing_page_shows_each_company_with_its_brief(company_results) -> None:
    from cxtradeoff import printcheck
    from cxtradeoff.formatting import decision_break_even, decision_lines

    spanish, telecom, bank = (company_results[k] for k in ("spanish", "telecom", "bank"))
    manifest = Manifest(build_id="b", built_at="t", config="reports.yaml", reports={
        "evidence": {"title": "What customers say", "notebook": "01.ipynb", "status": "ok",
                     "outputs": {"html": "evidence.html", "pdf": "evidence.pdf"}},
        "spanish": _company_entry(spanish), "spanish.brief": _brief_entry("spanish"),
        "telecom": _company_entry(telecom), "telecom.brief": _brief_entry("telecom"),
        "bank": _company_entry(bank, display_name="<b>Bank</b>"),
        "bank.brief": {**_brief_entry("bank"), "status": "failed", "error": "PDF not printed"},
        "orphan.brief": _brief_entry("orphan"),
    })  # fmt: skip
    results = {"spanish": spanish, "telecom": telecom, "bank": bank}
    companies, others = finish.landing_rows(manifest, results)
    assert [c["name"] for c in companies] == ["spanish", "telecom", "bank"]
    assert [o["name"] for o in others] == ["evidence", "orphan.brief"]
    row = {c["name"]: c for c in companies}
    assert row["spanish"]["brief"]["href"] == "spanish.brief.pdf"
    rule = spanish.scenarios["full_automation"].blocked_by
    assert row["spanish"]["forbidden"] == [f"Full automation and reversal not allowed: {rule}"]
    assert row["telecom"]["pilot"] and not row["spanish"]["pilot"]
    assert row["telecom"]["assumed"].endswith("after an illustrative pilot")
    assert row["telecom"]["decision"] == decision_lines(telecom).title
    assert row["spanish"]["sentence"] == decision_lines(spanish).decision
    assert bank.recommended == "status_quo"
    value, note = decision_break_even(bank)
    assert (row["bank"]["break_even"], row["bank"]["break_even_note"]) == (value, note)
    assert row["bank"]["brief"]["status_words"] == "failed"

    page = finish.render_index(manifest, results=results)
    assert 'href="telecom.brief.pdf"' in page and 'href="telecom.brief.html"' in page
    assert "after an illustrative pilot" in page and "PDF not printed" in page
    assert "<b>Bank</b>" not in page  # escaped (the title comes from the results file)
    text = re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[1])
    assert printcheck.code_identifiers(text) == [], "code names on the landing page"
    assert "06-brief.ipynb" not in page and "n.ipynb" not in page  # no notebook paths shown


def test_the_finisher_keeps_each_report_results_file_beside_its_entry(
    tmp_path: Path, company_results
) -> None:
    from cxtradeoff.contracts import write_model

    spanish = company_results["spanish"]
    write_model(spanish, tmp_path / "spanish_telecom.results.json")
    entries = {"spanish": ReportEntry.model_validate(_company_entry(spanish)),
               "broken": ReportEntry.model_validate(_company_entry(spanish, outputs={"results": "none.json"}))}  # fmt: skip
    finisher = finish.Finisher(out_dir=tmp_path, root=tmp_path, build_id="b", built_at="t",
                               config="c", order=list(entries), formats=("html",), commit=None,
                               versions={}, entries=entries)  # fmt: skip
    assert set(finisher.results) == {"spanish"}  # an unreadable one is left out, not fatal
    assert finisher.results["spanish"] == spanish


def test_a_portfolio_roll_up_leads_the_landing_page_with_its_units_by_decision(
    company_results,
) -> None:
    """A portfolio's roll-up is what a director opens first: above the units' rows, with its
    units counted by decision; not among the evidence and the comparison."""
    spanish, telecom, bank = (company_results[k] for k in ("spanish", "telecom", "bank"))
    units = {"g-spanish": spanish, "g-telecom": telecom, "g-bank": bank}
    manifest = Manifest(build_id="b", built_at="t", config="reports.yaml", reports={
        **{n: _company_entry(r, unit_of="g") for n, r in units.items()},
        "g": {"title": "Group <roll-up>", "notebook": "07.ipynb", "status": "ok",
              "depends_on": list(units), "outputs": {"html": "g.html", "pdf": "g.pdf"}},
        "evidence": {"title": "What customers say", "notebook": "01.ipynb", "status": "ok",
                     "outputs": {"html": "evidence.html", "pdf": "evidence.pdf"}},
    })  # fmt: skip
    assert [r.recommended for r in units.values()].count("hybrid") == 2
    rows = finish.portfolio_rows(manifest)
    assert [(r["name"], r["units"]) for r in rows] == [
        ("g", "3 units: AI assisting agents for 2, no AI for now for 1")
    ]
    companies, others = finish.landing_rows(manifest, units)
    assert [c["name"] for c in companies] == list(units)
    assert [o["name"] for o in others] == ["evidence"]  # the roll-up is not "other"
    page = finish.render_index(manifest, results=units)
    assert page.index("<h2>Portfolios</h2>") < page.index("<h2>Decisions</h2>")
    assert '<a href="g.html">Group &lt;roll-up&gt;</a>' in page
    assert "Each has its full report and its notebook." in page  # no brief promised
    plain = finish.render_index(_manifest(a="A"))
    assert "Portfolios" not in plain
