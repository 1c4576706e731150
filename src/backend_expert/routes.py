"""The route inventory: every HTTP route of the project with its method, path, handler, auth
and response model, for FastAPI/Starlette, Flask and Django/DRF.

Auth is judged from evidence bex can read, never from names alone where a framework
says more: FastAPI `Security()`, `Depends()` on a dependency whose name speaks of auth
or users (`get_current_user`, `CurrentUser`), router and app level `dependencies=`;
Flask decorators (`login_required`, `jwt_required`...) and `before_request` hooks;
Django decorators, mixins, URL wrappers, `method_decorator` on `dispatch`,
`LoginRequiredMiddleware`, and DRF `permission_classes` with the project's defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_expert.index import ModuleFacts, Project

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUTH_WORDS = re.compile(
    r"auth|login|logged_in|current_user|current_active|currentuser|token|jwt|oauth|"
    r"permission|perms?$|role|admin|superuser|staff|api_?key|verify|protect|guard|"
    r"secur|scope|access|signed_in|identity|principal|credential|session_user|is_user",
    re.IGNORECASE,
)
# Parameter names and annotation aliases that mean "the authenticated caller".
CALLER_WORDS = re.compile(r"user|account|principal|identity|admin|caller|member", re.IGNORECASE)
FRAMEWORK_OF = {
    "fastapi.FastAPI": "fastapi",
    "fastapi.APIRouter": "fastapi",
    "fastapi.applications.FastAPI": "fastapi",
    "fastapi.routing.APIRouter": "fastapi",
    "starlette.applications.Starlette": "starlette",
    "flask.Flask": "flask",
    "flask.Blueprint": "flask",
    "flask.blueprints.Blueprint": "flask",
    "quart.Quart": "flask",
    "quart.Blueprint": "flask",
}
DJANGO_AUTH_MIXINS = re.compile(
    r"LoginRequired|PermissionRequired|UserPassesTest|AccessMixin|Staff"
)
OPEN_PERMISSIONS = ("AllowAny",)
# Methods of a class-based view where access is commonly checked in code.
ACCESS_HOOKS = frozenset(
    {"dispatch", "get_queryset", "get_object", "has_permission", "test_func", "get_permissions",
     "check_permissions", "initial"}
)  # fmt: skip


@dataclass(frozen=True)
class RouteInfo:
    framework: str  # fastapi | starlette | flask | django | drf
    methods: tuple[str, ...]
    path: str
    handler: str  # qualified name of the function or view class
    file: str
    line: int
    auth: str | None  # the evidence of authentication, None when none was found
    response_model: str | None = None
    auth_unknown: bool = False  # bex cannot tell (dependencies it cannot follow): never flagged
    is_async: bool | None = None  # `async def` handler (None: not known for this framework)

    @property
    def mutating(self) -> bool:
        return bool(MUTATING & set(self.methods))


def _auth_name(name: str) -> bool:
    return bool(AUTH_WORDS.search(name.rpartition(".")[2]))


def _framework(owner: str, project: Project) -> str | None:
    callee = project.assigned_call(owner)
    if callee is not None:
        resolved = project.resolve(callee)
        for known, framework in FRAMEWORK_OF.items():
            if resolved == known or callee == known:
                return framework
        if resolved.endswith(("APIRouter", "FastAPI")) and project.uses("fastapi"):
            return "fastapi"
        if resolved.endswith(("Blueprint", "Flask")) and project.uses("flask"):
            return "flask"
        return None
    # An owner bex cannot trace (built by a factory): trust a single-framework project.
    last = owner.rpartition(".")[2].lower()
    if last in ("app", "router", "api", "bp", "blueprint", "api_router"):
        web = [f for f in ("fastapi", "flask") if project.uses(f)]
        if len(web) == 1:
            return web[0]
    return None


class _Wiring:
    """Router/app dependencies and includes across the project, for inherited auth."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.own: dict[str, str] = {}  # router/app qualname -> auth evidence
        self.parents: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        self.prefixes: dict[str, str] = {}
        self.hooks: dict[str, str] = {}
        for facts in project.modules.values():
            arch = getattr(facts, "arch", None)
            if not arch:
                continue
            for name, prefix, deps in arch.routers:
                self._own(f"{facts.module}.{name}", deps)
                self.prefixes[f"{facts.module}.{name}"] = prefix
            for app in arch.apps:
                if not app.scope:
                    self._own(f"{facts.module}.{app.name}", app.dependencies)
            for parent, child, prefix, deps in arch.includes:
                key = project.resolve(child)
                self.parents.setdefault(key, []).append((project.resolve(parent), prefix, deps))
            for owner, function in arch.hooks:
                if _auth_name(function):
                    self.hooks[project.resolve(owner)] = f"{function} (before_request)"

    def _own(self, qualname: str, deps: tuple[str, ...]) -> None:
        evidence = _dependency_evidence(deps)
        if evidence:
            self.own[qualname] = f"{evidence} (router)"

    def inherited(self, owner: str, depth: int = 0) -> str | None:
        if depth > 8:
            return None
        owner = self.project.resolve(owner)
        if owner in self.own:
            return self.own[owner]
        if owner in self.hooks:
            return self.hooks[owner]
        for parent, _, deps in self.parents.get(owner, ()):
            evidence = _dependency_evidence(deps)
            if evidence:
                return f"{evidence} (include)"
            found = self.inherited(parent, depth + 1)
            if found:
                return found
        return None

    def full_path(self, owner: str, path: str) -> str:
        """The path with the router's prefix and the prefixes it is included under."""
        owner = self.project.resolve(owner)
        seen: set[str] = set()
        path = self.prefixes.get(owner, "") + path
        while owner not in seen and len(seen) < 8:
            seen.add(owner)
            parents = self.parents.get(owner)
            if not parents:
                break
            owner, prefix, _ = parents[0]
            path = prefix + self.prefixes.get(owner, "") + path
        return path or "/"


