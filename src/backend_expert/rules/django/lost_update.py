"""`obj.n += 1; obj.save()`: read-modify-write in Python loses concurrent updates."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import node_text
from backend_expert.findings import Severity
from backend_expert.querysets import flow
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.django._orm import in_migrations
from backend_expert.rules.django._orm_examples import blog

OPERATORS = {ast.Add: "+", ast.Sub: "-"}
SAVES = frozenset({"save", "asave"})


def _saved_after(
    ctx: FileContext, function: ast.AST, name: str, field: str, line: int
) -> ast.Call | None:
    """The first `name.save()` after `line` that writes `field`."""
    for node in ctx.own_nodes(function):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SAVES
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
            and node.lineno > line
        ):
            continue
        fields = next((k.value for k in node.keywords if k.arg == "update_fields"), None)
        if (
            isinstance(fields, (ast.List, ast.Tuple, ast.Set))
            and all(isinstance(e, ast.Constant) for e in fields.elts)
            and field not in {e.value for e in fields.elts}  # type: ignore[attr-defined]
        ):
            continue  # saves other fields only
        return node
    return None


class LostUpdate(Rule):
    code = "BEX404"
    slug = "django-lost-update"
    pack = "django"
    severity = Severity.WARNING
    category = "correctness"
    frameworks = ("django",)
    skip_tests = True
    summary = "A counter is incremented in Python and saved back: concurrent updates are lost"
    hint = 'Let the database compute it: `.update(field=F("field") + n)` or `obj.field = F("field") + n`.'
    explanation = Explanation(
        what=(
            "Flags `obj.field += n` (or `obj.field = obj.field + n`, also `-`) on a numeric field "
            "of a model row read from the database in the same function (`.get()`, `.first()`, "
            "`get_object_or_404`, a loop over a queryset), followed by `obj.save()`. Rows "
            "passed in as parameters and `self` are left alone: the caller may have locked them."
        ),
        why=(
            "The new value is computed from the value this process read earlier. When two "
            "requests do it at the same time, both read 10, both write 11, and one increment "
            "is lost: stock goes wrong, counters drift, balances lose money. A transaction "
            "alone does not prevent it at the default isolation level."
        ),
        use_instead=(
            "Make the database do the arithmetic in one statement: "
            '`Model.objects.filter(pk=obj.pk).update(field=F("field") + n)`, or assign '
            '`obj.field = F("field") + n` before `obj.save(update_fields=["field"])` (then '
            '`obj.refresh_from_db(fields=["field"])` to read the result). When the new value '
            "needs Python logic, lock the row first with `select_for_update()` inside "
            "`transaction.atomic()`."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/expressions/#avoiding-race-conditions-using-f",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#select-for-update",
        ),
    )
    fire = (
        Example(
            title="an increment of a row fetched by id, and of every row of a loop",
            files=blog(
                {
                    "blog/views.py": """\
from django.shortcuts import get_object_or_404

from blog.models import Post


def view_post(request, pk):
    post = get_object_or_404(Post, pk=pk)
    post.views += 1  # flagged
    post.save(update_fields=["views"])
    return post


def reset(author):
    for post in Post.objects.filter(author=author):
        post.views = post.views - 10  # flagged
        post.save()
""",
                }
            ),
            fixed="""\
from django.db.models import F


def view_post(request, pk):
    post = get_object_or_404(Post, pk=pk)
    Post.objects.filter(pk=post.pk).update(views=F("views") + 1)
    post.refresh_from_db(fields=["views"])
    return post


def reset(author):
    Post.objects.filter(author=author).update(views=F("views") - 10)
""",
        ),
        Example(
            title="a row read with first() inside a transaction, without a lock",
            files=blog(
                {
                    "blog/services.py": """\
from django.db import transaction

from blog.models import Post


def bump_latest(author, by: int) -> None:
    with transaction.atomic():
        post = Post.objects.filter(author=author).order_by("-id").first()
        post.views = by + post.views  # flagged
        post.save()
