"""The report configuration is validated as a whole before any kernel starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cxtradeoff.cli import main
from cxtradeoff.errors import ConfigError
from cxtradeoff.paths import NOTEBOOKS_DIR, REPORTS_CONFIG, ROOT
from cxtradeoff.pipeline.config import load_config, notebook_parameters, parse_config


def _problems(raw: object, root: Path) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, path=root / "reports.yaml", root=root)
    return str(info.value)


def _report(**fields: object) -> dict:
    return {"name": "rep-a", "notebook": "notebooks/analysis.ipynb", **fields}


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        ([_report(notebook="notebooks/missing.ipynb")],
         "report 'rep-a', field 'notebook': notebooks/missing.ipynb does not exist"),
        ([_report(parameters={"lable": "x"})],
         "report 'rep-a', field 'parameters.lable': notebooks/analysis.ipynb declares no such parameter"),
        ([_report(parameters={"scale": "big"})],
         "report 'rep-a', field 'parameters.scale': expected float, got str 'big'"),
        ([_report(parameters={"fail": 1})],
         "report 'rep-a', field 'parameters.fail': expected bool, got int 1"),
        ([_report(), _report()], "report 'rep-a', field 'name': duplicate report name"),
        ([_report(name="Bad Name")], "field 'name': expected lower-case letters"),
        ([{"name": "x", "notebook": "notebooks/compare.ipynb", "depends_on": ["y"]},
          {"name": "y", "notebook": "notebooks/compare.ipynb", "depends_on": ["x"]}],
         "field 'depends_on': dependency cycle x -> y -> x"),
        ([{"name": "x", "notebook": "notebooks/compare.ipynb", "depends_on": ["nope"]}],
         "report 'x', field 'depends_on': no report named 'nope'"),
        ([_report(depends_on=["rep-b"]), _report(name="rep-b")],
         "report 'rep-a', field 'depends_on': its notebook declares no 'results_files' parameter"),
        ([_report(inputs=["data/nothing-*.csv"])],
         "report 'rep-a', field 'inputs': 'data/nothing-*.csv' matches no file"),
        ([_report(parameters={"results_path": "x.json"})],
         "field 'parameters.results_path': set by the build, not the configuration"),
        ([_report(colour="red")], "report 'rep-a': unknown field 'colour'"),
        ([_report(title="")], "report 'rep-a', field 'title': expected text"),
        ([_report(template="fancy")],
         "report 'rep-a', field 'template': expected one of brief, cxtradeoff, got 'fancy'"),
        ([_report(name="rep-a.summary")], "field 'name': expected lower-case letters"),
        ([_report(), {"name": "rep-a.brief", "notebook": "notebooks/compare.ipynb"}],
         "report 'rep-a.brief', field 'depends_on': a brief reads the report it summarises, "
         "so it must depend on 'rep-a'"),
    ],
)  # fmt: skip
def test_each_configuration_error_names_the_report_and_field(
    tiny_project: Path, reports: list, expected: str
) -> None:
    assert expected in _problems({"reports": reports}, tiny_project)


def test_every_problem_is_reported_at_once(tiny_project: Path) -> None:
    message = _problems(
        {"reports": [_report(parameters={"scale": "big", "lable": 1}), _report(), {"name": "z"}]},
        tiny_project,
    )
    assert "4 problem(s)" in message
    for part in ("parameters.scale", "parameters.lable", "duplicate report name",
                 "report 'z', field 'notebook'"):  # fmt: skip
        assert part in message


def test_top_level_shape(tiny_project: Path) -> None:
    assert "expected a non-empty list of reports" in _problems({"reports": []}, tiny_project)
    assert "expected a mapping" in _problems(["x"], tiny_project)
    assert "unknown top-level field 'report'" in _problems(
        {"report": [], "reports": [_report()]}, tiny_project
    )


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "reports.yaml"
    bad.write_text("reports: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.yaml")


def test_a_bad_configuration_starts_no_kernel_and_writes_nothing(
    tiny_project: Path, capsys
) -> None:
    config = tiny_project / "reports.yaml"
    data = json.loads(config.read_text())
    data["reports"][0]["parameters"]["scale"] = "big"
    config.write_text(json.dumps(data))
    out = tiny_project / "out"
    assert main(["build", "--config", str(config), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "report 'rep-a', field 'parameters.scale'" in err
    assert not out.exists()


def test_defaults_and_overrides_reach_only_notebooks_that_declare_them(tiny_project: Path) -> None:
    raw = {
        "defaults": {"scale": 2.0, "draws": 10},
        "reports": [_report(), {"name": "c", "notebook": "notebooks/compare.ipynb",
                                "depends_on": ["rep-a"]}],
    }  # fmt: skip
    cfg = parse_config(raw, path=tiny_project / "r.yaml", root=tiny_project,
                       overrides={"label": "Z"})  # fmt: skip
    by_name = cfg.by_name()
    assert by_name["rep-a"].parameters == {"scale": 2.0, "label": "Z"}
    assert by_name["c"].parameters == {}
    assert [r.name for r in cfg.reports] == ["rep-a", "c"]


def test_parameters_are_read_from_the_notebook_without_a_kernel() -> None:
    params = notebook_parameters(NOTEBOOKS_DIR / "02-savings-vs-loyalty.ipynb")
    assert params["draws"].type_name == "int" and params["draws"].default > 0
    assert params["scenarios"].type_name == "list"
    assert "results_path" in params and params["profile"].help


def test_the_project_configuration_is_valid() -> None:
    cfg = load_config(REPORTS_CONFIG)
    names = [r.name for r in cfg.reports]
    assert names[-1] == "comparison" and "evidence" in names
    profiles = {r.profile for r in cfg.reports if r.profile}
    from cxtradeoff.profiles import load_profiles

    assert profiles == set(load_profiles())  # one report per company profile
    comparison = cfg.by_name()["comparison"]
    companies = [r for r in cfg.reports if r.profile]
    assert set(comparison.depends_on) == {r.name for r in companies}
    assert all((ROOT / "data" / "company_profiles.csv") in r.inputs for r in companies)
    # every company report has its one-page brief, built after it with the brief template
    by_name = cfg.by_name()
    for company in companies:
        brief = by_name[f"{company.name}.brief"]
        assert brief.notebook == NOTEBOOKS_DIR / "06-brief.ipynb" and brief.template == "brief"
        assert brief.depends_on == [company.name] and brief.reads_results
        assert brief.brief_of == company.name and company.template == "cxtradeoff"
        assert names.index(brief.name) > names.index(company.name)


def test_a_brief_is_named_after_its_report_and_chooses_its_template(tiny_project: Path) -> None:
    raw = {"reports": [_report(),
                       {"name": "rep-a.brief", "notebook": "notebooks/compare.ipynb",
                        "template": "brief", "depends_on": ["rep-a"]}]}  # fmt: skip
    cfg = parse_config(raw, path=tiny_project / "reports.yaml", root=tiny_project)
    brief = cfg.by_name()["rep-a.brief"]
    assert (brief.template, brief.brief_of) == ("brief", "rep-a")
    assert (
        cfg.by_name()["rep-a"].template == "cxtradeoff" and cfg.by_name()["rep-a"].brief_of is None
    )


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"profile": "telcom"}, "field 'parameters.profile': no profile 'telcom' (profiles: telecom,"),
        ({"scenarios": ["hybrid", "full_automaton"]}, "field 'parameters.scenarios':"),
        ({"overrides": {"switch_conversion": 1.5}}, "switch_conversion = 1.5 is not allowed"),
        ({"overrides": {"switch_conversoin": 0.1}}, "field 'parameters.overrides':"),
        ({"overrides": {"ai_resolution_share": 0.95}},
         "field 'parameters.overrides': with scenario 'hybrid':"),
        ({"horizon_years": 40}, "field 'parameters.horizon_years': horizon_years = 40"),
        ({"profiles_path": "/nonexistent/profiles.csv"},
         "field 'parameters.profiles_path': /nonexistent/profiles.csv: no such file"),
        ({"draws": -5}, "field 'parameters.draws': draws = -5 is out of range: expected "
                        "a whole number from 1,000 to 1,000,000"),
        ({"draws": 0}, "field 'parameters.draws': draws = 0 is out of range"),
        ({"draws": 100_000_000}, "field 'parameters.draws': draws = 100000000 is out of range"),
        ({"draws": 999}, "field 'parameters.draws': draws = 999 is out of range"),
        ({"draws": "many"}, "field 'parameters.draws': expected int, got str 'many'"),
    ],
)  # fmt: skip
def test_model_parameters_are_checked_before_any_kernel_starts(
    tmp_path: Path, parameters: dict, expected: str, nothing_written, capsys
) -> None:
    config = tmp_path / "reports.yaml"
    config.write_text(json.dumps({"reports": [{
        "name": "bad", "notebook": str(NOTEBOOKS_DIR / "02-savings-vs-loyalty.ipynb"),
        "parameters": {"profile": "telecom", **parameters}}]}))  # fmt: skip
    assert main(["build", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "report 'bad'" in err and expected in err, err
    assert nothing_written(tmp_path / "out")  # no kernel ran


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("draws=2000000", "report 'telecom', field 'parameters.draws': draws = 2000000 is out of range"),
        ("draws=abc", "--param draws='abc': expected a whole number, e.g. 2000 (notebooks/"
                      "02-savings-vs-loyalty.ipynb, notebooks/03-comparison.ipynb declare 'draws: int')"),
        ("draws=2e3", "--param draws='2e3': expected a whole number"),
        ("horizon_years=true", "--param horizon_years='true': expected a whole number"),
        ("overrides=[1]", "--param overrides='[1]': expected a dict in JSON"),
        ("draw=2000", "--param draw: no notebook of the configuration declares it"),
        ("results_path=x", "--param results_path: set by the build, not on the command line"),
        ("noequals", "--param 'noequals': expected NAME=VALUE"),
    ],
)  # fmt: skip
def test_a_bad_param_is_named_before_any_kernel_starts(
    tmp_path: Path, param: str, expected: str, nothing_written, capsys
) -> None:
    out = tmp_path / "out"
    code = main(["build", "--config", str(REPORTS_CONFIG), "--out", str(out), "--only", "telecom",
                 "--param", param])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and expected in err, err
    assert err.count("\n  - ") <= 1  # named once, not once per report
    assert nothing_written(out)


def test_param_values_are_read_as_the_type_the_notebook_declares(tiny_project: Path) -> None:
    raw = {"reports": [_report()]}
    overrides = {"label": "a #b: c", "scale": "2", "fail": "yes", "data_file": "007"}
    spec = parse_config(raw, path=tiny_project / "r.yaml", root=tiny_project,
                        overrides=overrides).by_name()["rep-a"]  # fmt: skip
    assert spec.parameters == {"label": "a #b: c", "scale": 2.0, "fail": True, "data_file": "007"}
    for bad, message in (("inf", "expected a finite number"), ("1e999", "expected a finite number"),
                         ("two", "expected a number")):  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            parse_config(
                raw, path=tiny_project / "r.yaml", root=tiny_project, overrides={"scale": bad}
            )


def test_param_parsing_doctest() -> None:
    import doctest

    from cxtradeoff import limits
    from cxtradeoff.pipeline import config

    assert doctest.testmod(config).failed == 0 and doctest.testmod(limits).failed == 0
