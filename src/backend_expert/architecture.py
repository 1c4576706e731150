"""The architecture model: layers, the import graph and its cycles, the data model, the stack.

Built from the project model (no file is read again) for `bex review`, the HTML
drawings and the project rules. Import edges join project modules only; cycles are the
strongly connected components (Tarjan) of the graph of *module-level* imports, the ones
that run at import time and can fail half-way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend_expert.layers import module_layers
from backend_expert.routes import RouteInfo, route_inventory

if TYPE_CHECKING:
    from backend_expert.index import ModuleFacts, Project


def _target(name: str, modules: dict[str, ModuleFacts]) -> str | None:
    """The project module an imported name lives in (`a.b.c` -> `a.b.c` or `a.b`)."""
    if name in modules:
        return name
    parent = name.rpartition(".")[0]
    return parent if parent in modules else None


def import_graph(project: Project, module_level: bool = False) -> dict[str, set[str]]:
    """Module -> the project modules it imports (all imports, or module-level ones only)."""
    key = "_import_graph_top" if module_level else "_import_graph"
    cached = project.__dict__.get(key)
    if cached is not None:
        return cached
    modules = project.modules
    graph: dict[str, set[str]] = {}
    for name, facts in modules.items():
        if module_level:
            arch = getattr(facts, "arch", None)
            imported = arch.top_imports if arch else ()
        else:
            imported = facts.imported_modules
        edges = {t for item in imported if (t := _target(item, modules)) and t != name}
        # `from pkg import module`: the dependency is on the module, not on pkg/__init__.py
        packages = {t for t in edges if modules[t].path.endswith("__init__.py")}
        edges -= {p for p in packages if any(e.startswith(p + ".") for e in edges)}
        graph[name] = edges
    project.__dict__[key] = graph
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of two or more nodes (or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))
    return sorted(found, key=lambda c: (-len(c), c))


def package_of(module: str, depth: int) -> str:
    return ".".join(module.split(".")[:depth])


def app_package_depth(project: Project) -> int:
    """1, or 2 when one top-level package holds (nearly) every module (`app.api`, `app.models`)."""
    tops: dict[str, int] = {}
    for name, facts in project.modules.items():
        if not facts.is_test:
            tops[name.partition(".")[0]] = tops.get(name.partition(".")[0], 0) + 1
    total = sum(tops.values()) or 1
    biggest = max(tops.values(), default=0)
    return 2 if biggest / total > 0.8 else 1


@dataclass
class DataModel:
    """Models and their relations: (source, attribute, target, kind)."""

    orm: str  # django | sqlalchemy | both | none
    models: dict[str, str] = field(default_factory=dict)  # qualname -> file
    relations: list[tuple[str, str, str, str]] = field(default_factory=list)


def data_model(project: Project) -> DataModel:
    from backend_expert.sqla_model import mapped_classes

    model = DataModel("none")
    kinds = []
    if project.uses("django"):
        from backend_expert.django_models import EXTERNAL_MODELS, django_models

        django = django_models(project)
        for qualname, item in django.models.items():
            if qualname in EXTERNAL_MODELS or item.abstract or not item.path:
                continue
            facts = project.by_path.get(item.path)
            if facts is not None and facts.is_test:
                continue
            model.models[qualname] = item.path
            for name, found in item.fields.items():
                if (
                    found.kind in ("fk", "o2o", "m2m")
                    and found.target
                    and found.declared_in == qualname
                ):
                    model.relations.append((qualname, name, found.target, found.kind))
        if model.models:
            kinds.append("django")
    sqla = mapped_classes(project)
    for qualname, item in sqla.items():
        facts = project.by_path.get(item.path)
        if facts is not None and facts.is_test:
            continue
        model.models[qualname] = item.path
        for attribute, target in item.relations:
            model.relations.append((qualname, attribute, target, "relationship"))
    if any(q in sqla for q in model.models):
        kinds.append("sqlalchemy")
    model.relations = [r for r in model.relations if r[2] in model.models]
    model.orm = "both" if len(kinds) == 2 else (kinds[0] if kinds else "none")
    return model


@dataclass
class Architecture:
    layers: dict[str, str]  # module -> layer
    graph: dict[str, set[str]]  # module -> imported project modules
    cycles: list[list[str]]  # module-level import cycles
    routes: list[RouteInfo]
    data: DataModel
    frameworks: frozenset[str]

    def layer_edges(self) -> dict[tuple[str, str], int]:
        """(from layer, to layer) -> number of module imports."""
        counts: dict[tuple[str, str], int] = {}
        for source, targets in self.graph.items():
            for target in targets:
                key = (self.layers.get(source, "other"), self.layers.get(target, "other"))
                counts[key] = counts.get(key, 0) + 1
        return counts

    def layer_sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for layer in self.layers.values():
            sizes[layer] = sizes.get(layer, 0) + 1
        return sizes


def architecture(project: Project, overrides: dict[str, str] | None = None) -> Architecture:
    graph = import_graph(project)
    cycles = strongly_connected(import_graph(project, module_level=True))
    return Architecture(
        layers=module_layers(project, overrides),
        graph=graph,
        cycles=cycles,
        routes=route_inventory(project),
        data=data_model(project),
        frameworks=project.frameworks,
    )
