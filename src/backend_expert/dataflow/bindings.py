"""Where a local name is bound: assignments, unpacking, loops, `append`, module-level names."""

from __future__ import annotations

import ast

from backend_expert.dataflow.util import (
    _module_statements,
    _target_names,
)


class BindingsMixin:
    """The bindings of names inside one function (and of the module)."""

    def _unpacking(self) -> dict[int, ast.AST]:
        """Target tuple (by id) -> the value or loop it unpacks."""
        self._index()
        return self._unpacked  # type: ignore[return-value]

    def _index(self) -> None:
        """One walk of the function body: unpacked targets, `list.append(...)` and friends,
        and the names bound inside expressions (comprehension variables, `:=`)."""
        if self._unpacked is not None:
            return
        self._unpacked, self._appended, self._inner = {}, {}, {}
        if self.function is None:
            return
        for node in self.ctx.own_nodes(self.function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._nested_targets(target, node.value)
                    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                        self._appended.setdefault(target.value.id, []).append(node.value)
            elif isinstance(node, ast.For | ast.AsyncFor):
                self._nested_targets(node.target, node)
            elif isinstance(node, ast.comprehension):
                self._nested_targets(node.target, node)
                for name in _target_names(node.target):
                    self._inner.setdefault(name, []).append(node)
            elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                self._inner.setdefault(node.target.id, []).append(node.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.args
            ):
                self._added(node)

    def _added(self, node: ast.Call) -> None:
        assert isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
        assert self._appended is not None
        target, method = node.func.value.id, node.func.attr
        if method == "append":
            self._appended.setdefault(target, []).append(node.args[0])
        elif method == "insert" and len(node.args) == 2:
            self._appended.setdefault(target, []).append(node.args[1])
        elif method == "extend":
            added = node.args[0]
            if isinstance(added, ast.List | ast.Tuple):
                elements = list(added.elts)
            elif isinstance(added, ast.ListComp | ast.GeneratorExp):
                elements = [added.elt]
            else:
                elements = [added]
            self._appended.setdefault(target, []).extend(elements)

    def _nested_targets(self, target: ast.AST, value: ast.AST) -> None:
        if not isinstance(target, ast.Tuple | ast.List):
            return
        self._unpacked[id(target)] = value  # type: ignore[index]
        for index, element in enumerate(target.elts):
            if (
                isinstance(value, ast.Tuple | ast.List)
                and len(value.elts) == len(target.elts)
                and isinstance(element, ast.Tuple | ast.List)
            ):
                self._nested_targets(element, value.elts[index])
            elif isinstance(element, ast.Tuple | ast.List):
                self._nested_targets(element, value)

    def _module_bindings(self) -> dict[str, list[ast.AST]]:
        owner = self._flow_of(None)
        if owner._module_values is None:
            owner._module_values = {}
            tree = self.ctx.source.tree
            for stmt in _module_statements(tree.body if tree else ()):
                if isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        if isinstance(target, ast.Name):
                            owner._module_values.setdefault(target.id, []).append(stmt.value)
                elif isinstance(stmt, ast.AnnAssign | ast.AugAssign) and stmt.value is not None:
                    if isinstance(stmt.target, ast.Name):
                        value = stmt if isinstance(stmt, ast.AugAssign) else stmt.value
                        owner._module_values.setdefault(stmt.target.id, []).append(value)
                elif isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name):
                    owner._module_values.setdefault(stmt.target.id, []).append(stmt)
        return owner._module_values

    def _values(self, name: str) -> list[ast.AST]:
        """The bindings of a local name, in source order."""
        if self.scope is None:
            return []
        return sorted(
            self.scope.values(name),
            key=lambda v: (getattr(v, "lineno", 0), getattr(v, "col_offset", 0)),
        )

    def _is_local(self, name: str) -> bool:
        scope = self.scope
        return scope is not None and (name in scope.params or bool(scope.values(name)))
