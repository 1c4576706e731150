"""The synchronous ORM evaluated inside `async def`: SynchronousOnlyOperation at run time."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import edit, rename_attribute
from backend_expert.findings import Applicability, Fix, Severity
from backend_expert.querysets import EVALUATING_METHODS, INSTANCE_METHODS, flow
from backend_expert.rules.base import Example, Explanation, Rule, visit, visit_call
from backend_expert.rules.django._orm_examples import blog

COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
EVALUATING_BUILTINS = frozenset({"list", "len", "bool", "tuple", "sorted", "set"})


class SyncOrmInAsync(Rule):
    code = "BEX406"
    slug = "django-sync-orm-in-async"
    pack = "django"
    severity = Severity.ERROR
    category = "correctness"
    frameworks = ("django",)
    fix_applicability = Applicability.UNSAFE
    requires_text = ("async",)  # only inside `async def`
    summary = (
        "The synchronous ORM is used inside `async def`: Django raises SynchronousOnlyOperation"
    )
    hint = "Use the async ORM (`aget`, `afirst`, `acount`, `asave`, `async for`) or wrap the code in `sync_to_async`."
    explanation = Explanation(
        what=(
            "Flags, inside an `async def` (an async view, consumer or task), calls that run a "
            "query synchronously on a queryset, manager or row of a known model: `.get()`, "
            "`.first()`, `.count()`, `.exists()`, `.create()`, `.update()`, `.delete()`, "
            "`.save()`..., and evaluating a queryset with `list()`, `len()`, `bool()`, an index "
            "(`qs[0]`), a plain `for` loop or a comprehension."
        ),
        why=(
            "Django refuses to run blocking database code in a thread with a running event "
            "loop: the call raises `SynchronousOnlyOperation`. Even where the check is turned "
            "off, the query would block the event loop and every other request it serves."
        ),
        use_instead=(
            "The async twins of the queryset and model methods (Django 4.1+, `asave`/`adelete` "
            "4.2+): `await Model.objects.aget(...)`, `afirst()`, `acount()`, `aexists()`, "
            "`acreate()`, `await obj.asave()`, and `async for row in qs` / "
            "`[row async for row in qs]`. Code with many ORM calls is better moved to a sync "
            "function called through `sync_to_async`."
        ),
        fix_safety=(
            "The fix awaits the async twin of the method (`Model.objects.get(...)` becomes "
            "`await Model.objects.aget(...)`). It is unsafe: the async method runs in a thread "
            "pool with its own connection handling, and a transaction opened around the old "
            "call does not extend to it. Loops and `list()` get no automatic fix."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/topics/async/#async-safety",
            "https://docs.djangoproject.com/en/stable/topics/db/queries/#asynchronous-queries",
        ),
    )
    fire = (
        Example(
            title="an async view using the sync ORM, models in another module",
            files=blog(
                {
                    "blog/views.py": """\
from django.http import JsonResponse

from blog.models import Post


async def post_detail(request, pk):
    post = Post.objects.get(pk=pk)  # flagged
    post.views = post.views + 1
    post.save()  # flagged
    titles = [p.title for p in Post.objects.filter(author=post.author_id)]  # flagged
    return JsonResponse({"title": post.title, "more": titles})
""",
                }
            ),
            fixed="""\
async def post_detail(request, pk):
    post = await Post.objects.aget(pk=pk)
    post.views = post.views + 1
    await post.asave()
    titles = [p.title async for p in Post.objects.filter(author=post.author_id)]
    return JsonResponse({"title": post.title, "more": titles})
""",
        ),
        Example(
            title="a loop, an index and a count in an async task",
            files=blog(
                {
                    "blog/tasks.py": """\
from blog.models import Comment


async def purge_spam():
    for comment in Comment.objects.filter(body__icontains="casino"):  # flagged
        print(comment.pk)
    newest = Comment.objects.order_by("-id")[0]  # flagged
    return newest, Comment.objects.count()  # flagged
