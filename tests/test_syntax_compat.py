"""Tests for syntax_compat: newer syntax parses on older interpreters, at the right lines.

Two kinds of test run on every interpreter:
- `rewrite_newer_syntax(text, OLDEST)` must give text that parses here, with the
  same number of lines, and the expected same-length replacements;
- `parse_source(text)` must give the expected nodes at the original positions,
  whether this interpreter parses the text natively or through the fallback.
Assertions about notes only apply where this interpreter lacks the feature.
"""

from __future__ import annotations

import ast
import re
import sys
from textwrap import dedent

import pytest

from backend_expert import syntax_compat
from backend_expert.syntax_compat import parse_source, rewrite_newer_syntax, scan

OLDEST = (3, 10)
RUNTIME = sys.version_info[:2]


def rewrite(text: str) -> tuple[str, tuple[str, ...]]:
    """Rewrite for the oldest supported runtime; the result must parse here, line for line."""
    new, notes = rewrite_newer_syntax(text, OLDEST)
    assert len(re.findall(r"\r\n|\r|\n", new)) == len(re.findall(r"\r\n|\r|\n", text))
    ast.parse(new)
    return new, notes


def parse(text: str) -> tuple[ast.Module, tuple[str, ...]]:
    return parse_source(dedent(text), "example.py")


def names(tree: ast.AST) -> set[tuple[str, int, int]]:
    return {(n.id, n.lineno, n.col_offset) for n in ast.walk(tree) if isinstance(n, ast.Name)}


def top_lines(tree: ast.Module) -> list[tuple[str, int]]:
    return [(type(s).__name__, s.lineno) for s in tree.body]


def lacks(feature: tuple[int, int]) -> bool:
    return feature > RUNTIME


def byte_col(line: str, word: str, occurrence: int = 0) -> int:
    """The UTF-8 column of the n-th whole-word `word` in `line`, as ast reports it."""
    found = list(re.finditer(rf"(?<![\w\\]){re.escape(word)}(?!\w)", line))
    return len(line[: found[occurrence].start()].encode())


# --- plain parse and errors ----------------------------------------------------


def test_plain_code_takes_the_fast_path(monkeypatch):
    def no_rewrite(*args):
        raise AssertionError("the rewrite must not run for code that parses")

    monkeypatch.setattr(syntax_compat, "_rewrite", no_rewrite)
    tree, notes = parse_source("import os\nx = f'{os.sep}'\n")
    assert notes == ()
    assert top_lines(tree) == [("Import", 1), ("Assign", 2)]


@pytest.mark.parametrize(
    "text",
    [
        "def f(:\n    pass\n",
        "x = (\n",
        "type X = int\nx = (1,\n",  # new syntax plus a real error
        "x = 'unterminated\ny = 1\n",
        'x = f"{a["k"]}\ndef (:\n',
        'x = f"{d["k"] +}"\n',  # the grafted field itself is broken
        'x = f"{\n  d["k"] +\n}"\n',
        "try:\n    pass\nexcept A, B as e:\n    pass\n",  # invalid in 3.14 too
        "print 'python 2'\n",
        "{% for x in y %}\nx = {{ x }}\n{% endfor %}\n",  # a template, not Python
        # invalid in every version, though blanking them would hide it:
        "def foo[]():\n    pass\n",
        "type X[T: *int] = int\n",
        "type X[T: yield x] = int\n",
        "type X[T: x := int] = int\n",
        "type X[**P: int] = int\n",
        "type X[*Ts: int] = int\n",
        "type X[T = ] = int\n",
        "type X[T: ] = int\n",
        "class C[T = *int]: ...\n",
        "def f[T U](): ...\n",
        "array[*start:*end]\n",
        "try:\n    pass\nexcept* A:\n    pass\nexcept B:\n    pass\n",
    ],
)
def test_truly_broken_file_raises_the_original_error(text):
    with pytest.raises(SyntaxError) as plain:
        ast.parse(text, "broken.py")
    with pytest.raises(SyntaxError) as compat:
        parse_source(text, "broken.py")
    assert (compat.value.msg, compat.value.lineno, compat.value.filename) == (
        plain.value.msg,
        plain.value.lineno,
        "broken.py",
    )


