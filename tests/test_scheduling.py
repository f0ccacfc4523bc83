"""Unattended regeneration: the crontab line, the systemd units and the CI workflow.

Each is tried as far as this machine allows (docs/scheduling.md says what that is):

- the crontab line is parsed (five time fields and a command) and its command is run
  as cron runs it (``/bin/sh -c`` with a bare environment plus the crontab's variables)
  with the checkout, log and settings paths pointed at a throw-away project, against a
  real SMTP server on 127.0.0.1: a build then the e-mail; a second run with nothing to
  do; a run while another build holds the lock (exit 75, no e-mail);
- the systemd units go through ``systemd-analyze verify`` and ``calendar`` when the tool
  exists, are parsed either way, and the service's ``ExecStart`` lines are run in order
  as systemd runs a one-shot service;
- the workflow is parsed and its triggers and steps checked; it cannot run here;
- every ``cxtradeoff`` command line in the docs, the units, the crontab and the workflow
  is parsed by the real command-line parser, and every option appears in ``--help``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from filelock import FileLock

from cxtradeoff import paths
from cxtradeoff.browser import find_chromium
from cxtradeoff.cli import build_parser

ROOT = paths.ROOT
DEPLOY = ROOT / "deploy"
DOC = ROOT / "docs" / "scheduling.md"
CRONTAB = DEPLOY / "crontab.example"
SERVICE = DEPLOY / "cxtradeoff-reports.service"
TIMER = DEPLOY / "cxtradeoff-reports.timer"
SMTP_ENV = DEPLOY / "smtp.env.example"
WORKFLOW = ROOT / ".github" / "workflows" / "scheduled-reports.yml"

#: placeholders the deploy files use, replaced by real paths in the tests
CHECKOUT = "/opt/cxtradeoff"
LOG_DIR = "/var/log/cxtradeoff"
ETC_DIR = "/etc/cxtradeoff"
RECIPIENT = "cx-leader@example.com"

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


# --------------------------------------------------------------------------- crontab


@dataclass
class CronJob:
    minute: str
    hour: str
    day_of_month: str
    month: str
    day_of_week: str
    command: str


@dataclass
class Crontab:
    env: dict[str, str] = field(default_factory=dict)
    jobs: list[CronJob] = field(default_factory=list)


_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_DAYS = "sun mon tue wed thu fri sat".split()
#: (name, low, high, names) of the five time fields
CRON_FIELDS = (
    ("minute", 0, 59, []),
    ("hour", 0, 23, []),
    ("day of month", 1, 31, []),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


def read_crontab(text: str) -> Crontab:
    """Variables (``NAME=value``) and jobs (five time fields, then the command)."""
    out = Crontab()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        assignment = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)", stripped)
        if assignment:
            value = assignment.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out.env[assignment.group(1)] = value
            continue
        parts = stripped.split(None, 5)
        assert len(parts) == 6, f"crontab line {number}: expected 5 time fields and a command"
        out.jobs.append(CronJob(*parts))
    return out


def cron_values(text: str, low: int, high: int, names: list[str]) -> set[int]:
    """The values a cron time field matches; ValueError when it is not valid."""
    values: set[int] = set()

    def number(token: str) -> int:
        if token.lower() in names:
            return names.index(token.lower()) + (1 if names is _MONTHS else 0)
        if not token.isdigit():
            raise ValueError(f"{token!r} is not a number")
        value = int(token)
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value

    for item in text.split(","):
        body, _, step_text = item.partition("/")
        step = number(step_text) if step_text else 1
        if step_text and step < 1:
            raise ValueError(f"step {step_text!r} must be >= 1")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = number(first), number(last)
            if start > end:
                raise ValueError(f"range {body!r} runs backwards")
        else:
            start = end = number(body)
            if step_text:
                end = high
        values.update(range(start, end + 1, step))
    return values


def job_times(job: CronJob) -> list[set[int]]:
    texts = (job.minute, job.hour, job.day_of_month, job.month, job.day_of_week)
    return [
        cron_values(text, low, high, names)
        for text, (_, low, high, names) in zip(texts, CRON_FIELDS, strict=True)
    ]


def test_crontab_has_one_job_with_five_valid_time_fields_and_a_command() -> None:
    crontab = read_crontab(CRONTAB.read_text(encoding="utf-8"))
    assert len(crontab.jobs) == 1
    job = crontab.jobs[0]
    minute, hour, dom, month, dow = job_times(job)
    assert (minute, hour) == ({15}, {6})
    assert dom == set(range(1, 32)) and month == set(range(1, 13))
    assert dow == {1, 2, 3, 4, 5}  # Monday to Friday
    assert "%" not in job.command  # cron would turn it into a newline
    assert crontab.env["CXTRADEOFF_ROOT"] == CHECKOUT
    assert job.command.startswith(f"cd {CHECKOUT} && ")


def test_crontab_build_relies_on_its_own_lock_and_mails_only_after_success() -> None:
    job = read_crontab(CRONTAB.read_text(encoding="utf-8")).jobs[0]
    assert "flock" not in job.command
    steps = [s.strip() for s in job.command.split("&&")]
    build = next(i for i, s in enumerate(steps) if "cxtradeoff build" in s)
    email = next(i for i, s in enumerate(steps) if "cxtradeoff email" in s)
    assert build < email and "||" not in job.command and ";" not in job.command
    assert "--wait" in steps[build] and f">>{LOG_DIR}/build.log 2>&1" in steps[build]
    assert f">>{LOG_DIR}/email.log 2>&1" in steps[email]


@pytest.mark.parametrize(
    ("text", "low", "high", "reason"),
    [
        ("61", 0, 59, "61 is outside 0..59"),
        ("*/0", 0, 59, "step '0' must be >= 1"),
        ("5-2", 0, 23, "range '5-2' runs backwards"),
        ("mon", 0, 59, "'mon' is not a number"),
        ("1,x", 0, 7, "'x' is not a number"),
        ("32", 1, 31, "32 is outside 1..31"),
    ],
)
def test_cron_field_checker_rejects_bad_fields(text: str, low: int, high: int, reason: str) -> None:
    # Each case must be refused for its own reason: without `match`, "*/0" passed on
    # range()'s own ValueError for a zero step even with the checker's step test removed.
    with pytest.raises(ValueError, match=re.escape(reason)):
        cron_values(text, low, high, [])


def test_cron_field_checker_reads_names_steps_and_lists() -> None:
    assert cron_values("mon-fri", 0, 7, _DAYS) == {1, 2, 3, 4, 5}
    assert cron_values("*/15", 0, 59, []) == {0, 15, 30, 45}
    assert cron_values("1,jun", 1, 12, _MONTHS) == {1, 6}
    assert cron_values("5/20", 0, 59, []) == {5, 25, 45}


# --------------------------------------------------------------------------- command lines


def documented_commands() -> list[tuple[str, list[str]]]:
    """Every ``cxtradeoff build|email`` command written in the scheduling files."""
    found: list[tuple[str, list[str]]] = []
    sources = [DOC, CRONTAB, SERVICE, WORKFLOW]
    pattern = re.compile(r"cxtradeoff (build|email)((?: [^\n&|;>`]*)?)")
    for source in sources:
        for match in pattern.finditer(source.read_text(encoding="utf-8")):
            words = shlex.split(match.group(2), comments=True)
            found.append((f"{source.name}: {match.group(0).strip()}", [match.group(1), *words]))
    return found


def _sample_values(words: list[str]) -> list[str]:
    """Variables and placeholders in a documented command, given sample values."""
    out = []
    for word in words:
        word = re.sub(r"\$\{\{[^}]*\}\}|\$\{[A-Z_]+\}|\$[A-Z_]+", RECIPIENT, word)
        out.append(word)
    return out


def test_every_documented_command_line_parses() -> None:
    commands = documented_commands()
    kinds = {argv[0] for _, argv in commands}
    assert kinds == {"build", "email"}, f"commands found: {commands}"
    parser = build_parser()
    for where, argv in commands:
        if argv in (["build"], ["email"]) or "--help" in argv:
            continue  # the command named in prose, or its help
        try:
            parser.parse_args(_sample_values(argv))
        except SystemExit as exc:  # argparse's way of refusing a command line
            pytest.fail(f"{where}: the command line is refused (exit {exc.code})")


@functools.cache
def help_options(command: str) -> frozenset[str]:
    """The options ``cxtradeoff COMMAND --help`` lists, from the installed command."""
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("cxtradeoff")), command, "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return frozenset(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", proc.stdout))


@pytest.mark.parametrize("command", ["build", "email"])
def test_every_documented_option_is_in_the_help(command: str) -> None:
    used = {
        word.split("=")[0]
        for _, argv in documented_commands()
        if argv[0] == command
        for word in argv[1:]
        if word.startswith("-")
    }
    assert used, f"no {command} option documented"
    missing = used - help_options(command)
    assert not missing, f"not in `cxtradeoff {command} --help`: {missing}"


def test_every_option_named_in_the_docs_exists() -> None:
    named = set(re.findall(r"`(--[a-z][a-z-]*)", DOC.read_text(encoding="utf-8")))
    assert {"--wait", "--keep", "--formats"} <= named
    known = help_options("build") | help_options("email")
    assert named <= known, f"options the commands do not have: {named - known}"


def test_documented_make_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-zA-Z_-]+):", makefile, flags=re.MULTILINE))
    # commands only: in inline code, or at the start of a line of a code block or `run:`
    command = re.compile(r"(?:^\s*|`|run: )make ([a-z][a-z-]*)", flags=re.MULTILINE)
    used = set(command.findall(DOC.read_text(encoding="utf-8")))
    used |= set(command.findall(WORKFLOW.read_text(encoding="utf-8")))
    assert {"report", "setup"} <= used
    assert used <= targets, f"not Makefile targets: {used - targets}"


def test_exit_codes_in_the_docs_are_the_commands() -> None:
    doc = DOC.read_text(encoding="utf-8")
    table = {
        int(code): meaning
        for code, meaning in re.findall(r"^\| `?(\d+)`? \| ([^|]+)\|", doc, flags=re.MULTILINE)
    }
    build_help = subprocess.run(
        [str(Path(sys.executable).with_name("cxtradeoff")), "build", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    stated = {int(c) for c in re.findall(r"(\d+) [A-Za-z]", build_help.split("Exit status:")[1])}
    assert stated == {0, 1, 2, 3, 73, 75, 130, 143}
    assert stated <= set(table), (
        f"exit codes of build not in the docs' table: {stated - set(table)}"
    )
    assert 4 in table  # the e-mail's delivery failure
    assert "lock" in table[75] and "fail" in table[1]


# --------------------------------------------------------------------------- systemd


def read_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """A unit file as section -> [(key, value)], keeping repeated keys (ExecStart)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        assert current is not None, f"line {number}: setting outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"line {number}: expected Key=value"
        sections[current].append((key.strip(), value.strip()))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def test_service_unit_runs_the_build_then_the_email() -> None:
    unit = read_unit(SERVICE.read_text(encoding="utf-8"))
    assert values(unit, "Service", "Type") == ["oneshot"]
    assert values(unit, "Service", "WorkingDirectory") == [CHECKOUT]
    starts = [shlex.split(v) for v in values(unit, "Service", "ExecStart")]
    assert [s[0] for s in starts] == [f"{CHECKOUT}/.venv/bin/cxtradeoff"] * 2
    assert [s[1] for s in starts] == ["build", "email"]
    assert "--wait" in starts[0] and "--keep" in starts[0]
    assert values(unit, "Service", "EnvironmentFile") == [f"{ETC_DIR}/smtp.env"]
    # 75 (lock held) is not declared a success, or the e-mail would run after it
    assert not values(unit, "Service", "SuccessExitStatus")


