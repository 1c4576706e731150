"""Stage 4, check: one walk per file, dispatching each node to the rules registered for its type.

The walk is iterative (deeply nested expressions cannot overflow the stack) and
keeps the chain of ancestors, which rules read through the context. A rule that
raises is reported as `internal-error` for that file and skipped for the rest
of it; every other rule goes on.
"""

from __future__ import annotations

import ast
import traceback
from collections.abc import Collection, Iterable
from typing import ClassVar

from backend_expert.config import Config
from backend_expert.findings import Confidence, Finding, Fix
from backend_expert.index import ModuleFacts, Project, dotted
from backend_expert.infer import BUILTIN_NAMES, CANONICAL, FunctionNode, Inference, Scope, canonical
from backend_expert.nodes import _FIELDS, LEAVES, child_fields, own_nodes
from backend_expert.parse import SourceFile
from backend_expert.rules import Rule, rule_by_id

FUNCTION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_FUNCTION_KINDS = frozenset(FUNCTION_TYPES)
_MISSING = object()


class FileContext:
    """What a rule may ask about the file being checked, and where it reports."""

    def __init__(
        self, source: SourceFile, facts: ModuleFacts, project: Project, config: Config
    ) -> None:
        self.source = source
        self.path = source.path
        self.facts = facts
        self.module = facts.module
        self.project = project
        self.config = config
        self.is_test = facts.is_test
        self.ancestors: list[ast.AST] = []
        self.functions: list[FunctionNode] = []  # the functions among the ancestors
        self.rule: Rule | None = None
        self.findings: list[Finding] = []
        self.inference = Inference(self)
        self._module_names: set[str] | None = None
        self._own_nodes: dict[int, list[ast.AST]] = {}
        self._qualnames: dict[tuple[ast.AST, ast.AST | None], str | None] = {}

    # --- names and types -------------------------------------------------------------------

    @property
    def module_names(self) -> set[str]:
        if self._module_names is None:
            facts = self.facts
            self._module_names = {
                *facts.classes,
                *facts.functions,
                *facts.calls,
                *facts.aliases,
                *facts.constants,
            }
        return self._module_names

    def qualname(self, node: ast.AST) -> str | None:
        """Qualified name of a Name/Attribute chain (`requests.get`, `app.models.User`), or None.

        Names bound in the enclosing functions are locals and give None: a local
        `requests = FakeClient()` must not be taken for the library.
        """
        # A dozen rules ask about the callee of every call. The answer depends on the node
        # and on the functions around the current position, which its parent determines.
        ancestors = self.ancestors
        key = (node, ancestors[-1] if ancestors else None)
        found = self._qualnames.get(key, _MISSING)
        if found is _MISSING:
            found = self._qualnames[key] = self._qualname(node)
        return found  # type: ignore[return-value]

    def _qualname(self, node: ast.AST) -> str | None:
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.facts.imports:
            base = self.facts.imports[head]
        elif head in self.module_names:
            base = f"{self.module}.{head}"
        elif head in BUILTIN_NAMES:
            base = f"builtins.{head}"
        else:
            return None  # a local, or a name bex cannot see
        function = self.enclosing_function()
        while function is not None:
            scope = self.inference.scope(function)
            if head in scope.params or scope.values(head):
                return None
            function = self.enclosing_function(above=function)
        return canonical(f"{base}.{rest}" if rest else base)

    def spelled_name(self, node: ast.AST) -> str:
        """The last part of the name `node` is spelled with, imports followed: `decode` for
        `jwt.decode` and for `d` after `from jwt import decode as d`; "" when not a name."""
        if isinstance(node, ast.Attribute):
            return node.attr
        if isinstance(node, ast.Name):
            return self.facts.imports.get(node.id, node.id).rpartition(".")[2]
        return ""

    def type_of(self, node: ast.AST) -> str | None:
        """The qualified type of what `node` evaluates to, when bex knows it."""
        return self.inference.type_of(node, self.enclosing_function())

    def scope(self, function: FunctionNode) -> Scope:
        return self.inference.scope(function)

    def own_nodes(self, function: ast.AST) -> list[ast.AST]:
        """Every node of a function's own body (not of nested defs), computed once per function."""
        key = id(function)
        nodes = self._own_nodes.get(key)
        if nodes is None:
            nodes = self._own_nodes[key] = list(own_nodes(function))
        return nodes

    # --- where we are -----------------------------------------------------------------------

    def enclosing_function(self, above: ast.AST | None = None) -> FunctionNode | None:
        """The innermost function around the current node (or around `above`)."""
        functions = self.functions
        if above is None:
            return functions[-1] if functions else None
        for index in range(len(functions) - 1, -1, -1):
            if functions[index] is above:
                return functions[index - 1] if index else None
        return None

    def move_to(self, ancestors: list[ast.AST]) -> None:
        """Stand where the walk stands below `ancestors` (for tests and tools that ask about
        one node without walking the file)."""
        self.ancestors[:] = ancestors
        self.functions[:] = [node for node in ancestors if isinstance(node, FUNCTION_TYPES)]  # type: ignore[misc]

    def enclosing_class(self) -> ast.ClassDef | None:
        for node in reversed(self.ancestors):
            if isinstance(node, ast.ClassDef):
                return node
        return None

    def in_async_function(self) -> bool:
        return isinstance(self.enclosing_function(), ast.AsyncFunctionDef)

    def release(self) -> None:
        """Break the context <-> inference cycle so a file's tree is freed without the GC."""
        findings = self.findings
        self.__dict__.clear()  # rules may have cached analyses here that point back at the context
        self.findings = findings

    def parent(self) -> ast.AST | None:
        return self.ancestors[-1] if self.ancestors else None

    # --- reporting -------------------------------------------------------------------------

    def report(
        self,
        node: ast.AST,
        message: str,
        *,
        confidence: Confidence = Confidence.HIGH,
        fix: Fix | None = None,
        source: str | None = None,
        end_node: ast.AST | None = None,
    ) -> None:
        rule = self.rule
        assert rule is not None, "report() called outside a rule handler"
        self.findings.append(
            make_finding(
                rule, self.source, node, message, self.config, confidence, fix, source, end_node
            )
        )


