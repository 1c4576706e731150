"""`Model.objects.create()` (or `Model(...).save()`) once per iteration of a loop."""

from __future__ import annotations

import ast

from backend_expert.check import FUNCTION_TYPES, FileContext
from backend_expert.findings import Severity
from backend_expert.querysets import flow
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.rules.django._orm import in_migrations
from backend_expert.rules.django._orm_examples import blog

LOOPS = (ast.For, ast.AsyncFor, ast.While)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def enclosing_loop(node: ast.AST, ctx: FileContext) -> ast.AST | None:
    """The innermost loop of the current function whose body (not its iterable) holds `node`."""
    child = node
    for parent in reversed(ctx.ancestors):
        if isinstance(parent, (*FUNCTION_TYPES, ast.ClassDef)):
            return None
        if (
            isinstance(parent, LOOPS)
            and child is not getattr(parent, "iter", None)
            and child is not getattr(parent, "test", None)
            and child not in parent.orelse
        ):
            return parent
        if isinstance(parent, COMPREHENSIONS) and child is not parent.generators[0].iter:
            return parent
        child = parent
    return None


def small_constant_loop(loop: ast.AST) -> bool:
    """`for x in ("a", "b", "c")`: a fixed handful of iterations."""
    iterable = getattr(loop, "iter", None)
    if iterable is None and isinstance(loop, COMPREHENSIONS):
        iterable = loop.generators[0].iter
    if isinstance(iterable, (ast.Tuple, ast.List, ast.Set)):
        return len(iterable.elts) <= 5
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "range"
        and len(iterable.args) == 1
    ):
        bound = iterable.args[0]
        return isinstance(bound, ast.Constant) and isinstance(bound.value, int) and bound.value <= 5
    return False


def in_fallback(node: ast.AST, loop: ast.AST, ctx: FileContext) -> bool:
    """True inside an `except` handler under the loop: a get-or-create fallback, row by row."""
    for parent in reversed(ctx.ancestors):
        if parent is loop:
            return False
        if isinstance(parent, ast.ExceptHandler):
            return True
    return False


READS = frozenset({"filter", "get", "exclude", "first", "last", "exists", "get_or_create"})


def upsert(model: str, loop: ast.AST, flow_, function) -> bool:
    """True when the loop also looks rows of the model up: an update-or-create, row by row."""
    for node in ast.walk(loop):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in READS
        ):
            source = flow_.source(node.func.value, function)
            if source is not None and source.model == model:
                return True
    return False


def used_after(name: str | None, write: ast.Call, loop: ast.AST) -> bool:
    """True when the loop goes on using the new row after writing it: a method call on it
    (`obj.tags.add()`, `obj.assign_all_checks()`) or a call it is passed to. Each row needs its
    key right away, which `bulk_create` would give only at the end."""
    if name is None:
        return False
    after = write.end_lineno or write.lineno
    for node in ast.walk(loop):
        if not isinstance(node, ast.Call) or node is write or node.lineno < after:
            continue
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id == name and root is not node.func:
            return True
        values = [*node.args, *(k.value for k in node.keywords)]
        if any(isinstance(v, ast.Name) and v.id == name for v in values):
            return True
    return False


def inside(node: ast.AST, loop: ast.AST) -> bool:
    return (
        loop.lineno <= node.lineno  # type: ignore[attr-defined]
        and node.end_lineno <= loop.end_lineno  # type: ignore[attr-defined]
    )