def test_timer_unit_starts_the_service_on_weekday_mornings() -> None:
    unit = read_unit(TIMER.read_text(encoding="utf-8"))
    assert values(unit, "Timer", "Unit") == [SERVICE.name]
    assert values(unit, "Timer", "Persistent") == ["true"]
    assert values(unit, "Install", "WantedBy") == ["timers.target"]
    (calendar,) = values(unit, "Timer", "OnCalendar")
    assert calendar.startswith("Mon..Fri ")


def _units_for_this_machine(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The units with the checkout pointed at this project and a real settings file."""
    env_file = tmp_path / "smtp.env"
    env_file.write_text(SMTP_ENV.read_text(encoding="utf-8"), encoding="utf-8")
    out = []
    for unit in (SERVICE, TIMER):
        text = unit.read_text(encoding="utf-8")
        text = text.replace(f"{ETC_DIR}/smtp.env", str(env_file)).replace(CHECKOUT, str(ROOT))
        target = tmp_path / unit.name
        target.write_text(text, encoding="utf-8")
        out.append(target)
    return out[0], out[1], env_file


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed here")
def test_systemd_analyze_verifies_both_units(tmp_path: Path) -> None:
    service, timer, _ = _units_for_this_machine(tmp_path)
    proc = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(service), str(timer)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    ours = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if "cxtradeoff" in line or str(tmp_path) in line
    ]
    assert proc.returncode == 0 and not ours, proc.stdout + proc.stderr


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed here")
def test_systemd_analyze_catches_a_broken_exec_start(tmp_path: Path) -> None:
    """The check above can fail: a unit whose ExecStart does not exist is refused."""
    service, timer, _ = _units_for_this_machine(tmp_path)
    service.write_text(
        service.read_text(encoding="utf-8").replace(
            "/.venv/bin/cxtradeoff build", "/nowhere build"
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(service), str(timer)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode != 0 and "is not executable" in proc.stderr


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed here")
def test_timer_calendar_is_weekdays_at_0615() -> None:
    (calendar,) = values(read_unit(TIMER.read_text(encoding="utf-8")), "Timer", "OnCalendar")
    proc = subprocess.run(
        [SYSTEMD_ANALYZE, "calendar", "--iterations=5", calendar],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "Normalized form: Mon..Fri *-*-* 06:15:00" in proc.stdout
    elapses = re.findall(r"(?:Next elapse|Iter\. #\d+): (\w{3}) \S+ 06:15:00", proc.stdout)
    assert len(elapses) == 5 and set(elapses) <= {"Mon", "Tue", "Wed", "Thu", "Fri"}


# --------------------------------------------------------------------------- workflow


def test_workflow_runs_make_report_on_a_schedule_and_keeps_the_reports() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    (cron,) = [entry["cron"] for entry in triggers["schedule"]]
    job = CronJob(*cron.split(None, 4), command="")
    assert all(job_times(job))  # five valid fields (GitHub reads them in UTC)
    (only_job,) = workflow["jobs"].values()
    steps = only_job["steps"]
    runs = [s.get("run", "") for s in steps]
    make = next(i for i, r in enumerate(runs) if r.startswith("make report"))
    build_args = shlex.split(re.search(r'BUILD_ARGS="([^"]*)"', runs[make]).group(1))
    build_parser().parse_args(["build", *build_args])
    assert "--formats" in build_args and "html,pdf" in build_args
    uploads = [
        i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert len(uploads) == 1 and uploads[0] > make
    upload = steps[uploads[0]]
    kept = upload["with"]["path"].split()
    assert kept == ["reports/*.pdf", "reports/index.html", "reports/manifest.json"]
    assert "cancelled()" in upload["if"]  # also after a failed report
    assert upload["with"]["if-no-files-found"] == "error"
    email = next(i for i, r in enumerate(runs) if "cxtradeoff email" in r)
    assert email > make and "success()" in steps[email]["if"]
    assert "PASSWORD" in str(steps[email]["env"]) and "secrets." in str(steps[email]["env"])
    assert only_job["timeout-minutes"] <= 90
    assert workflow["permissions"] == {"contents": "read"}


# --------------------------------------------------------------------------- running them


@dataclass
class Deployment:
    """A throw-away project laid out as the deploy files expect, with its paths."""

    root: Path
    logs: Path
    etc: Path
    home: Path

    def substitute(self, text: str) -> str:
        return (
            text.replace(CHECKOUT, str(self.root))
            .replace(LOG_DIR, str(self.logs))
            .replace(ETC_DIR, str(self.etc))
        )


@pytest.fixture
def deployment(tiny_project: Path, tmp_path: Path, smtp_server: Any) -> Deployment:
    if find_chromium() is None:
        pytest.skip(
            "no Chromium here: the scheduled build asks for PDFs (`make setup` installs one)"
        )
    (tiny_project / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    logs, etc, home = tmp_path / "log", tmp_path / "etc", tmp_path / "home"
    for folder in (logs, etc, home):
        folder.mkdir()
    port = smtp_server.port
    settings = SMTP_ENV.read_text(encoding="utf-8")
    for name, value in {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SECURITY": "none",
        "USER": "",
        "PASSWORD": "",
    }.items():
        settings = re.sub(
            rf"^CXTRADEOFF_SMTP_{name}=.*$", f"CXTRADEOFF_SMTP_{name}={value}", settings, flags=re.M
        )
    (etc / "smtp.env").write_text(settings, encoding="utf-8")
    return Deployment(tiny_project, logs, etc, home)


def bare_environment(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """What cron (and, near enough, systemd) gives a job: no login shell's variables."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LOGNAME": "cxtradeoff",
        "SHELL": "/bin/sh",
        "LANG": "C.UTF-8",
    }
    if os.environ.get("CXTRADEOFF_CHROMIUM"):  # where Chromium is not on /usr/bin
        env["CXTRADEOFF_CHROMIUM"] = os.environ["CXTRADEOFF_CHROMIUM"]
    return {**env, **extra}