def make_finding(
    rule: Rule,
    source: SourceFile,
    node: ast.AST,
    message: str,
    config: Config,
    confidence: Confidence = Confidence.HIGH,
    fix: Fix | None = None,
    origin: str | None = None,
    end_node: ast.AST | None = None,
) -> Finding:
    line = getattr(node, "lineno", 1)
    col = source.char_column(line, getattr(node, "col_offset", 0))
    last = end_node or node
    end_line = getattr(last, "end_lineno", None) or line
    end_col = (
        source.char_column(end_line, getattr(last, "end_col_offset", None) or 0)
        if end_line
        else col
    )
    return Finding(
        code=rule.code,
        slug=rule.slug,
        pack=rule.pack,
        severity=config.severity_of(rule),
        category=rule.category,
        path=source.path,
        line=line,
        column=col + 1,
        end_line=end_line,
        end_column=end_col + 1,
        message=message,
        confidence=confidence,
        fix=fix,
        docs=rule.docs_url,
        cwe=rule.cwe,
        source=origin,
        security_severity=rule.security_severity,
    )


def file_finding(
    rule_id: str, path: str, message: str, config: Config, line: int = 1, column: int = 1
) -> Finding:
    """A finding about a whole file (unreadable, unparseable)."""
    rule = rule_by_id(rule_id)
    assert rule is not None
    return Finding(
        code=rule.code,
        slug=rule.slug,
        pack=rule.pack,
        severity=config.severity_of(rule),
        category=rule.category,
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=column,
        message=message,
        docs=rule.docs_url,
    )


Handlers = list[tuple[Rule, object]]


class _Dispatch:
    """Which handlers a node gets: by its type and, for calls, by the callee's name."""

    __slots__ = ("by_callee", "by_type")

    def __init__(self, by_type: dict[type, Handlers], by_callee: dict[str, Handlers]) -> None:
        self.by_type = by_type
        self.by_callee = by_callee

    def without(self, rules: Collection[Rule]) -> _Dispatch:
        """This table without the handlers of `rules` (a rule that failed, or those a file
        does not need): cheaper than asking for every node."""
        return _Dispatch(_without(self.by_type, rules), _without(self.by_callee, rules))


