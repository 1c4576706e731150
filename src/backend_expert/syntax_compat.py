"""Parse code written for a newer Python than the one running bex.

bex parses with the stdlib `ast` because it is fast, but `ast` only knows the
grammar of the interpreter it ships with. A project written for 3.14 that uses
`type X = ...`, nested same-quote f-strings or `except A, B:` does not parse on
3.11, and a file that does not parse is a file bex cannot review.

`parse_source` therefore tries the plain parse first (the happy path costs
nothing extra) and only on a SyntaxError rewrites the newer constructs into
older syntax, then parses again. The rewrite keeps every line where it was, so
every node's `lineno` matches the original file, and keeps columns wherever a
same-length replacement exists:

- PEP 695/696 type parameters `def f[T](...)`, `class C[T = int](B)` are
  blanked; `type X[T] = ...` becomes the assignment `(    X  ) = ...`. The
  parameters are parsed again and hung on the statement as `type_params`
  (stand-in node classes before 3.12), so names used in bounds stay visible.
- PEP 701 f-strings (same quotes, backslashes, comments or newlines in a
  replacement field, any nesting, blanks after `!r`) get a placeholder name in
  each offending field; the field's real expression is parsed on its own at
  its original position and grafted back into the tree, so the tree is exact.
- PEP 758 `except A, B:` gains parentheses; PEP 654 `except*` loses its star
  on 3.10; PEP 646 `x[*Ts]` loses its star on 3.10.
- PEP 750 template strings `t"..."` become f-strings (a `JoinedStr`).

Only features newer than the running interpreter are rewritten. The rewrite
needs to know where strings, comments and brackets are, and the stdlib
`tokenize` of older interpreters cannot tokenize PEP 701 strings, so this
module has its own small scanner.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import keyword
import re
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["parse_source", "rewrite_newer_syntax"]

RUNTIME: tuple[int, int] = sys.version_info[:2]

# The interpreter version that first accepts each rewritten feature.
PEP646_STAR = (3, 11)
PEP654_EXCEPT_STAR = (3, 11)
PEP695_TYPE_PARAMS = (3, 12)
PEP696_TYPE_DEFAULTS = (3, 13)
PEP701_FSTRINGS = (3, 12)
PEP750_TSTRINGS = (3, 14)
PEP758_EXCEPT = (3, 14)


def parse_source(text: str, filename: str = "<unknown>") -> tuple[ast.Module, tuple[str, ...]]:
    """Parse with ast; on SyntaxError, retry on a position-preserving rewrite of newer syntax.

    Returns (tree, notes) where notes names the rewrites applied (e.g.
    ("pep695-type-params", "pep701-fstring")), empty when the plain parse
    worked. Raises the ORIGINAL SyntaxError when the file truly does not parse.
    """
    tree, notes = _parse_compat(text, filename, "exec", RUNTIME)
    assert isinstance(tree, ast.Module)
    return tree, notes


def rewrite_newer_syntax(
    text: str, runtime: tuple[int, int] | None = None
) -> tuple[str, tuple[str, ...]]:
    """Rewrite syntax newer than `runtime` (default: this interpreter) into older syntax.

    Returns (new_text, notes). Line numbers are preserved. PEP 701 replacement
    fields that had to be replaced hold placeholder names here; `parse_source`
    grafts the real expressions back. Raises ValueError on text the scanner
    cannot read (e.g. an unterminated string).
    """
    return _rewrite(text, runtime or RUNTIME).apply()


def _parse_compat(
    text: str, filename: str, mode: str, runtime: tuple[int, int]
) -> tuple[ast.AST, tuple[str, ...]]:
    try:
        return ast.parse(text, filename, mode=mode, type_comments=False), ()
    except SyntaxError as error:
        original = error
    try:
        rewrite = _rewrite(text, runtime)
        new_text, applied = rewrite.apply()
        if not applied:
            raise original
        tree = ast.parse(new_text, filename, mode=mode, type_comments=False)
        notes = set(applied)
        _graft(tree, rewrite, filename, notes)
        _attach_type_params(tree, rewrite, filename, notes)
        _restore_ends(tree, rewrite)
        _check_handler_kinds(tree, rewrite)
    except (SyntaxError, ValueError, RecursionError):
        raise original from None
    return tree, tuple(sorted(notes))


# ---------------------------------------------------------------------------
# Scanner: just enough of Python's lexical structure to find strings (with the
# replacement fields of f- and t-strings, nested to any depth as PEP 701
# allows), names, operators, bracket depth and logical line ends. Comments,
# whitespace and line continuations are skipped.


class ScanError(ValueError):
    """The text is not lexically valid Python (e.g. an unterminated string)."""


@dataclass(slots=True)
class Token:
    kind: str  # "name", "number", "op", "string" or "newline" (a logical line end)
    start: int
    end: int
    depth: int  # bracket depth; an opener and its closer share the same depth
    string: StringInfo | None = None


@dataclass(slots=True)
class StringInfo:
    prefix: str
    quote: str  # ' " ''' or """
    fields: list[Field] | None  # None unless an f- or t-string

    @property
    def triple(self) -> bool:
        return len(self.quote) == 3