def make_report_b_fail(root: Path) -> None:
    """Make ``rep-b`` of the throw-away project fail (its ``reports.yaml`` is JSON)."""
    config_path = root / "reports.yaml"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    (rep_b,) = [r for r in config["reports"] if r["name"] == "rep-b"]
    rep_b["parameters"]["fail"] = True
    config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")


def run_cron_job(
    deploy: Deployment, *, wait: str | None = None
) -> subprocess.CompletedProcess[str]:
    crontab = read_crontab(deploy.substitute(CRONTAB.read_text(encoding="utf-8")))
    command = crontab.jobs[0].command
    if wait is not None:
        command = re.sub(r"--wait \d+", f"--wait {wait}", command)
    env = bare_environment(deploy.home, {k: v for k, v in crontab.env.items() if k != "MAILTO"})
    return subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=deploy.home,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _log(deploy: Deployment, name: str) -> str:
    path = deploy.logs / name
    return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.mark.slow
def test_crontab_line_builds_mails_once_and_backs_off_from_a_held_lock(
    deployment: Deployment, smtp_server: Any
) -> None:
    mailbox = smtp_server.handler
    first = run_cron_job(deployment)
    assert first.returncode == 0, first.stdout + first.stderr + _log(deployment, "build.log")
    assert first.stdout == first.stderr == ""  # everything went to the logs
    reports = deployment.root / "reports"
    for name in ("index.html", "manifest.json", "rep-a.pdf", "rep-b.pdf", "compare.pdf"):
        assert (reports / name).stat().st_size > 0, name
    assert len(list((reports / "archive").iterdir())) == 1  # one dated archive
    build_log = _log(deployment, "build.log")
    assert "report(s) to build" in build_log and "rep-a: ok" in build_log
    assert len(mailbox.messages) == 1 and mailbox.recipients == [[RECIPIENT]]
    attached = sorted(p.get_filename() for p in mailbox.messages[0].iter_attachments())
    assert attached == ["cxtradeoff-compare.pdf", "cxtradeoff-rep-a.pdf", "cxtradeoff-rep-b.pdf"]

    # the next morning: nothing changed, nothing rebuilt, the same build not mailed again
    second = run_cron_job(deployment)
    assert second.returncode == 0, _log(deployment, "build.log")
    assert "Nothing to do" in _log(deployment, "build.log")
    assert len(mailbox.messages) == 1

    email_log = _log(deployment, "email.log")
    assert email_log  # the e-mail command ran twice and said what it did

    # a build that overruns: the next run waits --wait seconds, exits 75, mails nothing
    make_report_b_fail(deployment.root)  # there would be work to do
    with FileLock(str(reports / ".build.lock")):
        third = run_cron_job(deployment, wait="1")
    assert third.returncode == 75, _log(deployment, "build.log")
    assert "another build is running" in _log(deployment, "build.log")
    assert len(mailbox.messages) == 1
    assert _log(deployment, "email.log") == email_log  # `&&`: the e-mail did not even start

    # a report fails: the others are built, the line exits 1 and mails nothing
    fourth = run_cron_job(deployment)
    assert fourth.returncode == 1, _log(deployment, "build.log")
    assert "rep-b: failed" in _log(deployment, "build.log")
    assert len(mailbox.messages) == 1
    assert _log(deployment, "email.log") == email_log


