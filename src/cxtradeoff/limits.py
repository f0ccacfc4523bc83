"""Bounds on what a user may ask for, shared by every way of asking.

``cxtradeoff analyse --draws``, ``draws`` in ``reports.yaml`` and ``--param draws=`` all
check against these constants (:func:`draws_problem`), so that a run that would exhaust
memory or say nothing useful is refused by name before any work starts.

>>> draws_problem(20_000) is None, draws_problem(0) is None, draws_problem(0, allow_none=False)
(True, True, 'draws = 0 is out of range: expected a whole number from 1,000 to 1,000,000')
>>> draws_problem(100_000_000)
'draws = 100000000 is out of range: expected 0 (no Monte Carlo) or a whole number from 1,000 to 1,000,000'
"""

from __future__ import annotations

#: Monte Carlo draws of one run: this range, or 0 (none) where a caller allows it (one
#: scenario of ``analyse``; a report decides on the distribution and needs draws). Below
#: 1,000 the P10/P90 and the chance of a loss move by several points from seed to seed;
#: above 1,000,000 one scenario's draws take gigabytes of memory.
DRAWS_NONE: int = 0
DRAWS_MIN: int = 1_000
DRAWS_MAX: int = 1_000_000


def draws_problem(value: object, *, allow_none: bool = True) -> str | None:
    """Why ``value`` is not an acceptable number of draws, or None when it is.

    Parameters
    ----------
    allow_none
        Whether 0 (no Monte Carlo at all) is accepted.
    """
    expected = (
        f"{'0 (no Monte Carlo) or ' if allow_none else ''}a whole number "
        f"from {DRAWS_MIN:,} to {DRAWS_MAX:,}"
    )
    if isinstance(value, bool) or not isinstance(value, int):
        return f"draws = {value!r} is not a whole number: expected {expected}"
    if (allow_none and value == DRAWS_NONE) or DRAWS_MIN <= value <= DRAWS_MAX:
        return None
    return f"draws = {value!r} is out of range: expected {expected}"