""",
                }
            ),
        ),
    )
    clean = (
        Example(
            title="near miss: F() expressions and a queryset update",
            files=blog(
                {
                    "blog/views.py": """\
from django.db.models import F

from blog.models import Post


def view_post(pk):
    post = Post.objects.get(pk=pk)
    post.views = F("views") + 1
    post.save(update_fields=["views"])
    Post.objects.filter(pk=pk).update(views=F("views") + 1)
""",
                }
            ),
        ),
        Example(
            title="near miss: the row is locked with select_for_update() inside atomic()",
            files=blog(
                {
                    "blog/views.py": """\
from django.db import transaction

from blog.models import Post


def view_post(pk):
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=pk)
        post.views += 1
        post.save()
""",
                }
            ),
        ),
        Example(
            title="near miss: a new object, a field not saved, and a non-numeric field",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def draft(author, pk):
    post = Post(author=author, title="x", status="draft")
    post.views += 1
    post.save()
    other = Post.objects.get(pk=pk)
    other.views += 1
    other.title += " (edited)"
    other.save(update_fields=["title"])
""",
                }
            ),
        ),
        Example(
            title="near miss: a row passed in, or `self`: the caller may hold a lock on it",
            files=blog(
                {
                    "blog/services.py": """\
from django.db import models

from blog.models import Post


def bump(post: Post, by: int) -> None:
    post.views += by
    post.save()


class Counter(models.Model):
    hits = models.IntegerField(default=0)

    def hit(self):
        self.hits += 1
        self.save()
""",
                }
            ),
        ),
        Example(
            title="near miss: a local counter and an object that is not a model row",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def count(stats):
    total = 0
    for post in Post.objects.all():
        total += post.views
    stats.views += total
    stats.save()
""",
                }
            ),
        ),
    )

    @visit(ast.AugAssign)
    def check_augmented(self, node: ast.AugAssign, ctx: FileContext) -> None:
        if type(node.op) in OPERATORS:
            self._check(node, node.target, node.value, OPERATORS[type(node.op)], ctx)

    @visit(ast.Assign)
    def check_assign(self, node: ast.Assign, ctx: FileContext) -> None:
        if len(node.targets) != 1 or not isinstance(node.value, ast.BinOp):
            return
        target, value = node.targets[0], node.value
        if type(value.op) not in OPERATORS or not isinstance(target, ast.Attribute):
            return
        same = ast.dump(target.value), target.attr
        for side, other in ((value.left, value.right), (value.right, value.left)):
            if (
                isinstance(side, ast.Attribute)
                and (ast.dump(side.value), side.attr) == same
                and (side is value.left or isinstance(value.op, ast.Add))
            ):
                self._check(node, target, other, OPERATORS[type(value.op)], ctx)
                return

    def _check(
        self, node: ast.stmt, target: ast.AST, amount: ast.AST, op: str, ctx: FileContext
    ) -> None:
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
            return
        function = ctx.enclosing_function()
        queryset_flow = flow(ctx)
        if function is None or queryset_flow is None or in_migrations(ctx):
            return
        row = queryset_flow.instance(target.value, function)
        if row is None or row.new or row.source is None or row.source.locked:
            return  # a row from elsewhere (`self`, a parameter) may be locked by the caller
        model = queryset_flow.models.model(row.model)
        field = model.fields.get(target.attr) if model else None
        if field is None or not field.numeric or model is None:
            return
        name = target.value.id
        save = _saved_after(ctx, function, name, target.attr, node.lineno)
        if save is None:
            return
        amount_text = node_text(ctx, amount)
        if len(amount_text) > 30 or "\n" in amount_text:
            amount_text = "n"
        f = target.attr
        ctx.report(
            node,
            f"`{name}.{f}` is computed in Python from the value read earlier and saved with "
            f"`{name}.{save.func.attr}()`: a concurrent change in between is lost. Let the "  # type: ignore[union-attr]
            f'database do it: `{model.name}.objects.filter(pk={name}.pk).update({f}=F("{f}") '
            f"{op} {amount_text})`",
        )