def test_rewrite_rejects_unscannable_text():
    with pytest.raises(ValueError):
        rewrite_newer_syntax("x = 'never closed\n", OLDEST)


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "x = 1", "x = 1\r\ny = 2\r\n"])
def test_trivial_files(text):
    assert rewrite_newer_syntax(text, OLDEST) == (text, ())
    assert parse_source(text)[1] == ()


# --- PEP 695 type aliases ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("type X = int\n", "(    X)= int\n"),
        ("type X=int\n", "(    X)=int\n"),  # no room after X: the rest moves right by one
        ("type \\\n X = int\n", "(    \\\n X)= int\n"),
        ("type X \\\n  [T] = T\n", "(    X \\\n    ) = T\n"),
        ("type X[T] = list[T]\n", "(    X  ) = list[T]\n"),
        ("type\tX = int\n", "(   \tX)= int\n"),
        ("if True: type X = int\n", "if True: (    X)= int\n"),
        ("x = 1; type X = int\n", "x = 1; (    X)= int\n"),
        ("type match = int\n", "(    match)= int\n"),
    ],
)
def test_type_alias_rewrite(text, expected):
    assert rewrite_newer_syntax(text, OLDEST) == (expected, ("pep695-type-alias",))
    assert rewrite(text)[0] == expected


def test_type_alias_parses_as_assignment_with_original_positions():
    tree, notes = parse(
        """\
        type Alias = int | str
        class C:
            type Inner[T] = dict[str, T]
        after = 1
        """
    )
    assert top_lines(tree)[1:] == [("ClassDef", 2), ("Assign", 4)]
    assert {("Alias", 1, 5), ("Inner", 3, 9), ("T", 3, 30), ("after", 4, 0)} <= names(tree)
    if lacks((3, 12)):
        assert notes == ("pep695-type-alias",)
        alias = tree.body[0]
        assert isinstance(alias, ast.Assign) and (alias.lineno, alias.col_offset) == (1, 0)
        inner = tree.body[1].body[0]
        assert [p.name for p in inner.type_params] == ["T"]


def test_type_alias_spanning_lines():
    text = "type Pair[\n    K,\n    V: int,\n] = tuple[K, V]\nz = 1\n"
    new, _ = rewrite(text)
    assert new == "(    Pair \n      \n           \n) = tuple[K, V]\nz = 1\n"
    tree, _ = parse_source(text)
    assert top_lines(tree)[-1] == ("Assign", 5)
    assert {("K", 4, 10), ("V", 4, 13), ("int", 3, 7)} <= names(tree)


@pytest.mark.parametrize(
    "text",
    [
        "type = 5\n",
        "x = type(y)\n",
        "x: type = int\n",
        "print(type)\n",
        "type.mro(int)\n",
        "type[int]\n",
        "def f(type): return type\n",
        "types = {'type': 1}\ntype ['a'] if 0 else 1\n",
        "match type:\n    case type():\n        pass\n",
        's = "type X = int"  # type Y = int\n',
    ],
)
def test_type_as_an_ordinary_name_is_left_alone(text):
    assert rewrite_newer_syntax(text, OLDEST) == (text, ())


# --- PEP 695 / 696 type parameters ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("def f[T](x: T) -> T: ...\n", "def f   (x: T) -> T: ...\n"),
        ("async def f[T](x): ...\n", "async def f   (x): ...\n"),
        ("class C[T]: ...\n", "class C   : ...\n"),
        ("class C[T: int, *Ts, **P](B): ...\n", "class C                  (B): ...\n"),
        ("class C[T = int]: ...\n", "class C         : ...\n"),
        ("def f[T: (int, str) = int](): ...\n", "def f                     (): ...\n"),
    ],
)
def test_type_params_are_blanked(text, expected):
    assert rewrite(text) == (expected, ("pep695-type-params",))


