"""The FastAPI route table of a project: every route with its full path, methods, response
model, dependencies (nested, router-, include- and app-level) and whether auth guards it.

Built from the per-module `FastAPIFacts` (fastapi_facts.py), once per project:

    for route in fastapi_routes(project):
        route.methods, route.path, route.handler, route.file, route.line, route.auth

`auth` is True when some dependency authenticates (a `fastapi.security` scheme, `Security(...)`,
a function named like `get_current_user`, or one that depends on those), False when every
dependency is known and none does, None when bex cannot tell (unknown dependencies, a router
whose mounting is not visible, an authentication middleware).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from backend_expert.fastapi_facts import Dependency, FastAPIFacts, RouteFact, RouterObject
from backend_expert.index import Project

APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI", "starlette.Starlette"})
ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})
SECURITY_SCHEMES = frozenset(
    {
        "OAuth2PasswordBearer",
        "OAuth2AuthorizationCodeBearer",
        "OAuth2",
        "HTTPBearer",
        "HTTPBasic",
        "HTTPDigest",
        "HTTPBase",
        "APIKeyHeader",
        "APIKeyCookie",
        "APIKeyQuery",
        "APIKeyBase",
        "OpenIdConnect",
        "SecurityBase",
        "SecurityScopes",
        "HTTPAuthorizationCredentials",
        "HTTPBasicCredentials",
    }
)
AUTH_TOKENS = frozenset(
    {
        "auth",
        "authenticate",
        "authenticated",
        "authentication",
        "authorize",
        "authorized",
        "authorization",
        "login",
        "jwt",
        "token",
        "apikey",
        "permission",
        "permissions",
        "superuser",
        "principal",
        "credentials",
        "oauth",
        "oauth2",
        "bearer",
        "secured",
        "admin",
        "scopes",
        "tokens",
        "guard",
        "policy",
        "acl",
        "rbac",
    }
)
NOT_AUTH = frozenset({"author", "authors", "authored", "authorship", "authoring"})
CURRENT_WHAT = frozenset(
    {"user", "account", "member", "principal", "actor", "identity", "superuser", "admin", "org"}
)
AUTH_MIDDLEWARE = re.compile(r"auth|session|jwt|token", re.IGNORECASE)


def name_tokens(name: str) -> list[str]:
    """`getCurrentUser`, `get_current_user`, `APIKeyAuth` -> lower-case words."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    spaced = spaced.replace("API_Key", "apikey").replace("api_key", "apikey")
    return [t for t in spaced.lower().replace("apikey", "_apikey_").split("_") if t]


def auth_named(qualname: str) -> bool:
    tokens = name_tokens(qualname.rpartition(".")[2])
    if "form" in tokens:  # OAuth2PasswordRequestForm: the login form, not a guard
        return False
    if any(t in AUTH_TOKENS or (t.startswith("auth") and t not in NOT_AUTH) for t in tokens):
        return True  # auth, authn, authz, authenticator, authorize... (not author, authored)
    return "current" in tokens and any(t in CURRENT_WHAT for t in tokens)


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    path: str | None  # full path, prefixes joined (`{expr}` for a non-literal prefix)
    handler: str  # qualified name of the path operation function
    file: str
    line: int
    auth: bool | None
    response_model: str | None  # `response_model=` as written (qualified), else None
    returns: str | None  # the return annotation, qualified
    router: str  # the app or router object the route is declared on
    mounted: bool  # the chain of `include_router` up to an app is visible
    dependencies: tuple[str, ...]  # every dependency that applies, qualified, outer first
    is_async: bool = False

    @property
    def method(self) -> str:
        return self.methods[0] if self.methods else "GET"

    def to_dict(self) -> dict:
        """A JSON-ready row for a route inventory."""
        return {
            "methods": list(self.methods),
            "path": self.path,
            "handler": self.handler,
            "file": self.file,
            "line": self.line,
            "auth": self.auth,
            "response_model": self.response_model,
            "returns": self.returns,
            "router": self.router,
            "mounted": self.mounted,
            "dependencies": list(self.dependencies),
        }

    @property
    def has_schema(self) -> bool:
        """A `response_model` or a return annotation filters what is sent back."""
        return self.response_model not in (None, "None") or self.returns not in (None, "None")


def fastapi_facts(project: Project) -> Iterator[tuple[str, str, FastAPIFacts]]:
    """(module, path, facts) of every non-test module with FastAPI facts (tests mount routers
    into throwaway apps: their `include_router` calls say nothing about the real app)."""
    for module, facts in project.modules.items():
        found = getattr(facts, "fastapi", None)
        if found and not facts.is_test:
            yield module, facts.path, found


