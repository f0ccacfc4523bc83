"""E-mail addresses: the sender setting and the ``--to`` recipients, checked the same way.

>>> parse_recipients(["Ana <ana@example.com>", "ANA@example.com", "bo@example.org"])
['ana@example.com', 'bo@example.org']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import getaddresses

from cxtradeoff.errors import EmailError, RecipientError

_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?")


def parse_address(text: str, *, what: str, error: type[EmailError]) -> str:
    """The bare address in ``text`` (one address, no line break), or ``error`` naming ``what``."""
    if any(ch in text for ch in "\r\n\0"):
        raise error(f"{what}: {text!r} contains a line break")
    found = getaddresses([text])
    if len(found) != 1:
        raise error(f"{what}: {text!r} holds {len(found)} addresses; give one per option")
    addr = found[0][1]
    if not addr or not _ADDR_SPEC.fullmatch(addr) or not addr.isascii():
        raise error(f"{what}: {text!r} is not an e-mail address (expected name@example.com)")
    return addr


def parse_recipients(addresses: Iterable[str]) -> list[str]:
    """Validate ``--to`` addresses; return bare addresses, duplicates removed, in order.

    ``"Ana <ana@example.com>"`` is accepted and becomes ``ana@example.com``.

    Raises
    ------
    RecipientError
        Naming the address that is not an e-mail address, or when there is none.
    """
    result: list[str] = []
    seen: set[str] = set()
    for text in addresses:
        addr = parse_address(text, what="--to", error=RecipientError)
        if addr.lower() not in seen:
            seen.add(addr.lower())
            result.append(addr)
    if not result:
        raise RecipientError("no recipient: give at least one --to ADDRESS")
    return result
