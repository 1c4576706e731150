"""Stage 2, parse: bytes on disk to one `ast` tree, the text and a line index.

Decoding honours PEP 263 cookies and BOMs. A file that cannot be read or
decoded, or that does not parse, yields a finding instead of a tree; nothing
here raises for bad input.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

NUL = b"\x00"


class ReadProblem(Exception):
    """The file cannot be turned into text; the message says why."""


@dataclass
class SourceFile:
    """One file's text and, when it parses, its tree."""

    path: str  # relative to the project root
    text: str
    tree: ast.Module | None = None
    syntax_error: SyntaxError | None = None
    compat_notes: tuple[str, ...] = ()
    encoding: str = "utf-8"
    _lines: list[str] | None = field(default=None, repr=False)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def line(self, number: int) -> str:
        """The text of 1-based line `number` ('' past the end)."""
        lines = self.lines
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def char_column(self, line: int, byte_offset: int) -> int:
        """Turn the UTF-8 byte offset `ast` gives into a 0-based character offset."""
        text = self.line(line)
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def decode(data: bytes) -> tuple[str, str]:
    """Bytes to text following PEP 263 and BOMs; raise ReadProblem with a clear reason."""
    if NUL in data:
        raise ReadProblem("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "invalid or missing" not in str(error.msg):
            raise ReadProblem(f"bad encoding declaration: {error.msg}") from None
        encoding = "utf-8"  # no cookie and the first lines are not UTF-8: say where below
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ReadProblem(
            f"not valid {encoding} text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None
    except LookupError:
        raise ReadProblem(f"unknown encoding {encoding!r}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


def read_source(path: Path, max_bytes: int) -> tuple[str, str]:
    """Read and decode one file; ReadProblem on any failure."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ReadProblem(
                f"file is {size // 1024} KiB, over the max-file-size-kb limit of {max_bytes // 1024} KiB"
            )
        data = path.read_bytes()
    except PermissionError:
        raise ReadProblem("permission denied") from None
    except IsADirectoryError:
        raise ReadProblem("is a directory") from None
    except OSError as error:
        raise ReadProblem(error.strerror or str(error)) from None
    return decode(data)


def parse_text(rel_path: str, text: str, encoding: str = "utf-8") -> SourceFile:
    """Parse `text`; syntax newer than this interpreter is handled by syntax_compat."""
    from backend_expert.syntax_compat import parse_source  # only cold runs parse

    source = SourceFile(path=rel_path, text=text, encoding=encoding)
    try:
        source.tree, source.compat_notes = parse_source(text, rel_path)
    except SyntaxError as error:
        source.syntax_error = error
    except (ValueError, RecursionError, MemoryError) as error:  # e.g. too deeply nested
        source.syntax_error = SyntaxError(
            str(error) or type(error).__name__, (rel_path, 1, 1, None)
        )
    return source
