"""Filling the instrument's text templates, identically to the PWA's ``format.js``.

Invariant: a number prints the same in Python and JavaScript — integral values without a
decimal point (``15.0`` → ``15``), others as the shortest round-trip decimal (``repr``
in Python, ``String`` in JavaScript agree for the ranges the instruments allow).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


def format_number(value: float) -> str:
    """``15.0`` → ``'15'``, ``15.25`` → ``'15.25'``, ``2`` → ``'2'``."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def fill(template: str, values: Mapping[str, object]) -> str:
    """Replace ``{name}`` with the value; unknown names are left as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format_number(value)
        return str(value)

    return _PLACEHOLDER.sub(replace, template)