def test_multiline_type_params_keep_line_numbers():
    text = dedent(
        """\
        def generic[
            T: Bound,  # a comment [with brackets]
            *Ts,
            **P,
        ](first, *rest: int) -> T:
            return first
        after = generic
        """
    )
    new, _ = rewrite(text)
    assert new.splitlines()[0] == "def generic("
    assert new.splitlines()[4] == "  first, *rest: int) -> T:"
    tree, notes = parse_source(text)
    assert top_lines(tree) == [("FunctionDef", 1), ("Assign", 7)]
    function = tree.body[0]
    assert (function.args.args[0].lineno, function.args.args[0].col_offset) == (5, 2)
    line5 = text.splitlines()[4]
    assert (function.body[0].lineno, function.returns.lineno) == (6, 5)
    assert function.returns.col_offset == byte_col(line5, "T")
    assert ("Bound", 2, 7) in names(tree)
    if lacks((3, 12)):
        assert notes == ("pep695-type-params",)


def test_multiline_class_params_without_bases():
    text = "class Box[\n    T,\n]:\n    item: T\nx = Box\n"
    new, _ = rewrite(text)
    assert new.startswith("class Box(\n")
    tree, _ = parse_source(text)
    assert top_lines(tree) == [("ClassDef", 1), ("Assign", 5)]
    assert tree.body[0].bases == []


def test_type_params_are_attached_with_their_bounds_and_defaults():
    text = dedent(
        """\
        from x import Bound, Default
        class C[T: Bound, *Ts = *tuple[int, ...], **P = [int]](Base):
            async def m[U: (Bound, str) = Default](self) -> U: ...
        """
    )
    tree, _ = parse_source(text)
    cls = tree.body[1]
    method = cls.body[0]
    kinds = [(type(p).__name__, p.name, p.lineno, p.col_offset) for p in cls.type_params]
    assert kinds == [
        ("TypeVar", "T", 2, 8),
        ("TypeVarTuple", "Ts", 2, 18),
        ("ParamSpec", "P", 2, 42),
    ]
    assert (cls.type_params[0].bound.id, cls.type_params[0].bound.col_offset) == ("Bound", 11)
    assert isinstance(method.type_params[0].bound, ast.Tuple)
    # names used only in bounds and defaults stay visible to ast.walk and NodeVisitor
    walked = names(tree)
    assert {("Bound", 2, 11), ("Bound", 3, 20), ("Default", 3, 34), ("int", 2, 49)} <= walked
    visited = set()

    class Visitor(ast.NodeVisitor):
        def visit_Name(self, node):
            visited.add(node.id)

    Visitor().visit(tree)
    assert {"Bound", "Default", "tuple", "Base"} <= visited


# --- PEP 701 f-strings ---------------------------------------------------------


FSTRINGS = [
    'f"{d["key"]}"',
    "f'{x['a']!r:>10}'",
    'f"{", ".join(items)}"',
    "f\"{'\\n'.join(lines)}\"",
    'f"{f"{f"{f"{deep}"}"}"}"',
    'f"{value:{"<"}{width}}"',
    'f"{d["k"]=}"',
    'f"{d["k"] = !r}"',
    'f"""{"\\n".join(x)}"""',
    "f'''{'''nested'''}'''",
    'rf"\\d+{d["k"]}\\\\"',
    'F"{d["k"]}" "plain" f"{d["j"]}"',
    'f"\\N{BULLET} {d["k"]} {{literal}} }}"',
    'f"{""}"',
    "f'{x!r}' f\"{y['k']}\"",
]


@pytest.mark.parametrize("source", FSTRINGS)
def test_fstring_rewrites_parse(source):
    new, _ = rewrite(f"value = {source}\nafter = 1\n")
    assert new.endswith("\nafter = 1\n")


