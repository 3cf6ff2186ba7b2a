"""How values and people's words are echoed back in messages, terminals and logs: capped in size and
without terminal control characters."""

from __future__ import annotations

import re
import reprlib
from typing import Any

# 80 characters show what a value was; more only grows every line it is echoed in (a 20 MB tool
# argument echoed in full once made a 20 MB CLI line, chat message and PNG text chunk).
ECHO_LIMIT = 80
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = _SHORT_REPR.maxlong = ECHO_LIMIT

# C0 controls (ESC starts terminal escape sequences, BEL rings, CR overwrites a line), DEL, the C1
# controls (0x9b is a one-byte CSI on some terminals), and the bidirectional overrides and isolates
# that make text display in another order than it is stored. Newline and tab are kept: they lay out
# multi-line output and cannot drive a terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def capped(value: Any, limit: int = ECHO_LIMIT) -> str:
    """`value` as Python writes it (repr: quotes, escaped control characters), at most `limit`
    characters of it, then "…" and how long it really was, e.g. `'aaaa… (20000000 characters)`.
    Use it wherever a message says what it got."""
    if isinstance(value, str | bytes | bytearray):
        # Cut before repr, so a huge value is never copied whole just to be shortened; cut the repr
        # too, since escapes ('\x1b' is four characters) can make it longer than the value.
        head = repr(value[:limit])
        if len(value) <= limit and len(head) <= limit + 3:
            return head
        unit = "characters" if isinstance(value, str) else "bytes"
        return f"{head[: limit + 1]}… ({len(value)} {unit})"
    # reprlib stops early inside containers, so a list holding a huge string costs little too.
    text = _SHORT_REPR.repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} items)" if isinstance(value, list | tuple | dict | set) and len(value) > 1 else ""
    return f"{text[:limit]}…{size}"


def printable(text: Any) -> str:
    """`text` without control characters (newlines and tabs kept): what may be written to a
    terminal or a log when the words came from a user, an LLM or an imported file."""
    return _CONTROL.sub("", str(text))