@dataclass(slots=True)
class Field:
    """One `{expr!c:spec}` replacement field of an f- or t-string."""

    expr_start: int  # just after "{"
    expr_end: int  # before "=", "!", ":" or "}"; includes surrounding whitespace
    tokens: list[Token]  # the expression's tokens
    conversion: tuple[int, int] | None  # "!r" and any blanks after it
    spec_fields: list[Field]  # fields nested in the format spec
    end: int  # just after "}"


_SKIP = re.compile(r"(?:[ \t\f]+|\\\r?\n|\\\r|\#[^\r\n]*)*")  # blanks, continuations, comments
_TOKEN = re.compile(
    r"""
     (?P<newline>\r\n|\r|\n)
    |(?P<string>(?:[rR][bBfFtT]?|[bBfFtT][rR]?|[uU])?(?:'''|\"\"\"|'|\"))
    |(?P<name>[^\W\d]\w*)
    |(?P<number>\.?\d(?:[eE][+-]|[\w.])*)
    |(?P<op>\*\*=?|//=?|<<=?|>>=?|->|[-+*/%&|^@<>=!:]=|.)
    """,
    re.VERBOSE,
)
_OPEN, _CLOSE = "([{", ")]}"
_CONVERSION = re.compile(r"!\s*\w*\s*")


def scan(text: str) -> list[Token]:
    """Tokens of a whole module (raises ScanError on an unterminated string)."""
    tokens, _ = _scan_code(text, 0, in_field=False)
    return tokens


def _scan_code(text: str, pos: int, in_field: bool) -> tuple[list[Token], int]:
    """Scan code from `pos`; in a replacement field, stop before its "!", ":" or "}"."""
    tokens: list[Token] = []
    depth, size = 0, len(text)
    while (pos := _SKIP.match(text, pos).end()) < size:  # type: ignore[union-attr]
        char = text[pos]
        if in_field and depth == 0 and char in "}:!" and text[pos : pos + 2] != "!=":
            return tokens, pos
        match = _TOKEN.match(text, pos)
        assert match is not None  # the last alternative matches any character
        kind, end = match.lastgroup, match.end()
        if kind == "string":
            tokens.append(_scan_string(text, pos, end, depth))
            end = tokens[-1].end
        elif kind == "newline":
            if depth == 0 and not in_field:
                tokens.append(Token("newline", pos, end, 0))
        elif char in _OPEN:
            tokens.append(Token("op", pos, end, depth))
            depth += 1
        elif char in _CLOSE:
            depth = max(depth - 1, 0)
            tokens.append(Token("op", pos, end, depth))
        else:
            tokens.append(Token(kind, pos, end, depth))  # type: ignore[arg-type]
        pos = end
    if in_field:
        raise ScanError("unterminated replacement field")
    return tokens, pos


def _string_stops(quote: str, fmt: bool) -> re.Pattern[str]:
    return re.compile("[\\\\\r\n" + quote + ("{}]" if fmt else "]"))


_STOPS = {(q, f): _string_stops(q, f) for q in "'\"" for f in (False, True)}
_SPEC_STOPS = {q: re.compile("[{}\\\\\r\n" + q + "]") for q in "'\""}


def _scan_string(text: str, start: int, body: int, depth: int) -> Token:
    """Scan the string literal whose prefix and opening quote span start..body."""
    opening = text[start:body]
    prefix, quote = opening.rstrip("'\""), opening.lstrip("rRbBfFtTuU")
    lowered = prefix.lower()
    fmt, raw = "f" in lowered or "t" in lowered, "r" in lowered
    info = StringInfo(prefix, quote, [] if fmt else None)
    stops, pos = _STOPS[quote[0], fmt], body
    while True:
        match = stops.search(text, pos)
        if match is None:
            raise ScanError("unterminated string")
        pos, char = match.start(), match.group()
        if char == "\\":
            pos = _skip_escape(text, pos, raw, fmt)
        elif char in "\r\n":
            if not info.triple:
                raise ScanError("unterminated string")
            pos += 1
        elif char == "{" and text.startswith("{", pos + 1):
            pos += 2
        elif char == "{":
            info.fields.append(_scan_field(text, pos, info))  # type: ignore[union-attr]
            pos = info.fields[-1].end  # type: ignore[index]
        elif char == "}":
            pos += 2 if text.startswith("}", pos + 1) else 1
        elif text.startswith(quote, pos):
            return Token("string", start, pos + len(quote), depth, info)
        else:
            pos += 1  # a lone quote inside a triple-quoted string


