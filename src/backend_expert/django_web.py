"""The Django web half of the project model: settings modules, views and URL wiring.

Per file, the index stage records `WebFacts` (cheap, cached with the other facts):

- the module-level operations of a settings module, in source order: assignments to
  UPPER_CASE names (`DEBUG = ...`), `+=`, `MIDDLEWARE.append(...)`/`insert`/`extend`/
  `remove`, `REST_FRAMEWORK.update(...)`, item assignments (`DATABASES["default"][...] = `),
  and star imports (`from .base import *`), each marked conditional when it sits under
  an `if`/`try`/`with`/loop;
- the settings module named by `DJANGO_SETTINGS_MODULE` (manage.py, wsgi.py, asgi.py...);
- the views wired in `urlpatterns` (`path`/`re_path`/`url`, `X.as_view()`, wrappers such
  as `csrf_exempt(view)`) and registered on DRF routers;
- module-level functions whose first parameter is `request`, and decorators applied to
  a class's `dispatch` through `method_decorator`.

`web_model(project)` merges them once per project: every settings module with its kind
(production, development, test, base or plain, judged by name and by what it imports),
the *deployments* (settings modules nothing else star-imports, or the one named by
`DJANGO_SETTINGS_MODULE`) and, for each, the timeline of operations with star imports
expanded, from which the effective value of a setting is read. The view helpers below
answer "is this function a view?" for rules that check one file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from backend_expert.django_facts import MANAGER_ATTRIBUTES
from backend_expert.index import dotted

if TYPE_CHECKING:
    from backend_expert.check import FileContext
    from backend_expert.index import ClassFacts, Project

# Names only a Django settings module assigns (two of them make a module a settings module).
SETTINGS_NAMES = frozenset(
    {
        "INSTALLED_APPS",
        "MIDDLEWARE",
        "MIDDLEWARE_CLASSES",
        "ROOT_URLCONF",
        "DATABASES",
        "TEMPLATES",
        "WSGI_APPLICATION",
        "ASGI_APPLICATION",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "AUTH_USER_MODEL",
        "REST_FRAMEWORK",
        "STATIC_URL",
        "DEBUG",
    }
)
# A Django settings module Django can start with defines at least one of these (directly or
# through its star imports); other modules with settings-like names are configuration files
# read by the settings (netbox's configuration.py), or partial modules.
CORE_SETTINGS = frozenset({"INSTALLED_APPS", "ROOT_URLCONF", "MIDDLEWARE", "MIDDLEWARE_CLASSES"})
_LIST_METHODS = frozenset({"append", "insert", "extend", "remove", "update"})
_VALUE_LIMIT = 4000
_ENTRY_STEMS = frozenset({"manage", "wsgi", "asgi", "celery", "celeryconf", "__main__", "cli"})


# --- per-file facts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingOp:
    """One module-level operation on a setting, in source order.

    `name` is the setting (`*` for a star import); `op` one of `=`, `+=`, `append`, `insert`,
    `extend`, `remove`, `update`, `[]` (an item assignment, `text` then holds the whole
    statement), `import` (`text` is the imported module) or `dynamic` (`exec`, a star import
    bex cannot follow: anything may change after it).
    """

    name: str
    op: str
    text: str
    conditional: bool = False
    line: int = 0  # where it is written; not part of the digest

    def key(self) -> tuple[str, str, str, bool]:
        return (self.name, self.op, self.text, self.conditional)


@dataclass(frozen=True)
class WebFacts:
    settings: tuple[SettingOp, ...] = ()
    settings_module: str = ""  # DJANGO_SETTINGS_MODULE's default set in this file
    urls: tuple[tuple[str, str], ...] = ()  # (qualified view, "+"-joined wrapper names)
    request_functions: tuple[str, ...] = ()  # module-level `def f(request, ...)`
    class_decorators: tuple[tuple[str, str], ...] = ()  # (class, qualified decorator) on dispatch

    def key(self) -> tuple:
        return (
            tuple(op.key() for op in self.settings),
            self.settings_module,
            self.urls,
            self.request_functions,
            self.class_decorators,
        )

    def __bool__(self) -> bool:
        return bool(
            self.settings
            or self.settings_module
            or self.urls
            or self.request_functions
            or self.class_decorators
        )


def collect_web_facts(tree: ast.Module, rel_path: str, collector) -> WebFacts | None:
    """The Django web facts of one module (None when it has none). `collector` is the
    index's `_FactCollector` (it qualifies names with the module's imports)."""
    state = _Collector(collector, rel_path)
    state.block(tree.body, conditional=False)
    names = {op[0] for op in state.ops if op[0] != "*"}
    known = names & SETTINGS_NAMES
    star = any(op[0] == "*" for op in state.ops)
    ops: tuple[SettingOp, ...] = ()
    if _settings_path(rel_path) or len(known) >= 2 or (star and known):
        ops = tuple(
            SettingOp(name, op, text() if callable(text) else text, conditional, line)
            for name, op, text, conditional, line in state.ops
        )
    facts = WebFacts(
        ops,
        state.settings_module,
        tuple(state.urls),
        tuple(state.request_functions),
        tuple(state.class_decorators),
    )
    return facts if facts else None


def _settings_path(rel_path: str) -> bool:
    folder, _, name = rel_path.rpartition("/")
    return "settings" in name or "settings" in folder.split("/")


class _Collector:
    def __init__(self, collector, rel_path: str) -> None:
        self.collector = collector
        self.ops: list[tuple] = []  # (name, op, text or a function rendering it, conditional, line)
        self.settings_module = ""
        self.urls: list[tuple[str, str]] = []
        self.request_functions: list[str] = []
        self.class_decorators: list[tuple[str, str]] = []
        self.entry_point = rel_path.rpartition("/")[2].removesuffix(".py") in _ENTRY_STEMS

    def add(self, name: str, op: str, text, conditional: bool, node: ast.AST) -> None:
        """Record an operation; `text` may be a callable rendering it, called only when the
        module turns out to be a settings module (rendering every module's constants costs)."""
        self.ops.append((name, op, text, conditional, getattr(node, "lineno", 0)))

    def block(self, body: Iterable[ast.stmt], conditional: bool) -> None:
        for stmt in body:
            self.statement(stmt, conditional)

    def statement(self, stmt: ast.stmt, conditional: bool) -> None:
        if isinstance(stmt, ast.ImportFrom):
            if any(alias.name == "*" for alias in stmt.names):
                source = (
                    self.collector.resolve_relative(stmt.level, stmt.module)
                    if stmt.level
                    else (stmt.module or "")
                )
                self.add("*", "import", source, conditional, stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            if stmt.value is None:
                return
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                self.assignment(target, stmt.value, conditional, stmt)
        elif isinstance(stmt, ast.AugAssign):
            target = stmt.target
            if isinstance(target, ast.Name) and isinstance(stmt.op, ast.Add):
                if _setting_name(target.id):
                    self.add(target.id, "+=", lambda v=stmt.value: _source(v), conditional, stmt)
                elif target.id == "urlpatterns":
                    self.url_views(stmt.value)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self.call(stmt.value, conditional, stmt)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(stmt)
        elif isinstance(stmt, ast.ClassDef):
            self.class_def(stmt)
        elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)) or (
            type(stmt).__name__ == "TryStar"
        ):
            for name in ("body", "orelse", "finalbody"):
                self.block(getattr(stmt, name, ()), conditional=True)
            for handler in getattr(stmt, "handlers", ()):
                self.block(handler.body, conditional=True)

    def assignment(self, target: ast.AST, value: ast.AST, conditional: bool, stmt) -> None:
        if isinstance(target, ast.Name):
            if _setting_name(target.id):
                self.add(target.id, "=", lambda v=value: _source(v), conditional, stmt)
            elif target.id == "urlpatterns":
                self.url_views(value)
        elif isinstance(target, ast.Subscript):
            root = target
            while isinstance(root, ast.Subscript):
                root = root.value
            if isinstance(root, ast.Name) and _setting_name(root.id):
                self.add(
                    root.id,
                    "[]",
                    lambda t=target, v=value: f"{ast.unparse(t)} = {_source(v)}",
                    conditional,
                    stmt,
                )
            elif (  # os.environ["DJANGO_SETTINGS_MODULE"] = "x.settings"
                _is_settings_key(target.slice)
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                self.settings_module = self.settings_module or value.value

    def call(self, call: ast.Call, conditional: bool, stmt: ast.stmt) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            if isinstance(func, ast.Name) and func.id == "exec":
                self.add("*", "dynamic", "exec", conditional, stmt)
            return
        owner = func.value
        if isinstance(owner, ast.Name) and _setting_name(owner.id) and func.attr in _LIST_METHODS:
            self.add(
                owner.id,
                func.attr,
                lambda args=call.args: ", ".join(_source(arg) for arg in args),
                conditional,
                stmt,
            )
        elif isinstance(owner, ast.Name) and owner.id == "urlpatterns":
            for arg in call.args:
                self.url_views(arg)
        elif func.attr == "register" and len(call.args) >= 2:  # router.register("x", ViewSet)
            target = call.args[1]
            if isinstance(target, (ast.Name, ast.Attribute)):
                qualified = self.collector.qualify(target)
                if qualified:
                    self.urls.append((qualified, ""))
        elif func.attr == "setdefault" and len(call.args) >= 2 and _is_settings_key(call.args[0]):
            value = call.args[1]
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.settings_module = self.settings_module or value.value
        elif (
            func.attr == "update"
            and isinstance(owner, ast.Call)
            and isinstance(owner.func, ast.Name)
            and owner.func.id in ("globals", "vars", "locals")
        ):
            self.add("*", "dynamic", "globals().update", conditional, stmt)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = node.args.posonlyargs + node.args.args
        if args and args[0].arg == "request":
            self.request_functions.append(node.name)
        if self.entry_point:  # manage.py's main(): os.environ.setdefault(...)
            from backend_expert.index import _statements

            for stmt in _statements(node.body):
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                    func = stmt.value.func
                    if isinstance(func, ast.Attribute) and func.attr == "setdefault":
                        self.call(stmt.value, False, stmt)
                elif isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        self.assignment(target, stmt.value, False, stmt)

    def class_def(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            if _is_method_decorator(decorator) and _names_dispatch(decorator):
                for qualified in self._decorated(decorator):
                    self.class_decorators.append((node.name, qualified))
        for stmt in node.body:
            if (
                isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                and stmt.name == "dispatch"
            ):
                for decorator in stmt.decorator_list:
                    if _is_method_decorator(decorator):
                        for qualified in self._decorated(decorator):
                            self.class_decorators.append((node.name, qualified))

    def _decorated(self, decorator: ast.Call) -> Iterator[str]:
        if not decorator.args:
            return
        first = decorator.args[0]
        items = first.elts if isinstance(first, (ast.List, ast.Tuple)) else [first]
        for item in items:
            target = item.func if isinstance(item, ast.Call) else item
            qualified = self.collector.qualify(target)
            if qualified:
                yield qualified

    def url_views(self, value: ast.AST) -> None:
        stack = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.List, ast.Tuple)):
                stack.extend(node.elts)
            elif isinstance(node, ast.BinOp):
                stack.extend((node.left, node.right))
            elif isinstance(node, ast.Call):
                name = (dotted(node.func) or "").rpartition(".")[2]
                if name in ("path", "re_path", "url"):
                    view = node.args[1] if len(node.args) >= 2 else None
                    view = next((k.value for k in node.keywords if k.arg == "view"), view)
                    if view is not None:
                        self.url_view(view)
                else:  # i18n_patterns(...), format_suffix_patterns([...])
                    stack.extend(node.args)

    def url_view(self, view: ast.AST) -> None:
        wrappers: list[str] = []
        for _ in range(6):
            if not isinstance(view, ast.Call):
                break
            func = view.func
            if isinstance(func, ast.Attribute) and func.attr == "as_view":
                view = func.value
                break
            head = func.func if isinstance(func, ast.Call) else func  # cache_page(60)(view)
            name = (dotted(head) or "").rpartition(".")[2]
            if name == "include" or not view.args:
                return
            wrappers.append(name)
            view = view.args[0]
        if isinstance(view, (ast.Name, ast.Attribute)):
            qualified = self.collector.qualify(view)
            if qualified:
                self.urls.append((qualified, "+".join(wrappers)))


