"""What a value is built from: the `Source` of an expression."""

from __future__ import annotations

import ast

from backend_expert.dataflow.guards import _checked_names
from backend_expert.dataflow.known import (
    CONTENT_METHODS,
    ENUM_BASES,
    FLASK_REQUEST,
    GENERATED_SQL_NAMES,
    IDENTITY_CALLS,
    ITEM_METHODS,
    METADATA_ATTRIBUTES,
    NUMERIC_CALLS,
    REQUEST_ATTRIBUTES,
    SANITIZER_CALLS,
    SANITIZER_NAMES,
    STRING_METHODS,
    TRANSLATIONS,
)
from backend_expert.dataflow.model import CONSTANT, Kind, Source, worst
from backend_expert.dataflow.util import (
    _derived,
    _has_metadata,
    _is_literal_sequence,
    _numeric_spec,
    _short,
    _unknown,
)
from backend_expert.index import dotted, is_literal


class SourcesMixin:
    """`source(node)` and its cases, one per kind of expression."""

    def _source(self, node: ast.AST) -> Source:
        if isinstance(node, ast.Constant):
            return CONSTANT
        if isinstance(node, ast.Name):
            return self._name_source(node)
        if isinstance(node, ast.Attribute):
            return self._attribute_source(node)
        if isinstance(node, ast.Subscript):
            return self._subscript_source(node)
        if isinstance(node, ast.Call):
            return self._call_source(node)
        if isinstance(node, ast.JoinedStr | ast.BinOp) and (text := self.text(node)) is not None:
            return worst(hole.source for hole in text.holes)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Div) and self._is_path(node.left):
                return worst((self.source(node.left), self.source(node.right)))
            if not isinstance(node.op, ast.Add | ast.Mod | ast.Mult | ast.BitOr):
                return CONSTANT  # arithmetic: a number whatever the operands
            if isinstance(node.op, ast.Mult) and (
                _is_literal_sequence(node.left) or _is_literal_sequence(node.right)
            ):
                return CONSTANT  # `"?" * len(ids)`, `["%s"] * n`
            return worst((self.source(node.left), self.source(node.right)))
        if isinstance(node, ast.UnaryOp | ast.Compare):
            return CONSTANT  # a number or a bool
        if isinstance(node, ast.BoolOp):
            return worst(self.source(value) for value in node.values)
        if isinstance(node, ast.IfExp):
            return self._ifexp_source(node)
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return worst(self.source(element) for element in node.elts)
        if isinstance(node, ast.Dict):
            return worst(self.source(value) for value in node.values)
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            return self.source(node.elt)
        if isinstance(node, ast.DictComp):
            return worst((self.source(node.key), self.source(node.value)))
        if isinstance(node, ast.Await | ast.Starred | ast.NamedExpr):
            return self.source(node.value)
        if isinstance(node, ast.FormattedValue):
            if _numeric_spec(node.format_spec):
                return CONSTANT
            return self.source(node.value)
        return Source(Kind.UNKNOWN, f"`{_short(node)}`", node)

    def _name_source(self, node: ast.Name) -> Source:
        name = node.id
        guard = self._guard_for(name, node)
        if guard is not None:
            return Source(Kind.SAFE_IDENTIFIER, guard.origin, node)
        function, scope = self.function, self.scope
        if function is None or scope is None:
            return self._module_name_source(node)
        values = self._values(name)
        if values:
            added = [self.source(item) for item in self._appended_values(name)]
            return worst([*(self._binding_source(value, name) for value in values), *added])
        if name in scope.params:
            return self._param_source(name)
        self._index()
        inner = self._inner.get(name) if self._inner else None
        if inner:
            return worst(self._binding_source(value, name) for value in inner)
        outer = self.ctx.enclosing_function(above=function)
        if outer is not None:  # a closure: the name is bound in an enclosing function
            return self._flow_of(outer)._name_source(node)
        return self._flow_of(None)._module_name_source(node)

    def _binding_source(self, value: ast.AST, name: str) -> Source:
        if isinstance(value, ast.AugAssign):
            return self.source(value.value)
        if isinstance(value, ast.For | ast.AsyncFor | ast.comprehension):
            return self.source(value.iter)
        if isinstance(value, ast.Tuple | ast.List) and isinstance(value.ctx, ast.Store):
            return self._unpacked_source(value, name)
        return self.source(value)

    def _unpacked_source(self, target: ast.Tuple | ast.List, name: str) -> Source:
        value = self._unpacking().get(id(target))
        if value is None:
            return Source(Kind.UNKNOWN, f"`{name}` (unpacked)", target)
        if isinstance(value, ast.For | ast.AsyncFor | ast.comprehension):
            return self.source(value.iter)
        if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
            for element, item in zip(target.elts, value.elts, strict=True):
                if isinstance(element, ast.Name) and element.id == name:
                    return self.source(item)
        return self.source(value)

    def _module_name_source(self, node: ast.Name) -> Source:
        name = node.id
        facts = self.ctx.facts
        if name in facts.constants:
            return Source(Kind.CONSTANT, f"the constant `{name}`", node)
        if name in facts.imports:
            return self._imported_source(node, facts.imports[name])
        values = self._module_bindings().get(name)
        if values:
            module_flow = self._flow_of(None)
            return worst(module_flow._binding_source(v, name) for v in values)
        if name in facts.classes and self.ctx.project.is_subclass(
            f"{self.ctx.module}.{name}", ENUM_BASES
        ):
            return Source(Kind.SAFE_IDENTIFIER, f"the enum `{name}`", node)
        return Source(Kind.UNKNOWN, f"`{name}`", node)

    def _imported_source(self, node: ast.AST, qualified: str) -> Source:
        project = self.ctx.project
        resolved = project.resolve(qualified)
        module, _, attr = resolved.rpartition(".")
        facts = project.modules.get(module)
        text = _short(node)
        if facts is not None and attr in facts.constants:
            return Source(Kind.CONSTANT, f"the constant `{text}`", node)
        prefix = resolved
        while "." in prefix:  # `Kind.A.value` where `Kind` is an enum class of the project
            if project.class_facts(prefix) is not None:
                if project.is_subclass(prefix, ENUM_BASES):
                    return Source(Kind.SAFE_IDENTIFIER, f"the enum member `{text}`", node)
                break
            prefix = prefix.rpartition(".")[0]
        if resolved in FLASK_REQUEST:
            return Source(Kind.UNKNOWN, "`request`", node)
        return Source(Kind.UNKNOWN, f"`{text}`", node)

    def _attribute_source(self, node: ast.Attribute) -> Source:
        if node.attr in METADATA_ATTRIBUTES or _has_metadata(node.value):
            return Source(Kind.SAFE_IDENTIFIER, f"the model metadata `{_short(node)}`", node)
        if self._is_request_object(node.value):
            if node.attr in REQUEST_ATTRIBUTES:
                return Source(Kind.REQUEST, f"`{_short(node)}`", node)
            return Source(Kind.UNKNOWN, f"`{_short(node)}`", node)  # request.user, .state...
        root = node.value
        if isinstance(root, ast.Name) and root.id in ("self", "cls"):
            if self._class_constant(node.attr) is not None:
                return Source(Kind.CONSTANT, f"the class constant `{_short(node)}`", node)
            if node.attr in ("value", "name") and self._in_enum():
                return Source(Kind.SAFE_IDENTIFIER, f"the enum member `{_short(node)}`", node)
            return Source(Kind.UNKNOWN, f"`{_short(node)}`", node)
        head = (dotted(node) or "").partition(".")[0]
        if head and head in self.ctx.facts.imports and not self._is_local(head):
            qualified = self.ctx.qualname(node)
            if qualified is not None:
                return self._imported_source(node, qualified)
        owner = self.source(root)
        if owner.kind in (Kind.CONSTANT, Kind.SAFE_IDENTIFIER):
            return owner  # `Sort.NAME.value`, an attribute of a checked value
        if owner.kind in (Kind.REQUEST, Kind.PARAMETER):
            return Source(owner.kind, _derived(node, owner), owner.node)
        return Source(Kind.UNKNOWN, f"`{_short(node)}`", node)

    def _subscript_source(self, node: ast.Subscript) -> Source:
        container = self.source(node.value)
        if container.kind == Kind.CONSTANT and not isinstance(node.slice, ast.Slice):
            if self.source(node.slice).kind == Kind.CONSTANT:
                return CONSTANT
            return Source(
                Kind.SAFE_IDENTIFIER, f"a lookup in the constant `{_short(node.value)}`", node
            )
        if container.kind in (Kind.REQUEST, Kind.PARAMETER):
            return Source(container.kind, _derived(node, container), container.node)
        return container if container.kind != Kind.UNKNOWN else _unknown(node)

    def _call_source(self, node: ast.Call) -> Source:
        func = node.func
        qualified = self.ctx.qualname(func)
        last = (
            func.attr
            if isinstance(func, ast.Attribute)
            else (dotted(func) or "").rpartition(".")[2]
        )
        if qualified in NUMERIC_CALLS:
            return Source(Kind.CONSTANT, f"`{_short(node)}`", node)
        if isinstance(func, ast.Name) and self._is_local(func.id):
            aliased = [v for v in self._values(func.id) if isinstance(v, ast.Attribute | ast.Name)]
            if aliased:  # `qn = connection.ops.quote_name`
                alias = aliased[-1]
                last = alias.attr if isinstance(alias, ast.Attribute) else alias.id
        if last in SANITIZER_NAMES or qualified in SANITIZER_CALLS:
            return Source(Kind.SAFE_IDENTIFIER, f"`{_short(node)}` (quoted)", node)
        if last in GENERATED_SQL_NAMES:
            return Source(Kind.SAFE_IDENTIFIER, f"SQL generated by `{_short(node)}`", node)
        if last in TRANSLATIONS and all(isinstance(a, ast.Constant) for a in node.args):
            return Source(Kind.CONSTANT, f"the translated text `{_short(node, 40)}`", node)
        if qualified in IDENTITY_CALLS:
            return worst(self.source(arg) for arg in node.args)
        if isinstance(func, ast.Attribute):
            if func.attr in ("format", "join", "format_map") and _escapes_arguments(func.value):
                return Source(Kind.SAFE_IDENTIFIER, f"`{_short(node)}` (escaped)", node)
            if func.attr == "join" and node.args:
                return worst((self.source(func.value), self.source(node.args[0])))
            if func.attr == "format" and (text := self.text(node)) is not None:
                return worst(hole.source for hole in text.holes)
            if func.attr in REQUEST_ATTRIBUTES and self._is_request_object(func.value):
                return Source(Kind.REQUEST, f"`{_short(node)}`", node)
            if func.attr in CONTENT_METHODS:
                return self.source(func.value)
            if func.attr in STRING_METHODS:
                receiver = self.source(func.value)
                return worst([receiver, *(self.source(arg) for arg in node.args)], receiver)
            if func.attr in ITEM_METHODS:
                receiver = self.source(func.value)
                if receiver.kind == Kind.CONSTANT:
                    default = node.args[1:2] if func.attr in ("get", "pop") else []
                    safe = Source(
                        Kind.SAFE_IDENTIFIER,
                        f"a lookup in the constant `{_short(func.value)}`",
                        node,
                    )
                    keys_constant = all(self.source(a).kind == Kind.CONSTANT for a in node.args)
                    base = CONSTANT if keys_constant else safe
                    return worst((self.source(d) for d in default), base)
                if receiver.kind in (Kind.REQUEST, Kind.PARAMETER):
                    return Source(receiver.kind, _derived(node, receiver), receiver.node)
                if receiver.kind == Kind.SAFE_IDENTIFIER:
                    return receiver
        return _unknown(node)

    def _ifexp_source(self, node: ast.IfExp) -> Source:
        checked = _checked_names(node.test, positive=True)
        body = self.source(node.body)
        if isinstance(node.body, ast.Name) and node.body.id in checked:
            body = Source(Kind.SAFE_IDENTIFIER, checked[node.body.id], node.body)
        orelse = self.source(node.orelse)
        if isinstance(node.orelse, ast.Name) and node.orelse.id in _checked_names(
            node.test, positive=False
        ):
            orelse = Source(Kind.SAFE_IDENTIFIER, "a checked value", node.orelse)
        return worst((body, orelse))

    def _in_enum(self) -> bool:
        klass = self.ctx.enclosing_class()
        if klass is None:
            return False
        qualified = f"{self.ctx.module}.{klass.name}"
        return self.ctx.project.is_subclass(qualified, ENUM_BASES)

    def _class_constant(self, attr: str) -> ast.AST | None:
        if self._class_constants is None:
            self._class_constants = {}
            klass = self.ctx.enclosing_class()
            for stmt in klass.body if klass else ():
                targets = (
                    stmt.targets
                    if isinstance(stmt, ast.Assign)
                    else [stmt.target]
                    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None
                    else []
                )
                value = getattr(stmt, "value", None)
                for target in targets:
                    if isinstance(target, ast.Name) and value is not None and is_literal(value):
                        self._class_constants[target.id] = value
        return self._class_constants.get(attr)

    def _is_path(self, node: ast.AST) -> bool:
        """`Path(...)`, `BASE_DIR`, `p.parent`, `a / b` of those: `/` joins paths there."""
        for _ in range(10):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                node = node.left
            elif isinstance(node, ast.Attribute) and node.attr in ("parent", "parents"):
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr not in CONTENT_METHODS:
                    break
                node = node.func.value
            elif isinstance(node, ast.Name) and self._is_local(node.id):
                values = self._values(node.id)
                if len(values) != 1:
                    break
                node = values[0]
            else:
                break
        qualified = self.ctx.qualname(node.func if isinstance(node, ast.Call) else node) or ""
        if qualified.startswith(("pathlib.", "anyio.Path", "trio.Path")):
            return True
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
        if name.upper().endswith(("_DIR", "_ROOT", "_PATH", "_FOLDER")):
            return True
        return (self.ctx.type_of(node) or "").startswith("pathlib.")


def _escapes_arguments(receiver: ast.AST) -> bool:
    """`Markup("<b>{}</b>")`, `SafeString(...)`: `.format()` on them escapes each argument."""
    if not isinstance(receiver, ast.Call):
        return False
    name = (dotted(receiver.func) or "").rpartition(".")[2]
    return name in ("Markup", "SafeString", "escape")