class Checker:
    """Holds the dispatch table for a set of enabled rules; checks files with it."""

    # Call handlers that name their callees run only for calls of those names, and rules
    # with `requires_text` only on files that contain it. Tests turn these prefilters off
    # to prove they change no finding.
    prefilter: ClassVar[bool] = True

    def __init__(self, rules: Iterable[Rule], project: Project, config: Config) -> None:
        self.project = project
        self.config = config
        self.rules = [rule for rule in rules if self._applies(rule)]
        by_type: dict[type, Handlers] = {}
        by_callee: dict[str, Handlers] = {}
        for rule in self.rules:
            for node_type, methods in type(rule).handlers.items():
                for method in methods:
                    callees = getattr(method, "__bex_callees__", None)
                    if callees is None or not self.prefilter:
                        by_type.setdefault(node_type, []).append((rule, method))
                        continue
                    for name in _with_aliases(callees):
                        by_callee.setdefault(name, []).append((rule, method))
        # Skipped by the walk: leaves nobody listens for, and the None of `Dict.keys`.
        listened = set(by_type) | ({ast.Call} if by_callee else set())
        self.leaves: frozenset[type] = (LEAVES | {type(None)}) - listened
        self.dispatch = _Dispatch(by_type, by_callee)
        self._gated = [rule for rule in self.rules if rule.requires_text and self.prefilter]
        self._gate_words = {word for rule in self._gated for word in rule.requires_text}
        # Tables without the rules a file does not need (tests, text gates), built once each.
        self._tables: dict[tuple[bool, tuple[Rule, ...]], _Dispatch] = {}

    def _applies(self, rule: Rule) -> bool:
        return self.project.uses(*rule.frameworks) and not _pinned_below(rule, self.project)

    def _table(self, source: SourceFile, facts: ModuleFacts) -> _Dispatch:
        """The dispatch table for one file: without the rules that skip test modules (in a
        test module), nor those whose `requires_text` the file's text does not contain."""
        text = source.text
        present = {word: word in text for word in self._gate_words}  # each word looked up once
        gated = tuple(r for r in self._gated if not any(present[w] for w in r.requires_text))
        key = (facts.is_test, gated)
        table = self._tables.get(key)
        if table is None:
            dropped = {rule for rule in self.rules if facts.is_test and rule.skip_tests}
            table = self._tables[key] = self.dispatch.without(dropped.union(gated))
        return table

    def check_file(
        self, source: SourceFile, facts: ModuleFacts, keep: list | None = None
    ) -> list[Finding]:
        """The findings of the file's rules. The file's context (its tree and what rules
        worked out about it) is released, or appended to `keep` by a run that frees
        everything at once at the end (or never: a worker process just exits)."""
        assert source.tree is not None
        ctx = FileContext(source, facts, self.project, self.config)
        table = self._table(source, facts)
        dispatch, by_callee = table.by_type, table.by_callee
        imports = facts.imports  # `from jwt import decode as d`: `d(...)` calls `decode`
        ancestors, functions = ctx.ancestors, ctx.functions
        fields = _FIELDS
        leaves = self.leaves
        call, attribute, function_kinds = ast.Call, ast.Attribute, _FUNCTION_KINDS
        # Pre-order walk on an explicit stack (deep expressions cannot overflow the C stack).
        # A node with children is pushed onto `ancestors` while they are visited; the None
        # pushed below its children pops it again.
        stack: list[ast.AST | None] = [source.tree]
        while stack:
            node = stack.pop()
            if node is None:
                if ancestors.pop().__class__ in function_kinds:
                    functions.pop()
                continue
            kind = node.__class__
            handlers = dispatch.get(kind)
            if kind is call and by_callee:
                func = node.func  # type: ignore[attr-defined]
                if func.__class__ is attribute:
                    named = by_callee.get(func.attr)
                else:
                    named = _callee_handlers(func, by_callee, imports)
                if named:
                    handlers = handlers + named if handlers else named
            if handlers:
                for rule, method in handlers:
                    ctx.rule = rule
                    try:
                        method(rule, node, ctx)  # type: ignore[operator]
                    except Exception as error:  # contained and reported
                        ctx.findings.append(_internal_error(rule, source, node, error, self.config))
                        table = table.without((rule,))
                        dispatch, by_callee = table.by_type, table.by_callee
            names = fields.get(kind)
            if names is None:
                names = child_fields(kind)
            children: list = []
            for name in names:  # plain loops: this is the hottest code of a run
                value = getattr(node, name, None)
                if value.__class__ is list:
                    for child in value:
                        if child.__class__ not in leaves:
                            children.append(child)
                elif value.__class__ not in leaves:  # a node (the fields are those of nodes)
                    children.append(value)
            if children:
                ancestors.append(node)
                if kind in function_kinds:
                    functions.append(node)  # type: ignore[arg-type]
                stack.append(None)
                children.reverse()
                stack += children
        if keep is None:
            ctx.release()
        else:
            keep.append(ctx)
        return ctx.findings

    def check_project(self) -> list[Finding]:
        findings: list[Finding] = []
        for rule in self.rules:
            if not rule.has_project_check():
                continue
            try:
                findings.extend(rule.check_project(self.project))
            except Exception as error:
                message = f"rule {rule.code} ({rule.slug}) failed on the project: {type(error).__name__}: {error}"
                findings.append(file_finding("internal-error", ".", message, self.config))
        return findings