class RouteTable:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.objects: dict[str, tuple[str, RouterObject]] = {}  # qualified -> (path, object)
        self.functions: dict[str, tuple[Dependency, ...]] = {}
        self.aliases: dict[str, Dependency] = {}
        self.includes: dict[str, list] = {}  # router -> includes of it
        self.middleware: list[str] = []
        self.route_facts: list[tuple[str, str, RouteFact]] = []
        for module, path, facts in fastapi_facts(project):
            for obj in facts.objects:
                self.objects[f"{module}.{obj.name}"] = (path, obj)
            for name, deps in facts.functions:
                self.functions[f"{module}.{name}"] = deps
            for name, dep in facts.aliases:
                self.aliases[f"{module}.{name}"] = dep
            for include in facts.includes:
                router = project.resolve(include.router)
                self.includes.setdefault(router, []).append(include)
            self.middleware.extend(facts.middleware)
            for route in facts.routes:
                self.route_facts.append((module, path, route))
        self._auth: dict[str, bool | None] = {}

    # --- objects ---------------------------------------------------------------------------

    def kind(self, qualname: str) -> str | None:
        """ "app", "router" or None for a qualified object name."""
        resolved = self.project.resolve(qualname)
        found = self.objects.get(resolved)
        callee = found[1].callee if found else self.project.assigned_call(resolved)
        if not callee:
            return None
        callee = self.project.resolve(callee)
        if callee in APP_CLASSES or self.project.is_subclass(callee, APP_CLASSES):
            return "app"
        if callee in ROUTER_CLASSES or self.project.is_subclass(callee, ROUTER_CLASSES):
            return "router"
        last = callee.rpartition(".")[2]
        if last in ("FastAPI", "APIRouter") and "fastapi" in self.project.frameworks:
            return "app" if last == "FastAPI" else "router"
        return None

    def mounts(self, router: str, depth: int = 0) -> list[tuple[list[str], list[Dependency], bool]]:
        """Every chain from `router` up to an app: (prefixes outer first, dependencies, known)."""
        resolved = self.project.resolve(router)
        own = self.objects.get(resolved)
        prefix = [own[1].prefix] if own and own[1].prefix else []
        deps = list(own[1].dependencies) if own else []
        if self.kind(resolved) == "app" or depth > 8:
            return [(prefix, deps, True)]
        chains = []
        for include in self.includes_of(resolved):
            here = ([include.prefix] if include.prefix else []) + prefix
            extra = list(include.dependencies) + deps
            if not include.receiver:  # included into an app built inside a factory function
                chains.append((here, extra, True))
                continue
            for outer, outer_deps, known in self.mounts(include.receiver, depth + 1):
                chains.append((outer + here, outer_deps + extra, known))
        return chains or [(prefix, deps, False)]

    def includes_of(self, router: str) -> list:
        """The `include_router` calls of a router. When the module name bex gave the router's
        file differs from its import path (directories without `__init__.py`), the import path
        is matched against the file's path."""
        found = self.includes.get(router)
        if found is not None or router not in self.objects:
            return found or []
        dotted = "." + self.objects[router][0].removesuffix(".py").replace("/", ".")
        name = router.rpartition(".")[2]
        for key, includes in self.includes.items():
            module, _, last = key.rpartition(".")
            if last == name and module and dotted.endswith("." + module):
                return includes
        return []

    # --- dependencies ----------------------------------------------------------------------

    def dependency_auth(self, dep: Dependency, depth: int = 0) -> bool | None:
        """True: authenticates; False: known not to; None: unknown."""
        if dep.security:
            return True
        target = dep.target
        if not target and dep.annotation:  # `user: CurrentUser`, an Annotated alias
            alias = self.aliases.get(self.project.resolve(dep.annotation))
            if alias is None:
                head = dep.annotation.rpartition(".")[2]
                return head in SECURITY_SCHEMES
            return self.dependency_auth(alias, depth + 1)
        if dep.annotation.rpartition(".")[2] in SECURITY_SCHEMES:
            return True
        return self.target_auth(target, depth)

    def target_auth(self, target: str, depth: int = 0) -> bool | None:
        if not target:
            return None
        resolved = self.project.resolve(target)
        if resolved in self._auth:
            return self._auth[resolved]
        self._auth[resolved] = None  # cycle guard
        result = self._target_auth(resolved, depth)
        self._auth[resolved] = result
        return result

    def _target_auth(self, resolved: str, depth: int) -> bool | None:
        project = self.project
        last = resolved.rpartition(".")[2]
        if last in SECURITY_SCHEMES or auth_named(resolved):
            return True
        if resolved.startswith(("fastapi.", "starlette.")):
            return False  # the framework's own helpers (forms, requests) guard nothing
        callee = project.assigned_call(resolved)  # `scheme = OAuth2PasswordBearer(...)`
        klass = callee or resolved
        if project.class_facts(klass) is not None:
            if any(a.rpartition(".")[2] in SECURITY_SCHEMES for a in project.ancestors(klass)):
                return True
            if auth_named(klass):
                return True
        elif callee:
            return (
                True
                if callee.rpartition(".")[2] in SECURITY_SCHEMES or auth_named(callee)
                else None
            )
        deps = self.functions.get(project.resolve(klass))
        if deps is None:
            known = project.function_facts(resolved) or project.class_facts(klass)
            return False if known is not None else None
        results = [self.dependency_auth(d, depth + 1) for d in deps] if depth < 10 else [None]
        if True in results:
            return True
        return None if None in results else False

    def names(self, deps: list[Dependency]) -> Iterator[str]:
        for dep in deps:
            if dep.target:
                yield self.project.resolve(dep.target)
            elif dep.annotation and (
                alias := self.aliases.get(self.project.resolve(dep.annotation))
            ):
                yield self.project.resolve(alias.target) if alias.target else dep.annotation

    # --- the table -------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        table: list[Route] = []
        auth_middleware = any(AUTH_MIDDLEWARE.search(m.rpartition(".")[2]) for m in self.middleware)
        for module, path, fact in self.route_facts:
            kind = self.kind(fact.owner)
            if kind is None:
                continue
            for prefixes, outer_deps, known in self.mounts(fact.owner):
                deps = [*outer_deps, *fact.dependencies]
                results = [self.dependency_auth(d) for d in deps]
                auth: bool | None
                if True in results:
                    auth = True
                elif None in results or not known or auth_middleware:
                    auth = None
                else:
                    auth = False
                table.append(
                    Route(
                        fact.methods,
                        _join(prefixes, fact.path),
                        f"{module}.{fact.function}",
                        path,
                        fact.line,
                        auth,
                        fact.response_model,
                        fact.returns,
                        self.project.resolve(fact.owner),
                        known,
                        tuple(self.names(deps)),
                        fact.is_async,
                    )
                )
        table.sort(key=lambda r: (r.file, r.line, r.path or ""))
        return table