def run_service(deploy: Deployment, *, wait: str | None = None) -> list[int]:
    """Run the service's ExecStart lines as systemd runs a one-shot service.

    In order, in WorkingDirectory, with Environment= and EnvironmentFile= set and
    ``${NAME}`` expanded; stop at the first non-zero exit. Returns the exit codes.
    """
    unit = read_unit(deploy.substitute(SERVICE.read_text(encoding="utf-8")))
    env: dict[str, str] = {}
    for assignment in values(unit, "Service", "Environment"):
        for word in shlex.split(assignment):
            key, _, value = word.partition("=")
            env[key] = value
    for path in values(unit, "Service", "EnvironmentFile"):
        for line in Path(path.lstrip("-")).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                env[key.strip()] = value.strip()
    env = bare_environment(deploy.home, env)
    codes = []
    for command in values(unit, "Service", "ExecStart"):
        expanded = re.sub(
            r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), command
        )
        if wait is not None:
            expanded = re.sub(r"--wait \d+", f"--wait {wait}", expanded)
        (workdir,) = values(unit, "Service", "WorkingDirectory")
        with (deploy.logs / "journal.log").open("a", encoding="utf-8") as journal:
            proc = subprocess.run(
                shlex.split(expanded),
                cwd=workdir,
                env=env,
                stdout=journal,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=600,
            )
        codes.append(proc.returncode)
        if proc.returncode != 0:
            break
    return codes


@pytest.mark.slow
def test_service_commands_build_then_mail_and_stop_at_a_held_lock(
    deployment: Deployment, smtp_server: Any
) -> None:
    mailbox = smtp_server.handler
    reports = deployment.root / "reports"
    reports.mkdir()
    with FileLock(str(reports / ".build.lock")):
        assert run_service(deployment, wait="1") == [75]
    assert "another build is running" in _log(deployment, "journal.log")
    assert mailbox.messages == []
    assert run_service(deployment) == [0, 0], _log(deployment, "journal.log")
    assert len(mailbox.messages) == 1 and mailbox.recipients == [[RECIPIENT]]
    assert (reports / "manifest.json").exists() and (reports / "rep-a.pdf").exists()