""",
                }
            ),
        ),
    )
    clean = (
        Example(
            title="near miss: the async ORM and async iteration",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


async def post_detail(pk):
    post = await Post.objects.aget(pk=pk)
    await post.asave()
    titles = [p.title async for p in Post.objects.filter(status="published")]
    async for p in Post.objects.all():
        print(p.title)
    return post, titles, await Post.objects.acount()
""",
                }
            ),
        ),
        Example(
            title="near miss: sync code wrapped in sync_to_async",
            files=blog(
                {
                    "blog/views.py": """\
from asgiref.sync import sync_to_async

from blog.models import Post


async def post_titles():
    titles = await sync_to_async(lambda: [p.title for p in Post.objects.all()])()
    first = await sync_to_async(Post.objects.first)()
    return titles, first


@sync_to_async
def count_posts():
    return Post.objects.count()
""",
                }
            ),
        ),
        Example(
            title="near miss: building a queryset does not run it",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


async def published():
    return Post.objects.filter(status="published").order_by("-id")
""",
                }
            ),
        ),
        Example(
            title="near miss: a sync view, and an async function calling other objects' get()",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def detail(pk):
    return Post.objects.get(pk=pk)


async def fetch(cache, client):
    return cache.get("k"), await client.get("/")
""",
                }
            ),
        ),
    )

    @visit_call(EVALUATING_METHODS, INSTANCE_METHODS, EVALUATING_BUILTINS)
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr not in EVALUATING_METHODS and func.attr not in INSTANCE_METHODS:
                return
        elif not (isinstance(func, ast.Name) and func.id in EVALUATING_BUILTINS):
            return
        if not ctx.in_async_function():
            return
        queryset_flow = flow(ctx)
        if queryset_flow is None:
            return
        function = ctx.enclosing_function()
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr in EVALUATING_METHODS:
                base = queryset_flow.source(func.value, function)
                if base is None or base.evaluated:
                    return
                self._report_method(node, func, EVALUATING_METHODS[func.attr], ctx)
            elif func.attr in INSTANCE_METHODS:
                row = queryset_flow.instance(func.value, function)
                if row is None:
                    return
                self._report_method(node, func, INSTANCE_METHODS[func.attr], ctx)
            return
        if (
            isinstance(func, ast.Name)
            and func.id in EVALUATING_BUILTINS
            and len(node.args) == 1
            and ctx.qualname(func) == f"builtins.{func.id}"
        ):
            queryset = queryset_flow.queryset(node.args[0], function)
            if queryset is None or queryset.evaluated:
                return
            model = queryset.model.rpartition(".")[2]
            ctx.report(
                node,
                f"`{func.id}()` runs the `{model}` query synchronously inside `async def`: Django "
                "raises SynchronousOnlyOperation; collect the rows with "
                "`[row async for row in queryset]`",
            )

    @visit(ast.Subscript)
    def check_index(self, node: ast.Subscript, ctx: FileContext) -> None:
        """`qs[0]` runs a query for one row (a slice `qs[:5]` does not, until iterated)."""
        if isinstance(node.slice, ast.Slice) or not isinstance(node.ctx, ast.Load):
            return
        if not ctx.in_async_function():
            return
        queryset_flow = flow(ctx)
        if queryset_flow is None:
            return
        queryset = queryset_flow.queryset(node.value, ctx.enclosing_function())
        if queryset is None or queryset.evaluated:
            return
        model = queryset.model.rpartition(".")[2]
        ctx.report(
            node,
            f"Indexing the `{model}` queryset runs the query synchronously inside `async def`: "
            "Django raises SynchronousOnlyOperation; use `await ....afirst()` or an `async for`",
        )

    @visit(ast.For, *COMPREHENSIONS)
    def check_loop(self, node: ast.AST, ctx: FileContext) -> None:
        if isinstance(node, ast.For):
            iterable = node.iter
            if not ctx.in_async_function():
                return
        else:
            generator = node.generators[0]  # type: ignore[attr-defined]
            if generator.is_async or not ctx.in_async_function():
                return
            iterable = generator.iter
        queryset_flow = flow(ctx)
        if queryset_flow is None:
            return
        queryset = queryset_flow.queryset(iterable, ctx.enclosing_function())
        if queryset is None or queryset.evaluated:
            return
        model = queryset.model.rpartition(".")[2]
        how = "`async for`" if isinstance(node, ast.For) else "`async for` in the comprehension"
        end = iterable if isinstance(node, ast.For) else node
        ctx.report(
            node,
            f"Iterating the `{model}` queryset runs the query synchronously inside `async def`: "
            f"Django raises SynchronousOnlyOperation; use {how}",
            end_node=end if isinstance(node, ast.For) else None,
            fix=_async_for(node, ctx),
        )

    @staticmethod
    def _report_method(node: ast.Call, func: ast.Attribute, twin: str, ctx: FileContext) -> None:
        parent = ctx.parent()
        fix = None
        simple = not (
            isinstance(parent, (ast.Attribute, ast.Subscript, ast.Await, ast.Starred))
            or (isinstance(parent, ast.Call) and parent.func is node)
        )
        if simple and func.attr != "iterator":
            start = (node.lineno, node.col_offset)
            fix = Fix(
                f"Await `{twin}()`",
                (edit(ctx, start, start, "await "), rename_attribute(ctx, func, twin)),
                Applicability.UNSAFE,
            )
        receiver = ast.unparse(func.value)
        if len(receiver) > 40 or "\n" in receiver:
            receiver = "..."
        shown = f"{receiver}.{func.attr}"
        advice = (
            f"iterate with `async for row in {receiver}.{twin}()`"
            if func.attr == "iterator"
            else f"use `await {receiver}.{twin}(...)`"
        )
        ctx.report(
            node,
            f"`{shown}()` runs a synchronous query inside `async def`: Django raises "
            f"SynchronousOnlyOperation; {advice}",
            fix=fix,
        )


def _async_for(node: ast.AST, ctx: FileContext) -> Fix | None:
    """`for` -> `async for` in a loop statement or a list/set/dict comprehension.

    Generator expressions are left alone: an async one is an async generator, which
    the code around it (`list(...)`, `sum(...)`) cannot consume.
    """
    if isinstance(node, ast.For):
        start = (node.lineno, node.col_offset)
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp)):
        before = node.value if isinstance(node, ast.DictComp) else node.elt
        target = node.generators[0].target
        start = _keyword_for(ctx, before, target)
        if start is None:
            return None
    else:
        return None
    return Fix(
        "Iterate with `async for`", (edit(ctx, start, start, "async "),), Applicability.UNSAFE
    )


def _keyword_for(ctx: FileContext, before: ast.AST, target: ast.AST) -> tuple[int, int] | None:
    """Where the `for` between a comprehension's element and its target starts (line, byte)."""
    line, end_line = before.end_lineno, target.lineno  # type: ignore[attr-defined]
    if line is None or line != end_line:
        return None  # spread over lines: not worth the risk
    text = ctx.source.line(line).encode()
    gap = text[before.end_col_offset : target.col_offset]  # type: ignore[attr-defined]
    found = gap.rfind(b"for")
    if b"#" in gap or found < 0 or gap.count(b"for") != 1:
        return None
    return line, before.end_col_offset + found  # type: ignore[attr-defined]