def _setting_name(name: str) -> bool:
    return name.isupper() and not name.startswith("_")


def _source(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= _VALUE_LIMIT else text[:_VALUE_LIMIT] + "\x00"  # \0: truncated


def _is_settings_key(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "DJANGO_SETTINGS_MODULE"


def _is_method_decorator(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and (dotted(node.func) or "").endswith("method_decorator")


def _names_dispatch(decorator: ast.Call) -> bool:
    return any(
        k.arg == "name" and isinstance(k.value, ast.Constant) and k.value.value == "dispatch"
        for k in decorator.keywords
    )


# --- settings: kinds, deployments, effective values ---------------------------------------------

TEST_WORDS = frozenset({"test", "tests", "testing", "ci", "pytest", "unittest", "unittests"})
DEV_WORDS = frozenset({"dev", "develop", "development", "local", "debug", "sandbox"})
PROD_WORDS = frozenset({"prod", "production", "live", "deploy", "deployment", "staging", "stage"})
BASE_WORDS = frozenset({"base", "common", "defaults", "default", "shared", "global", "components"})


def settings_kind(module: str, path: str) -> str:
    """`test`, `dev`, `prod`, `base` or `main` (a plain `settings.py`), from the name."""
    parts = PurePosixPath(path).with_suffix("").parts
    own = re.split(r"[^a-z0-9]+", parts[-1].lower()) if parts else []
    if parts and parts[-1] == "__init__" and len(parts) > 1:
        own = re.split(r"[^a-z0-9]+", parts[-2].lower())
    folders = {p.lower() for p in parts[:-1]}
    if TEST_WORDS & (set(own) | folders) or any(
        word.startswith("test") or word.endswith("test") for word in own
    ):
        return "test"
    if DEV_WORDS & set(own):
        return "dev"
    if PROD_WORDS & set(own):
        return "prod"
    if BASE_WORDS & set(own):
        return "base"
    return "main"


@dataclass
class SettingsModule:
    module: str
    path: str
    kind: str
    ops: tuple[SettingOp, ...]


@dataclass(frozen=True)
class Entry:
    """An operation of a deployment's timeline: where it is written, and whether it may not run."""

    module: str
    op: SettingOp
    conditional: bool


@dataclass
class Deployment:
    """A settings module Django may be started with, and its operations, star imports expanded."""

    module: str
    kind: str
    timeline: list[Entry] = field(default_factory=list)

    @property
    def full(self) -> bool:
        """Production-like: every deploy check applies (dev/test get only the secret check)."""
        return self.kind in ("prod", "main", "base")

    def history(self, name: str) -> tuple[Entry | None, list[Entry], bool]:
        """(the last unconditional `=` of `name`, the entries for it after that, and whether
        something after it may have changed any setting: a dynamic or unfollowed import)."""
        base: Entry | None = None
        later: list[Entry] = []
        uncertain = False
        for entry in self.timeline:
            op = entry.op
            if op.name == "*":
                if op.op == "dynamic":
                    uncertain = True
                continue
            if op.name != name:
                continue
            if op.op == "=" and not entry.conditional:
                base, later, uncertain = entry, [], False
            else:
                later.append(entry)
        return base, later, uncertain

    def assigned(self, name: str) -> bool:
        return any(entry.op.name == name for entry in self.timeline)

    def unknown_overrides(self) -> bool:
        return any(e.op.name == "*" and e.op.op == "dynamic" for e in self.timeline)


class WebModel:
    """Settings modules, deployments and URL wiring of one project (built once, lazily)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.settings: dict[str, SettingsModule] = {}
        named: set[str] = set()
        self.url_wrappers: dict[str, list[tuple[str, str]]] = {}
        for facts in project.modules.values():
            web = getattr(facts, "django_web", None)
            if not web:
                continue
            if web.settings:
                kind = settings_kind(facts.module, facts.path)
                self.settings[facts.module] = SettingsModule(
                    facts.module, facts.path, kind, web.settings
                )
            if web.settings_module:
                named.add(web.settings_module)
            for view, wrappers in web.urls:
                target = project.resolve(view)
                self.url_wrappers.setdefault(target, []).append((facts.path, wrappers))
        imported = {
            op.text
            for module in self.settings.values()
            for op in module.ops
            if op.name == "*" and op.op == "import"
        }
        self.named = {m for m in named if m in self.settings}
        leaves = [m for m in self.settings if m not in imported or m in self.named]
        self.deployments: dict[str, Deployment] = {}
        for module in sorted(leaves):
            deployment = Deployment(module, self._deployment_kind(module))
            self._replay(module, False, deployment.timeline, set())
            names = {e.op.name for e in deployment.timeline}
            if names & CORE_SETTINGS or module in self.named:
                self.deployments[module] = deployment

    def _deployment_kind(self, module: str) -> str:
        kind = self.settings[module].kind
        if kind == "main":  # settings/__init__.py that does `from .dev import *`
            for op in self.settings[module].ops:
                if op.name == "*" and op.op == "import" and not op.conditional:
                    target = self.settings.get(op.text)
                    if target is not None and target.kind in ("dev", "test", "prod"):
                        kind = target.kind
        return kind

    def _replay(self, module: str, conditional: bool, into: list[Entry], seen: set[str]) -> None:
        if module in seen or len(seen) > 20:
            return
        seen = seen | {module}
        for op in self.settings[module].ops:
            maybe = conditional or op.conditional
            if op.name == "*" and op.op == "import":
                if op.text in self.settings:
                    self._replay(op.text, maybe, into, seen)
                elif op.text not in self.project.modules:  # a file bex cannot see
                    into.append(Entry(module, SettingOp("*", "dynamic", op.text), maybe))
                continue
            into.append(Entry(module, op, maybe))

    # --- queries ------------------------------------------------------------------------------

    def audiences(self, module: str) -> list[Deployment]:
        """The deployments whose settings include `module`."""
        return [
            d
            for d in self.deployments.values()
            if d.module == module or any(e.module == module for e in d.timeline)
        ]

    def setting(self, name: str) -> str | None:
        """The source text of a setting's value when every non-test deployment ends with the
        same unconditional assignment (`setting("AUTH_USER_MODEL")` -> `"'accounts.User'"`);
        None when it is unset, differs between deployments or may be changed at run time."""
        values = set()
        for deployment in self.deployments.values():
            if deployment.kind == "test":
                continue
            base, later, uncertain = deployment.history(name)
            if base is None or later or uncertain:
                return None
            values.add(base.op.text)
        return values.pop() if len(values) == 1 else None

    def middleware(self, deployment: Deployment) -> tuple[Entry | None, list[str] | None]:
        """The MIDDLEWARE assignment and the final list of names (None when not all literal;
        items added under a condition count as present)."""
        name = "MIDDLEWARE" if deployment.assigned("MIDDLEWARE") else "MIDDLEWARE_CLASSES"
        base, later, uncertain = deployment.history(name)
        if base is None or uncertain:
            return base, None
        items = _strings(base.op.text)
        if items is None:
            return base, None
        for entry in later:
            op = entry.op
            if op.op in ("+=", "extend", "append", "insert", "="):
                text = op.text.partition(", ")[2] if op.op == "insert" else op.text
                added = _strings(f"[{text}]" if op.op in ("append", "insert") else text)
                if added is None:
                    return base, None
                items = items + added
            elif op.op == "remove" and not entry.conditional:
                removed = _strings(f"[{op.text}]") or []
                items = [item for item in items if item not in removed]
            else:
                return base, None
        return base, items

    def default_permissions_open(self) -> bool | None:
        """True when no (non-test) deployment sets DRF's DEFAULT_PERMISSION_CLASSES (or sets it
        to AllowAny only): every DRF view without its own `permission_classes` is public.
        None when it cannot be known (no settings found, values built at run time)."""
        verdicts = []
        for deployment in self.deployments.values():
            if deployment.kind == "test" or not deployment.assigned("INSTALLED_APPS"):
                continue
            verdicts.append(_permission_verdict(deployment))
        if not verdicts or any(v is not True for v in verdicts):
            return None if None in verdicts or not verdicts else False
        return True

    def atomic_requests(self) -> bool:
        cached = self.__dict__.get("_atomic_requests")
        if cached is None:
            cached = self.__dict__["_atomic_requests"] = self._atomic_requests()
        return cached

    def _atomic_requests(self) -> bool:
        for module in self.settings.values():
            for op in module.ops:
                if op.name == "DATABASES" and re.search(
                    r"ATOMIC_REQUESTS['\"]?\s*[\]:=]+\s*(?:True|env|os\.|config|get_bool)", op.text
                ):
                    return True
        return False

    def login_middleware(self) -> bool:
        for deployment in self.deployments.values():
            _, items = self.middleware(deployment)
            if items and any(i.endswith("LoginRequiredMiddleware") for i in items):
                return True
        return False

    # --- classes ------------------------------------------------------------------------------

    @property
    def subclassed(self) -> frozenset[str]:
        """Project classes that another project class derives from (bases, not endpoints)."""
        cached = self.__dict__.get("_subclassed")
        if cached is None:
            found = set()
            project = self.project
            for facts in project.modules.values():
                for klass in facts.classes.values():
                    for base in klass.bases:
                        found.add(project.resolve(base))
            cached = self.__dict__["_subclassed"] = frozenset(found)
        return cached

    @property
    def serializer_users(self) -> dict[str, list[str]]:
        """Serializer class -> the view classes naming it as `serializer_class`."""
        cached = self.__dict__.get("_serializer_users")
        if cached is None:
            cached = {}
            project = self.project
            for facts in project.modules.values():
                for name, klass in facts.classes.items():
                    member = klass.members.get("serializer_class")
                    if member is not None and member.value:
                        target = project.resolve(member.value)
                        cached.setdefault(target, []).append(f"{facts.module}.{name}")
            self.__dict__["_serializer_users"] = cached
        return cached


def web_model(project: Project) -> WebModel:
    model = project.__dict__.get("_django_web")
    if model is None:
        model = project.__dict__["_django_web"] = WebModel(project)
    return model


def _strings(text: str) -> list[str] | None:
    """The strings of a literal list/tuple written as `text`, or None."""
    if "\x00" in text:
        return None
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _strings(ast.unparse(node.left))
        right = _strings(ast.unparse(node.right))
        return None if left is None or right is None else left + right
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    items = []
    for element in node.elts:
        if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
            return None
        items.append(element.value)
    return items


def _permission_verdict(deployment: Deployment) -> bool | None:
    """True: open (unset, empty or AllowAny only); False: set; None: unknown."""
    base, later, uncertain = deployment.history("REST_FRAMEWORK")
    if uncertain or any(e.conditional and e.op.op == "=" for e in later):
        return None
    texts = [e.op.text for e in later if "DEFAULT_PERMISSION_CLASSES" in e.op.text]
    if base is not None and "DEFAULT_PERMISSION_CLASSES" in base.op.text:
        texts.insert(0, base.op.text)
    elif base is not None and "\x00" in base.op.text:
        return None
    if base is None and not later and deployment.unknown_overrides():
        return None
    if not texts:
        return True
    value = _dict_item(texts[-1], "DEFAULT_PERMISSION_CLASSES")
    if value is None:
        return None
    if isinstance(value, (ast.List, ast.Tuple)):
        names = [(dotted(e) or getattr(e, "value", "") or "") for e in value.elts]
        return all(str(n).rpartition(".")[2] == "AllowAny" for n in names)
    return False


def _dict_item(text: str, key: str) -> ast.AST | None:
    try:
        node = ast.parse(text.replace("\x00", ""), mode="exec").body[0]
    except (SyntaxError, IndexError):
        return None
    value = node.value if isinstance(node, (ast.Assign, ast.Expr)) else None
    if isinstance(value, ast.Call) and value.args:  # dict(...) / .update({...})
        value = value.args[0]
    if isinstance(value, ast.Dict):
        for k, v in zip(value.keys, value.values, strict=True):
            if isinstance(k, ast.Constant) and k.value == key:
                return v
        return None
    if isinstance(node, ast.Expr):  # `update` text: the argument itself
        return None
    return value if isinstance(node, ast.Assign) else None


# --- views ---------------------------------------------------------------------------------------

DRF_VIEW_PREFIXES = (
    "rest_framework.views.",
    "rest_framework.viewsets.",
    "rest_framework.generics.",
)
DJANGO_VIEW_PREFIXES = (
    "django.views.",
    "django.contrib.auth.views.",
    "django.contrib.admin.views.",
    "django.contrib.messages.views.",
)
VIEW_STEMS = frozenset({"views", "viewsets", "api", "apis", "endpoints", "ajax"})
VIEW_FOLDERS = frozenset({"views", "viewsets", "api", "apis", "endpoints"})
VIEW_DECORATORS = frozenset(
    {
        "api_view",
        "login_required",
        "permission_required",
        "user_passes_test",
        "staff_member_required",
        "require_http_methods",
        "require_POST",
        "require_GET",
        "require_safe",
        "csrf_exempt",
        "csrf_protect",
        "ensure_csrf_cookie",
        "never_cache",
        "cache_page",
    }
)
LOGIN_DECORATORS = frozenset(
    {
        "login_required",
        "permission_required",
        "user_passes_test",
        "staff_member_required",
        "superuser_required",
    }
)
LOGIN_MIXINS = frozenset(
    {
        "django.contrib.auth.mixins.LoginRequiredMixin",
        "django.contrib.auth.mixins.PermissionRequiredMixin",
        "django.contrib.auth.mixins.UserPassesTestMixin",
        "django.contrib.auth.mixins.AccessMixin",
    }
)
MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})


def view_class_kind(qualname: str, project: Project) -> str | None:
    """`drf` for DRF views/viewsets/generics, `django` for Django class-based views, else None."""
    cache = project.__dict__.setdefault("_django_view_kinds", {})
    if qualname not in cache:
        cache[qualname] = _view_class_kind(qualname, project)
    return cache[qualname]


def _view_class_kind(qualname: str, project: Project) -> str | None:
    resolved = project.resolve(qualname)
    names = project.ancestors(resolved) | {resolved}
    if any(name.startswith(DRF_VIEW_PREFIXES) for name in names):
        return "drf"
    if any(name.startswith(DJANGO_VIEW_PREFIXES) for name in names):
        return "django"
    return None


HTTP_HANDLERS = {
    "get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE",
    "head": "HEAD", "options": "OPTIONS",
    # DRF viewset actions
    "list": "GET", "retrieve": "GET", "create": "POST", "update": "PUT",
    "partial_update": "PATCH", "destroy": "DELETE",
}  # fmt: skip
# Library bases (by their last name) and the methods they answer.
BASE_METHODS = {
    "RedirectView": {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"},
    "TemplateView": {"GET"}, "ListView": {"GET"}, "DetailView": {"GET"},
    "ArchiveIndexView": {"GET"}, "YearArchiveView": {"GET"}, "MonthArchiveView": {"GET"},
    "DayArchiveView": {"GET"}, "DateDetailView": {"GET"},
    "FormView": {"GET", "POST", "PUT"}, "CreateView": {"GET", "POST", "PUT"},
    "UpdateView": {"GET", "POST", "PUT"}, "DeleteView": {"GET", "POST", "DELETE"},
    "LoginView": {"GET", "POST"}, "LogoutView": {"POST"},
    "ListAPIView": {"GET"}, "RetrieveAPIView": {"GET"}, "CreateAPIView": {"POST"},
    "UpdateAPIView": {"PUT", "PATCH"}, "DestroyAPIView": {"DELETE"},
    "ListCreateAPIView": {"GET", "POST"}, "RetrieveUpdateAPIView": {"GET", "PUT", "PATCH"},
    "RetrieveDestroyAPIView": {"GET", "DELETE"},
    "RetrieveUpdateDestroyAPIView": {"GET", "PUT", "PATCH", "DELETE"},
    "ReadOnlyModelViewSet": {"GET"}, "ModelViewSet": {"GET", "POST", "PUT", "PATCH", "DELETE"},
    "ListModelMixin": {"GET"}, "RetrieveModelMixin": {"GET"}, "CreateModelMixin": {"POST"},
    "UpdateModelMixin": {"PUT", "PATCH"}, "DestroyModelMixin": {"DELETE"},
}  # fmt: skip


def http_methods(qualname: str, project: Project) -> frozenset[str]:
    """The HTTP methods a class-based view answers: its own and its project bases' handler
    methods (`get`, `post`, DRF's `list`/`create`...) and what library bases provide."""
    found: set[str] = set()
    resolved = project.resolve(qualname)
    for name in (resolved, *project.ancestors(resolved)):
        facts = project.class_facts(name)
        if facts is not None:
            found.update(HTTP_HANDLERS[m] for m in facts.methods if m in HTTP_HANDLERS)
        elif name.startswith(("django.", "rest_framework.")):
            found |= BASE_METHODS.get(name.rpartition(".")[2], set())
    return frozenset(found)


def is_views_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and (
        PurePosixPath(parts[-1]).stem in VIEW_STEMS or bool(VIEW_FOLDERS & set(parts[:-1]))
    )


def is_model(qualname: str | None, project: Project) -> bool:
    return bool(qualname) and project.is_subclass(qualname, MODEL_BASES)  # type: ignore[arg-type]


def decorator_names(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[str]:
    """The last name of each decorator (`login_required`, `api_view`, `atomic`...)."""
    names = []
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.append((dotted(target) or "").rpartition(".")[2])
    return names


@dataclass(frozen=True)
class View:
    function: ast.FunctionDef | ast.AsyncFunctionDef
    klass: ast.ClassDef | None  # the class-based view the method belongs to
    kind: str  # "function", "django" (class-based view) or "drf"

    @property
    def is_drf(self) -> bool:
        return self.kind == "drf" or (
            self.klass is None and "api_view" in decorator_names(self.function)
        )


def view_of(function: ast.AST | None, ctx: FileContext) -> View | None:
    """The view `function` is: a function view, or a method of a class-based view (top level)."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    cache = ctx.__dict__.setdefault("_django_views", {})
    key = id(function)
    if key in cache:
        return cache[key]
    cache[key] = found = _view_of(function, ctx)
    return found


def _view_of(function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> View | None:
    parent = _parent(function, ctx)
    if isinstance(parent, ast.Module):
        args = function.args.posonlyargs + function.args.args
        if not args or args[0].arg != "request":
            return None
        decorators = set(decorator_names(function))
        wired = f"{ctx.module}.{function.name}" in web_model(ctx.project).url_wrappers
        if (
            wired
            or decorators & VIEW_DECORATORS
            or (is_views_path(ctx.path) and not function.name.startswith("_"))
        ):
            return View(function, None, "function")
        return None
    if isinstance(parent, ast.ClassDef) and isinstance(_parent(parent, ctx), ast.Module):
        kind = view_class_kind(f"{ctx.module}.{parent.name}", ctx.project)
        if kind is not None:
            return View(function, parent, kind)
    return None


def _parent(node: ast.AST, ctx: FileContext) -> ast.AST | None:
    ancestors = ctx.ancestors
    for index in range(len(ancestors) - 1, -1, -1):
        if ancestors[index] is node:
            return ancestors[index - 1] if index else None
    return ancestors[-1] if ancestors else None  # `node` is the node being visited


def class_member(
    qualname: str, name: str, project: Project
) -> tuple[str, ClassFacts | None, bool] | None:
    """Where `name` is bound in a class or its project bases (depth first, in base order):
    (owner class, its facts, whether a base bex cannot see came first). None when unbound."""
    seen: set[str] = set()
    stack = [project.resolve(qualname)]
    opaque = False
    while stack:
        current = stack.pop(0)
        if current in seen:
            continue
        seen.add(current)
        facts = project.class_facts(current)
        if facts is None:
            if not current.startswith(("rest_framework.", "django.")):
                opaque = True
            continue
        if name in facts.members or name in facts.methods:
            return current, facts, opaque
        stack[:0] = [project.resolve(b) for b in facts.bases]
    return None if not opaque else ("", None, True)


# --- ORM writes and reads, shared by the view rules -------------------------------------------


def manager_chain_model(node: ast.AST, ctx: FileContext) -> str | None:
    """For `Model.objects...` (any chain below it), the model's qualified name (or its text when
    it is a local name); None when `node` is not a manager chain. `is_model()` tells whether
    the project model knows it for a Django model."""
    for _ in range(20):
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute):
            if node.attr in MANAGER_ATTRIBUTES:
                owner = node.value
                if not isinstance(owner, (ast.Name, ast.Attribute)):
                    return "?"
                qualified = ctx.qualname(owner)
                return ctx.project.resolve(qualified) if qualified else (dotted(owner) or "?")
            node = node.value
        else:
            return None
    return None


def is_request(node: ast.AST) -> bool:
    """`request` or `self.request`: the Django/DRF request object of a view."""
    if isinstance(node, ast.Name):
        return node.id == "request"
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "request"
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )
