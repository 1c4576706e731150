"""The Django part of the project model: models, fields, relations, managers, across files.

Everything here is derived from the indexed facts (class bases, class-body bindings, `Meta`
options, `AppConfig`s, settings constants), once per `Project` and cached on it, so the
per-file checks can ask "what is `order.customer`?" without parsing another file.

- Every model class of every app: a subclass of `django.db.models.Model` through any chain
  of project classes (abstract bases, multi-table parents, proxies, mixins from other
  modules), or a class whose body declares Django model fields on a base bex cannot see.
- Fields with their kind (`fk`, `o2o`, `m2m`, generic ones, `plain`), options and resolved
  targets: a class, `"app_label.Model"`, `"Model"` of the same app, `"self"`,
  `settings.AUTH_USER_MODEL` / `get_user_model()` (the custom user model when a settings
  module sets `AUTH_USER_MODEL`, else `django.contrib.auth.models.User`).
- Reverse accessors (`related_name`, `<model>_set`, `related_query_name`, hidden `+`).
- Managers and querysets: `objects`, custom managers, `QuerySet.as_manager()`,
  `Manager.from_queryset(QS)`, and what their methods apply (see `index.chain_summary`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath

from backend_expert.django_facts import QUERYSET_METHODS
from backend_expert.index import ClassFacts, MemberFacts, ModuleFacts, Project

MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
MANAGER_BASES = frozenset(
    {
        "django.db.models.Manager",
        "django.db.models.manager.Manager",
        "django.db.models.manager.BaseManager",
    }
)
QUERYSET_BASES = frozenset({"django.db.models.QuerySet", "django.db.models.query.QuerySet"})
APPCONFIG_BASES = frozenset({"django.apps.AppConfig", "django.apps.config.AppConfig"})
AUTH_USER = "django.contrib.auth.models.User"

# Field classes by the last part of their name. OneToOne before ForeignKey: it subclasses it.
RELATION_KINDS = {
    "OneToOneField": "o2o",
    "AutoOneToOneField": "o2o",
    "ParentalOneToOneField": "o2o",
    "ForeignKey": "fk",
    "TreeForeignKey": "fk",
    "ParentalKey": "fk",
    "ManyToManyField": "m2m",
    "TreeManyToManyField": "m2m",
    "ParentalManyToManyField": "m2m",
    "SortedManyToManyField": "m2m",
    "TaggableManager": "m2m",
    "GenericForeignKey": "gfk",
    "GenericRelation": "generic",
}
DJANGO_RELATION_CLASSES = {
    "django.db.models.ForeignKey": "fk",
    "django.db.models.fields.related.ForeignKey": "fk",
    "django.db.models.OneToOneField": "o2o",
    "django.db.models.fields.related.OneToOneField": "o2o",
    "django.db.models.ManyToManyField": "m2m",
    "django.db.models.fields.related.ManyToManyField": "m2m",
}
NUMERIC_FIELDS = frozenset(
    {
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "DecimalField",
        "FloatField",
        "DurationField",
    }
)
# Field classes that are indexed without being asked (SlugField has db_index=True by default).
INDEXED_BY_DEFAULT = frozenset({"SlugField", "AutoField", "BigAutoField", "SmallAutoField"})
NOT_FIELD_MODULES = ("forms", "serializers", "filters", "graphql", "graphene", "strawberry")

# Equality lookups, which an index on the column serves directly ("" is a plain `field=`).
# Ranges (`__gt`, `__lte`) are left out: they usually narrow a query another filter leads.
INDEXED_LOOKUPS = frozenset({"", "exact", "in"})
SINGLE = frozenset({"fk", "o2o", "reverse_o2o"})  # one object per row: select_related works
MANY = frozenset({"m2m", "reverse_fk", "reverse_m2m", "generic"})  # a manager per row


@dataclass
class Field:
    name: str
    kind: str  # fk | o2o | m2m | gfk | generic | plain
    field_class: str  # qualified, as written (e.g. django.db.models.CharField)
    options: dict[str, str]  # keyword -> source text
    declared_in: str  # qualified name of the class whose body declares the field
    target: str | None = None  # the related model, resolved (None when unknown)
    raw_target: str | None = None  # as written

    @property
    def simple_class(self) -> str:
        return self.field_class.rpartition(".")[2]

    def flag(self, option: str) -> bool:
        return self.options.get(option) == "True"

    @property
    def indexed(self) -> bool:
        if self.kind in ("fk", "o2o"):
            return self.options.get("db_index") != "False"
        if self.simple_class in INDEXED_BY_DEFAULT:
            return self.options.get("db_index") != "False"
        return any(self.flag(o) for o in ("db_index", "unique", "primary_key"))

    @property
    def numeric(self) -> bool:
        return self.kind == "plain" and self.simple_class in NUMERIC_FIELDS


@dataclass(frozen=True)
class Relation:
    """What an attribute (or lookup) name means on a model when it is a relation."""

    name: str
    kind: str  # fk | o2o | m2m | gfk | generic | reverse_fk | reverse_o2o | reverse_m2m
    target: str | None  # the model on the other side (None when unknown)
    source_model: str  # the model the name was looked up on (or declares the field)

    @property
    def single(self) -> bool:
        return self.kind in SINGLE

    @property
    def many(self) -> bool:
        return self.kind in MANY


@dataclass
class Model:
    qualname: str
    name: str
    module: str
    path: str
    app_label: str
    facts: ClassFacts
    abstract: bool = False
    proxy: bool = False
    complete: bool = True  # False when a base is not a class bex can see
    parents: list[str] = field(default_factory=list)  # model bases, abstract or concrete
    fields: dict[str, Field] = field(default_factory=dict)  # own and inherited
    reverse: dict[str, Relation] = field(default_factory=dict)  # accessor -> relation
    reverse_query: dict[str, Relation] = field(default_factory=dict)  # query name -> relation
    managers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # attr -> classes
    meta: dict[str, str] = field(default_factory=dict)
    indexed: set[str] = field(default_factory=set)  # fields leading an index or unique set
    index_names_unknown: bool = False  # Meta text was cut: cannot tell which fields are indexed

    @property
    def concrete(self) -> bool:
        return not self.abstract

    @property
    def lower(self) -> str:
        return self.name.lower()


def _looks_like_field(callee: str | None) -> bool:
    if not callee:
        return False
    last = callee.rpartition(".")[2]
    return last in RELATION_KINDS or last.endswith("Field")


def _literal(text: str | None) -> object:
    if text is None:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


class DjangoModels:
    """All models of a project; build with `django_models(project)`."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.models: dict[str, Model] = {}
        self.by_label: dict[tuple[str, str], str] = {}  # (app_label, model name lower) -> qualname
        self.by_name: dict[str, list[str]] = {}  # model name lower -> qualnames
        self._app_labels = self._read_app_configs()
        self._collect()
        self.user_model = self._user_model()
        for model in self._ordered():
            self._build(model, set())
        for model in self.models.values():
            if model.concrete:
                self._register_reverse(model)

    # --- discovery -------------------------------------------------------------------------

    def _read_app_configs(self) -> dict[str, str]:
        """App directory -> label, from `AppConfig` subclasses that set `label` (or `name`)."""
        labels: dict[str, str] = {}
        project = self.project
        for facts in project.modules.values():
            for klass in facts.classes.values():
                if not any(b.endswith("AppConfig") for b in klass.bases) and not (
                    any(b.endswith("Config") for b in klass.bases)
                    and project.is_subclass(f"{facts.module}.{klass.name}", APPCONFIG_BASES)
                ):
                    continue
                directory = str(PurePosixPath(facts.path).parent)
                label = _literal(klass.members["label"].value) if "label" in klass.members else None
                name = _literal(klass.members["name"].value) if "name" in klass.members else None
                if isinstance(label, str):
                    labels[directory] = label
                elif isinstance(name, str):
                    labels.setdefault(directory, name.rpartition(".")[2])
        return labels

    def app_of(self, facts: ModuleFacts) -> tuple[str, str]:
        """(app directory, app label) of a module defining models."""
        path = PurePosixPath(facts.path)
        parts = list(path.parent.parts)
        if "models" in parts:  # app/models/x.py (also app/models/models.py)
            index = len(parts) - 1 - parts[::-1].index("models")
            directory = parts[:index]
        else:  # app/models.py, or models kept in another module of the app
            directory = parts
        app_dir = "/".join(directory) or "."
        label = self._app_labels.get(app_dir) or (directory[-1] if directory else path.stem)
        return app_dir, label

    def _is_model_class(self, qualname: str, klass: ClassFacts) -> tuple[bool, bool]:
        """(is a model, every base known)."""
        project = self.project
        ancestors = project.ancestors(qualname)
        if ancestors & MODEL_BASES:
            return True, all(
                project.class_facts(a) is not None or a.startswith("django.") or a in MODEL_BASES
                for a in (project.resolve(b) for b in klass.bases)
            )
        if any(a in EXTERNAL_MODELS for a in ancestors):
            return True, True
        # A base bex cannot see (a third-party model class), but Django fields in the body.
        if any(
            _looks_like_field(m.callee)
            and project.resolve(m.callee or "").startswith(("django.db.models.", "django.contrib."))
            and self._field_kind(m)
            for m in klass.members.values()
        ):
            return True, False
        return False, False

    def _collect(self) -> None:
        for qualname, external in EXTERNAL_MODELS.items():
            self.models[qualname] = external.instantiate()
        for facts in self.project.modules.values():
            if facts.is_test or not facts.classes:
                continue
            for klass in facts.classes.values():
                qualname = f"{facts.module}.{klass.name}"
                if not klass.bases:
                    continue
                is_model, complete = self._is_model_class(qualname, klass)
                if not is_model:
                    continue
                meta = klass.inner.get("Meta", {})
                _, label = self.app_of(facts)
                app_label = _literal(meta.get("app_label"))
                model = Model(
                    qualname=qualname,
                    name=klass.name,
                    module=facts.module,
                    path=facts.path,
                    app_label=app_label if isinstance(app_label, str) else label,
                    facts=klass,
                    abstract=meta.get("abstract") == "True",
                    proxy=meta.get("proxy") == "True",
                    complete=complete,
                    meta=dict(meta),
                )
                self.models[qualname] = model
        for qualname, model in self.models.items():
            if model.abstract:
                continue
            self.by_label.setdefault((model.app_label, model.lower), qualname)
            if qualname not in EXTERNAL_MODELS:
                self.by_name.setdefault(model.lower, []).append(qualname)

    def _ordered(self) -> list[Model]:
        return sorted(self.models.values(), key=lambda m: m.qualname)

    def _user_model(self) -> str | None:
        values: set[str] = set()
        for facts in self.project.modules.values():
            value = facts.strings.get("AUTH_USER_MODEL")
            if value and ("settings" in facts.module or "settings" in facts.path):
                values.add(value)
        if not values:
            return AUTH_USER
        if len(values) > 1:
            return None
        label, _, name = values.pop().partition(".")
        return self.by_label.get((label, name.lower()))

    # --- fields ----------------------------------------------------------------------------

    def _field_kind(self, member: MemberFacts) -> str | None:
        callee = member.callee
        if not callee:
            return None
        resolved = self.project.resolve(callee)
        last = resolved.rpartition(".")[2]
        if any(f".{part}." in f".{resolved}." for part in NOT_FIELD_MODULES):
            return None
        if last in RELATION_KINDS:
            return RELATION_KINDS[last]
        if self.project.class_facts(resolved) is not None:
            ancestors = self.project.ancestors(resolved)
            for base, kind in DJANGO_RELATION_CLASSES.items():
                if base in ancestors:
                    return kind
            if any(a.startswith("django.db.models.") and a.endswith("Field") for a in ancestors):
                return "plain"
            return None
        if resolved.startswith(("django.db.models.", "django.contrib.")) and (
            last.endswith("Field")
        ):
            return "plain"
        if last.endswith("Field") and "." in resolved and not resolved.startswith("django."):
            return "plain"  # a third-party model field (CountryField, PhoneNumberField...)
        return None

    def _build(self, model: Model, visiting: set[str]) -> None:
        """Fields, managers and indexes of `model`, parents first (cached on the model)."""
        if model.__dict__.get("_built") or model.qualname in visiting:
            return
        visiting.add(model.qualname)
        if model.qualname in EXTERNAL_MODELS:
            model.__dict__["_built"] = True
            return
        project = self.project
        fields: dict[str, Field] = {}
        managers: dict[str, tuple[str, ...]] = {}
        indexed: set[str] = set()
        for base in reversed(model.facts.bases):
            parent = self.models.get(project.resolve(base))
            if parent is None:
                continue
            self._build(parent, visiting)
            model.parents.insert(0, parent.qualname)
            for name, inherited in parent.fields.items():
                if parent.abstract:  # copied into the child: relative targets resolve here
                    fields[name] = (
                        self._field(model, name, inherited.declared_in, inherited.field_class)
                        or inherited
                    )
                else:
                    fields[name] = inherited
            managers.update(parent.managers)
            if parent.abstract:  # its Meta is inherited (also by `class Meta(Parent.Meta)`)
                indexed |= parent.indexed
            model.index_names_unknown |= parent.index_names_unknown
            if not parent.abstract and not model.proxy:  # multi-table inheritance
                link = f"{parent.lower}_ptr"
                fields[link] = Field(
                    link, "o2o", "django.db.models.OneToOneField", {}, model.qualname,
                    parent.qualname, parent.qualname,
                )  # fmt: skip
        for name, member in model.facts.members.items():
            kind = self._field_kind(member)
            if kind is not None:
                built = self._field(model, name, model.qualname, member.callee or "", member)
                if built is not None:
                    fields[name] = built
                continue
            classes = self._manager_classes(member)
            if classes is not None:
                managers[name] = classes
            elif name in fields and member.callee is None:
                del fields[name]  # overridden by a plain attribute (`field = None`)
        model.fields = fields
        model.managers = managers
        model.indexed = indexed | self._meta_indexed(model)
        model.__dict__["_built"] = True

    def _field(
        self,
        model: Model,
        name: str,
        declared_in: str,
        field_class: str,
        member: MemberFacts | None = None,
    ) -> Field | None:
        if member is None:  # an inherited field: read it again from the declaring class
            facts = self.project.class_facts(declared_in)
            member = facts.members.get(name) if facts else None
            if member is None:
                return None
        kind = self._field_kind(member) or "plain"
        options = dict(member.keywords)
        result = Field(name, kind, member.callee or field_class, options, declared_in)
        if kind in ("fk", "o2o", "m2m"):
            raw = options.get("to") or (member.args[0] if member.args else None)
            result.raw_target = raw
            result.target = self._target(raw, model)
        return result

    def _target(self, raw: str | None, model: Model) -> str | None:
        if raw is None:
            return None
        if raw == "django.conf.settings.AUTH_USER_MODEL" or raw.endswith("get_user_model()"):
            return self.user_model
        value = _literal(raw) if raw[:1] in ("'", '"') else None
        if isinstance(value, str):
            if value == "self":
                return model.qualname
            label, dot, name = value.rpartition(".")
            if dot:
                return self.by_label.get((label, name.lower()))
            found = self.by_label.get((model.app_label, value.lower()))
            if found:
                return found
            candidates = self.by_name.get(value.lower(), [])
            return candidates[0] if len(candidates) == 1 else None
        resolved = self.project.resolve(raw)
        return resolved if resolved in self.models else None

    def _manager_classes(self, member: MemberFacts) -> tuple[str, ...] | None:
        """The manager and queryset classes behind `objects = ...`, or None if not a manager."""
        callee = member.callee
        if not callee:
            return None
        project = self.project
        if callee.endswith(".as_manager"):
            return (project.resolve(callee.removesuffix(".as_manager")),)
        if callee.endswith(".from_queryset"):
            return (
                project.resolve(callee.removesuffix(".from_queryset")),
                *(project.resolve(a) for a in member.args),
            )
        resolved = project.resolve(callee)
        factory = project.assigned_call(resolved)
        if factory and factory.endswith(".from_queryset"):
            module = resolved.rpartition(".")[0]
            facts = project.modules.get(module)
            args = facts.call_args.get(resolved.rpartition(".")[2], ()) if facts else ()
            return (
                project.resolve(factory.removesuffix(".from_queryset")),
                *(project.resolve(a) for a in args),
            )
        if resolved in MANAGER_BASES or project.is_subclass(resolved, MANAGER_BASES):
            return (resolved,) if project.class_facts(resolved) is not None else ()
        last = resolved.rpartition(".")[2]
        if last.endswith("Manager") and last != "TaggableManager":
            return (resolved,) if project.class_facts(resolved) is not None else ()
        return None

    def _meta_indexed(self, model: Model) -> set[str]:
        """Field names that are part of an index, a unique constraint or `unique_together`."""
        found: set[str] = set()
        for key in ("indexes", "constraints", "unique_together", "index_together"):
            text = model.meta.get(key)
            if not text:
                continue
            if text.endswith("..."):
                model.index_names_unknown = True
            # Every quoted name: a field second in a composite index is usually filtered on
            # together with the first (`content_type` + `object_id`), which the index serves.
            for name in re.findall(r"""['"]-?([A-Za-z_][A-Za-z0-9_]*)['"]""", text):
                found.add(name)
        return found

    # --- reverse relations -----------------------------------------------------------------

    def _register_reverse(self, model: Model) -> None:
        for fld in model.fields.values():
            if fld.kind not in ("fk", "o2o", "m2m") or fld.target is None:
                continue
            if fld.declared_in != model.qualname and not self._abstract(fld.declared_in):
                continue  # declared on a concrete parent: registered for that parent
            target = self.models.get(fld.target)
            if target is None:
                continue
            if (
                fld.kind == "m2m"
                and fld.raw_target in ("'self'", '"self"')
                and fld.options.get("symmetrical") != "False"
            ):
                continue  # symmetrical: no reverse accessor
            related_name = _literal(fld.options.get("related_name"))
            query_name = _literal(fld.options.get("related_query_name"))
            if isinstance(related_name, str):
                related_name = self._substitute(related_name, model)
                if related_name.endswith("+"):
                    continue
            elif fld.options.get("related_name") not in (None, "None"):
                continue  # computed: unknown accessor
            else:
                related_name = None
            if isinstance(query_name, str):
                query_name = self._substitute(query_name, model)
            kind = {"fk": "reverse_fk", "o2o": "reverse_o2o", "m2m": "reverse_m2m"}[fld.kind]
            accessor = related_name or (model.lower if fld.kind == "o2o" else f"{model.lower}_set")
            query = query_name or related_name or model.lower
            relation = Relation(accessor, kind, model.qualname, target.qualname)
            target.reverse.setdefault(accessor, relation)
            target.reverse_query.setdefault(
                query, Relation(query, kind, model.qualname, target.qualname)
            )

    def _abstract(self, qualname: str) -> bool:
        model = self.models.get(qualname)
        return model is not None and model.abstract

    @staticmethod
    def _substitute(text: str, model: Model) -> str:
        return text.replace("%(class)s", model.lower).replace("%(app_label)s", model.app_label)

    # --- questions -------------------------------------------------------------------------

    def model(self, qualname: str | None) -> Model | None:
        if qualname is None:
            return None
        found = self.models.get(qualname)
        if found is None:
            found = self.models.get(self.project.resolve(qualname))
        return found

    def concrete_model(self, qualname: str) -> Model | None:
        """The model whose table a proxy uses (the model itself otherwise)."""
        model = self.model(qualname)
        for _ in range(10):
            if model is None or not model.proxy:
                return model
            model = next(
                (
                    self.models[p]
                    for p in model.parents
                    if p in self.models and not self._abstract(p)
                ),
                None,
            )
        return model

    def _lineage(self, model: Model) -> list[Model]:
        """The model and its concrete parents (whose reverse relations its rows also have)."""
        seen, order, stack = set(), [], [model]
        while stack:
            current = stack.pop(0)
            if current.qualname in seen:
                continue
            seen.add(current.qualname)
            order.append(current)
            stack.extend(self.models[p] for p in current.parents if p in self.models)
        return order

    def attribute(self, qualname: str, name: str) -> Relation | Field | None:
        """What `row.name` is on a row of the model: a Relation, a plain Field, or None."""
        return self._member(qualname, name, "reverse")

    def lookup(self, qualname: str, name: str) -> Relation | Field | None:
        """What `name` is in a query path (`select_related`, `filter`): field or reverse query name."""
        return self._member(qualname, name, "reverse_query")

    def _member(self, qualname: str, name: str, reverse_table: str) -> Relation | Field | None:
        model = self.model(qualname)
        if model is None:
            return None
        fld = model.fields.get(name)
        if fld is not None:
            if fld.kind == "plain":
                return fld
            return Relation(name, fld.kind, fld.target, model.qualname)
        for current in self._lineage(model):
            relation = getattr(current, reverse_table).get(name)
            if relation is not None:
                return Relation(name, relation.kind, relation.target, model.qualname)
        return None

    def manager(self, qualname: str, attr: str) -> tuple[str, ...] | None:
        """The custom classes of manager `attr` of the model, () for a plain manager, or None."""
        model = self.model(qualname)
        if model is None:
            return None
        if attr in model.managers:
            return model.managers[attr]
        if attr == "_default_manager" or attr == "_base_manager":
            if attr == "_default_manager":
                default = _literal(model.meta.get("default_manager_name"))
                if isinstance(default, str) and default in model.managers:
                    return model.managers[default]
                if model.managers:
                    return next(iter(model.managers.values()))
            return ()
        if attr == "objects" and "objects" not in model.fields:
            return ()
        return None

    def method_summary(
        self, classes: tuple[str, ...], name: str, _depth: int = 0
    ) -> tuple[str, ...] | None:
        """What custom method `name` of these manager/queryset classes applies (resolved)."""
        if _depth > 6:
            return ("unknown",)
        for klass, facts in self._class_chain(classes):
            if name in facts.returns:
                return self._resolve_summary(facts.returns[name], classes, klass, _depth)
            if name in facts.methods:
                return None  # defined, but not (only) a queryset chain
        return None

    def defines(self, classes: tuple[str, ...], name: str) -> bool:
        return any(name in facts.methods for _, facts in self._class_chain(classes))

    def _class_chain(self, classes: tuple[str, ...]) -> list[tuple[str, ClassFacts]]:
        key = ("chain", classes)
        cache = self.__dict__.setdefault("_chains", {})
        if key in cache:
            return cache[key]
        project = self.project
        found: list[tuple[str, ClassFacts]] = []
        seen: set[str] = set()
        queue = list(classes)
        while queue:
            current = project.resolve(queue.pop(0))
            if current in seen:
                continue
            seen.add(current)
            facts = project.class_facts(current)
            if facts is None:
                continue
            found.append((current, facts))
            queue.extend(facts.bases)
        cache[key] = found
        return found

    def _resolve_summary(
        self, items: tuple[str, ...], classes: tuple[str, ...], owner: str, depth: int
    ) -> tuple[str, ...]:
        result: set[str] = set()
        for item in items:
            kind, _, name = item.partition(":")
            if kind in ("call", "returns"):
                inner = self.method_summary(classes, name, depth + 1)
                if inner is None:
                    result.add("unknown")
                else:
                    result.update(inner)
            elif kind == "super":
                facts = self.project.class_facts(owner)
                bases = tuple(self.project.resolve(b) for b in facts.bases) if facts else ()
                inner = self.method_summary(bases, name, depth + 1) if bases else None
                if inner is None and name != "get_queryset":
                    result.add("unknown")
                elif inner:
                    result.update(inner)
            else:
                result.add(item)
        return tuple(sorted(result))

    def base_summary(self, classes: tuple[str, ...]) -> tuple[str, ...]:
        """What the manager's `get_queryset` applies to every queryset it makes."""
        if not classes:
            return ()
        if not self.defines(classes, "get_queryset"):
            return ()
        summary = self.method_summary(classes, "get_queryset")
        return summary if summary is not None else ("unknown",)

    def is_queryset_method(self, classes: tuple[str, ...], name: str) -> bool:
        return name in QUERYSET_METHODS or self.method_summary(classes, name) is not None

    @cached_property
    def save_signal_senders(self) -> frozenset[str]:
        """Models with `pre_save`/`post_save` receivers ("*": a receiver for every model)."""
        found: set[str] = set()
        for facts in self.project.modules.values():
            if facts.is_test:
                continue
            for sender in facts.save_signals:
                found.add(sender if sender == "*" else self.project.resolve(sender))
        return frozenset(found)

    def saves_have_side_effects(self, model: str) -> bool:
        """True when saving a row runs code that `bulk_create` would skip: a `save()` override
        in the model or a project base, or a save signal receiver for it (or for every model)."""
        project = self.project
        lineage = (model, *project.ancestors(model))
        senders = self.save_signal_senders
        if "*" in senders or any(name in senders for name in lineage):
            return True
        return any(
            "save" in facts.methods
            for name in lineage
            if (facts := project.class_facts(name)) is not None
        )

    @cached_property
    def lookup_counts(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(model, field) -> (call sites, modules) of equality lookups (`field=`, `field__in=`),
        outside tests and migrations."""
        sites: dict[tuple[str, str], int] = {}
        modules: dict[tuple[str, str], set[str]] = {}
        project = self.project
        resolved: dict[str, str | None] = {}
        for facts in project.modules.values():
            if facts.is_test or "/migrations/" in f"/{facts.path}":
                continue
            for (owner, keyword), number in facts.lookups.items():
                name, _, lookup = keyword.partition("__")
                if lookup not in INDEXED_LOOKUPS:
                    continue
                if owner not in resolved:
                    model = self.model(owner)
                    concrete = self.concrete_model(model.qualname) if model else None
                    resolved[owner] = concrete.qualname if concrete else None
                qualname = resolved[owner]
                if qualname is None:
                    continue
                declared = self.models[qualname].fields.get(name)
                if (
                    declared is not None
                    and declared.declared_in != qualname
                    and not self._abstract(declared.declared_in)
                ):
                    qualname = declared.declared_in  # a field of a multi-table parent
                key = (qualname, name)
                sites[key] = sites.get(key, 0) + number
                modules.setdefault(key, set()).add(facts.module)
        return {key: (count, len(modules[key])) for key, count in sites.items()}


# --- models of django.contrib that projects point at --------------------------------------------


@dataclass(frozen=True)
class _External:
    qualname: str
    app_label: str
    fields: tuple[tuple[str, str, str | None, tuple[tuple[str, str], ...]], ...]
    abstract: bool = False
    parents: tuple[str, ...] = ()

    def instantiate(self) -> Model:
        module, _, name = self.qualname.rpartition(".")
        model = Model(
            self.qualname, name, module, "", self.app_label, ClassFacts(name, ()), self.abstract
        )
        model.parents = list(self.parents)
        for fname, kind, target, options in self.fields:
            callee = {
                "fk": "django.db.models.ForeignKey",
                "o2o": "django.db.models.OneToOneField",
                "m2m": "django.db.models.ManyToManyField",
            }.get(kind, "django.db.models.CharField")
            model.fields[fname] = Field(
                fname, kind, callee, dict(options), self.qualname, target, target
            )
        model.__dict__["_built"] = True
        return model


_UNIQUE = (("unique", "True"),)
_BASE_USER_FIELDS = (("password", "plain", None, ()), ("last_login", "plain", None, ()))
_PERMISSION_FIELDS = (
    ("is_superuser", "plain", None, ()),
    ("groups", "m2m", "django.contrib.auth.models.Group", (("related_name", "'user_set'"),)),
    (
        "user_permissions",
        "m2m",
        "django.contrib.auth.models.Permission",
        (("related_name", "'user_set'"),),
    ),
)
_USER_FIELDS = (
    *_BASE_USER_FIELDS,
    *_PERMISSION_FIELDS,
    ("username", "plain", None, _UNIQUE),
    ("first_name", "plain", None, ()),
    ("last_name", "plain", None, ()),
    ("email", "plain", None, ()),
    ("is_staff", "plain", None, ()),
    ("is_active", "plain", None, ()),
    ("date_joined", "plain", None, ()),
)
EXTERNAL_MODELS = {
    e.qualname: e
    for e in (
        _External(
            "django.contrib.auth.base_user.AbstractBaseUser", "auth", _BASE_USER_FIELDS, True
        ),
        _External("django.contrib.auth.models.AbstractBaseUser", "auth", _BASE_USER_FIELDS, True),
        _External("django.contrib.auth.models.PermissionsMixin", "auth", _PERMISSION_FIELDS, True),
        _External("django.contrib.auth.models.AbstractUser", "auth", _USER_FIELDS, True),
        _External(AUTH_USER, "auth", _USER_FIELDS),
        _External(
            "django.contrib.auth.models.Group",
            "auth",
            (
                ("name", "plain", None, _UNIQUE),
                ("permissions", "m2m", "django.contrib.auth.models.Permission", ()),
            ),
        ),
        _External(
            "django.contrib.auth.models.Permission",
            "auth",
            (
                ("name", "plain", None, ()),
                ("codename", "plain", None, ()),
                (
                    "content_type",
                    "fk",
                    "django.contrib.contenttypes.models.ContentType",
                    (),
                ),
            ),
        ),
        _External(
            "django.contrib.contenttypes.models.ContentType",
            "contenttypes",
            (("app_label", "plain", None, ()), ("model", "plain", None, ())),
        ),
    )
}


def django_models(project: Project) -> DjangoModels:
    """The Django model of `project`, built on first use and kept on the project object."""
    found = project.__dict__.get("_django_models")
    if found is None:
        found = project.__dict__["_django_models"] = DjangoModels(project)
    return found
