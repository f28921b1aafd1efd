"""Everything the CLI prints goes through `say` / `note`: ids, names and messages come from user input, and a
control character in them (a newline, an ANSI escape, a bidi override) could fake or hide output lines. They
are printed escaped (`\\n`, `\\x1b`, `\\u202e`); stored values (load_errors, raw objects) stay verbatim."""

from __future__ import annotations

import re
import sys

# C0 and C1 controls, DEL, line/paragraph separators, and the bidi marks and overrides that reorder a line.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character escaped, so that it prints as exactly one line."""
    return _UNSAFE.sub(_escape, text)


def say(line: str) -> None:
    """One line on stdout, escaped."""
    print(printable(line), flush=True)


def note(line: str) -> None:
    """One line on stderr, escaped."""
    print(printable(line), file=sys.stderr, flush=True)
