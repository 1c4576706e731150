"""The SQLAlchemy part of the project model: mapped classes, columns, relationships, sessions.

Derived once per `Project` from the indexed facts (class bases and class-body bindings,
plus `sqlalchemy_facts.SqlaFacts`) and cached on it, so a check can ask "is `User` mapped,
and how is `User.posts` loaded?" without opening another file.

- Declarative bases: `DeclarativeBase`/`DeclarativeBaseNoMeta` subclasses, `declarative_base()`
  and `registry().generate_base()` results, `@as_declarative` classes, Flask-SQLAlchemy's
  `db.Model`, and SQLModel (`table=True` classes only).
- Models across files, with inherited columns and relationships (abstract bases, mixins,
  `@declared_attr` members).
- Columns (`Mapped[...]`, `mapped_column`, legacy `Column`, SQLModel fields) with type and
  nullability; relationships with their resolved target class (a class, a string name looked
  up among the models, the `Mapped[...]` annotation), `back_populates`, `backref` (which adds
  the reverse relationship on the target), and loading strategy (`lazy=`, default "select").
- Sessions: what a module-level factory makes and what a function yields or returns.

API: `sqlalchemy_models(project)` -> `SqlaModels`; `.model(qualname)` -> `Model | None`;
`Model.columns` / `Model.relationships` (name -> `Column` / `Relationship`);
`Relationship.lazy`; `session_type(project, function)`, `factory_product(project, name)`,
`session_flavour(project, type)` ("sync"/"async"); `is_sensitive_column(name)`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace

from backend_expert.index import ClassFacts, MemberFacts, ModuleFacts, Project
from backend_expert.sqlalchemy_columns import (  # noqa: F401  (Column..: re-exported API)
    BUILTIN_NAMES,
    COLUMN_CALLS,
    LAZY_VALUES,
    RELATIONSHIP_CALLS,
    Column,
    Relationship,
    Unknown,
    annotation_target,
    is_sensitive_column,
    last_part,
    lazy_of,
    literal,
    mapped_head,
    mapped_inner,
    parse_expr,
    read_column,
    string_literal,
)
from backend_expert.sqlalchemy_sessions import (  # noqa: F401  (re-exported API)
    factory_product,
    session_class,
    session_flavour,
    session_type,
)

DECLARATIVE_ROOTS = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
    }
)
BASE_FACTORIES = frozenset(
    {
        "sqlalchemy.orm.declarative_base",
        "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.orm.decl_api.declarative_base",
    }
)
SQLMODEL = "sqlmodel.SQLModel"
FLASK_SQLALCHEMY = frozenset(
    {"flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.extension.SQLAlchemy"}
)


@dataclass
class Model:
    qualname: str
    name: str
    module: str
    flavour: str  # "declarative", "flask", "sqlmodel"
    base: str = ""  # the declarative base (its registry resolves string targets)
    abstract: bool = False
    columns: dict[str, Column] = field(default_factory=dict)  # inherited ones included
    relationships: dict[str, Relationship] = field(default_factory=dict)
    uses_mapped: bool = False  # its own body annotates some attribute with `Mapped[...]`

    def attribute(self, name: str) -> Column | Relationship | None:
        return self.relationships.get(name) or self.columns.get(name)


class SqlaModels:
    """Every mapped class of the project, built lazily from the facts."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.models: dict[str, Model] = {}
        self._kinds: dict[str, str | None] = {}
        self._pending: list[tuple[Model, ModuleFacts, ClassFacts]] = []
        declared: dict[str, dict[str, MemberFacts]] = {}
        for facts in project.modules.values():
            if facts.sqlalchemy is not None:
                for klass, attr, member in facts.sqlalchemy.declared:
                    declared.setdefault(f"{facts.module}.{klass}", {})[attr] = member
        self._declared = declared
        self._base_of: dict[str, str] = {}
        for facts in project.modules.values():
            for name, klass in facts.classes.items():
                qualname = f"{facts.module}.{name}"
                flavour = self._flavour(qualname, klass)
                if flavour is not None:
                    model = Model(qualname, name, facts.module, flavour)
                    model.base = self._base_of.get(qualname, "")
                    model.abstract = (
                        klass.members.get("__abstract__", MemberFacts()).value == "True"
                    )
                    self.models[qualname] = model
                    self._pending.append((model, facts, klass))
        self.by_name: dict[str, list[str]] = {}
        for qualname, model in self.models.items():
            self.by_name.setdefault(model.name, []).append(qualname)
        for model, facts, klass in self._pending:
            self._fill(model, facts, klass)
        self._add_backrefs()

    # --- what a class is -----------------------------------------------------------------

    def base_kind(self, qualname: str) -> str | None:
        """ "declarative" / "flask" / "sqlmodel" when `qualname` is a declarative base itself."""
        if qualname in self._kinds:
            return self._kinds[qualname]
        project = self.project
        resolved = project.resolve(qualname)
        kind = None
        if resolved in DECLARATIVE_ROOTS:
            kind = "root"
        elif resolved == SQLMODEL:
            kind = "sqlmodel"
        elif (project.assigned_call(resolved) or "") in BASE_FACTORIES or last_part(
            project.assigned_call(resolved)
        ) == "generate_base":
            kind = "declarative"
        elif resolved.endswith(".Model") and self._is_flask_db(resolved[: -len(".Model")]):
            kind = "flask"
        else:
            facts = project.class_facts(resolved)
            if facts is not None and (
                any(project.resolve(b) in DECLARATIVE_ROOTS for b in facts.bases)
                or any(last_part(d) == "as_declarative" for d in facts.decorators)
            ):
                kind = "declarative"
        self._kinds[qualname] = kind
        return kind

    def _is_flask_db(self, qualname: str) -> bool:
        callee = self.project.assigned_call(qualname)
        return callee is not None and self.project.resolve(callee) in FLASK_SQLALCHEMY

    def _flavour(self, qualname: str, klass: ClassFacts) -> str | None:
        if self.base_kind(qualname) is not None:
            return None  # a base, not a model
        for ancestor in self.project.ancestors(qualname):
            kind = self.base_kind(ancestor)
            if kind == "sqlmodel":
                self._base_of[qualname] = ancestor
                return "sqlmodel" if ("table", "True") in klass.keywords else None
            if kind in ("declarative", "flask"):
                self._base_of[qualname] = ancestor
                return kind
        return None

    def model(self, qualname: str | None) -> Model | None:
        if not qualname:
            return None
        return self.models.get(qualname) or self.models.get(self.project.resolve(qualname))

    def is_base(self, qualname: str) -> bool:
        return self.base_kind(qualname) in ("declarative", "flask", "sqlmodel")

    # --- members -------------------------------------------------------------------------

    def _lineage(self, qualname: str, seen: set[str]) -> list[str]:
        """Project classes `qualname` inherits from, most basic first, itself last."""
        if qualname in seen:
            return []
        seen.add(qualname)
        facts = self.project.class_facts(qualname)
        if facts is None:
            return []
        order: list[str] = []
        for base in reversed(facts.bases):
            for item in self._lineage(self.project.resolve(base), seen):
                if item not in order:
                    order.append(item)
        order.append(qualname)
        return order

    def _fill(self, model: Model, facts: ModuleFacts, klass: ClassFacts) -> None:
        for owner in self._lineage(model.qualname, set()):
            owner_facts = self.project.class_facts(owner)
            module = self.project.modules.get(owner.rpartition(".")[0])
            if owner_facts is None or module is None:
                continue
            members = dict(owner_facts.members)
            members.update(self._declared.get(owner, {}))
            for name, member in members.items():
                if name.startswith("__"):
                    continue
                item = self._member(name, member, owner, module, model)
                if isinstance(item, Relationship):
                    model.relationships[name] = item
                    model.columns.pop(name, None)
                elif isinstance(item, Column):
                    model.columns[name] = item
                    model.relationships.pop(name, None)
                if owner == model.qualname and mapped_head(member.annotation):
                    model.uses_mapped = True

    def _member(
        self, name: str, member: MemberFacts, owner: str, module: ModuleFacts, model: Model
    ) -> Column | Relationship | None:
        flavour = model.flavour
        prefix = f"{module.module}."
        if member.annotation and member.annotation.startswith(prefix):
            rest = member.annotation[len(prefix) :]
            if rest in BUILTIN_NAMES:  # a bare `str` annotation is rendered qualified
                member = replace(member, annotation=rest)
        head = mapped_head(member.annotation)
        inner = mapped_inner(member.annotation) if head else None
        called = last_part(member.callee)
        if called in RELATIONSHIP_CALLS:
            hint = inner or member.annotation
            return self._relationship(name, member, owner, module, hint, model.base)
        if (
            head
            or called in COLUMN_CALLS
            or (flavour == "sqlmodel" and member.annotation and not member.callee)
        ):
            if called == "Field" and flavour != "sqlmodel":
                return None
            if flavour == "sqlmodel" and not head:
                inner = parse_expr(member.annotation)
            return read_column(name, member, owner, inner, head is not None, flavour)
        return None

    def _relationship(
        self,
        name: str,
        member: MemberFacts,
        owner: str,
        module: ModuleFacts,
        hint: object,
        base: str = "",
    ) -> Relationship:
        annotation = hint if isinstance(hint, ast.expr) else parse_expr(hint)  # type: ignore[arg-type]
        written, uselist = annotation_target(annotation)
        if member.args:
            first = member.args[0]
            value = literal(first)
            if isinstance(value, str):
                written = value
            elif value is Unknown and not first.startswith("lambda"):
                written = first
        lazy = lazy_of(member)
        uselist_kw = literal(member.keyword("uselist"))
        if isinstance(uselist_kw, bool):
            uselist = uselist_kw
        backref = member.keyword("backref")
        back_name = literal(backref)
        if not isinstance(back_name, str) and backref:
            call = parse_expr(backref)
            if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Constant):
                back_name = call.args[0].value
        return Relationship(
            name=name,
            owner=owner,
            target=self._target(written, module, owner, base),
            target_name=written,
            lazy=lazy,
            back_populates=string_literal(member.keyword("back_populates")),
            backref=back_name if isinstance(back_name, str) else None,
            uselist=uselist,
            viewonly=literal(member.keyword("viewonly")) is True,
        )

    def _target(
        self, written: str | None, module: ModuleFacts, owner: str, base: str = ""
    ) -> str | None:
        """The model class a relationship points at, or None when unsure."""
        if not written:
            return None
        written = written.strip()
        head = written.partition(".")[0]
        if head in module.imports or head in module.classes:
            qualified = (
                module.imports[head] + written[len(head) :]
                if head in module.imports
                else f"{module.module}.{written}"
            )
            found = self.model(qualified)
            if found is not None:
                return found.qualname
        if "." in written and (found := self.model(written)) is not None:
            return found.qualname
        candidates = self.by_name.get(last_part(written), [])
        if len(candidates) > 1 and base:  # the base's registry resolves names
            candidates = [c for c in candidates if self.models[c].base == base]
        if len(candidates) == 1:
            return candidates[0]
        same = [c for c in candidates if c.rpartition(".")[0] == owner.rpartition(".")[0]]
        return same[0] if len(same) == 1 else None

    def _add_backrefs(self) -> None:
        """`relationship(..., backref="x")` also maps `x` on the target class."""
        for model in list(self.models.values()):
            for relation in list(model.relationships.values()):
                if relation.owner != model.qualname or not relation.backref or not relation.target:
                    continue
                reverse_lazy = "select"
                member = self._raw_member(relation.owner, relation.name)
                call = parse_expr(member.keyword("backref")) if member else None
                if isinstance(call, ast.Call):
                    reverse_lazy = "unknown"
                    for keyword in call.keywords:
                        if keyword.arg == "lazy" and isinstance(keyword.value, ast.Constant):
                            reverse_lazy = LAZY_VALUES.get(
                                repr(keyword.value.value), str(keyword.value.value)
                            )
                    if not any(k.arg == "lazy" for k in call.keywords):
                        reverse_lazy = "select"
                for target in self._with_subclasses(relation.target):
                    target.relationships.setdefault(
                        relation.backref,
                        Relationship(
                            relation.backref,
                            relation.target,
                            model.qualname,
                            model.name,
                            reverse_lazy,
                            back_populates=relation.name,
                        ),
                    )

    def _raw_member(self, owner: str, name: str) -> MemberFacts | None:
        facts = self.project.class_facts(owner)
        found = facts.members.get(name) if facts else None
        return found or self._declared.get(owner, {}).get(name)

    def _with_subclasses(self, qualname: str) -> list[Model]:
        return [
            m
            for m in self.models.values()
            if m.qualname == qualname or qualname in self.project.ancestors(m.qualname)
        ]


def sqlalchemy_models(project: Project) -> SqlaModels:
    """The SQLAlchemy model of a project, built on first use and cached on it."""
    found = project.__dict__.get("_sqlalchemy_models")
    if found is None:
        found = project.__dict__["_sqlalchemy_models"] = SqlaModels(project)
    return found
