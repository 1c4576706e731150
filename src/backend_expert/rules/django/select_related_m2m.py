"""`select_related()` given a many-to-many or reverse ForeignKey: a FieldError at run time."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.django_models import Field, Relation
from backend_expert.edits import edit, node_text, rename_attribute
from backend_expert.findings import Applicability, Fix, Severity
from backend_expert.querysets import flow
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.rules.django._orm_examples import blog

KINDS = {
    "m2m": "a many-to-many field",
    "reverse_fk": "a reverse ForeignKey (one-to-many)",
    "reverse_m2m": "a reverse many-to-many relation",
    "generic": "a GenericRelation",
    "gfk": "a GenericForeignKey",
}


def invalid_segment(models, model: str, path: str) -> tuple[str, str] | None:
    """(segment, kind) of the first part of `path` that select_related cannot follow.

    None when the whole path is made of ForeignKey/OneToOne steps, or when bex cannot tell.
    """
    current: str | None = model
    for segment in path.split("__"):
        if current is None:
            return None
        found = models.lookup(current, segment)
        if found is None or isinstance(found, Field):
            return None
        assert isinstance(found, Relation)
        if found.kind in KINDS:
            return segment, found.kind
        current = found.target
    return None


class SelectRelatedM2M(Rule):
    code = "BEX402"
    slug = "django-select-related-m2m"
    pack = "django"
    severity = Severity.ERROR
    category = "correctness"
    frameworks = ("django",)
    fix_applicability = Applicability.SAFE
    summary = "`select_related()` names a many-to-many or reverse relation, which it cannot follow"
    hint = "Use `prefetch_related(...)` for many-to-many and reverse ForeignKey relations."
    explanation = Explanation(
        what=(
            'Flags `select_related("x")` where `x` (or a later step of `x__y`) is a '
            "many-to-many field, a reverse ForeignKey (`author.posts`), a reverse many-to-many "
            "or a generic relation, on a queryset whose model bex knows."
        ),
        why=(
            "`select_related` loads related rows with a SQL JOIN, which can only bring back "
            "one related row per row: it follows ForeignKey and OneToOne fields only. Given a "
            "many-valued relation, Django raises `FieldError: Invalid field name(s) given in "
            "select_related` when the queryset is evaluated, so the page fails at run time, "
            "often only on the code path that was not tested."
        ),
        use_instead=(
            '`prefetch_related("x")` loads many-valued relations with one extra query per '
            "relation and joins them in Python. Keep ForeignKey/OneToOne steps in "
            "`select_related` and move the others to `prefetch_related`."
        ),
        fix_safety=(
            "When every argument is a many-valued relation, renaming the call to "
            "`prefetch_related` is safe: the original call can only raise, and the prefetch "
            "loads the same relations. With a mix of valid and invalid arguments no fix is "
            "offered: the arguments must be split by hand."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#select-related",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#prefetch-related",
        ),
    )
    fire = (
        Example(
            title="a many-to-many field and a reverse ForeignKey, models in another module",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Author, Post


def posts_with_tags():
    return Post.objects.select_related("tags")  # flagged


def authors():
    return Author.objects.filter(name__startswith="A").select_related("posts")  # flagged


def comments_of_posts():
    return Post.objects.select_related("author", "comments")  # flagged
""",
                }
            ),
            fixed="""\
def posts_with_tags():
    return Post.objects.prefetch_related("tags")


def authors():
    return Author.objects.filter(name__startswith="A").prefetch_related("posts")


def comments_of_posts():
    return Post.objects.select_related("author").prefetch_related("comments")
""",
        ),
        Example(
            title="a nested lookup whose second step is many-valued",
            files=blog(
                {
                    "blog/feed.py": """\
from blog.models import Comment


def comments():
    return Comment.objects.select_related("post__tags")  # flagged
""",
                }
            ),
        ),
    )
    clean = (
        Example(
            title="near miss: ForeignKey and OneToOne chains, also nested",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Comment, Post


def posts():
    return Post.objects.select_related("author", "author__user__profile")


def comments():
    return Comment.objects.select_related("post__author")
""",
                }
            ),
        ),
        Example(
            title="near miss: prefetch_related for many-valued relations",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def posts():
    return Post.objects.prefetch_related("tags", "comments__author")
""",
                }
            ),
        ),
        Example(
            title="near miss: a name bex cannot find on the model, and an unknown receiver",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def posts(queryset, name):
    queryset.select_related("tags")
    return Post.objects.select_related("publisher", name)
""",
                }
            ),
        ),
        Example(
            title="near miss: a reverse OneToOne is a single row: select_related follows it",
            files=blog(
                {
                    "blog/users.py": """\
from django.contrib.auth import get_user_model


def users():
    return get_user_model().objects.select_related("profile")


def by_model(User):
    return User.objects.select_related("profile")
""",
                }
            ),
        ),
    )

    @visit_call("select_related")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr != "select_related" or not node.args:
            return
        queryset_flow = flow(ctx)
        if queryset_flow is None:
            return
        base = queryset_flow.source(func.value, ctx.enclosing_function())
        if base is None or base.values:
            return
        invalid: list[tuple[str, str, str]] = []
        valid = 0
        for arg in node.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                return
            found = invalid_segment(queryset_flow.models, base.model, arg.value)
            if found is None:
                valid += 1
            else:
                invalid.append((arg.value, *found))
        if not invalid:
            return
        model = base.model.rpartition(".")[2]
        described = "; ".join(
            f'"{path}": `{segment}` is {KINDS[kind]}' for path, segment, kind in invalid
        )
        names = ", ".join(f'"{path}"' for path, _, _ in invalid)
        fix = None
        if valid == 0:
            message = (
                f"`select_related()` cannot follow many-valued relations of `{model}` "
                f"({described}); Django raises FieldError when the queryset runs. Use "
                f"`prefetch_related({names})`"
            )
            fix = Fix(
                "Use `prefetch_related`",
                (rename_attribute(ctx, func, "prefetch_related"),),
                Applicability.SAFE,
            )
        else:
            fix = _split(ctx, node, func, {path for path, _, _ in invalid})
            message = (
                f"`select_related()` cannot follow many-valued relations of `{model}` "
                f"({described}); Django raises FieldError when the queryset runs. Move "
                f"{names} to `.prefetch_related({names})`"
            )
        ctx.report(node, message, fix=fix)


def _split(ctx: FileContext, node: ast.Call, func: ast.Attribute, invalid: set[str]) -> Fix | None:
    """`.select_related("a", "m2m")` -> `.select_related("a").prefetch_related("m2m")`."""
    if node.keywords or func.value.end_lineno != node.end_lineno:
        return None  # keep multi-line calls (and their comments) as written
    kept = [node_text(ctx, a) for a in node.args if a.value not in invalid]  # type: ignore[attr-defined]
    moved = [node_text(ctx, a) for a in node.args if a.value in invalid]  # type: ignore[attr-defined]
    content = f".select_related({', '.join(kept)}).prefetch_related({', '.join(moved)})"
    start = (func.value.end_lineno, func.value.end_col_offset)
    end = (node.end_lineno, node.end_col_offset)
    return Fix(
        "Move the many-valued relations to `prefetch_related`",
        (edit(ctx, start, end, content),),  # type: ignore[arg-type]
        Applicability.SAFE,
    )