@pytest.mark.parametrize("source", FSTRINGS)
def test_fstrings_parse_with_exact_inner_positions(source):
    text = f"value = {source} + tail\nafter = 1\n"
    tree, _ = parse_source(text)
    assert top_lines(tree) == [("Assign", 1), ("Assign", 2)]
    line = text.splitlines()[0]
    assert ("tail", 1, byte_col(line, "tail")) in names(tree)
    for name in ("d", "items", "lines", "deep", "width", "x", "y", "value"):
        if re.search(rf"(?<![\w\\]){name}\b", source):
            occurrence = 1 if name == "value" else 0
            assert (name, 1, byte_col(line, name, occurrence)) in names(tree), name


def test_fstring_values_are_exact():
    tree, _ = parse_source('s = f"a{d["k"]!r:>{w}}b{", ".join(x)}c"\n')
    joined = tree.body[0].value
    values = [v for v in joined.values if isinstance(v, ast.FormattedValue)]
    assert ast.unparse(values[0].value) == "d['k']"
    assert values[0].conversion == ord("r")
    assert ast.unparse(values[1].value) == "', '.join(x)"


def test_multiline_replacement_fields_with_comments():
    text = dedent(
        """\
        message = f"total: {
            price  # the price
            * count
        } items" + tail
        after = message
        """
    )
    new, notes = rewrite(text)
    assert new.splitlines()[3] == "        " + " + tail"
    tree, notes = parse_source(text)
    assert top_lines(tree) == [("Assign", 1), ("Assign", 5)]
    assert {("price", 2, 4), ("count", 3, 6), ("tail", 4, 11)} <= names(tree)
    if lacks((3, 12)):
        assert notes == ("pep701-fstring",)


def test_multiline_field_inside_call_and_at_end_of_file():
    text = 'print(f"{\n  d["k"]\n}", end="")'
    tree, _ = parse_source(text)
    call = tree.body[0].value
    assert call.keywords[0].value.lineno == 3
    assert ("d", 2, 2) in names(tree)


def test_multiline_triple_quoted_fstring_keeps_lines():
    text = 'html = f"""\n<p>{\n    d["""k"""]\n}</p>\n"""\nafter = html\n'
    tree, _ = parse_source(text)
    assert top_lines(tree) == [("Assign", 1), ("Assign", 6)]
    assert ("d", 3, 4) in names(tree)


def test_multiline_fstring_statement_keeps_its_end_position():
    text = 'x = f"{\n    a\n}"\ny = 1\n'
    tree, _ = parse_source(text)
    assign = tree.body[0]
    assert (assign.end_lineno, assign.end_col_offset) == (3, 2)
    assert (assign.value.end_lineno, assign.value.end_col_offset) == (3, 2)
    assert top_lines(tree) == [("Assign", 1), ("Assign", 4)]


@pytest.mark.parametrize("field", ["{x!r }", "{x = !s  }", "{x!r  :>10}", "{d['k']!a }"])
def test_blanks_after_conversion(field):
    text = f'value = f"{field}" + tail\n'
    new, _ = rewrite(text)
    assert len(new) == len(text)
    tree, _ = parse_source(text)
    assert ("tail", 1, byte_col(text, "tail")) in names(tree)
    conversions = [n.conversion for n in ast.walk(tree) if isinstance(n, ast.FormattedValue)]
    assert conversions and all(c in (ord("r"), ord("s"), ord("a")) for c in conversions)


def test_placeholders_never_collide_with_names_in_the_file():
    text = '_a = _b = 1\ns = f"{_a["k"]}{_b["k"]}"\n'
    tree, _ = parse_source(text)
    assert {("_a", 2, 7), ("_b", 2, 16)} <= names(tree)
    new, _ = rewrite(text)
    assert re.findall(r"\{(\w+)", new.splitlines()[1]) == ["_c", "_d"]


def test_non_ascii_keeps_byte_columns():
    text = 's = f"é{d["clé"]}" + après\n'
    tree, _ = parse_source(text)
    line = text.rstrip("\n")
    assert ("après", 1, byte_col(line, "après")) in names(tree)
    assert ("d", 1, byte_col(line, "d")) in names(tree)


