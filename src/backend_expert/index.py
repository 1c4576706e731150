"""Stage 3, index: per-file facts that are cheap to cache, merged into the project model.

A single-file linter sees `SessionLocal()` and knows nothing. The project model
knows that `app.db.SessionLocal` is a `sessionmaker`, that `User` in
`app.models` subclasses a declarative base, and which frameworks the project
uses. Facts hold names, never line numbers, so editing a function body leaves
the model (and the cache keyed on it) unchanged.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from backend_expert.discover import IMPORTS, declared_frameworks
from backend_expert.nodes import walk

if TYPE_CHECKING:
    from backend_expert.arch_facts import ArchFacts
    from backend_expert.django_web import WebFacts
    from backend_expert.fastapi_facts import FastAPIFacts
    from backend_expert.flask_facts import FlaskFacts
    from backend_expert.sqlalchemy_facts import SqlaFacts


@dataclass(frozen=True)
class MemberFacts:
    """A class-body binding: `name = callee(args, key=value)` or `name: Annotation = value`.

    Arguments are kept as text: qualified names for names, `repr` for constants, else the
    source (shortened). That is enough to read model fields, relationships and options.
    """

    callee: str | None = None
    args: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()
    annotation: str | None = None
    value: str | None = None  # the source of a value that is not a call

    def keyword(self, name: str) -> str | None:
        return next((value for key, value in self.keywords if key == name), None)


@dataclass
class ClassFacts:
    name: str
    bases: tuple[str, ...]  # qualified where the import could be followed
    keywords: tuple[tuple[str, str], ...] = ()  # e.g. (("table", "True"),) for SQLModel
    attr_types: dict[str, str] = field(default_factory=dict)  # self.x = Ctor() -> qualified Ctor
    methods: tuple[str, ...] = ()
    members: dict[str, MemberFacts] = field(default_factory=dict)  # class-body bindings, in order
    inner: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # class Meta/Config: attr -> source
    decorators: tuple[str, ...] = ()
    # Methods of QuerySet/Manager-like classes whose every `return` is a queryset chain:
    # method -> ("select:a__b", "prefetch:c", "call:other_method", "values", "unknown"...).
    returns: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class FunctionFacts:
    name: str
    is_async: bool
    decorators: tuple[str, ...]
    returns: str | None  # qualified name of the return annotation's head
    returns_arg: str | None = None  # `-> QuerySet[Order]`: the qualified first argument


@dataclass
class ModuleFacts:
    path: str
    module: str
    imports: dict[str, str] = field(default_factory=dict)  # local alias -> qualified name
    imported_modules: set[str] = field(default_factory=set)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    calls: dict[str, str] = field(default_factory=dict)  # module-level `name = callee(...)`
    aliases: dict[str, str] = field(default_factory=dict)  # `Name = Annotated[T, ...]` -> T
    constants: set[str] = field(default_factory=set)  # module-level names bound only to literals
    is_test: bool = False
    strings: dict[str, str] = field(default_factory=dict)  # module-level `UPPER = "text"`
    star_imports: tuple[str, ...] = ()  # `from x import *`: names not found here may be in x
    # Senders of `pre_save`/`post_save` receivers connected here ("*" when for every model).
    save_signals: tuple[str, ...] = ()
    call_args: dict[str, tuple[str, ...]] = field(
        default_factory=dict
    )  # positional args of `calls`
    # ORM lookups by keyword, `Model.objects.filter(field=...)`: (qualified receiver, keyword)
    # -> number of call sites in this module, capped at LOOKUP_CAP (edits churn the model less).
    lookups: dict[tuple[str, str], int] = field(default_factory=dict)
    # Django web facts (settings operations, URL wiring, request functions): django_web.py.
    django_web: WebFacts | None = None
    # Routes, app objects, URL paths, module-level imports: arch_facts.py.
    arch: ArchFacts | None = None
    # FastAPI routers, routes, include_router calls, dependencies: fastapi_facts.py.
    fastapi: FastAPIFacts | None = None
    # SQLAlchemy facts (declared_attr members, session factories, session dependencies).
    sqlalchemy: SqlaFacts | None = None
    # Flask apps, blueprints and routes: flask_facts.py (merged by flask_web.py).
    flask: FlaskFacts | None = None

    def digest(self) -> str:
        """A hash stable across processes (sets are sorted: string hashing is randomised)."""
        classes = sorted(
            (
                name,
                c.bases,
                c.keywords,
                sorted(c.attr_types.items()),
                c.methods,
                list(c.members.items()),
                sorted((k, sorted(v.items())) for k, v in c.inner.items()),
                c.decorators,
                sorted(c.returns.items()),
            )
            for name, c in self.classes.items()
        )
        functions = sorted(
            (n, f.is_async, f.decorators, f.returns, f.returns_arg)
            for n, f in self.functions.items()
        )
        canonical = (
            self.path,
            self.module,
            sorted(self.imports.items()),
            sorted(self.imported_modules),
            classes,
            functions,
            sorted(self.calls.items()),
            sorted(self.aliases.items()),
            sorted(self.constants),
            self.is_test,
            sorted(self.strings.items()),
            self.star_imports,
            self.save_signals,
            sorted(self.call_args.items()),
            self.django_web.key() if self.django_web else None,
            self.flask.key() if self.flask else None,
            sorted(self.lookups.items()),
            self.arch.key() if getattr(self, "arch", None) else None,
            self.fastapi.key() if self.fastapi else None,
            self.sqlalchemy.key() if self.sqlalchemy else None,
        )
        return hashlib.blake2b(repr(canonical).encode(), digest_size=16).hexdigest()


# --- module names ------------------------------------------------------------------------------


def module_name(rel_path: str, package_dirs: set[str]) -> str:
    """Dotted module name: climb while the parent directory is a package (has __init__.py)."""
    parent, _, filename = rel_path.rpartition("/")
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    parts = [stem] if stem != "__init__" else []
    while parent and parent in package_dirs:
        parent, _, name = parent.rpartition("/")
        parts.append(name)
    if not parts:  # a top-level __init__.py outside any package
        parts.append(rel_path.rpartition("/")[0].rpartition("/")[2] or stem)
    return ".".join(reversed(parts))


def module_names(rels: Iterable[str]) -> dict[str, str]:
    """A unique dotted module name for every file.

    A directory is a package when it has an `__init__.py`, or when it holds Python files
    and its parent is a package (a namespace sub-package, common in large apps). Files
    whose names would still collide get a name spelled from their path, so that no file
    is dropped from the model.
    """
    rels = sorted(rels)
    packages = {rel.rpartition("/")[0] for rel in rels if rel.endswith("__init__.py")}
    directories = sorted(
        {rel.rpartition("/")[0] for rel in rels if "/" in rel}, key=lambda d: d.count("/")
    )
    for directory in directories:
        parent = directory.rpartition("/")[0]
        if parent and parent in packages:
            packages.add(directory)
    names: dict[str, str] = {}
    taken: set[str] = set()
    for rel in rels:
        name = module_name(rel, packages)
        if name in taken:
            name = (
                PurePosixPath(rel)
                .with_suffix("")
                .as_posix()
                .replace("/", ".")
                .removesuffix(".__init__")
            )
        taken.add(name)
        names[rel] = name
    return names


def is_test_path(rel_path: str) -> bool:
    path = PurePosixPath(rel_path)
    return (
        path.name.startswith("test_")
        or path.name.endswith("_test.py")
        or path.name == "tests.py"
        or path.name == "conftest.py"
        or any(part in ("tests", "test", "testing") for part in path.parts[:-1])
    )


# --- facts -------------------------------------------------------------------------------------


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _FactCollector:
    """Reads imports and top-level definitions without walking expressions."""

    def __init__(self, module: str, is_package: bool, text: str | None = None) -> None:
        self.module = module
        self.lines = text.splitlines() if text is not None else None
        self.package = module if is_package else module.rpartition(".")[0]
        self.facts_imports: dict[str, str] = {}
        self.imported: set[str] = set()
        self.star: list[str] = []  # modules imported with `from x import *`, in order

    def resolve_relative(self, level: int, target: str | None) -> str:
        base = self.package.split(".") if self.package else []
        if level > 1:
            base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
        return ".".join([*base, target] if target else base)

    def add_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.imported.add(alias.name)
                if alias.asname:
                    self.facts_imports[alias.asname] = alias.name
                else:
                    head = alias.name.partition(".")[0]
                    self.facts_imports.setdefault(head, head)
            return
        source = (
            self.resolve_relative(node.level, node.module) if node.level else (node.module or "")
        )
        self.imported.add(source)
        for alias in node.names:
            if alias.name == "*":
                if source not in self.star:
                    self.star.append(source)
                continue
            self.facts_imports[alias.asname or alias.name] = (
                f"{source}.{alias.name}" if source else alias.name
            )
            self.imported.add(f"{source}.{alias.name}")

    def qualify(self, node: ast.AST) -> str | None:
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.facts_imports:
            base = self.facts_imports[head]
            return f"{base}.{rest}" if rest else base
        return f"{self.module}.{name}"


_TRY_STAR = getattr(ast, "TryStar", ast.Try)  # Python 3.11+
_BLOCKS = (ast.If, ast.Try, _TRY_STAR, ast.With, ast.AsyncWith, ast.For, ast.While)


def _statements(body: Iterable[ast.stmt], into: list[ast.stmt] | None = None) -> list[ast.stmt]:
    """Statements of a block, descending into if/try/with (imports hide there) but not into defs."""
    found: list[ast.stmt] = [] if into is None else into
    for stmt in body:
        found.append(stmt)
        if isinstance(stmt, _BLOCKS):
            for name in ("body", "orelse", "finalbody"):
                _statements(getattr(stmt, name, ()), found)
            for handler in getattr(stmt, "handlers", ()):
                _statements(handler.body, found)
    return found


def collect_facts(
    tree: ast.Module, rel_path: str, module: str, text: str | None = None
) -> ModuleFacts:
    """The facts of one module; `text` (the source) makes rendering arguments cheaper."""
    is_package = rel_path.endswith("__init__.py")
    collector = _FactCollector(module, is_package, text)
    facts = ModuleFacts(path=rel_path, module=module, is_test=is_test_path(rel_path))
    deferred: list[ast.stmt] = []
    for stmt in _statements(tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            collector.add_import(stmt)
        else:
            deferred.append(stmt)
    # Imports inside functions and methods also name things the checks must resolve.
    if text is None or not _imports_only_at_line_starts(text):
        for stmt in deferred:
            for inner in _function_bodies(stmt):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    collector.add_import(inner)
    facts.imports = collector.facts_imports
    facts.imported_modules = collector.imported
    facts.star_imports = tuple(collector.star)
    for stmt in deferred:
        _module_statement(stmt, collector, facts)
    from backend_expert.django_facts import (
        ORM_WORDS,
        _expressions_on,
        _lines_with,
        _lookups,
        _may_use_the_orm,
    )

    # Lookups and save signals are counted outside tests only (django_models).
    if (
        not facts.is_test
        and _may_use_the_orm(collector.imported)
        and (text is None or any(word in text for word in ORM_WORDS))
    ):
        facts.lookups, signals = _lookups(
            _expressions_on(tree, _lines_with(text, ORM_WORDS)), collector
        )
        facts.save_signals = tuple(sorted(signals))
    from backend_expert.django_web import collect_web_facts  # imports this module

    facts.django_web = collect_web_facts(tree, rel_path, collector)
    from backend_expert.arch_facts import collect_arch_facts

    facts.arch = collect_arch_facts(tree, collector)
    from backend_expert.fastapi_facts import collect_fastapi_facts

    facts.fastapi = collect_fastapi_facts(tree, collector, text)
    from backend_expert.sqlalchemy_facts import collect_sqlalchemy_facts

    facts.sqlalchemy = collect_sqlalchemy_facts(tree, collector, text)
    from backend_expert.flask_facts import collect_flask_facts

    facts.flask = collect_flask_facts(tree, rel_path, collector, text)
    return facts


def _imports_only_at_line_starts(text: str) -> bool:
    """True when every "import" in the text begins an unindented line (`import x`,
    `from x import y`): then no function imports anything, and their bodies need no scan."""
    start = text.find("import")
    while start >= 0:
        prefix = text[text.rfind("\n", 0, start) + 1 : start]
        if prefix and not (prefix.startswith("from ") and prefix.endswith(" ")):
            return False
        start = text.find("import", start + 6)
    return True


def _function_bodies(stmt: ast.stmt) -> Iterator[ast.stmt]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield from _statements(stmt.body)
    elif isinstance(stmt, ast.ClassDef):
        for inner in stmt.body:
            yield from _function_bodies(inner)


def _module_statement(stmt: ast.stmt, collector: _FactCollector, facts: ModuleFacts) -> None:
    if isinstance(stmt, ast.ClassDef):
        facts.classes[stmt.name] = _class_facts(stmt, collector)
    elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        facts.functions[stmt.name] = _function_facts(stmt, collector)
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        value = stmt.value
        for name in names:
            if isinstance(value, ast.Call) and (callee := collector.qualify(value.func)):
                facts.calls[name] = callee
                if value.args:
                    facts.call_args[name] = tuple(_render(a, collector) for a in value.args[:3])
            elif (
                isinstance(value, ast.Constant)
                and isinstance(value.value, str)
                and name.isupper()
                and len(value.value) <= 200
            ):
                facts.strings[name] = value.value
                facts.constants.add(name)
            elif isinstance(value, ast.Subscript) and (head := collector.qualify(value.value)):
                if (
                    head.endswith("Annotated")
                    and isinstance(value.slice, ast.Tuple)
                    and value.slice.elts
                ):
                    inner = collector.qualify(value.slice.elts[0])
                    if inner:
                        facts.aliases[name] = inner
            elif is_literal(value):
                facts.constants.add(name)


def is_literal(node: ast.AST, _depth: int = 0) -> bool:
    """A constant, or a tuple/list/set/dict/concatenation made only of constants."""
    if _depth > 50:
        return False
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(is_literal(e, _depth + 1) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or is_literal(k, _depth + 1) for k in node.keys) and all(
            is_literal(v, _depth + 1) for v in node.values
        )
    if isinstance(node, ast.BinOp):
        return is_literal(node.left, _depth + 1) and is_literal(node.right, _depth + 1)
    return False


def _class_facts(node: ast.ClassDef, collector: _FactCollector) -> ClassFacts:
    bases = tuple(q for b in node.bases for q in _base_names(b, collector))
    keywords = tuple(
        (kw.arg, _render(kw.value, collector)) for kw in node.keywords if kw.arg is not None
    )
    facts = ClassFacts(node.name, bases, keywords)
    facts.decorators = tuple(
        collector.qualify(d.func if isinstance(d, ast.Call) else d) or ""
        for d in node.decorator_list
    )
    methods: list[str] = []
    from backend_expert.django_facts import _method_returns, _queryset_like

    queryset_like = _queryset_like(node.name, bases)
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.append(stmt.name)
            if queryset_like and (summary := _method_returns(stmt)) is not None:
                facts.returns[stmt.name] = summary
            for inner in walk(stmt) if stmt.name == "__init__" else _statements(stmt.body):
                if inner.__class__ is ast.Assign:
                    _self_attribute(inner, collector, facts.attr_types)
        elif isinstance(stmt, ast.ClassDef):
            facts.inner[stmt.name] = _inner_class(stmt, collector)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            _member(stmt, collector, facts)
    facts.methods = tuple(methods)
    return facts


def _base_names(base: ast.AST, collector: _FactCollector) -> list[str]:
    """A base class, qualified; `Manager.from_queryset(QS)` counts as both classes."""
    if (
        isinstance(base, ast.Call)
        and isinstance(base.func, ast.Attribute)
        and base.func.attr == "from_queryset"
    ):
        return [
            q for q in (collector.qualify(base.func.value), *map(collector.qualify, base.args)) if q
        ]
    qualified = collector.qualify(base)
    return [qualified] if qualified else []


def _member(stmt: ast.Assign | ast.AnnAssign, collector: _FactCollector, facts: ClassFacts) -> None:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    value = stmt.value
    annotation = _render(stmt.annotation, collector) if isinstance(stmt, ast.AnnAssign) else None
    if isinstance(value, ast.Call):
        callee = collector.qualify(value.func)
        func = value.func
        if (  # `objects = Manager.from_queryset(QS)()`: the factory and its queryset class
            callee is None
            and isinstance(func, ast.Call)
            and isinstance(func.func, ast.Attribute)
            and func.func.attr == "from_queryset"
        ):
            callee = collector.qualify(func.func)
            value = func
        member = MemberFacts(
            callee=callee,
            args=tuple(_render(arg, collector) for arg in value.args),
            keywords=tuple(
                (kw.arg, _render(kw.value, collector)) for kw in value.keywords if kw.arg
            ),
            annotation=annotation,
        )
        for target in targets:
            if isinstance(target, ast.Name) and callee:
                facts.attr_types[target.id] = callee
    else:
        member = MemberFacts(
            annotation=annotation, value=_render(value, collector) if value is not None else None
        )
    for target in targets:
        if isinstance(target, ast.Name):
            facts.members[target.id] = member


def _inner_class(node: ast.ClassDef, collector: _FactCollector) -> dict[str, str]:
    """Attributes of an inner options class (Django's Meta, Pydantic v1's Config)."""
    found = {}
    for stmt in node.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            name = stmt.targets[0].id
            limit = 4000 if name in LONG_OPTIONS else 300
            found[name] = _render(stmt.value, collector, limit)
    return found


# Meta options whose whole text matters (which fields are indexed); others are shortened.
LONG_OPTIONS = frozenset({"indexes", "constraints", "unique_together", "index_together"})


def _render(node: ast.AST, collector: _FactCollector, limit: int = 300) -> str:
    """A short text for an argument: qualified name, constant repr, or (shortened) source."""
    if isinstance(node, (ast.Name, ast.Attribute)) and (qualified := collector.qualify(node)):
        return qualified
    if isinstance(node, ast.Constant):
        return repr(node.value)[:limit]
    text = _segment(node, collector.lines, limit) if collector.lines is not None else None
    if text is None:
        text = ast.unparse(node)  # slower: only without the source at hand
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _segment(node: ast.AST, lines: list[str], limit: int) -> str | None:
    """The node's source text, whitespace folded (ast's columns are UTF-8 byte offsets); of a
    long node, only the lines that make more than `limit` characters (a dict of 400 lines
    is cut to its first 300 characters anyway)."""
    first, last = getattr(node, "lineno", 0), getattr(node, "end_lineno", 0)
    if not (0 < first <= last <= len(lines)):
        return None
    if first == last and lines[first - 1].isascii():  # byte offsets are character offsets
        return " ".join(lines[first - 1][node.col_offset : node.end_col_offset].split())
    words: list[str] = []
    size = -1  # the length of the words joined by single spaces
    for number in range(first, last + 1):
        line = lines[number - 1].encode()
        if number == last:
            line = line[: node.end_col_offset]
        if number == first:
            line = line[node.col_offset :]
        for word in line.decode(errors="replace").split():
            words.append(word)
            size += len(word) + 1
        if size > limit:  # the words that follow would only be cut off
            break
    return " ".join(words)


def _self_attribute(node: ast.AST, collector: _FactCollector, into: dict[str, str]) -> None:
    if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
        return
    for target in node.targets:
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and (callee := collector.qualify(node.value.func))
        ):
            into[target.attr] = callee


def _function_facts(
    node: ast.FunctionDef | ast.AsyncFunctionDef, collector: _FactCollector
) -> FunctionFacts:
    decorators = []
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        decorators.append(collector.qualify(target) or "")
    returns = returns_arg = None
    if node.returns is not None:
        head = node.returns.value if isinstance(node.returns, ast.Subscript) else node.returns
        returns = collector.qualify(head)
        if isinstance(node.returns, ast.Subscript):
            inner = node.returns.slice
            first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                first = ast.Name(id=first.value) if first.value.isidentifier() else first
            returns_arg = collector.qualify(first)
    return FunctionFacts(
        node.name, isinstance(node, ast.AsyncFunctionDef), tuple(decorators), returns, returns_arg
    )


# --- the project model -------------------------------------------------------------------------


@dataclass
class Project:
    """Everything bex knows across files. Built once per run, shared by all checks."""

    root: str
    modules: dict[str, ModuleFacts]
    dependencies: dict[str, str] = field(default_factory=dict)
    requires_python: str | None = None
    target_version: str | None = None
    # Non-Python project files ({relative path: text}) when known in memory (examples, tests);
    # None: read them from `root` on disk (project_files.py).
    files: dict[str, str] | None = None

    @cached_property
    def frameworks(self) -> frozenset[str]:
        found = set(declared_frameworks(self.dependencies))
        for facts in self.modules.values():
            for name in facts.imported_modules:
                key = IMPORTS.get(name.partition(".")[0])
                if key:
                    found.add(key)
        return frozenset(found)

    def uses(self, *frameworks: str) -> bool:
        return not frameworks or any(f in self.frameworks for f in frameworks)

    @cached_property
    def by_path(self) -> dict[str, ModuleFacts]:
        return {facts.path: facts for facts in self.modules.values()}

    def fingerprint(self, digests: dict[str, str] | None = None) -> str:
        """Changes whenever any module's facts or the declared dependencies change.

        `digests` (module path -> ModuleFacts.digest()) may come from the cache.
        """
        digests = digests or {}
        return model_fingerprint(
            (digests.get(f.path) or f.digest() for f in self.modules.values()),
            self.dependencies,
            self.requires_python,
            self.target_version,
        )

    # Symbols are looked up by qualified name, following re-exports across modules.
    def _split(self, qualname: str) -> tuple[ModuleFacts, str] | None:
        module, _, name = qualname.rpartition(".")
        facts = self.modules.get(module)
        return (facts, name) if facts is not None and name else None

    def resolve(self, qualname: str, _depth: int = 0) -> str:
        """Follow `from x import y` re-exports to where a symbol is defined."""
        if _depth:
            return self._resolve(qualname, _depth)
        cache = self.__dict__.setdefault("_resolved", {})  # rules ask about the same names
        found = cache.get(qualname)
        if found is None:
            found = cache[qualname] = self._resolve(qualname, 0)
        return found

    def _resolve(self, qualname: str, _depth: int) -> str:
        found = self._split(qualname)
        if found is None or _depth > 8:
            return qualname
        facts, name = found
        if name in facts.classes or name in facts.functions or name in facts.calls:
            return qualname
        target = facts.imports.get(name)
        if target and target != qualname:
            return self.resolve(target, _depth + 1)
        if facts.star_imports:  # `from .devices import *` in a package __init__
            return self._resolve_star(qualname, facts, name, _depth)
        return qualname

    def _resolve_star(self, qualname: str, facts: ModuleFacts, name: str, depth: int) -> str:
        cache = self.__dict__.setdefault("_star_resolved", {})
        if qualname in cache:
            return cache[qualname]
        cache[qualname] = qualname  # cycle guard
        result = qualname
        for module in facts.star_imports:
            star = self.modules.get(module)
            if star is not None and (
                name in star.classes
                or name in star.functions
                or name in star.calls
                or name in star.imports
                or star.star_imports
            ):
                found = self.resolve(f"{module}.{name}", depth + 1)
                if found != f"{module}.{name}" or self._defines(found):
                    result = found
                    break
        cache[qualname] = result
        return result

    def _defines(self, qualname: str) -> bool:
        found = self._split(qualname)
        if found is None:
            return False
        facts, name = found
        return name in facts.classes or name in facts.functions or name in facts.calls

    def class_facts(self, qualname: str) -> ClassFacts | None:
        found = self._split(self.resolve(qualname))
        return found[0].classes.get(found[1]) if found else None

    def function_facts(self, qualname: str) -> FunctionFacts | None:
        found = self._split(self.resolve(qualname))
        return found[0].functions.get(found[1]) if found else None

    def assigned_call(self, qualname: str) -> str | None:
        """For a module-level `name = callee(...)`, the qualified callee."""
        found = self._split(self.resolve(qualname))
        return found[0].calls.get(found[1]) if found else None

    def alias_target(self, qualname: str) -> str | None:
        found = self._split(self.resolve(qualname))
        return found[0].aliases.get(found[1]) if found else None

    def ancestors(self, qualname: str) -> frozenset[str]:
        """All base classes of a project class, across files (qualified names)."""
        cache = self.__dict__.setdefault("_ancestors", {})
        if qualname in cache:
            return cache[qualname]
        cache[qualname] = frozenset()  # cycle guard
        result: set[str] = set()
        facts = self.class_facts(qualname)
        if facts is not None:
            for base in facts.bases:
                resolved = self.resolve(base)
                result.add(resolved)
                result |= self.ancestors(resolved)
        cache[qualname] = frozenset(result)
        return cache[qualname]

    def sqlalchemy_model(self, qualname: str):  # -> sqlalchemy_models.Model | None
        """The SQLAlchemy mapped class `qualname` names, or None (see `sqlalchemy_models`)."""
        from backend_expert.sqlalchemy_models import sqlalchemy_models

        return sqlalchemy_models(self).model(qualname)

    def is_subclass(self, qualname: str, bases: Iterable[str]) -> bool:
        wanted = set(bases)
        resolved = self.resolve(qualname)
        return resolved in wanted or bool(self.ancestors(resolved) & wanted)


def model_fingerprint(
    digests: Iterable[str],
    dependencies: dict[str, str],
    requires_python: str | None,
    target_version: str | None,
) -> str:
    """The project model's identity, computable from cached digests without the facts."""
    data = (sorted(digests), sorted(dependencies.items()), requires_python, target_version)
    return hashlib.blake2b(repr(data).encode(), digest_size=16).hexdigest()


def build_project(
    facts: Iterable[ModuleFacts],
    root: str,
    dependencies: dict[str, str] | None = None,
    requires_python: str | None = None,
    target_version: str | None = None,
) -> Project:
    modules: dict[str, ModuleFacts] = {}
    for item in sorted(facts, key=lambda f: f.path):
        modules.setdefault(item.module, item)
    return Project(root, modules, dependencies or {}, requires_python, target_version)