def _without(table: dict, rules: Collection[Rule]) -> dict:
    if not rules:
        return table
    return {
        key: kept
        for key, handlers in table.items()
        if (kept := [(r, m) for r, m in handlers if r not in rules])
    }


def _callee_handlers(
    func: ast.AST, by_callee: dict[str, Handlers], imports: dict[str, str]
) -> Handlers | None:
    """The handlers registered for the name a call is made through (see `visit_call`); the
    walk looks up `x.name(...)` itself."""
    kind = func.__class__
    if kind is ast.Attribute:
        return by_callee.get(func.attr)  # type: ignore[attr-defined]
    if kind is not ast.Name:
        return None
    name: str = func.id  # type: ignore[attr-defined]
    found = by_callee.get(name)
    target = imports.get(name)
    imported = target.rpartition(".")[2] if target is not None else name
    if imported == name:
        return found
    more = by_callee.get(imported)
    if not found or not more:
        return found or more
    return found + [handler for handler in more if handler not in found]


def _with_aliases(names: Iterable[str]) -> set[str]:
    """The names, and the last parts of the aliases `canonical` maps onto them
    (`requests.session()` is a call to `requests.Session`)."""
    found = set(names)
    for alias, name in CANONICAL.items():
        if name.rpartition(".")[2] in found:
            found.add(alias.rpartition(".")[2])
    return found


def _internal_error(
    rule: Rule, source: SourceFile, node: ast.AST, error: Exception, config: Config
) -> Finding:
    frame = traceback.extract_tb(error.__traceback__)[-1]
    where = f"{frame.filename.rpartition('/')[2]}:{frame.lineno}"
    message = (
        f"rule {rule.code} ({rule.slug}) failed here: {type(error).__name__}: {error} [at {where}]; "
        "the rule was skipped for the rest of this file"
    )
    internal = rule_by_id("internal-error")
    assert internal is not None
    return make_finding(internal, source, node, message, config, end_node=node)


def _pinned_below(rule: Rule, project: Project) -> bool:
    """True when the project's declared dependencies exclude every version the rule's advice is for."""
    if not rule.min_versions:
        return False
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    for library, minimum in rule.min_versions.items():
        try:
            specifiers = SpecifierSet(project.dependencies.get(library) or "")
            floor = Version(minimum)
            for spec in specifiers:
                bound = Version(spec.version.rstrip(".*"))
                if spec.operator == "<" and bound <= floor:
                    return True
                compatible_ceiling = (
                    Version(f"{bound.major + 1}") if spec.operator == "~=" else bound
                )
                if (
                    spec.operator in ("<=", "==", "===", "~=")
                    and bound < floor
                    and compatible_ceiling <= floor
                ):
                    return True
        except (InvalidSpecifier, InvalidVersion):
            continue
    return False
