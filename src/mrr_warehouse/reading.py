"""Reading request files: `.json` (one request body), `.ndjson` (one request body per line), folders of them.

Small files are parsed with orjson in one go. A large `.json` file (a bulk import of millions of objects) is
memory-mapped and scanned once for the spans of its top-level members and of each array element; elements
are then parsed one at a time when the loader iterates them, so the Python objects alive at any moment are
one batch, not the file.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import stat
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from mrr_warehouse.csv_import import CSV_SUFFIXES
from mrr_warehouse.validation import sha256_hex

NDJSON_SUFFIXES = (".ndjson", ".jsonl")
JSON_SUFFIXES = (".json",)

# Files at least this large are scanned lazily instead of parsed whole.
STREAM_THRESHOLD_BYTES = int(os.environ.get("MRR_WAREHOUSE_STREAM_THRESHOLD_BYTES") or 4 * 1024 * 1024)
# orjson refuses JSON nested deeper than this; the lazy scanner gives up at the same depth, at once, instead of
# matching brackets through the whole file first (200 MB of `[` took minutes).
MAX_JSON_DEPTH = 1024
# An .ndjson line is parsed whole; a longer one (a file without newlines, say) is refused before it is read
# into memory. Larger request bodies belong in a .json file of their own, which is scanned lazily.
MAX_NDJSON_LINE_BYTES = int(os.environ.get("MRR_WAREHOUSE_MAX_NDJSON_LINE_BYTES") or 256 * 1024 * 1024)
# Object members deeper than this are kept as spans by LazyBody instead of scanned (no recursion to overflow).
_LAZY_DEPTH = 4


class ReadError(Exception):
    """The file (or one of its lines) could not be read or parsed; nothing from it may land."""


# --------------------------------------------------------------------------------------------------------------
# Paths.


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files in load order: each argument as given; a folder contributes its request files sorted by name."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            children = [
                child
                for child in path.iterdir()
                if not child.is_dir()
                and not child.name.startswith(".")
                and child.suffix.lower() in JSON_SUFFIXES + NDJSON_SUFFIXES + CSV_SUFFIXES
            ]
            files.extend(sorted(children, key=lambda child: child.name))
        else:
            files.append(path)  # missing files are reported by iter_requests
    return files


def not_a_regular_file(path: Path) -> str | None:
    """Why `path` cannot be a request file (a FIFO, device or socket would block or never end), or None for
    a regular file (following symlinks) or a path that does not exist (reported when it is read)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = (
        "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a character device"
        if stat.S_ISCHR(mode)
        else "a block device"
        if stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    return f"is {kind}, not a regular file: refused (request files must be regular files)"


def open_regular_file(path: Path) -> Any:
    """Open a request file for reading without blocking on a FIFO; refuse anything but a regular file (checked
    on the open descriptor, so a file swapped after an earlier check is caught too)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ReadError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ReadError("not a regular file (a FIFO, device or socket): refused")
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def is_ndjson(path: Path) -> bool:
    return path.suffix.lower() in NDJSON_SUFFIXES


# --------------------------------------------------------------------------------------------------------------
# Bodies: a parsed JSON object, or a lazily scanned one with the same read interface.


class Body(Protocol):
    def keys(self) -> list[str]: ...

    def __contains__(self, key: object) -> bool: ...

    def kind(self, key: str) -> str:
        """'array', 'object' or 'scalar' (strings, numbers, booleans, null)."""
        ...

    def get(self, key: str, default: Any = None) -> Any: ...

    def child(self, key: str) -> Body: ...

    def iter_array(self, key: str) -> Iterator[Any]: ...

    def to_dict(self) -> dict[str, Any]: ...


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "scalar"


class DictBody:
    """A request body parsed whole."""

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def keys(self) -> list[str]:
        return list(self.value)

    def __contains__(self, key: object) -> bool:
        return key in self.value

    def kind(self, key: str) -> str:
        return _kind(self.value.get(key))

    def get(self, key: str, default: Any = None) -> Any:
        return self.value.get(key, default)

    def child(self, key: str) -> DictBody:
        return DictBody(self.value[key])

    def iter_array(self, key: str) -> Iterator[Any]:
        return iter(self.value.get(key) or ())

    def to_dict(self) -> dict[str, Any]:
        return self.value


_WS = re.compile(rb"[ \t\n\r]*")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(rb"-?[0-9][0-9eE.+\-]*|true|false|null")
_FLAT_OBJECT = re.compile(rb"\{[^{}]*\}")
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset(b"[{")
_WHITESPACE = frozenset((b" ", b"\t", b"\n", b"\r"))


class LazyBody:
    """A JSON object in a buffer, scanned one level deep: arrays are element spans, objects nested LazyBody."""

    def __init__(self, buffer: Any, start: int, depth: int = 0) -> None:
        self.buffer = buffer
        self.start = start
        self.depth = depth
        self.members: dict[str, tuple[str, Any]] = {}
        self.end = self._scan(start)

    # scanning -------------------------------------------------------------------------------------------------

    def _error(self, position: int, what: str) -> ReadError:
        line = self.buffer[:position].count(b"\n") + 1 if position < 64 * 1024 * 1024 else None
        where = f"line {line}, " if line is not None else ""
        return ReadError(f"invalid JSON at {where}byte {position}: {what}")

    def _skip(self, position: int) -> int:
        return _WS.match(self.buffer, position).end()

    def _scan(self, position: int) -> int:
        buffer = self.buffer
        if buffer[position : position + 1] != b"{":
            raise self._error(position, "expected an object")
        position = self._skip(position + 1)
        if buffer[position : position + 1] == b"}":
            return position + 1
        while True:
            match = _STRING.match(buffer, position)
            if match is None:
                raise self._error(position, "expected a member name")
            key = orjson.loads(match.group())
            position = self._skip(match.end())
            if buffer[position : position + 1] != b":":
                raise self._error(position, "expected ':'")
            position = self._skip(position + 1)
            opener = buffer[position : position + 1]
            if opener == b"{" and self.depth >= _LAZY_DEPTH:  # deep inside an object: a span, parsed on use
                end = value_end(buffer, position)
                self.members[key] = ("object_span", (position, end))
                position = end
            elif opener == b"{":
                child = LazyBody(buffer, position, self.depth + 1)
                self.members[key] = ("object", child)
                position = child.end
            elif opener == b"[":
                spans, position = self._scan_array(position)
                self.members[key] = ("array", spans)
            else:
                end = value_end(buffer, position)
                self.members[key] = ("scalar", (position, end))
                position = end
            position = self._skip(position)
            separator = buffer[position : position + 1]
            if separator == b"}":
                return position + 1
            if separator != b",":
                raise self._error(position, "expected ',' or '}'")
            position = self._skip(position + 1)

    def _scan_array(self, position: int) -> tuple[array, int]:
        buffer = self.buffer
        spans = array("q")  # start, end, start, end, ...: 16 bytes per element
        position = self._skip(position + 1)
        if buffer[position : position + 1] == b"]":
            return spans, position + 1
        append = spans.append
        while True:
            end = value_end(buffer, position)
            append(position)
            append(end)
            # Compact JSON has no whitespace around the separator: look before running the whitespace regex
            # (twice per element otherwise).
            position = end
            separator = buffer[end : end + 1]
            if separator != b"," and separator != b"]":
                position = self._skip(end)
                separator = buffer[position : position + 1]
            if separator == b"]":
                return spans, position + 1
            if separator != b",":
                raise self._error(position, "expected ',' or ']'")
            position += 1
            if buffer[position : position + 1] in _WHITESPACE:
                position = self._skip(position)

    # reading --------------------------------------------------------------------------------------------------

    def keys(self) -> list[str]:
        return list(self.members)

    def __contains__(self, key: object) -> bool:
        return key in self.members

    def kind(self, key: str) -> str:
        member = self.members.get(key)
        if member is None:
            return "scalar"
        return "object" if member[0] == "object_span" else member[0]

    def get(self, key: str, default: Any = None) -> Any:
        member = self.members.get(key)
        if member is None:
            return default
        kind, value = member
        if kind == "object":
            return value.to_dict()
        if kind == "array":
            return list(self._elements(value))
        start, end = value
        return orjson.loads(self.buffer[start:end])

    def child(self, key: str) -> LazyBody:
        kind, value = self.members[key]
        if kind == "object_span":
            return LazyBody(self.buffer, value[0], self.depth + 1)
        if kind != "object":
            raise KeyError(key)
        return value

    def iter_array(self, key: str) -> Iterator[Any]:
        member = self.members.get(key)
        if member is None or member[0] != "array":
            return iter(())
        return self._elements(member[1])

    def _elements(self, spans: array) -> Iterator[Any]:
        buffer = self.buffer
        for index in range(0, len(spans), 2):
            yield orjson.loads(buffer[spans[index] : spans[index + 1]])

    def array_length(self, key: str) -> int:
        member = self.members.get(key)
        return len(member[1]) // 2 if member is not None and member[0] == "array" else 0

    def to_dict(self) -> dict[str, Any]:
        return orjson.loads(self.buffer[self.start : self.end])


def value_end(buffer: Any, position: int) -> int:
    """End offset of the JSON value starting at `position` (verified by parsing it, so strings are honoured)."""
    first = buffer[position : position + 1]
    if first == b'"':
        match = _STRING.match(buffer, position)
        if match is None:
            raise ReadError(f"invalid JSON at byte {position}: unterminated string")
        return match.end()
    if first and first[0] in _OPENERS:
        if first == b"{":
            flat = _FLAT_OBJECT.match(buffer, position)
            if flat is not None and _parses(buffer, position, flat.end()):
                return flat.end()
        end = _bracket_end_ignoring_strings(buffer, position, first)
        if end is not None and _parses(buffer, position, end):
            return end
        end = _bracket_end(buffer, position)
        if end is not None and _parses(buffer, position, end):
            return end
        raise ReadError(f"invalid JSON at byte {position}: unbalanced or malformed value")
    match = _SCALAR.match(buffer, position)
    if match is None:
        raise ReadError(f"invalid JSON at byte {position}: unexpected character {first!r}")
    if not _parses(buffer, position, match.end()):
        raise ReadError(f"invalid JSON at byte {position}: malformed value {bytes(match.group())!r}")
    return match.end()


_FAST_SCAN_LIMIT = 1 << 20
_BRACES = re.compile(rb"[{}]")
_BRACKETS = re.compile(rb"[\[\]]")


def _bracket_end_ignoring_strings(buffer: Any, position: int, opener: bytes) -> int | None:
    """Fast guess: match the opener counting only its own bracket pair (a bracket inside a string fools it,
    which the caller detects by parsing the span)."""
    depth = 0
    limit = position + _FAST_SCAN_LIMIT
    for match in (_BRACES if opener == b"{" else _BRACKETS).finditer(buffer, position):
        if match.start() > limit:
            return None
        if match.group() in (b"{", b"["):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return None  # maybe brackets inside strings: the string-aware scan decides
        else:
            depth -= 1
            if depth == 0:
                return match.end()
    return None


def _bracket_end(buffer: Any, position: int) -> int | None:
    """String-aware matching of the bracket at `position`."""
    depth = 0
    for match in _TOKENS.finditer(buffer, position):
        token = match.group()
        if token[0] == 0x22:  # a string
            continue
        if token in (b"{", b"["):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ReadError(
                    f"invalid JSON at byte {position}: nested more than {MAX_JSON_DEPTH} levels deep"
                    " (no request body nests that deep; refused without reading further)"
                )
        else:
            depth -= 1
            if depth == 0:
                return match.end()
    return None


def _parses(buffer: Any, start: int, end: int) -> bool:
    try:
        orjson.loads(buffer[start:end])
    except orjson.JSONDecodeError:
        return False
    return True


# --------------------------------------------------------------------------------------------------------------
# Requests.


@dataclass(slots=True)
class RawRequest:
    index: int  # 0-based index of the request in its file
    line: int | None  # 1-based line number in an .ndjson file
    body: Any  # a DictBody/LazyBody when the JSON is an object, else the parsed value
    text: str | None  # verbatim request; None when too large to hold (the lander reads it from the file)
    content_hash: str  # sha256 of the verbatim request without surrounding whitespace


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _parse(data: bytes, where: str) -> Any:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ReadError(f"{where}invalid JSON: {exc}") from None
    return DictBody(value) if isinstance(value, dict) else value


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{where}not UTF-8: {exc}") from None


def iter_requests(path: Path, stream_threshold: int | None = None) -> Iterator[RawRequest]:
    """The request bodies of one file, in order. Raises ReadError when the file cannot be read or parsed."""
    threshold = STREAM_THRESHOLD_BYTES if stream_threshold is None else stream_threshold
    handle = open_regular_file(path)
    size = os.fstat(handle.fileno()).st_size
    with handle:
        if is_ndjson(path):
            yield from _ndjson_requests(handle)
            return
        if size < max(threshold, 1):
            data = handle.read().strip()
            if not data:
                raise ReadError("file is empty")
            body = _parse(data, "")
            yield RawRequest(0, None, body, _decode(data, ""), sha256_hex(data))
            return
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
            yield _lazy_request(buffer)


def _ndjson_requests(handle: Any) -> Iterator[RawRequest]:
    index = 0
    for line_number, line in enumerate(
        iter(lambda: handle.readline(MAX_NDJSON_LINE_BYTES + 1), b""), start=1
    ):
        if len(line) > MAX_NDJSON_LINE_BYTES:
            raise ReadError(
                f"line {line_number}: longer than {MAX_NDJSON_LINE_BYTES:,} bytes; refused without reading it"
                " whole (put a request body this large in a .json file of its own)"
            )
        data = line.strip()
        if not data:
            continue
        where = f"line {line_number}: "
        body = _parse(data, where)
        yield RawRequest(index, line_number, body, _decode(data, where), sha256_hex(data))
        index += 1
    if index == 0:
        raise ReadError("file holds no request (it is empty)")


def _lazy_request(buffer: mmap.mmap) -> RawRequest:
    start = _WS.match(buffer, 0).end()
    end = len(buffer)
    while end > start and buffer[end - 1 : end] in (b" ", b"\t", b"\n", b"\r"):
        end -= 1
    if start == end:
        raise ReadError("file is empty")
    if buffer[start : start + 1] != b"{":
        # Not an object: no lazy scanning needed to report it; parse it to give the usual message.
        return RawRequest(0, None, _parse(buffer[start:end], ""), None, _hash_span(buffer, start, end))
    body = LazyBody(buffer, start)
    if _WS.match(buffer, body.end).end() != len(buffer):
        raise ReadError(f"invalid JSON at byte {body.end}: trailing data after the request body")
    return RawRequest(0, None, body, None, _hash_span(buffer, start, end))


def _hash_span(buffer: mmap.mmap, start: int, end: int) -> str:
    digest = hashlib.sha256()
    step = 1 << 18
    for offset in range(start, end, step):
        digest.update(buffer[offset : min(end, offset + step)])
    return digest.hexdigest()