def _skip_escape(text: str, pos: int, raw: bool, fmt: bool) -> int:
    """Position after the backslash escape at `pos` (braces still open fields)."""
    following = text[pos + 1 : pos + 2]
    if fmt and following in ("{", "}"):
        return pos + 1
    if fmt and not raw and following == "N" and text.startswith("{", pos + 2):
        close = text.find("}", pos + 3)
        return close + 1 if close > 0 else pos + 2
    if text.startswith("\r\n", pos + 1):
        return pos + 3
    return pos + 2


def _scan_field(text: str, pos: int, info: StringInfo) -> Field:
    """Scan the replacement field whose "{" is at `pos`."""
    tokens, end = _scan_code(text, pos + 1, in_field=True)
    expr_end = end
    if tokens and text[tokens[-1].start : tokens[-1].end] == "=" and tokens[-1].depth == 0:
        expr_end = tokens.pop().start  # the "=" of a self-documenting `{x=}`
    conversion = None
    if text.startswith("!", end):
        conversion = (end, _CONVERSION.match(text, end).end())  # type: ignore[union-attr]
        end = conversion[1]
    spec_fields: list[Field] = []
    if text.startswith(":", end):
        spec_fields, end = _scan_spec(text, end + 1, info)
    if not text.startswith("}", end):
        raise ScanError("bad replacement field")
    return Field(pos + 1, expr_end, tokens, conversion, spec_fields, end + 1)


def _scan_spec(text: str, pos: int, info: StringInfo) -> tuple[list[Field], int]:
    """Scan a format spec up to its closing "}"; collect its nested fields."""
    stops, fields = _SPEC_STOPS[info.quote[0]], []
    while True:
        match = stops.search(text, pos)
        if match is None:
            raise ScanError("unterminated format spec")
        pos, char = match.start(), match.group()
        if char == "}":
            return fields, pos
        if char == "{":
            fields.append(_scan_field(text, pos, info))
            pos = fields[-1].end
        elif char == "\\":  # `{x:\"d\"}`: escapes, even of the quote, are part of the spec
            pos += 1 if text[pos + 1 : pos + 2] in ("{", "}") else 2
        elif info.triple and not text.startswith(info.quote, pos):
            pos += 1
        else:
            raise ScanError("unterminated format spec")


def _strings(tokens: list[Token]) -> Iterator[Token]:
    """Every string token, including those nested in replacement fields."""
    for token in tokens:
        if token.string is None:
            continue
        yield token
        for fld in _fields(token.string.fields or []):
            yield from _strings(fld.tokens)


def _fields(fields: list[Field]) -> Iterator[Field]:
    """The fields and, recursively, the fields nested in their format specs."""
    for fld in fields:
        yield fld
        yield from _fields(fld.spec_fields)


# ---------------------------------------------------------------------------
# Rewrites. Each pass records splices (start, end, replacement) against the
# original text; most are the same length as what they replace.


def _blank(text: str) -> str:
    """Spaces for `text`, keeping line breaks and each line's UTF-8 length (ast columns are bytes)."""
    if text.isascii():
        return re.sub(r"[^\r\n]", " ", text)
    return "".join(c if c in "\r\n" else " " * len(c.encode()) for c in text)


@dataclass
class _Rewrite:
    text: str
    runtime: tuple[int, int]
    tokens: list[Token]
    splices: list[tuple[int, int, str, str]] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)  # notes beyond those of the splices
    grafts: dict[str, tuple[int, int]] = field(default_factory=dict)
    type_params: dict[int, int] = field(default_factory=dict)  # statement offset -> "[" token
    moved_ends: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    star_handlers: set[int] = field(default_factory=set)  # offsets of `except*` made `except`
    _placeholders: Iterator[str] | None = None
    _line_starts: list[int] | None = None
    _words: list[str] | None = None

    def older(self, feature: tuple[int, int]) -> bool:
        return self.runtime < feature

    def word(self, index: int) -> str:
        """The text of token `index` ("" past the end)."""
        if self._words is None:
            self._words = [self.text[t.start : t.end] for t in self.tokens]
        return self._words[index] if 0 <= index < len(self._words) else ""

    def replace(self, start: int, end: int, new: str, note: str) -> None:
        self.splices.append((start, end, new, note))

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based line and UTF-8 byte column of `offset`, as `ast` counts them."""
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", self.text)]
        line = bisect.bisect_right(self._line_starts, offset)
        line_start = self._line_starts[line - 1]
        return line, len(self.text[line_start:offset].encode())

    def placeholder(self) -> str:
        """A fresh identifier that does not occur anywhere in the text."""
        if self._placeholders is None:
            used = set(re.findall(r"\w+", self.text))
            letters = string.ascii_letters
            names = (
                "_" + "".join(p)
                for n in itertools.count(1)
                for p in itertools.product(letters, repeat=n)
            )
            self._placeholders = (name for name in names if name not in used)
        return next(self._placeholders)

    def apply(self) -> tuple[str, tuple[str, ...]]:
        """The rewritten text and the notes of the splices that made it in."""
        out, pos, notes = [], 0, set(self.notes)
        for start, end, new, note in sorted(self.splices, key=lambda s: (s[0], s[0] - s[1])):
            if start < pos:
                continue  # inside a larger splice that already covers it
            out += [self.text[pos:start], new]
            notes.add(note)
            pos = end
        out.append(self.text[pos:])
        return "".join(out), tuple(sorted(notes))


def _rewrite(text: str, runtime: tuple[int, int]) -> _Rewrite:
    rewrite = _Rewrite(text, runtime, scan(text))
    if rewrite.older(PEP701_FSTRINGS):
        _rewrite_fstrings(rewrite)
    if rewrite.older(PEP750_TSTRINGS):
        _rewrite_tstrings(rewrite)
    if rewrite.older(PEP696_TYPE_DEFAULTS):
        _rewrite_type_params(rewrite)
    if rewrite.older(PEP758_EXCEPT):
        _rewrite_excepts(rewrite)
    if rewrite.older(PEP646_STAR):
        _rewrite_subscript_stars(rewrite)
    return rewrite


def _is_op(rewrite: _Rewrite, index: int, ops: str | tuple[str, ...]) -> bool:
    """Token `index` is the operator `ops` (or one of them)."""
    return (
        0 <= index < len(rewrite.tokens)
        and rewrite.tokens[index].kind == "op"
        and rewrite.word(index) in ((ops,) if isinstance(ops, str) else ops)
    )


def _is_name(rewrite: _Rewrite, index: int) -> bool:
    """Token `index` is an identifier (soft keywords included, hard keywords not)."""
    return (
        0 <= index < len(rewrite.tokens)
        and rewrite.tokens[index].kind == "name"
        and not keyword.iskeyword(rewrite.word(index))
    )


def _statement_start(rewrite: _Rewrite, index: int) -> bool:
    """Token `index` begins a statement: first on its logical line, or after ";" or a block's ":"."""
    if index == 0:
        return True
    previous = rewrite.tokens[index - 1]
    return previous.kind == "newline" or (
        previous.depth == 0 and _is_op(rewrite, index - 1, (";", ":"))
    )


def _closer(rewrite: _Rewrite, index: int) -> int:
    """Index of the bracket that closes the opener at `index`."""
    depth = rewrite.tokens[index].depth
    for later in range(index + 1, len(rewrite.tokens)):
        token = rewrite.tokens[later]
        if token.depth == depth and token.kind == "op" and rewrite.text[token.start] in _CLOSE:
            return later
    raise ScanError("unclosed bracket")


# --- PEP 750 template strings ------------------------------------------------


def _rewrite_tstrings(rewrite: _Rewrite) -> None:
    """`t"..."` -> `f"..."`: an f-string has the same fields, so the same names are read."""
    for token in _strings(rewrite.tokens):
        prefix = token.string.prefix  # type: ignore[union-attr]
        where = prefix.lower().find("t")
        if where >= 0:
            letter = "F" if prefix[where] == "T" else "f"
            rewrite.replace(token.start + where, token.start + where + 1, letter, "pep750-tstring")


# --- PEP 701 f-strings -------------------------------------------------------


def _needs_help(text: str, fld: Field, info: StringInfo) -> bool:
    """Whether an f-string field is outside the pre-3.12 grammar (or might be: nested f-strings)."""
    expr = text[fld.expr_start : fld.expr_end]
    if "\\" in expr or "#" in expr or info.quote[0] in expr:
        return True
    if not info.triple and ("\n" in expr or "\r" in expr):
        return True
    return any(t.string is not None and t.string.fields is not None for t in fld.tokens)


def _rewrite_fstrings(rewrite: _Rewrite) -> None:
    text = rewrite.text
    for token in rewrite.tokens:
        info = token.string
        if info is None or info.fields is None:
            continue
        edits = []
        for fld in _fields(info.fields):
            if _needs_help(text, fld, info):
                name = rewrite.placeholder()
                rewrite.grafts[name] = (fld.expr_start, fld.expr_end)
                filler = _hole_filler(text[fld.expr_start : fld.expr_end], name, info)
                edits.append((fld.expr_start, fld.expr_end, filler))
            if fld.conversion and text[fld.conversion[1] - 1].isspace():
                # `{x!r }`: before 3.12 nothing may follow the conversion, so the blanks go before "!"
                conversion = text[fld.conversion[0] : fld.conversion[1]]
                compact = "".join(conversion.split())
                edits.append((*fld.conversion, " " * (len(conversion) - len(compact)) + compact))
        if edits:
            _rewrite_token(rewrite, token, edits)


def _rewrite_token(rewrite: _Rewrite, token: Token, edits: list[tuple[int, int, str]]) -> None:
    """Apply `edits` inside one f-string token; keep the token's lines.

    A hole's placeholder holds the place of an expression that is parsed later,
    on its own, and grafted back. In a single-quoted string a multi-line
    expression must shrink to one line, so the lost line breaks are re-added
    after the token as backslash continuations, and the text after the token
    keeps its line and byte column.
    """
    text, info = rewrite.text, token.string
    assert info is not None
    pieces, pos = [], token.start
    for start, end, new in sorted(edits):
        pieces += [text[pos:start], new]
        pos = end
    pieces.append(text[pos : token.end])
    new = "".join(pieces)
    where = info.prefix.lower().find("t")
    if where >= 0:  # this splice covers the prefix, so it also does the t -> f change
        new = new[:where] + ("F" if info.prefix[where] == "T" else "f") + new[where + 1 :]
        rewrite.notes.add("pep750-tstring")
    old = text[token.start : token.end]
    lost = _count_breaks(old) - _count_breaks(new)
    if lost > 0:
        line, column = rewrite.position(token.start)
        new_lines = re.split(r"\r\n|\r|\n", new)
        if len(new_lines) > 1:
            column = 0
        compact_end = (line + len(new_lines) - 1, column + len(new_lines[-1].encode()))
        rewrite.moved_ends[compact_end] = rewrite.position(token.end)
        last_line = re.split(r"\r\n|\r|\n", old)[-1]
        new += "\\\n" * lost + " " * len(last_line.encode())
    rewrite.replace(token.start, token.end, new, "pep701-fstring")


def _hole_filler(expr: str, name: str, info: StringInfo) -> str:
    """`name` padded to the expression's size; line breaks are kept only in triple-quoted strings."""
    if not info.triple:
        return name + " " * (len(_blank(re.sub(r"[\r\n]", "", expr))) - len(name))
    blank = _blank(expr)
    room = blank.find(" " * len(name))
    if room < 0:
        return blank + name
    return blank[:room] + name + blank[room + len(name) :]


def _count_breaks(text: str) -> int:
    return len(re.findall(r"\r\n|\r|\n", text))


def _graft(tree: ast.AST, rewrite: _Rewrite, filename: str, notes: set[str]) -> None:
    """Put each placeholder's real expression, parsed at its original position, into the tree."""
    if not rewrite.grafts:
        return
    for node in ast.walk(tree):
        value = getattr(node, "value", None)
        if (
            isinstance(node, ast.FormattedValue)
            and isinstance(value, ast.Name)
            and value.id in rewrite.grafts
        ):
            expr = _parse_at(rewrite, *rewrite.grafts[value.id], filename, notes)
            if expr is None:  # the field was never a valid expression: the file is broken
                raise ScanError("invalid expression in an f-string replacement field")
            node.value = expr


def _restore_ends(tree: ast.AST, rewrite: _Rewrite) -> None:
    """Nodes that end with an f-string squeezed onto fewer lines end where the string really ends."""
    if not rewrite.moved_ends:
        return
    for node in ast.walk(tree):
        end = (getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None))
        if end in rewrite.moved_ends:
            node.end_lineno, node.end_col_offset = rewrite.moved_ends[end]  # type: ignore[attr-defined]


def _parse_at(
    rewrite: _Rewrite, start: int, end: int, filename: str, notes: set[str]
) -> ast.expr | None:
    """Parse text[start:end] as an expression whose nodes carry their positions in the whole text."""
    text = rewrite.text
    line, column = rewrite.position(start)
    if column == 0:
        return None  # never happens for a field or a type parameter part
    source = "(" + " " * (column - 1) + text[start:end] + "\n)"
    try:
        fragment, inner = _parse_compat(source, filename, "eval", rewrite.runtime)
    except (SyntaxError, ValueError, RecursionError):
        return None
    notes.update(inner)
    assert isinstance(fragment, ast.Expression)
    return ast.increment_lineno(fragment.body, line - 1)