def test_legacy_compatible_fstrings_are_not_rewritten():
    text = 'x = f\'{d["k"]}\' + f"{y!r:>{w}}"\ntype T = int\n'
    new, notes = rewrite(text)
    assert new.splitlines()[0] == text.splitlines()[0]
    assert notes == ("pep695-type-alias",)


# --- PEP 750 template strings --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('t"hi {name}"\n', 'f"hi {name}"\n'),
        ("T'hi {name!r:>{w}}'\n", "F'hi {name!r:>{w}}'\n"),
        ('tr"\\d{x}"\n', 'fr"\\d{x}"\n'),
        ('Rt"""{x}"""\n', 'Rf"""{x}"""\n'),
        ("f'{t\"{x}\"}'\n", "f'{f\"{x}\"}'\n"),
    ],
)
def test_template_strings_become_fstrings(text, expected):
    new, notes = rewrite_newer_syntax(text, (3, 12))
    assert (new, notes) == (expected, ("pep750-tstring",))
    ast.parse(rewrite(text)[0])


def test_template_string_parses_as_joined_str():
    tree, notes = parse_source('greeting = t"Hello {user.name}!"\nafter = 1\n')
    assert top_lines(tree) == [("Assign", 1), ("Assign", 2)]
    assert ("user", 1, 20) in names(tree)
    if lacks((3, 14)):
        assert isinstance(tree.body[0].value, ast.JoinedStr)
        assert notes == ("pep750-tstring",)


def test_template_string_with_pep701_nesting():
    tree, _ = parse_source('q = t"{d["k"]} {t"{x}"}"\n')
    assert {("d", 1, 7), ("x", 1, 19)} <= names(tree)


# --- PEP 758 except without parentheses, PEP 654 except* -----------------------


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("except ValueError, TypeError:", "except(ValueError, TypeError):"),
        ("except ValueError, TypeError :", "except(ValueError, TypeError):"),
        ("except A,B: pass", "except(A,B):pass"),
        ("except A,B:pass", "except(A,B):pass"),
        ("except A, B,:", "except(A, B,):"),
        ("except (A, B), C:", "except((A, B), C):"),
        ("except* A, B:", "except (A, B):"),
        ("except *A, B:", "except  (A, B):"),
    ],
)
def test_except_clause_gets_parentheses(clause, expected):
    text = f"try:\n    pass\n{clause}\n" + ("    pass\n" if clause.endswith(":") else "")
    new, notes = rewrite(text)
    assert new.splitlines()[2] == expected
    assert "pep758-except-without-parens" in notes


def test_parenthesised_except_is_left_alone():
    text = "try:\n    pass\nexcept (A, B) as error:\n    pass\nexcept A as e:\n    pass\n"
    assert rewrite_newer_syntax(text, OLDEST) == (text, ())


def test_except_without_parens_parses_as_tuple():
    tree, notes = parse(
        """\
        try:
            pass
        except KeyError, IndexError:
            pass
        except OSError:
            pass
        after = 1
        """
    )
    handler = tree.body[0].handlers[0]
    assert isinstance(handler.type, ast.Tuple)
    assert [(e.id, e.lineno, e.col_offset) for e in handler.type.elts] == [
        ("KeyError", 3, 7),
        ("IndexError", 3, 17),
    ]
    assert top_lines(tree) == [("Try", 1), ("Assign", 7)]
    if lacks((3, 14)):
        assert notes == ("pep758-except-without-parens",)


def test_except_star():
    text = "try:\n    pass\nexcept* ValueError:\n    pass\nx = 1\n"
    new, notes = rewrite(text)
    assert new.splitlines()[2] == "except  ValueError:"
    assert notes == ("pep654-except-star",)
    assert rewrite_newer_syntax(text, (3, 11)) == (text, ())
    tree, notes = parse_source(text)
    assert top_lines(tree)[-1] == ("Assign", 5)
    expected = "Try" if lacks((3, 11)) else "TryStar"
    assert type(tree.body[0]).__name__ == expected