def _dependency_evidence(deps: tuple[str, ...]) -> str | None:
    for dep in deps:
        if dep.startswith("Security:"):
            return dep.partition(":")[2].rpartition(".")[2] or "Security"
        if _auth_name(dep):
            return dep.rpartition(".")[2]
    return None


def _parameter_dependencies(route) -> list[tuple[str, str]]:
    count = len(route.parameters)
    own = route.dependencies[len(route.dependencies) - count :] if count else ()
    return list(zip(route.parameters, own, strict=False))


def _decorated_routes(facts: ModuleFacts, project: Project, wiring: _Wiring) -> list[RouteInfo]:
    arch = getattr(facts, "arch", None)
    found: list[RouteInfo] = []
    for route in arch.routes if arch else ():
        framework = _framework(route.owner, project)
        if framework in (None, "fastapi", "flask"):
            continue  # FastAPI and Flask routes come from their own route tables
        auth = _dependency_evidence(route.dependencies)
        if auth is None:
            auth = next(
                (
                    f"{name} parameter"
                    for name, dep in _parameter_dependencies(route)
                    if CALLER_WORDS.search(name) and dep != "?"
                ),
                None,
            )
        if auth is None:
            auth = next(
                (
                    a.rpartition(".")[2]
                    for a in route.annotations
                    if project.alias_target(a) is not None
                    and (CALLER_WORDS.search(a.rpartition(".")[2]) or _auth_name(a))
                ),
                None,
            )
        if auth is None:
            auth = next((d.rpartition(".")[2] for d in route.decorators if _auth_name(d)), None)
        if auth is None:
            auth = wiring.inherited(route.owner)
        found.append(
            RouteInfo(
                framework,
                route.methods,
                wiring.full_path(route.owner, route.path or ""),
                f"{facts.module}.{route.handler}",
                facts.path,
                route.line,
                auth,
                route.response_model,
            )
        )
    return found


