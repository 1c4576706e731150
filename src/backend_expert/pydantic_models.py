"""Which classes are Pydantic models, and which expressions hold one (a class or an instance).

The project model already knows every class and its bases across files; this module
answers the Pydantic questions on top of it. Models built on the `pydantic.v1` compatibility
layer are not v2 models: their `.dict()` is the right spelling.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from backend_expert.index import Project
from backend_expert.infer import unwrap_annotation

if TYPE_CHECKING:
    from backend_expert.check import FileContext

MODEL_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.RootModel",
        "pydantic.root_model.RootModel",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.generics.GenericModel",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
    }
)
SETTINGS_BASES = frozenset(
    {
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
    }
)
V1_PREFIXES = ("pydantic.v1",)
# Class-level calls that return an instance of the model.
CONSTRUCTORS = frozenset(
    {
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
        "model_construct",
        "parse_obj",
        "parse_raw",
        "parse_file",
        "from_orm",
        "construct",
        "validate",
    }
)
# Instance methods that return a new instance.
COPIES = frozenset({"model_copy", "copy"})


def is_model(project: Project, qualname: str | None) -> bool:
    """True for a Pydantic v2-style model class (BaseModel, BaseSettings, RootModel subclass)."""
    if not qualname:
        return False
    cache = project.__dict__.setdefault("_bex_pydantic", {})
    if qualname not in cache:
        resolved = project.resolve(qualname)
        ancestors = project.ancestors(resolved)
        cache[qualname] = (
            project.class_facts(resolved) is not None
            and bool(ancestors & MODEL_BASES)
            and not any(a.startswith(V1_PREFIXES) for a in ancestors)
        )
    return cache[qualname]


def is_settings(project: Project, qualname: str | None) -> bool:
    return (
        bool(qualname)
        and is_model(project, qualname)
        and bool(project.ancestors(project.resolve(qualname)) & SETTINGS_BASES)
    )


def model_classes(project: Project) -> list[str]:
    """Every Pydantic model class of the project, qualified."""
    return [
        f"{module}.{name}"
        for module, facts in project.modules.items()
        for name in facts.classes
        if is_model(project, f"{module}.{name}")
    ]


def model_of(node: ast.AST, ctx: FileContext, _depth: int = 0) -> tuple[str, bool] | None:
    """(model class, is_instance) when `node` holds a Pydantic model class or instance.

    Instances come from constructors, `Model.model_validate(...)`/`parse_obj(...)`, copies,
    parameters and attributes annotated with a model, and project functions whose return
    annotation is a model. Anything else is unknown (None): `.dict()` on it is not judged.
    """
    if _depth > 5:
        return None
    project = ctx.project
    if isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        qualified = ctx.qualname(node)
        if qualified and is_model(project, qualified) and project.class_facts(qualified):
            return project.resolve(qualified), False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner = model_of(node.func.value, ctx, _depth + 1)
        if owner is not None:
            klass, instance = owner
            if (not instance and node.func.attr in CONSTRUCTORS) or (
                instance and node.func.attr in COPIES
            ):
                return klass, True
            return None
    if isinstance(node, ast.Name) and (element := _comprehension_element(node, ctx, _depth)):
        return element
    if isinstance(node, ast.Name) and (function := ctx.enclosing_function()) is not None:
        values = ctx.scope(function).values(node.id)
        if values:
            found = {
                _element(v.iter, ctx, _depth)
                if isinstance(v, (ast.For, ast.AsyncFor))
                and isinstance(v.target, ast.Name)
                and v.target.id == node.id
                else model_of(v, ctx, _depth + 1)
                for v in values
            }
            if len(found) == 1:
                return found.pop()
            return None
    kind = ctx.type_of(node)
    if kind and is_model(project, kind):
        return project.resolve(kind), True
    return None


COLLECTIONS = frozenset(
    {
        "builtins.list",
        "builtins.set",
        "builtins.tuple",
        "builtins.frozenset",
        "typing.List",
        "typing.Set",
        "typing.Sequence",
        "typing.Iterable",
        "typing.Iterator",
        "collections.abc.Sequence",
        "collections.abc.Iterable",
    }
)


COLLECTION_NAMES = frozenset(name.rpartition(".")[2] for name in COLLECTIONS)


def _element(iterable: ast.AST, ctx: FileContext, depth: int) -> tuple[str, bool] | None:
    """The model of the items of `iterable`: a parameter annotated `list[Model]`, or a call of
    a project function returning `list[Model]`."""
    project = ctx.project
    if isinstance(iterable, ast.Call):
        name = ctx.qualname(iterable.func)
        facts = project.function_facts(name) if name else None
        head = (facts.returns or "").rpartition(".")[2] if facts else ""
        if facts and head in COLLECTION_NAMES and is_model(project, facts.returns_arg):
            return project.resolve(facts.returns_arg), True  # type: ignore[arg-type]
        return None
    function = ctx.enclosing_function()
    if not isinstance(iterable, ast.Name) or function is None:
        return None
    param = ctx.scope(function).params.get(iterable.id)
    annotation = unwrap_annotation(param.annotation) if param is not None else None
    if not isinstance(annotation, ast.Subscript):
        return None
    if ctx.qualname(annotation.value) not in COLLECTIONS:
        return None
    inner = (
        annotation.slice.elts[0] if isinstance(annotation.slice, ast.Tuple) else annotation.slice
    )
    name = ctx.qualname(unwrap_annotation(inner) or inner)
    return (project.resolve(name), True) if name and is_model(project, name) else None


def _comprehension_element(node: ast.Name, ctx: FileContext, depth: int) -> tuple[str, bool] | None:
    for ancestor in reversed(ctx.ancestors):
        if isinstance(ancestor, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for generator in ancestor.generators:
                if isinstance(generator.target, ast.Name) and generator.target.id == node.id:
                    return _element(generator.iter, ctx, depth)
        elif isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return None
    return None


def defines(project: Project, klass: str, method: str) -> bool:
    """True when the project class (or a project base of it) defines `method` itself."""
    for name in (klass, *project.ancestors(klass)):
        facts = project.class_facts(name)
        if facts is not None and method in facts.methods:
            return True
    return False


def class_kind(node: ast.ClassDef, ctx: FileContext) -> str | None:
    """ "settings" or "model" for a class statement whose bases make it a Pydantic model."""
    project = ctx.project
    kind = None
    for base in node.bases:
        qualified = ctx.qualname(base)
        if not qualified or qualified.startswith(V1_PREFIXES):
            continue
        resolved = project.resolve(qualified)
        if resolved in SETTINGS_BASES or is_settings(project, resolved):
            return "settings"
        if resolved in MODEL_BASES or is_model(project, resolved):
            kind = "model"
    return kind


# --- Pydantic 1 pinned next to the file (monorepos declare dependencies per sub-project) ------

DEPENDENCY_FILES = (
    "requirements.txt",
    "requirements.in",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "Pipfile",
    "poetry.lock",
    "uv.lock",
)
REQUIREMENT = re.compile(r"""(?im)^[\s"']*pydantic\s*(?:\[[^\]]*\])?\s*([<>=~!][^;#\n"',]*)""")
LOCKED = re.compile(r'(?m)^name = "pydantic"\s*\nversion = "(\d+)\.')
FASTAPI = re.compile(r"""(?im)^[\s"']*fastapi\s*(?:\[[^\]]*\])?\s*([<>=~!][^;#\n"',]*)""")
SETUP = re.compile(r"""["']pydantic\s*(?:\[[^\]]*\])?\s*([<>=~!][^"';]*)["']""")


def v1_pinned(ctx: FileContext, path: str | None = None) -> bool:
    """True when the closest dependency file above this file (or `path`) that names pydantic
    keeps it below 2 (`pydantic==1.10.7`, `pydantic<2`, FastAPI before 0.100, a 1.x lock)."""
    project = ctx.project
    path = path or ctx.path
    if not (Path(project.root) / path).is_file():
        return False  # sources checked in memory: nothing on disk describes them
    cache = project.__dict__.setdefault("_bex_pydantic_pins", {})
    directory = PurePosixPath(path).parent
    chain = [directory, *directory.parents]
    for folder in chain:
        key = str(folder)
        if key not in cache:
            cache[key] = _pin_in(Path(project.root) / key)
        if cache[key] is not None:
            return cache[key]
    return False


def _pin_in(folder: Path) -> bool | None:
    """None: no file here names pydantic; else whether it is held below 2."""
    try:
        names = [p for p in folder.iterdir() if p.is_file() and _dependency_file(p.name)]
    except OSError:
        return None
    found: bool | None = None
    for path in sorted(names):
        try:
            text = path.read_text(errors="replace")[:200_000]
        except OSError:
            continue
        if path.name.endswith(".lock"):
            locked = LOCKED.search(text)
            if locked:
                return locked.group(1) == "1"
            continue
        for match in (*REQUIREMENT.finditer(text), *SETUP.finditer(text)):
            below = _below_two(match.group(1))
            if below is not None:
                found = found or below
        for match in FASTAPI.finditer(text):  # FastAPI before 0.100 requires Pydantic 1
            if _below(match.group(1), "0.100"):
                found = True
    return found


def _dependency_file(name: str) -> bool:
    return name in DEPENDENCY_FILES or (name.startswith("requirements") and name.endswith(".txt"))


def _below_two(spec: str) -> bool | None:
    return _below(spec, "2")


def _below(spec: str, limit: str) -> bool | None:
    """True when the specifier holds the library below `limit` (`==1.10.7`, `<2`, `~=1.10`);
    None when it cannot be read."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        specifiers = SpecifierSet(spec.strip().replace(" ", ""))
        ceiling = Version(limit)
        for item in specifiers:
            version = Version(item.version.rstrip(".*"))
            if item.operator in ("==", "===", "~=", "<=") and version < ceiling:
                return True
            if item.operator == "<" and version <= ceiling:
                return True
    except (InvalidSpecifier, InvalidVersion):
        return None
    return False


VERSION_WORDS = re.compile(r"version|pydantic|v1|v2|hasattr|model_dump|model_validate", re.I)
COMPAT_ERRORS = frozenset({"builtins.AttributeError", "builtins.ImportError", "builtins.TypeError"})


def in_compat_branch(ctx: FileContext) -> bool:
    """True inside code written for both Pydantic versions: a branch on the version (or on
    `hasattr(x, "model_dump")`), or a handler of the AttributeError the v2 name raises on v1."""
    for node in reversed(ctx.ancestors):
        if isinstance(node, (ast.If, ast.IfExp)) and VERSION_WORDS.search(ast.unparse(node.test)):
            return True
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            if any(ctx.qualname(t) in COMPAT_ERRORS for t in types):
                return True
    return False