# --- PEP 695 / 696 type parameters and type aliases --------------------------


def _rewrite_type_params(rewrite: _Rewrite) -> None:
    """Rewrite every type parameter list before 3.12; on 3.12 only those with PEP 696 defaults."""
    for index, token in enumerate(rewrite.tokens):
        if token.kind != "name":
            continue
        word = rewrite.word(index)
        if (
            word in ("def", "class")
            and _is_name(rewrite, index + 1)
            and _is_op(rewrite, index + 2, "[")
        ):
            if _needs_type_param_rewrite(rewrite, index + 2):
                is_async = word == "def" and rewrite.word(index - 1) == "async"
                rewrite.type_params[rewrite.tokens[index - is_async].start] = index + 2
                _blank_type_params(rewrite, index + 2)
        elif (
            word == "type"
            and _statement_start(rewrite, index)
            and _is_name(rewrite, index + 1)
            and (
                (_is_op(rewrite, index + 2, "=") and rewrite.older(PEP695_TYPE_PARAMS))
                or (
                    _is_op(rewrite, index + 2, "[")
                    and _needs_type_param_rewrite(rewrite, index + 2)
                )
            )
        ):
            _type_alias_to_assignment(rewrite, index)


def _needs_type_param_rewrite(rewrite: _Rewrite, opener: int) -> bool:
    if rewrite.older(PEP695_TYPE_PARAMS):
        return True
    depth = rewrite.tokens[opener].depth + 1  # a default is an "=" directly inside the brackets
    for index in range(opener + 1, _closer(rewrite, opener)):
        if rewrite.tokens[index].depth == depth and _is_op(rewrite, index, "="):
            rewrite.notes.add("pep696-type-param-defaults")
            return True
    return False


def _blank_type_params(rewrite: _Rewrite, opener: int) -> None:
    """`def f[T](x)` -> `def f   (x)`. Over several lines, `[` becomes `(` so the breaks stay inside brackets."""
    closer = _closer(rewrite, opener)
    start, end = rewrite.tokens[opener].start, rewrite.tokens[closer].end
    inside = rewrite.text[start + 1 : end - 1]
    note = "pep695-type-params"
    if _count_breaks(inside) == 0:
        rewrite.replace(start, end, _blank(rewrite.text[start:end]), note)
    elif _is_op(rewrite, closer + 1, "("):  # def f(<breaks> x): the "(" moves up to where "[" was
        rewrite.replace(start, end, "(" + _blank(inside) + " ", note)
        paren = rewrite.tokens[closer + 1].start
        rewrite.replace(paren, paren + 1, " ", note)
    else:  # class C[...]: -> class C(...):
        rewrite.replace(start, end, "(" + _blank(inside) + ")", note)


def _type_alias_to_assignment(rewrite: _Rewrite, index: int) -> None:
    """`type X[T] = v` -> `(    X   ) = v`: X keeps its column, the statement its lines."""
    keyword_token, name = rewrite.tokens[index], rewrite.tokens[index + 1]
    text, note = rewrite.text, "pep695-type-alias"
    rewrite.replace(keyword_token.start, keyword_token.end, "(   ", note)
    if _is_op(rewrite, index + 2, "["):
        rewrite.type_params[keyword_token.start] = index + 2
        opener, closer = rewrite.tokens[index + 2], rewrite.tokens[_closer(rewrite, index + 2)]
        inside = text[opener.start + 1 : closer.end - 1]
        rewrite.replace(opener.start, closer.end, " " + _blank(inside) + ")", note)
    elif text[name.end : name.end + 1] in (" ", "\t"):
        rewrite.replace(name.end, name.end + 1, ")", note)
    else:  # `type X=v`: no room after X, so the rest of the line moves right by one
        rewrite.replace(name.end, name.end, ")", note)


# Blanked type parameters are parsed again and hung on the statement as
# `type_params`, so the names in bounds and defaults are still seen (an import
# used only in a bound is used). Interpreters without PEP 695 nodes get small
# stand-in node classes and an instance-level `_fields` that lists them.


def _node_class(name: str, fields: tuple[str, ...]) -> type[ast.AST]:
    existing = getattr(ast, name, None)
    attributes = ("lineno", "col_offset", "end_lineno", "end_col_offset")
    return existing or type(name, (ast.AST,), {"_fields": fields, "_attributes": attributes})