def _django_routes(
    facts: ModuleFacts, project: Project, context: _DjangoContext
) -> list[RouteInfo]:
    arch = getattr(facts, "arch", None)
    found = []
    prefix = context.prefix(facts.module)
    lines = list(arch.url_lines) if arch else []
    for number, (route, view) in enumerate(arch.urls if arch else ()):
        target = project.resolve(view)
        klass = project.class_facts(target)
        function = project.function_facts(target) if klass is None else None
        if klass is None and function is None:
            continue  # a view from a library, or a name bex cannot follow
        methods, framework = context.methods(target, klass, function)
        auth, unknown = context.auth(target, klass, function)
        found.append(
            RouteInfo(
                framework,
                methods,
                (prefix + route) or "/",
                target,
                facts.path,
                lines[number] if number < len(lines) else 1,
                auth,
                auth_unknown=unknown,
            )
        )
    return found


class _DjangoContext:
    def __init__(self, project: Project) -> None:
        from backend_expert.django_web import web_model

        self.project = project
        self.web = web_model(project) if project.uses("django") else None
        self.middleware = bool(self.web and self.web.login_middleware())
        verdict = self.web.default_permissions_open() if self.web else None
        self.drf_closed = verdict is False
        self.drf_open = verdict is True
        self.included: dict[str, tuple[str, str]] = {}  # URLconf -> (prefix, includer)
        for facts in project.modules.values():
            arch = getattr(facts, "arch", None)
            for prefix, module in getattr(arch, "url_includes", ()) if arch else ():
                self.included.setdefault(module, (prefix, facts.module))
        self.wrapped: dict[str, list[str]] = {}
        self.dispatch: dict[str, list[str]] = {}
        for facts in project.modules.values():
            web = facts.django_web
            if not web:
                continue
            for view, wrappers in web.urls:
                if wrappers:
                    self.wrapped.setdefault(project.resolve(view), []).append(wrappers)
            for klass, decorator in web.class_decorators:
                self.dispatch.setdefault(f"{facts.module}.{klass}", []).append(decorator)

    def prefix(self, module: str) -> str:
        """The URL prefix a URLconf is included under, through its includers."""
        parts, seen = [], set()
        while module in self.included and module not in seen:
            seen.add(module)
            prefix, module = self.included[module]
            parts.append(prefix)
        return "".join(reversed(parts))

    def methods(self, target, klass, function) -> tuple[tuple[str, ...], str]:
        from backend_expert.django_web import http_methods, view_class_kind

        if klass is not None:
            kind = view_class_kind(target, self.project) or "django"
            methods = tuple(sorted(http_methods(target, self.project))) or ("GET",)
            return methods, "drf" if kind == "drf" else "django"
        decorators = [d.rpartition(".")[2] for d in function.decorators]
        if "require_POST" in decorators:
            return ("POST",), "django"
        if "api_view" in decorators:
            return ("*",), "drf"
        return ("*",), "django"

    def auth(self, target, klass, function) -> tuple[str | None, bool]:
        """(auth evidence, unknown): unknown when it rests on DRF defaults bex cannot read."""
        from backend_expert.django_web import view_class_kind

        if self.middleware:
            return "LoginRequiredMiddleware", False
        for wrapper in self.wrapped.get(target, ()):
            if _auth_name(wrapper):
                return f"{wrapper}() in urls", False
        if function is not None:
            names = [d.rpartition(".")[2] for d in function.decorators]
            found = next((n for n in names if _auth_name(n)), None)
            if found or "api_view" not in names:
                return found, False
            return self._drf_default()
        for name in self._lineage(target):
            if DJANGO_AUTH_MIXINS.search(name.rpartition(".")[2]):
                return name.rpartition(".")[2], False
            for decorator in self.dispatch.get(name, ()):
                if _auth_name(decorator):
                    return f"{decorator.rpartition('.')[2]} on dispatch", False
            facts = self.project.class_facts(name)
            member = facts.members.get("permission_classes") if facts else None
            if member is not None:  # the nearest class that sets it decides
                text = member.value or " ".join(member.args)
                if (
                    text
                    and not any(p in text for p in OPEN_PERMISSIONS)
                    and text not in ("[]", "()")
                ):
                    return "permission_classes", False
                return None, False
        if self._checks_in_code(target):
            return None, True  # access may be checked in code bex does not read
        if view_class_kind(target, self.project) == "drf":
            return self._drf_default()
        return None, False

    def _checks_in_code(self, target: str) -> bool:
        """A class-based view that overrides an access hook, or inherits from a project
        class (a mixin that may scope the queryset by user or check permissions)."""
        for name in self._lineage(target):
            facts = self.project.class_facts(name)
            if facts is None:
                continue
            if ACCESS_HOOKS & set(facts.methods) or name != target:
                return True
        return False

    def _drf_default(self) -> tuple[str | None, bool]:
        if self.drf_closed:
            return "DEFAULT_PERMISSION_CLASSES", False
        return None, not self.drf_open  # settings bex cannot read: unknown

    def _lineage(self, target: str) -> list[str]:
        """The class and its bases, nearest first (breadth first, as far as bex can see)."""
        order, queue, seen = [], [target], set()
        while queue:
            name = self.project.resolve(queue.pop(0))
            if name in seen:
                continue
            seen.add(name)
            order.append(name)
            facts = self.project.class_facts(name)
            queue.extend(facts.bases if facts else ())
        return order