def test_except_star_with_several_types():
    text = "try:\n    pass\nexcept* OSError, KeyError:\n    pass\n"
    tree, _ = parse_source(text)
    handler = tree.body[0].handlers[0]
    assert [e.id for e in handler.type.elts] == ["OSError", "KeyError"]


# --- PEP 646 star expressions --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x: tuple[*Ts]\n", "x: tuple[ Ts]\n"),
        ("x: Array[int, *Shape]\n", "x: Array[int,  Shape]\n"),
        ("def f(*args: *Ts): ...\n", "def f(*args:  Ts): ...\n"),
    ],
)
def test_star_in_subscript(text, expected):
    assert rewrite(text) == (expected, ("pep646-star-expr",))
    tree, _ = parse_source(text)
    assert any(isinstance(n, ast.Name) and n.id in ("Ts", "Shape") for n in ast.walk(tree))


@pytest.mark.parametrize(
    "text",
    [
        "x = [*a, *b]\n",
        "f(*a, **k)\n",
        "x[a * b]\n",
        "return_ = {**a}\n",
        "match x:\n    case [*rest]:\n        pass\n",
        "for x in [*a]: pass\n",
        "x = a[1] * b[2]\n",
    ],
)
def test_other_stars_are_left_alone(text):
    assert rewrite_newer_syntax(text, OLDEST) == (text, ())


# --- look-alikes and lexical edge cases ----------------------------------------


LOOKALIKES = dedent(
    '''\
    """Docstring: type X = int, def f[T](), except A, B:, f"{d["k"]}", t"x"."""
    s1 = "type X = int"  # type Y = int; except A, B:
    s2 = 'def f[T](x): pass'
    s3 = r"except* E:"
    s4 = b"t'template'"
    s5 = """
    class C[T]:
        type Z = list[T]
    """
    s6 = f"{'type X = int'} {'x'!r} {{not a field}}"
    # def g[T](): pass
    s7 = u"tuple[*Ts]" 'it\\'s' "say \\"hi\\""
    '''
)


def test_lookalikes_in_strings_and_comments_are_not_altered():
    text = LOOKALIKES + "type Real = int\n"
    new, notes = rewrite(text)
    assert new == LOOKALIKES + "(    Real)= int\n"
    assert notes == ("pep695-type-alias",)


def test_crlf_and_tabs():
    text = (
        "class C:\r\n\ttype X = int\r\n\tdef f[T](self):\r\n\t\treturn f'{\r\n\t\t1}'\r\nz = 1\r\n"
    )
    tree, _ = parse_source(text)
    assert top_lines(tree) == [("ClassDef", 1), ("Assign", 6)]
    assert [type(s).__name__ for s in tree.body[0].body][1] == "FunctionDef"


def test_backslash_continuations_and_lone_quotes():
    text = 'x = "a\\\nb" + \\\n    """it\'s "quoted" \\""" """\ntype T = int\n'
    new, _ = rewrite(text)
    assert new.splitlines()[:3] == text.splitlines()[:3]
    tree, _ = parse_source(text)
    assert top_lines(tree) == [("Assign", 1), (tree.body[1].__class__.__name__, 4)]


def test_scanner_tokens():
    text = 'a = rb"\\x" + f"{x:{y}}" # c\nif b: pass\n'
    kinds = [(t.kind, text[t.start : t.end]) for t in scan(text)]
    assert kinds == [
        ("name", "a"),
        ("op", "="),
        ("string", 'rb"\\x"'),
        ("op", "+"),
        ("string", 'f"{x:{y}}"'),
        ("newline", "\n"),
        ("name", "if"),
        ("name", "b"),
        ("op", ":"),
        ("name", "pass"),
        ("newline", "\n"),
    ]
    fstring = scan(text)[4].string
    assert [text[f.expr_start : f.expr_end] for f in fstring.fields] == ["x"]
    assert [text[f.expr_start : f.expr_end] for f in fstring.fields[0].spec_fields] == ["y"]