def _join(prefixes: list[str], path: str | None) -> str | None:
    if path is None:
        return None
    return "".join(p.rstrip("/") for p in prefixes) + path if prefixes else path


def route_table(project: Project) -> RouteTable:
    cache = project.__dict__.setdefault("_bex_fastapi", {})
    if "table" not in cache:
        cache["table"] = RouteTable(project)
    return cache["table"]


def fastapi_routes(project: Project) -> list[Route]:
    """Every FastAPI route of the project (one entry per mounting), sorted by file and line."""
    cache = project.__dict__.setdefault("_bex_fastapi", {})
    if "routes" not in cache:
        cache["routes"] = route_table(project).routes()
    return cache["routes"]


def dependency_functions(project: Project) -> frozenset[str]:
    """Qualified names of everything used as a dependency somewhere (nested ones too)."""
    cache = project.__dict__.setdefault("_bex_fastapi", {})
    if "dependencies" not in cache:
        table = route_table(project)
        found: set[str] = set()
        pending = [d for _, _, r in table.route_facts for d in r.dependencies]
        for _, obj in table.objects.values():
            pending.extend(obj.dependencies)
        for includes in table.includes.values():
            for include in includes:
                pending.extend(include.dependencies)
        pending.extend(table.aliases.values())
        while pending:
            dep = pending.pop()
            target = project.resolve(dep.target) if dep.target else ""
            if not target and dep.annotation:
                alias = table.aliases.get(project.resolve(dep.annotation))
                if alias is not None:
                    pending.append(alias)
                continue
            if target and target not in found:
                found.add(target)
                pending.extend(table.functions.get(target, ()))
        cache["dependencies"] = frozenset(found)
    return cache["dependencies"]


def route_handlers(project: Project) -> dict[str, list[Route]]:
    """Handler qualified name -> its routes."""
    cache = project.__dict__.setdefault("_bex_fastapi", {})
    if "handlers" not in cache:
        found: dict[str, list[Route]] = {}
        for route in fastapi_routes(project):
            found.setdefault(route.handler, []).append(route)
        cache["handlers"] = found
    return cache["handlers"]


def route_callees(project: Project) -> frozenset[str]:
    """Project functions a route handler calls directly (they run once per request)."""
    cache = project.__dict__.setdefault("_bex_fastapi", {})
    if "callees" not in cache:
        table = route_table(project)
        handlers = route_handlers(project)
        found = set()
        for module, _, fact in table.route_facts:
            if f"{module}.{fact.function}" not in handlers:
                continue
            for callee in fact.calls:
                resolved = project.resolve(callee)
                if project.function_facts(resolved) is not None:
                    found.add(resolved)
        cache["callees"] = frozenset(found)
    return cache["callees"]