def _fastapi(project: Project) -> list[RouteInfo]:
    """FastAPI routes from the FastAPI route table (fastapi_routes.py), with auth evidence."""
    from backend_expert.fastapi_routes import auth_named, fastapi_routes

    found = []
    for route in fastapi_routes(project):
        facts = project.by_path.get(route.file)
        if facts is not None and facts.is_test:
            continue
        evidence = None
        if route.auth:
            evidence = next(
                (d.rpartition(".")[2] for d in route.dependencies if auth_named(d)),
                "auth dependency",
            )
        found.append(
            RouteInfo(
                "fastapi",
                route.methods,
                route.path or "?",
                route.handler,
                route.file,
                route.line,
                evidence,
                route.response_model or route.returns,
                auth_unknown=route.auth is None,
                is_async=route.is_async,
            )
        )
    return found


def _flask(project: Project) -> list[RouteInfo]:
    """Flask routes from flask_web.py, with blueprint prefixes and `before_request` guards."""
    from backend_expert.flask_web import flask_blueprints, flask_routes

    blueprints = {bp.name: bp for bp in flask_blueprints(project)}
    found = []
    for route in flask_routes(project):
        facts = project.by_path.get(route.file)
        if facts is not None and facts.is_test:
            continue
        blueprint = blueprints.get(route.owner or "")
        prefix = (blueprint.url_prefix or "") if blueprint else ""
        auth = route.auth[0].rpartition(".")[2] if route.auth else None
        if auth is None and blueprint is not None and blueprint.guards:
            auth = f"{blueprint.guards[0]} (before_request)"
        found.append(
            RouteInfo(
                "flask",
                route.methods or ("GET",),
                (prefix + (route.rule or "?")) or "/",
                route.handler,
                route.file,
                route.line,
                auth,
                auth_unknown=route.owner_kind == "unknown",
            )
        )
    return found


def route_inventory(project: Project) -> list[RouteInfo]:
    """Every route bex can see, sorted by file and line (computed once per project)."""
    cached = project.__dict__.get("_route_inventory")
    if cached is not None:
        return cached
    wiring = _Wiring(project)
    django = _DjangoContext(project) if project.uses("django") else None
    found: list[RouteInfo] = _fastapi(project) if project.uses("fastapi") else []
    if project.uses("flask"):
        found.extend(_flask(project))
    for facts in sorted(project.modules.values(), key=lambda f: f.path):
        if facts.is_test:
            continue
        found.extend(_decorated_routes(facts, project, wiring))
        if django is not None:
            found.extend(_django_routes(facts, project, django))
    project.__dict__["_route_inventory"] = found
    return found