@pytest.mark.parametrize(
    "text",
    [
        'f"{1:\\"d\\"}"\n',  # escaped quotes inside a format spec
        'f"{x:\\x64}"\n',
        'rf"\\{x}\\{y:\\}"\n',  # a backslash before the spec's closing brace
        'f"\\N{DASH} {{x}} \\{x}"\n',
        "b'{not a field}' + u'{nor this}' + r'\\\\'\n",
    ],
)
def test_string_edge_cases_scan_and_stay_unchanged(text):
    kinds = [t.kind for t in scan(text)]
    assert kinds[-1] == "newline" and set(kinds) <= {"string", "op", "newline"}
    assert rewrite_newer_syntax(text, OLDEST) == (text, ())


def test_bracket_depth_does_not_leak_from_strings():
    text = 'x = "(["\ntype T = int\ny = {"a": "}"}\ntype U = str\n'
    _, notes = rewrite(text)
    assert notes == ("pep695-type-alias",)
    assert rewrite(text)[0].count("(    ") == 2


# --- everything at once --------------------------------------------------------


KITCHEN_SINK = dedent(
    """\
    from typing import Any
    type Json = dict[str, Any] | list[Any]
    class Repo[M: Model, K = int](Base[M]):
        def get[T](self, key: K, *args: *Ts) -> M:
            return f"{self.items[key]["name"]} {'\\n'.join(args)}"
        def name(self) -> str:
            return f"{
                self.model  # the model
            }"
    try:
        run()
    except ValueError, TypeError:
        pass
    try:
        run()
    except* OSError:
        pass
    greeting = t"hi {user!r}"
    last = Repo
    """
)


def test_kitchen_sink_keeps_every_statement_line():
    tree, notes = parse_source(KITCHEN_SINK)
    assert top_lines(tree)[0] == ("ImportFrom", 1)
    assert [line for _, line in top_lines(tree)] == [1, 2, 3, 10, 14, 18, 19]
    cls = tree.body[2]
    assert [(type(s).__name__, s.lineno) for s in cls.body] == [
        ("FunctionDef", 4),
        ("FunctionDef", 6),
    ]
    lines = KITCHEN_SINK.splitlines()
    expected_names = {
        ("key", 5, byte_col(lines[4], "key")),
        ("args", 5, byte_col(lines[4], "args")),
        ("user", 18, byte_col(lines[17], "user")),
        ("Model", 3, byte_col(lines[2], "Model")),
        ("self", 8, byte_col(lines[7], "self")),
    }
    assert expected_names <= names(tree)
    expected = set()
    for feature, note in [
        ((3, 11), "pep646-star-expr"),
        ((3, 12), "pep695-type-params"),
        ((3, 12), "pep701-fstring"),
        ((3, 14), "pep750-tstring"),
        ((3, 14), "pep758-except-without-parens"),
    ]:
        if lacks(feature):
            expected.add(note)
    assert expected <= set(notes)
    assert list(notes) == sorted(notes)


def test_kitchen_sink_rewrite_on_every_runtime():
    new, notes = rewrite(KITCHEN_SINK)
    assert set(notes) == {
        "pep646-star-expr",
        "pep654-except-star",
        "pep695-type-alias",
        "pep695-type-params",
        "pep701-fstring",
        "pep750-tstring",
        "pep758-except-without-parens",
    }
    for old_line, new_line in zip(KITCHEN_SINK.splitlines(), new.splitlines(), strict=True):
        if old_line.startswith(("from", "    pass", "last", "    def name")):
            assert old_line == new_line


def test_type_param_defaults_only_need_help_before_313():
    text = "class C[T = int]: ...\ndef f[U](): ...\ntype X = int\n"
    new, notes = rewrite_newer_syntax(text, (3, 12))
    assert new == "class C         : ...\ndef f[U](): ...\ntype X = int\n"
    assert notes == ("pep695-type-params", "pep696-type-param-defaults")
    assert rewrite_newer_syntax(text, (3, 13)) == (text, ())