class CreateInLoop(Rule):
    code = "BEX405"
    slug = "django-create-in-loop"
    pack = "django"
    severity = Severity.WARNING
    category = "performance"
    frameworks = ("django",)
    skip_tests = True
    summary = "Rows are inserted one query per loop iteration"
    hint = "Collect the objects in a list and insert them with one `bulk_create()`."
    explanation = Explanation(
        what=(
            "Flags `Model.objects.create(...)` (also through a related manager, "
            "`order.items.create(...)`) and `obj.save()` of an object built in the loop "
            "(`obj = Model(...)`), inside a `for`/`while` loop or a comprehension."
        ),
        why=(
            "Each call is a separate INSERT and a round trip to the database, in its own "
            "transaction unless one is open: importing 10,000 rows makes 10,000 queries, and a "
            "failure halfway leaves half of them written."
        ),
        use_instead=(
            "Build the instances in a list and write them with `Model.objects.bulk_create(objs, "
            "batch_size=...)` (one query per batch). For changes to existing rows use "
            "`bulk_update(objs, fields)` or a queryset `update()`. Note that `bulk_create` does "
            "not call `save()` or send `pre_save`/`post_save` signals: move logic that lives "
            "there before the call."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#bulk-create",
            "https://docs.djangoproject.com/en/stable/topics/db/optimization/#create-in-bulk",
        ),
    )
    fire = (
        Example(
            title="create() and save() of new objects in loops, models in another module",
            files=blog(
                {
                    "blog/imports.py": """\
from blog.models import Comment, Post, Tag


def import_tags(labels):
    for label in labels:
        Tag.objects.create(label=label)  # flagged


def import_comments(post: Post, rows):
    for row in rows:
        comment = Comment(post=post, author_id=row["author"], body=row["body"])
        comment.save()  # flagged


def copy_comments(source: Post, target: Post):
    return [target.comments.create(author=c.author, body=c.body) for c in source.comments.all()]  # flagged
""",
                }
            ),
            fixed="""\
def import_tags(labels):
    Tag.objects.bulk_create([Tag(label=label) for label in labels])


def import_comments(post: Post, rows):
    Comment.objects.bulk_create(
        [Comment(post=post, author_id=r["author"], body=r["body"]) for r in rows]
    )
""",
        ),
    )
    clean = (
        Example(
            title="near miss: bulk_create, and one create() outside the loop",
            files=blog(
                {
                    "blog/imports.py": """\
from blog.models import Tag


def import_tags(labels):
    Tag.objects.bulk_create([Tag(label=label) for label in labels])
    return Tag.objects.create(label="imported")
""",
                }
            ),
        ),
        Example(
            title="near miss: a fixed handful of rows, and create() on something that is not a manager",
            files=blog(
                {
                    "blog/setup.py": """\
from blog.models import Tag


def defaults(factory, items):
    for label in ("news", "release", "howto"):
        Tag.objects.create(label=label)
    for item in items:
        factory.create(item)
""",
                }
            ),
        ),
        Example(
            title="near miss: saving an existing row, and an object built outside the loop",
            files=blog(
                {
                    "blog/update.py": """\
from blog.models import Post


def touch(pk, titles):
    post = Post.objects.get(pk=pk)
    draft = Post(title="draft")
    for title in titles:
        post.title = title
        post.save()
        draft.save()
""",
                }
            ),
        ),
        Example(
            title="near miss: get-or-create and update-or-create row by row, related rows written through the new object, a model with a save signal",
            files=blog(
                {
                    "blog/signals.py": """\
from django.db.models.signals import post_save
from django.dispatch import receiver

from blog.models import Comment


@receiver(post_save, sender=Comment)
def notify(sender, instance, created, **kwargs):
    ...
""",
                    "blog/sync.py": """\
from blog.models import Comment, Post, Tag


def sync_tags(labels):
    for label in labels:
        try:
            Tag.objects.get(label=label)
        except Tag.DoesNotExist:
            Tag.objects.create(label=label)


def copy_posts(posts, tags):
    for old in posts:
        post = Post.objects.create(title=old.title, author=old.author)
        post.tags.set(tags)


def import_comments(post, rows):
    for row in rows:
        Comment.objects.create(post=post, author_id=row["author"], body=row["body"])


def upsert_tags(pairs):
    for old, new in pairs:
        updated = Tag.objects.filter(label=old).update(label=new)
        if not updated:
            Tag.objects.create(label=new)
""",
                }
            ),
        ),
        Example(
            title="near miss: a data migration",
            files=blog(
                {
                    "blog/migrations/__init__.py": "",
                    "blog/migrations/0002_seed.py": """\
from django.db import migrations

from blog.models import Tag


def seed(apps, schema_editor):
    for label in ["a", "b", "c", "d", "e", "f", "g"]:
        Tag.objects.create(label=label)


class Migration(migrations.Migration):
    operations = [migrations.RunPython(seed)]
""",
                }
            ),
        ),
    )

    @visit_call("create", "acreate", "save", "asave")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in (
            "create",
            "acreate",
            "save",
            "asave",
        ):
            return
        loop = enclosing_loop(node, ctx)
        if (
            loop is None
            or small_constant_loop(loop)
            or in_migrations(ctx)
            or in_fallback(node, loop, ctx)
        ):
            return
        queryset_flow = flow(ctx)
        if queryset_flow is None:
            return
        function = ctx.enclosing_function()
        if func.attr in ("create", "acreate"):
            base = queryset_flow.source(func.value, function)
            if (
                base is None
                or queryset_flow.models.saves_have_side_effects(base.model)
                or upsert(base.model, loop, queryset_flow, function)
            ):
                return
            parent = ctx.parent()
            target = (
                parent.targets[0]
                if isinstance(parent, ast.Assign) and len(parent.targets) == 1
                else None
            )
            if used_after(target.id if isinstance(target, ast.Name) else None, node, loop):
                return
            model = base.model.rpartition(".")[2]
            ctx.report(
                node,
                f"`{ast.unparse(func)}()` inside a loop runs one INSERT per iteration; build "
                f"the `{model}` objects in a list and insert them with "
                f"`{model}.objects.bulk_create(objs)`",
            )
            return
        if not isinstance(func.value, ast.Name) or function is None:
            return
        values = ctx.scope(function).values(func.value.id)
        if len(values) != 1 or not inside(values[0], loop):
            return
        row = queryset_flow.instance(func.value, function)
        if row is None or not row.new or not isinstance(values[0], ast.Call):
            return
        if (
            queryset_flow.models.saves_have_side_effects(row.model)
            or used_after(func.value.id, node, loop)
            or upsert(row.model, loop, queryset_flow, function)
        ):
            return
        model = row.model.rpartition(".")[2]
        ctx.report(
            node,
            f"`{func.value.id}.{func.attr}()` inserts one new `{model}` per loop iteration; "
            f"collect the objects in a list and insert them with "
            f"`{model}.objects.bulk_create(objs)`",
        )
