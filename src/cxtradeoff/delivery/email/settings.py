"""SMTP settings: from ``CXTRADEOFF_SMTP_*`` variables or the ``smtp:`` section of a YAML file.

The environment wins over the file; an empty variable counts as unset. Every problem is
a :class:`~cxtradeoff.errors.SmtpConfigError` naming the variable (or file key) to
change, never the password's value.

>>> env_var("host")
'CXTRADEOFF_SMTP_HOST'
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cxtradeoff.delivery.email.addresses import parse_address
from cxtradeoff.errors import SmtpConfigError

#: prefix of every SMTP environment variable
ENV_PREFIX = "CXTRADEOFF_SMTP_"
#: accepted values of the ``security`` setting
SECURITY_MODES = ("starttls", "ssl", "none")
#: default port for each security mode
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
#: setting names; the environment variable is ``CXTRADEOFF_SMTP_<NAME upper-cased>``
SETTING_KEYS = (
    "host",
    "port",
    "user",
    "password",
    "security",
    "from",
    "cafile",
    "timeout",
    "data_timeout",
    "attempts",
    "retry_delay",
)
#: seconds to wait for the server's answer to the end of a message: RFC 5321, 4.5.3.2.6
#: ("DATA Termination: 10 minutes"); scanning a few MB of PDFs may take the server a while
RFC5321_DATA_TERMINATION_TIMEOUT = 600.0
#: sender used by a dry run when no ``from`` setting is given
DRY_RUN_SENDER = "cxtradeoff@localhost"


@dataclass(frozen=True)
class SmtpSettings:
    """Validated SMTP settings. The password is kept out of ``repr``.

    Attributes
    ----------
    host, port : str, int
        The SMTP server.
    security : str
        ``starttls`` (upgrade a plain connection), ``ssl`` (TLS from the start) or
        ``none`` (no encryption; refused together with a password).
    sender : str
        Envelope sender and ``From:`` address.
    user, password : str or None
        Login; both or neither.
    cafile : Path or None
        PEM file of certificate authorities to trust in addition to the system ones
        (for a private or self-signed server certificate).
    timeout : float
        Seconds before a silent server counts as a transient failure, for every step
        but the answer to the end of the message.
    data_timeout : float
        Seconds to wait for the answer to the end of the message (the final dot),
        10 minutes by default as RFC 5321 says. No answer by then is an unknown outcome:
        the message may have been delivered, so it is never retried blindly.
    attempts : int
        Connection attempts in all, at least 1.
    retry_delay : float
        Seconds before the first retry; doubled before each further one.
    """

    host: str
    port: int
    security: str
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: Path | None = None
    timeout: float = 30.0
    data_timeout: float = RFC5321_DATA_TERMINATION_TIMEOUT
    attempts: int = 4
    retry_delay: float = 2.0


@dataclass(frozen=True)
class _RawSetting:
    value: str
    source: str  # what a user must change: an environment variable or a file key


def env_var(key: str) -> str:
    """Environment variable that holds setting ``key``.

    >>> env_var("retry_delay")
    'CXTRADEOFF_SMTP_RETRY_DELAY'
    """
    return ENV_PREFIX + key.upper()


def read_smtp_config(
    *, environ: Mapping[str, str], config_path: Path | None
) -> dict[str, _RawSetting]:
    """Collect raw SMTP settings from the ``smtp:`` section of a YAML file and the environment.

    Only the ``smtp`` key of the file is read; a missing file is fine. Environment
    variables override the file. Empty environment variables count as unset.

    Raises
    ------
    SmtpConfigError
        The file is not YAML, ``smtp`` is not a mapping, or it holds an unknown key.
    """
    raw: dict[str, _RawSetting] = {}
    if config_path is not None and config_path.is_file():
        try:
            document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SmtpConfigError(f"{config_path}: not valid YAML ({exc})") from None
        section = document.get("smtp") if isinstance(document, dict) else None
        if section is not None:
            if not isinstance(section, dict):
                raise SmtpConfigError(
                    f"{config_path}: 'smtp' must be a mapping of settings "
                    f"({', '.join(SETTING_KEYS)}), got {type(section).__name__}"
                )
            unknown = sorted(str(k) for k in section if k not in SETTING_KEYS)
            if unknown:
                raise SmtpConfigError(
                    f"{config_path}: unknown key(s) smtp.{', smtp.'.join(unknown)}; "
                    f"expected some of {', '.join(SETTING_KEYS)}"
                )
            for key, value in section.items():
                if value is not None:
                    raw[key] = _RawSetting(str(value), f"smtp.{key} in {config_path}")
    for key in SETTING_KEYS:
        value = environ.get(env_var(key), "")
        if value.strip():
            raw[key] = _RawSetting(value.strip(), env_var(key))
    return raw


def _int_setting(raw: _RawSetting, *, low: int, high: int, what: str) -> int:
    try:
        number = int(raw.value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise SmtpConfigError(
            f"{raw.source}={raw.value!r}: expected {what}, an integer from {low} to {high}"
        )
    return number


def _float_setting(raw: _RawSetting, *, low: float, high: float, what: str) -> float:
    try:
        number = float(raw.value)
    except ValueError:
        number = math.nan
    if not low <= number <= high:  # also rejects NaN
        raise SmtpConfigError(
            f"{raw.source}={raw.value!r}: expected {what}, a number from {low:g} to {high:g}"
        )
    return number


def parse_smtp_settings(raw: Mapping[str, _RawSetting]) -> SmtpSettings:
    """Validate raw settings (from :func:`read_smtp_config`) into :class:`SmtpSettings`.

    Raises
    ------
    SmtpConfigError
        Naming the variable (or file key) at fault and what was expected.
    """
    host = raw.get("host")
    if host is None:
        raise SmtpConfigError(
            f"{env_var('host')} is not set (nor smtp.host in the config file): "
            "name the SMTP server to send through"
        )
    if not re.fullmatch(r"[A-Za-z0-9.:\-\[\]]+", host.value):
        raise SmtpConfigError(f"{host.source}={host.value!r}: expected a host name or IP address")

    security = raw.get("security", _RawSetting("starttls", "default"))
    mode = security.value.lower()
    if mode not in SECURITY_MODES:
        raise SmtpConfigError(
            f"{security.source}={security.value!r}: unknown security; "
            f"expected one of {', '.join(SECURITY_MODES)}"
        )
    port = (
        _int_setting(raw["port"], low=1, high=65535, what="a TCP port")
        if "port" in raw
        else DEFAULT_PORTS[mode]
    )

    user = raw["user"].value if "user" in raw else None
    password = raw["password"].value if "password" in raw else None
    if (user is None) != (password is None):
        missing, given = ("password", "user") if password is None else ("user", "password")
        raise SmtpConfigError(
            f"{env_var(missing)} is not set but {raw[given].source} is: "
            "give both user and password, or neither"
        )
    for key, value in (("user", user), ("password", password)):
        if value is not None and not value.isascii():
            # Name the variable, never the value.
            raise SmtpConfigError(
                f"{raw[key].source} holds non-ASCII characters, which SMTP login cannot send"
            )
    if password is not None and mode == "none":
        raise SmtpConfigError(
            f"{security.source}=none with a password would send the password unencrypted; "
            "use starttls or ssl"
        )

    sender_raw = raw.get("from")
    if sender_raw is None and user is not None and "@" in user:
        sender_raw = _RawSetting(user, raw["user"].source)
    if sender_raw is None:
        raise SmtpConfigError(
            f"{env_var('from')} is not set (nor smtp.from in the config file): "
            "give the sender address"
        )
    sender = parse_address(sender_raw.value, what=sender_raw.source, error=SmtpConfigError)

    cafile: Path | None = None
    if "cafile" in raw:
        cafile = Path(raw["cafile"].value).expanduser()
        if not cafile.is_file():
            raise SmtpConfigError(
                f"{raw['cafile'].source}={raw['cafile'].value!r}: no such file "
                "(expected a PEM file of certificates to trust)"
            )
        if mode == "none":
            raise SmtpConfigError(
                f"{raw['cafile'].source} is set but {security.source}=none uses no TLS"
            )

    timeout = (
        _float_setting(raw["timeout"], low=0.1, high=600, what="seconds")
        if "timeout" in raw
        else SmtpSettings.timeout
    )
    data_timeout = (
        _float_setting(raw["data_timeout"], low=0.1, high=3600, what="seconds")
        if "data_timeout" in raw
        else SmtpSettings.data_timeout
    )
    attempts = (
        _int_setting(raw["attempts"], low=1, high=20, what="the number of attempts")
        if "attempts" in raw
        else SmtpSettings.attempts
    )
    retry_delay = (
        _float_setting(raw["retry_delay"], low=0, high=600, what="seconds")
        if "retry_delay" in raw
        else SmtpSettings.retry_delay
    )
    return SmtpSettings(
        host=host.value,
        port=port,
        security=mode,
        sender=sender,
        user=user,
        password=password,
        cafile=cafile,
        timeout=timeout,
        data_timeout=data_timeout,
        attempts=attempts,
        retry_delay=retry_delay,
    )


def load_smtp_settings(
    *, environ: Mapping[str, str] | None = None, config_path: Path | None = None
) -> SmtpSettings:
    """Read and validate SMTP settings (environment over the config file's ``smtp:``)."""
    return parse_smtp_settings(
        read_smtp_config(
            environ=os.environ if environ is None else environ, config_path=config_path
        )
    )


def dry_run_sender(
    *, environ: Mapping[str, str] | None = None, config_path: Path | None = None
) -> str:
    """The ``From:`` of a dry run: the ``from`` setting when given, else a placeholder."""
    raw = read_smtp_config(
        environ=os.environ if environ is None else environ, config_path=config_path
    )
    if "from" in raw:
        return parse_address(raw["from"].value, what=raw["from"].source, error=SmtpConfigError)
    return DRY_RUN_SENDER
