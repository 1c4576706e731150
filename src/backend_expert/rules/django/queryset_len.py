"""`len(queryset)`, `if queryset:`, `queryset.count() > 0`: rows loaded (or counted) for a number or a test."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import node_text, replace_node
from backend_expert.findings import Applicability, Fix, Severity
from backend_expert.infer import FunctionNode
from backend_expert.querysets import QuerySet, flow
from backend_expert.rules.base import Example, Explanation, Rule, visit, visit_call
from backend_expert.rules.django._orm import short
from backend_expert.rules.django._orm_examples import blog

ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript)
# Parents under which `not x.exists()` can replace a comparison without parentheses.
LOOSE_PARENTS = (ast.If, ast.While, ast.IfExp, ast.BoolOp, ast.Assert, ast.Return, ast.Assign)


def _zero_test(node: ast.Compare) -> bool | None:
    """For `n > 0`, `n != 0`, `n >= 1`: True (some); `n == 0`, `n < 1`: False (none); else None."""
    if len(node.ops) != 1 or not isinstance(node.comparators[0], ast.Constant):
        return None
    op, value = node.ops[0], node.comparators[0].value
    if type(value) is not int:
        return None
    if (isinstance(op, (ast.Gt, ast.NotEq)) and value == 0) or (
        isinstance(op, ast.GtE) and value == 1
    ):
        return True
    if (isinstance(op, ast.Eq) and value == 0) or (isinstance(op, ast.Lt) and value == 1):
        return False
    return None


def reused(name: str, node: ast.AST, function: FunctionNode, ctx: FileContext) -> bool:
    """True when local `name` is read anywhere in the function other than at `node`."""
    for other in ctx.own_nodes(function):
        if (
            isinstance(other, ast.Name)
            and other.id == name
            and isinstance(other.ctx, ast.Load)
            and other is not node
        ):
            return True
    return False


class QuerysetLen(Rule):
    code = "BEX403"
    slug = "django-queryset-len"
    pack = "django"
    severity = Severity.WARNING
    category = "performance"
    frameworks = ("django",)
    skip_tests = True
    fix_applicability = Applicability.SAFE
    summary = "A queryset's rows are loaded only to be counted or tested for emptiness"
    hint = "Use `.count()` for a number and `.exists()` for a yes/no question."
    explanation = Explanation(
        what=(
            "Flags `len(qs)` where the rows of `qs` are not used afterwards, `len(qs) > 0` and "
            "`if qs:` used only as a test, and `qs.count() > 0`, on querysets of models bex "
            "knows."
        ),
        why=(
            "`len()` and a truth test evaluate the queryset: every matching row is fetched and "
            "turned into a model instance, to produce a number or a boolean. `.count()` asks "
            "the database for `SELECT COUNT(*)`, and `.exists()` for at most one row, which is "
            "cheaper still than counting all of them when only 'is there any?' matters. On a "
            "large table the difference is seconds and megabytes per request."
        ),
        use_instead=(
            "`qs.count()` for the number, `qs.exists()` (or `not qs.exists()`) for the test. "
            "When the rows are needed anyway, evaluate once and keep them: `rows = list(qs)`, "
            "then `len(rows)`."
        ),
        fix_safety=(
            "The fix is offered only where the queryset is not read again in the function, so "
            "no later loop depends on the rows `len()` or the test had loaded into its cache."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#count",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#exists",
            "https://docs.djangoproject.com/en/stable/topics/db/optimization/#don-t-overuse-count-and-exists",
        ),
    )
    fire = (
        Example(
            title="len() of a queryset, a truth test and a count compared with zero",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Comment, Post


def dashboard(author):
    published = len(Post.objects.filter(author=author, status="published"))  # flagged
    drafts = Post.objects.filter(author=author, status="draft")
    if drafts:  # flagged
        print("you have drafts")
    if Comment.objects.filter(post__author=author).count() > 0:  # flagged
        print("you have comments")
    return published
""",
                }
            ),
            fixed="""\
def dashboard(author):
    published = Post.objects.filter(author=author, status="published").count()
    drafts = Post.objects.filter(author=author, status="draft")
    if drafts.exists():
        print("you have drafts")
    if Comment.objects.filter(post__author=author).exists():
        print("you have comments")
    return published
""",
        ),
        Example(
            title="a comparison of len() with zero",
            files=blog(
                {
                    "blog/checks.py": """\
from blog.models import Post


def has_no_posts(author) -> bool:
    posts = Post.objects.filter(author=author)
    return len(posts) == 0  # flagged
""",
                }
            ),
        ),
    )
    clean = (
        Example(
            title="near miss: the queryset is iterated after len(), which filled its cache",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def listing():
    posts = Post.objects.filter(status="published")
    total = len(posts)
    return total, [p.title for p in posts]
""",
                }
            ),
        ),
        Example(
            title="near miss: the truth test is followed by a use of the rows",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def latest():
    posts = Post.objects.order_by("-id")[:5]
    if posts:
        return posts[0]
    return None
""",
                }
            ),
        ),
        Example(
            title="near miss: a list of rows, a parameter and a prefetched related manager",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def sizes(posts_qs):
    rows = list(Post.objects.all())
    print(len(rows), len(posts_qs))
    for post in Post.objects.prefetch_related("comments"):
        print(len(post.comments.all()))
""",
                }
            ),
        ),
        Example(
            title="near miss: count() used as a number, exists() used as a test",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def stats():
    total = Post.objects.count()
    if Post.objects.filter(status="draft").exists():
        print("drafts")
    return total > 10
""",
                }
            ),
        ),
    )

    def _queryset(self, node: ast.AST, ctx: FileContext) -> QuerySet | None:
        queryset_flow = flow(ctx)
        if queryset_flow is None or ctx.in_async_function():
            return None  # in async code the sync ORM itself is the problem (BEX406)
        found = queryset_flow.queryset(node, ctx.enclosing_function())
        if found is None or found.evaluated or found.related or found.external:
            return None
        return found

    def _fresh(self, node: ast.AST, ctx: FileContext) -> bool:
        """True when the queryset expression is not read anywhere else in the function."""
        if not isinstance(node, ast.Name):
            return True
        function = ctx.enclosing_function()
        return function is not None and not reused(node.id, node, function, ctx)

    @visit_call("len", "bool", "count")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id in ("len", "bool")
            and len(node.args) == 1
            and not node.keywords
        ):
            target = node.args[0]
            if ctx.qualname(func) != f"builtins.{func.id}" or not isinstance(target, ATOMS):
                return
            queryset = self._queryset(target, ctx)
            if queryset is None or not self._fresh(target, ctx):
                return
            text = node_text(ctx, target)
            model = queryset.model.rpartition(".")[2]
            parent = ctx.parent()
            if func.id == "bool":
                self._report_test(ctx, node, text, model, replace=node)
                return
            if isinstance(parent, ast.Compare) and parent.left is node:
                some = _zero_test(parent)
                if some is not None:
                    self._report_compare(ctx, parent, text, some, model, "len")
                    return
            if self._is_test_position(node, ctx):
                self._report_test(ctx, node, text, model, replace=node, via_len=True)
                return
            fix = Fix(
                "Use `.count()`", (replace_node(ctx, node, f"{text}.count()"),), Applicability.SAFE
            )
            ctx.report(
                node,
                f"`len({short(text)})` loads every `{model}` row to count them; use "
                f"`{short(text)}.count()`, which asks the database for the number",
                fix=fix,
            )
            return
        if isinstance(func, ast.Attribute) and func.attr == "count" and not node.args:
            parent = ctx.parent()
            queryset_flow = flow(ctx)
            if queryset_flow is None or ctx.in_async_function():
                return
            base = queryset_flow.source(func.value, ctx.enclosing_function())
            if base is None or base.evaluated or base.related:
                return
            text = node_text(ctx, func.value)
            model = base.model.rpartition(".")[2]
            if isinstance(parent, ast.Compare) and parent.left is node:
                some = _zero_test(parent)
                if some is not None:
                    self._report_compare(ctx, parent, text, some, model, "count")
            elif self._is_test_position(node, ctx):
                self._report_test(ctx, node, text, model, replace=node, via_count=True)

    @visit(ast.If, ast.While, ast.IfExp)
    def check_test(self, node: ast.If | ast.While | ast.IfExp, ctx: FileContext) -> None:
        for candidate in _test_operands(node.test):
            if not isinstance(candidate, (ast.Name, ast.Call)):
                continue
            if isinstance(candidate, ast.Call) and not isinstance(candidate.func, ast.Attribute):
                continue
            queryset = self._queryset(candidate, ctx)
            if queryset is None or not self._fresh(candidate, ctx):
                continue
            text = node_text(ctx, candidate)
            self._report_test(ctx, candidate, text, queryset.model.rpartition(".")[2], candidate)

    @staticmethod
    def _is_test_position(node: ast.AST, ctx: FileContext) -> bool:
        ancestors = ctx.ancestors
        child = node
        for parent in reversed(ancestors):
            if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
                child = parent
                continue
            if isinstance(parent, ast.BoolOp):
                child = parent
                continue
            return isinstance(parent, (ast.If, ast.While, ast.IfExp)) and parent.test is child
        return False

    @staticmethod
    def _report_test(
        ctx: FileContext,
        node: ast.AST,
        text: str,
        model: str,
        replace: ast.AST,
        via_len: bool = False,
        via_count: bool = False,
    ) -> None:
        fix = Fix(
            "Use `.exists()`", (replace_node(ctx, replace, f"{text}.exists()"),), Applicability.SAFE
        )
        if via_count:
            shown = f"{short(text)}.count()"
            why = "counts every matching row"
        elif via_len:
            shown = f"len({short(text)})"
            why = f"loads every `{model}` row"
        else:
            shown = short(node_text(ctx, node), 48, "...")
            why = f"loads every `{model}` row"
        ctx.report(
            node,
            f"The test `{shown}` {why} only to learn whether there is one; use "
            f"`{short(text)}.exists()`",
            fix=fix,
        )

    @staticmethod
    def _report_compare(
        ctx: FileContext, compare: ast.Compare, text: str, some: bool, model: str, how: str
    ) -> None:
        replacement = f"{text}.exists()" if some else f"not {text}.exists()"
        parent = ctx.ancestors[-2] if len(ctx.ancestors) >= 2 else None
        fix = None
        if some or isinstance(parent, LOOSE_PARENTS) or parent is None:
            fix = Fix(
                "Use `.exists()`", (replace_node(ctx, compare, replacement),), Applicability.SAFE
            )
        why = f"loads every `{model}` row" if how == "len" else "counts every matching row"
        ctx.report(
            compare,
            f"`{short(node_text(ctx, compare), 60, 'the comparison')}` {why} only to learn "
            f"whether there is one; use `{short(replacement, 60, 'not ' * (not some) + '<queryset>.exists()')}`",
            fix=fix,
        )


def _test_operands(test: ast.AST) -> list[ast.AST]:
    """The operands a truth test looks at: through `not` and `and`/`or`."""
    found: list[ast.AST] = []
    stack = [test]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            stack.append(node.operand)
        elif isinstance(node, ast.BoolOp):
            stack.extend(node.values)
        else:
            found.append(node)
    return found