TypeVar = _node_class("TypeVar", ("name", "bound", "default_value"))
ParamSpec = _node_class("ParamSpec", ("name", "default_value"))
TypeVarTuple = _node_class("TypeVarTuple", ("name", "default_value"))
_STATEMENTS_WITH_PARAMS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign)


def _attach_type_params(tree: ast.AST, rewrite: _Rewrite, filename: str, notes: set[str]) -> None:
    if not rewrite.type_params:
        return
    wanted = {rewrite.position(offset): opener for offset, opener in rewrite.type_params.items()}
    for node in ast.walk(tree):
        if isinstance(node, _STATEMENTS_WITH_PARAMS):
            opener = wanted.get((node.lineno, node.col_offset))
            if opener is not None:
                node.type_params = _type_param_nodes(rewrite, opener, filename, notes)  # type: ignore[union-attr]
                _add_field(node, "type_params")


def _add_field(node: ast.AST, name: str) -> None:
    """Make walkers and visitors see attribute `name` of this one node."""
    if name not in node._fields:
        node._fields = (*node._fields, name)  # type: ignore[misc]


def _type_param_nodes(
    rewrite: _Rewrite, opener: int, filename: str, notes: set[str]
) -> list[ast.AST]:
    """The nodes for `[T: B = D, *Ts, **P]`, split at the commas directly inside the brackets."""
    depth, params, current = rewrite.tokens[opener].depth + 1, [], []
    for index in range(opener + 1, _closer(rewrite, opener)):
        if rewrite.tokens[index].depth == depth and _is_op(rewrite, index, ","):
            params.append(current)
            current = []
        else:
            current.append(index)
    params.append(current)
    if not params[0]:
        raise ScanError("type parameter list cannot be empty")
    return [_type_param(rewrite, indices, filename, notes) for indices in params if indices]


def _type_param(rewrite: _Rewrite, indices: list[int], filename: str, notes: set[str]) -> ast.AST:
    """One `T: bound = default`, `*Ts = default` or `**P = default`; ScanError if malformed."""
    stars = len(rewrite.word(indices[0])) if _is_op(rewrite, indices[0], ("*", "**")) else 0
    name, last = indices[0] + (1 if stars else 0), indices[-1]
    if not _is_name(rewrite, name):
        raise ScanError("type parameter without a name")
    colon = name + 1 if not stars and _is_op(rewrite, name + 1, ":") else None
    if colon is None and last > name and not _is_op(rewrite, name + 1, "="):
        raise ScanError("malformed type parameter")  # e.g. a bound on *Ts or **P
    start = name + 1 if colon is None else colon + 1
    equals = next((i for i in range(start, last + 1) if _is_op(rewrite, i, "=")), None)
    bound = default = None
    if colon is not None:
        bound = _type_param_part(
            rewrite, colon + 1, (equals or last + 1) - 1, False, filename, notes
        )
    if equals is not None:
        default = _type_param_part(rewrite, equals + 1, last, stars == 1, filename, notes)
    kind = (TypeVar, TypeVarTuple, ParamSpec)[stars]
    node = kind(name=rewrite.word(name))
    if kind is TypeVar:
        node.bound = bound
    node.default_value = default
    _add_field(node, "default_value")  # 3.12's TypeVar has no such field
    node.lineno, node.col_offset = rewrite.position(rewrite.tokens[indices[0]].start)
    node.end_lineno, node.end_col_offset = rewrite.position(rewrite.tokens[last].end)
    return node


def _type_param_part(
    rewrite: _Rewrite, first: int, last: int, may_star: bool, filename: str, notes: set[str]
) -> ast.expr:
    """The bound or default in tokens first..last, parsed at its place; ScanError if invalid."""
    starred = may_star and _is_op(rewrite, first, "*")  # `*Ts = *tuple[int, ...]`
    if first + starred > last:
        raise ScanError("missing type parameter bound or default")
    start, end = rewrite.tokens[first + starred].start, rewrite.tokens[last].end
    expr = _parse_at(rewrite, start, end, filename, notes)
    bare = not _is_op(rewrite, first, "(")
    if expr is None or (bare and isinstance(expr, (ast.Yield, ast.YieldFrom, ast.NamedExpr))):
        raise ScanError("invalid type parameter bound or default")
    if not starred:
        return expr
    star = ast.Starred(value=expr, ctx=ast.Load())
    star.lineno, star.col_offset = rewrite.position(rewrite.tokens[first].start)
    star.end_lineno, star.end_col_offset = expr.end_lineno, expr.end_col_offset
    return star


# --- PEP 758 `except A, B:` and PEP 654 `except*` ----------------------------


