"""Strings assembled in a function: constant fragments and interpolated holes."""

from __future__ import annotations

import ast
import re
import string

from backend_expert.dataflow.known import (
    _NUMERIC_SPEC,
    _PRINTF,
    STRING_METHODS,
)
from backend_expert.dataflow.model import Hole, Kind, Source, Text
from backend_expert.dataflow.util import (
    _numeric_spec,
    _spreads_locals,
)


class TextsMixin:
    """`text(node)` and its cases: f-strings, `%`, `.format()`, `+`, `join`."""

    def _text(self, node: ast.AST) -> Text | None:
        if isinstance(node, ast.Constant):
            return Text([node.value]) if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr):
            return self._fstring_text(node)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add):
                return self._concat_text(node)
            if isinstance(node.op, ast.Mod):
                return self._printf_text(node)
            return None
        if isinstance(node, ast.Name):
            return self._name_text(node)
        if isinstance(node, ast.Call):
            return self._call_text(node)
        if isinstance(node, ast.IfExp):
            body, orelse = self.text(node.body), self.text(node.orelse)
            if body is None and orelse is None:
                return None
            merged = Text()
            for branch, expr in ((body, node.body), (orelse, node.orelse)):
                merged.extend(branch if branch is not None else self._hole_text(expr))
            return merged
        return None

    def _fstring_text(self, node: ast.JoinedStr) -> Text:
        result = Text(built=[node])
        for value in node.values:
            if isinstance(value, ast.Constant):
                result.parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                self._interpolate(result, value.value, _numeric_spec(value.format_spec))
        return result

    def _concat_text(self, node: ast.BinOp) -> Text | None:
        left, right = self.text(node.left), self.text(node.right)
        if left is None and right is None:
            return None
        result = Text(built=[node])
        for side, expr in ((left, node.left), (right, node.right)):
            if side is not None:
                result.extend(side)
            else:
                result.parts.append(Hole(expr, self.source(expr)))
        return result

    def _printf_text(self, node: ast.BinOp) -> Text | None:
        template = self.text(node.left)
        if template is None:
            return None
        right = node.right
        result = Text(built=[node])
        values: list[ast.AST]
        named: dict[str, ast.AST] = {}
        if isinstance(right, ast.Tuple):
            values = list(right.elts)
        elif isinstance(right, ast.Dict):
            values = []
            for key, value in zip(right.keys, right.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    named[key.value] = value
                else:
                    values.append(value)
        else:
            values = [right]
        position = 0
        used: set[int] = set()
        for part in template.parts:
            if isinstance(part, Hole):
                result.parts.append(part)
                continue
            cursor = 0
            for match in _PRINTF.finditer(part):
                if match.group("conv") == "%":
                    continue
                result.parts.append(part[cursor : match.start()])
                cursor = match.end()
                key = match.group("key")
                if key is not None and key in named:
                    value: ast.AST | None = named[key]
                elif key is None and position < len(values):
                    value = values[position]
                    position += 1
                else:
                    value = None
                if value is None:
                    continue
                used.add(id(value))
                self._interpolate(result, value, match.group("conv") not in "rsa")
            result.parts.append(part[cursor:])
        result.built = [*template.built, node]
        leftovers = [v for v in (*values, *named.values()) if id(v) not in used]
        if isinstance(right, ast.Dict):
            leftovers = []  # unused keys of a mapping are not interpolated
        for value in leftovers:  # a single value that is a tuple/mapping at run time
            result.parts.append(Hole(value, self.source(value)))
        return result

    def _name_text(self, node: ast.Name) -> Text | None:
        """The text of a local variable: the texts of its bindings (`=` and `+=`), in order.

        Bindings that are not assembled here (a parameter, a call result) add nothing: the
        variable then holds SQL written elsewhere, which is that code's business.
        """
        scope = self.scope
        if scope is None or not self._is_local(node.id):
            constant = self._constant_string(node)
            return Text([constant]) if constant is not None else None
        texts: list[Text] = []
        for value in self._values(node.id):
            if isinstance(value, ast.AugAssign):
                text = self.text(value.value) if isinstance(value.op, ast.Add) else None
            elif isinstance(
                value, ast.For | ast.AsyncFor | ast.comprehension | ast.Tuple | ast.List
            ):
                text = None  # a loop variable or an unpacked value: not assembled here
            else:
                text = self.text(value)
            if text is not None:
                texts.append(text)
        if not texts:
            return None
        result = Text()
        for text in texts:
            result.extend(text)
        return result

    def _constant_string(self, node: ast.Name) -> str | None:
        """The value of a module-level string constant of this module."""
        values = self._module_bindings().get(node.id) or []
        if len(values) == 1 and isinstance(values[0], ast.Constant):
            value = values[0].value
            return value if isinstance(value, str) else None
        return None

    def _call_text(self, node: ast.Call) -> Text | None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            qualified = self.ctx.qualname(func)
            if qualified in ("textwrap.dedent", "builtins.str", "inspect.cleandoc") and node.args:
                return self.text(node.args[0])
            return None
        if func.attr == "format":
            return self._format_text(node)
        if func.attr == "join" and len(node.args) == 1:
            separator = self.text(func.value)
            if separator is None:
                return None
            return self._join_text(separator, node.args[0], node)
        if func.attr in STRING_METHODS and func.attr not in ("split", "rsplit", "splitlines"):
            base = self.text(func.value)
            if base is None:
                return None
            result = Text(list(base.parts), [*base.built])
            for arg in node.args[1:] if func.attr == "replace" else ():
                sub = self.text(arg)
                if sub is not None and sub.dynamic:
                    result.extend(sub)
                elif sub is None:
                    result.parts.append(Hole(arg, self.source(arg)))
            return result
        return None

    def _format_text(self, node: ast.Call) -> Text | None:
        func = node.func
        assert isinstance(func, ast.Attribute)
        template = self.text(func.value)
        if template is None:
            return None
        positional = list(node.args)
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg is not None}
        spread = [kw.value for kw in node.keywords if kw.arg is None]
        spread += [a.value for a in positional if isinstance(a, ast.Starred)]
        result = Text(built=[*template.built, node])
        automatic = 0
        for part in template.parts:
            if isinstance(part, Hole):
                result.parts.append(part)
                continue
            try:
                fields = list(string.Formatter().parse(part))
            except ValueError:
                result.parts.append(part)
                continue
            for literal, field_name, spec, _conversion in fields:
                result.parts.append(literal)
                if field_name is None:
                    continue
                root = re.split(r"[.\[]", field_name, maxsplit=1)[0]
                value: ast.AST | None
                if root == "":
                    value = positional[automatic] if automatic < len(positional) else None
                    automatic += 1
                elif root.isdigit():
                    index = int(root)
                    value = positional[index] if index < len(positional) else None
                else:
                    value = keywords.get(root)
                unmatched = value is None or isinstance(value, ast.Starred)
                candidates = spread if unmatched else [value]
                if unmatched and root and not root.isdigit() and _spreads_locals(spread):
                    local = ast.Name(id=root, ctx=ast.Load())
                    candidates = [ast.copy_location(local, node)]
                numeric = bool(spec) and _NUMERIC_SPEC.search(spec) is not None
                for candidate in candidates:
                    self._interpolate(result, candidate, numeric)
        return result

    def _join_text(self, separator: Text, iterable: ast.AST, node: ast.Call) -> Text:
        result = Text(built=[*separator.built, node])
        for index, item in enumerate(self.elements(iterable)):
            if index:
                result.parts.extend(separator.parts)
            self._interpolate(result, item)
        return result

    def _appended_values(self, name: str) -> list[ast.AST]:
        """What `name.append(x)`, `name.extend([...])`, `name.insert(i, x)` add to a local list."""
        self._index()
        return self._appended.get(name, [])  # type: ignore[union-attr]

    def _hole_text(self, expr: ast.AST) -> Text:
        return Text([Hole(expr, self.source(expr))])

    def _interpolate(self, result: Text, expr: ast.AST, numeric: bool = False) -> None:
        """Append what `expr` adds to the string: its own text when it was assembled in this
        function (so the holes are the values it was built from), else one hole."""
        if numeric:
            result.parts.append(Hole(expr, Source(Kind.CONSTANT, "a number", expr)))
            return
        sub = self.text(expr)
        if sub is not None:
            result.extend(sub)
        else:
            result.parts.append(Hole(expr, self.source(expr)))

    def elements(self, node: ast.AST) -> list[ast.AST]:
        """The items of a list/tuple literal or comprehension, or of a local list built from
        literals, comprehensions, `+=` and `append`/`extend`/`insert`; else `[node]`."""
        if isinstance(node, ast.List | ast.Tuple | ast.Set) and isinstance(node.ctx, ast.Load):
            return list(node.elts)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return [node.elt]
        if isinstance(node, ast.Name) and self.scope is not None and self._is_local(node.id):
            values = self._values(node.id)
            if not values:
                return [node]
            items: list[ast.AST] = []
            for value in values:
                if isinstance(value, ast.AugAssign):
                    items.extend(self.elements(value.value))
                elif isinstance(value, ast.List | ast.Tuple | ast.Set) and isinstance(
                    value.ctx, ast.Load
                ):
                    items.extend(value.elts)
                elif isinstance(value, ast.ListComp | ast.GeneratorExp | ast.SetComp):
                    items.append(value.elt)
                else:
                    items.append(node)  # bound to something opaque: the list as a whole
            return items + self._appended_values(node.id)
        return [node]