def _rewrite_excepts(rewrite: _Rewrite) -> None:
    for index, token in enumerate(rewrite.tokens):
        if token.kind != "name" or rewrite.word(index) != "except":
            continue
        first = index + 1
        if _is_op(rewrite, first, "*"):
            if rewrite.older(PEP654_EXCEPT_STAR):
                star = rewrite.tokens[first]
                rewrite.replace(star.start, star.end, " ", "pep654-except-star")
                rewrite.star_handlers.add(token.start)
            first += 1
        colon = _clause_colon(rewrite, first, token.depth)
        if colon is None or colon == first:
            continue
        words = [
            rewrite.word(i) for i in range(first, colon) if rewrite.tokens[i].depth == token.depth
        ]
        if "," in words and "as" not in words:
            _parenthesize(rewrite, first, colon - 1, colon)


def _check_handler_kinds(tree: ast.AST, rewrite: _Rewrite) -> None:
    """A try mixing `except` and `except*` stays an error after `except*` became `except`."""
    if not rewrite.star_handlers:
        return
    stars = {rewrite.position(offset) for offset in rewrite.star_handlers}
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and node.handlers:
            kinds = {(h.lineno, h.col_offset) in stars for h in node.handlers}
            if len(kinds) > 1:
                raise ScanError("cannot have both 'except' and 'except*' on the same 'try'")


def _clause_colon(rewrite: _Rewrite, index: int, depth: int) -> int | None:
    """Index of the ":" ending the except clause that starts at `index`."""
    for later in range(index, len(rewrite.tokens)):
        token = rewrite.tokens[later]
        if token.kind == "newline":
            return None
        if token.depth == depth and _is_op(rewrite, later, ":"):
            return later
    return None


def _parenthesize(rewrite: _Rewrite, first: int, last: int, colon: int) -> None:
    """Wrap tokens first..last in parentheses, using adjacent blanks so columns stay put."""
    text, note = rewrite.text, "pep758-except-without-parens"
    start, end = rewrite.tokens[first].start, rewrite.tokens[last].end
    inserted = 0
    if text[start - 1] in " \t":
        rewrite.replace(start - 1, start, "(", note)
    else:
        rewrite.replace(start, start, "(", note)
        inserted += 1
    if text[end] in " \t":
        rewrite.replace(end, end + 1, ")", note)
    else:
        rewrite.replace(end, end, ")", note)
        inserted += 1
    after = rewrite.tokens[colon].end
    spaces = len(text[after:]) - len(text[after:].lstrip(" "))
    if min(inserted, spaces):  # give the added characters back from the blanks after ":"
        rewrite.replace(after, after + min(inserted, spaces), "", note)


# --- PEP 646 star expressions in subscripts ----------------------------------


def _rewrite_subscript_stars(rewrite: _Rewrite) -> None:
    """`tuple[*Ts]` -> `tuple[ Ts]` and `*args: *Ts` -> `*args:  Ts` (3.10 has neither)."""
    brackets: list[str] = []  # per open bracket: "subscript", "parameters" or ""
    def_depth = None  # depth of a `def` whose parameter list is still to come
    for index, token in enumerate(rewrite.tokens):
        word = rewrite.word(index)
        if token.kind == "name" and word == "def":
            def_depth = token.depth
        if token.kind != "op":
            continue
        if word == "(":
            brackets.append("parameters" if def_depth == token.depth else "")
            def_depth = None if def_depth == token.depth else def_depth
        elif word == "{":
            brackets.append("")
        elif word == "[":
            brackets.append("subscript" if _is_subscript(rewrite, index) else "")
        elif word in _CLOSE and brackets:
            brackets.pop()
        elif word == "*" and _is_pep646_star(rewrite, index, brackets[-1] if brackets else ""):
            rewrite.replace(token.start, token.end, " ", "pep646-star-expr")


def _is_subscript(rewrite: _Rewrite, index: int) -> bool:
    """Whether the "[" at `index` follows a value (a subscript) rather than starting a list."""
    before = index - 1
    if before < 0:
        return False
    previous = rewrite.tokens[before]
    if previous.kind == "string" or _is_op(rewrite, before, (")", "]")):
        return True
    if not _is_name(rewrite, before):
        return False
    return not (rewrite.word(before) in ("match", "case") and _statement_start(rewrite, before))


def _is_pep646_star(rewrite: _Rewrite, index: int, bracket: str) -> bool:
    if bracket == "subscript":
        return _is_op(rewrite, index - 1, ("[", ","))
    return (  # `*args: *Ts` in a parameter list
        bracket == "parameters"
        and _is_op(rewrite, index - 1, ":")
        and _is_name(rewrite, index - 2)
        and _is_op(rewrite, index - 3, "*")
    )
