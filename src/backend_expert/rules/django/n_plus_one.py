"""A loop over a queryset that reads a relation of each row: one extra query per row (N+1)."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.django_models import Field, Relation
from backend_expert.findings import Severity
from backend_expert.nodes import children
from backend_expert.querysets import QuerySet, flow
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.django._orm_examples import blog

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
MANAGER_READS = frozenset({"all", "count", "exists"})  # answered from a prefetched cache


def loop_parts(node: ast.AST) -> tuple[str, ast.AST, list[ast.AST]] | None:
    """(row variable, iterable, nodes evaluated once per row) of a for loop or comprehension."""
    if isinstance(node, ast.For):
        target, iterable, body = node.target, node.iter, list(node.body)
    elif isinstance(node, COMPREHENSIONS):
        generator = node.generators[0]
        if generator.is_async:
            return None
        target, iterable = generator.target, generator.iter
        body = [*generator.ifs]
        for later in node.generators[1:]:
            body.extend([later.iter, *later.ifs])
        if isinstance(node, ast.DictComp):
            body.extend([node.key, node.value])
        else:
            body.append(node.elt)
    else:
        return None
    if (
        isinstance(target, ast.Tuple)
        and len(target.elts) == 2
        and isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "enumerate"
        and iterable.args
    ):
        target, iterable = target.elts[1], iterable.args[0]
    if not isinstance(target, ast.Name):
        return None
    return target.id, iterable, body


def row_attribute_chains(
    body: list[ast.AST], row: str
) -> list[tuple[ast.Attribute, list[ast.AST]]]:
    """Outermost `row.a.b...` chains in `body` (not entering nested functions), with their parents.

    Each item is (the `row.a` node, [row.a, row.a.b, ...] up the chain, then the two nodes
    above it).
    """
    found = []
    stack: list[tuple[ast.AST, list[ast.AST]]] = [(node, []) for node in reversed(body)]
    while stack:
        node, parents = stack.pop()
        if isinstance(node, (*SCOPES, ast.ExceptHandler)):
            continue  # nested code runs later; an error path runs rarely
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == row
        ):
            chain: list[ast.AST] = [node]
            above = 0
            for parent in reversed(parents):
                if not above and isinstance(parent, ast.Attribute) and parent.value is chain[-1]:
                    chain.append(parent)
                    continue
                chain.append(parent)
                above += 1
                if above == 2:
                    break
            found.append((node, chain))
        kids = children(node)
        if kids:
            below = [*parents[-8:], node]
            stack.extend((kid, below) for kid in reversed(kids))
    return found


LOOKUP_CALLS = frozenset({"Q", "filter", "exclude", "get", "get_or_create", "update", "count"})


def _lookup_argument(chain: list[ast.AST]) -> bool:
    """`row.fk` passed as a keyword of a query lookup (`Q(x=row.fk)`, `.filter(x=row.fk)`)."""
    keyword = chain[1] if len(chain) > 1 else None
    call = chain[2] if len(chain) > 2 else None
    if not isinstance(keyword, ast.keyword) or not isinstance(call, ast.Call):
        return False
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in LOOKUP_CALLS


class NPlusOne(Rule):
    code = "BEX401"
    slug = "django-n-plus-one"
    pack = "django"
    severity = Severity.WARNING
    category = "performance"
    frameworks = ("django",)
    skip_tests = True
    summary = "A loop over a queryset reads a relation of every row: one extra query per row"
    hint = "Load the relation with the rows: add the `select_related(...)`/`prefetch_related(...)` named in the message to the queryset."
    explanation = Explanation(
        what=(
            "Flags a `for` loop or comprehension over a queryset whose body reads a ForeignKey "
            "or OneToOne of each row (`post.author`, `post.author.profile`), or the rows of a "
            "many-to-many or reverse relation (`post.tags.all()`, `.count()`), when no "
            "`select_related`/`prefetch_related` on that queryset loads it. Models are read "
            "from every app of the project, so `order.customer.profile` is understood when the "
            "models live in other modules and point at each other by string."
        ),
        why=(
            "Django loads a relation lazily, the first time it is read from a row. In a loop "
            "that is one query for the list and one more per row: a page of 50 orders showing "
            "the customer's name makes 51 round trips to the database. It is invisible in "
            "development with ten rows and dominates response time in production."
        ),
        use_instead=(
            'Add `select_related("author")` for ForeignKey/OneToOne chains (one JOINed query) '
            'and `prefetch_related("tags")` for many-to-many and reverse relations (one extra '
            "query per relation, not per row). Nested lookups work the same way: "
            '`select_related("author__profile")`, `prefetch_related("comments__author")`. '
            "To read only the key of a related row, use `post.author_id`, which needs no query."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#select-related",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#prefetch-related",
            "https://docs.djangoproject.com/en/stable/topics/db/optimization/",
        ),
    )
    fire = (
        Example(
            title="a ForeignKey chain and a many-to-many read in loops, models in another module",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def feed():
    posts = Post.objects.filter(status="published")
    lines = []
    for post in posts:
        lines.append(post.author.name)  # flagged
        lines.append(", ".join(t.label for t in post.tags.all()))  # flagged
    return lines


def authors_with_profiles():
    return [p.author.user.profile.bio for p in Post.objects.all()]  # flagged
""",
                }
            ),
            fixed="""\
def feed():
    posts = (
        Post.objects.filter(status="published")
        .select_related("author")
        .prefetch_related("tags")
    )
    ...


def authors_with_profiles():
    return [
        p.author.user.profile.bio
        for p in Post.objects.select_related("author__user__profile")
    ]
""",
        ),
        Example(
            title="a nested loop over a reverse relation: the lookup spans both loops",
            files=blog(
                {
                    "blog/report.py": """\
from blog.models import Post


def moderation_report():
    rows = []
    for post in Post.objects.select_related("author").prefetch_related("comments"):
        for comment in post.comments.all():
            rows.append((post.author.name, comment.author.email))  # flagged
    return rows
""",
                }
            ),
        ),
        Example(
            title="a queryset built in one variable, refined in another, then iterated",
            files=blog(
                {
                    "blog/digest.py": """\
from blog.models import Comment


def digest(post_ids):
    base = Comment.objects.select_related("author")
    recent = base.filter(post_id__in=post_ids).order_by("-id")[:100]
    return [(c.author.name, c.post.title) for c in recent]  # flagged
""",
                }
            ),
        ),
    )
    clean = (
        Example(
            title="near miss: the relations are loaded with select_related/prefetch_related",
            files=blog(
                {
                    "blog/views.py": """\
from blog.models import Post


def feed():
    posts = Post.objects.select_related("author__user__profile").prefetch_related("tags")
    for post in posts:
        print(post.author.user.profile.bio, [t.label for t in post.tags.all()])
""",
                }
            ),
        ),
        Example(
            title="near miss: `.values()` rows are dicts, and `post.author_id` needs no query",
            files=blog(
                {
                    "blog/export.py": """\
from blog.models import Post


def export():
    for row in Post.objects.values("title", "author__name"):
        print(row["title"], row["author__name"])
    return [post.author_id for post in Post.objects.all()]
""",
                }
            ),
        ),
        Example(
            title="near miss: a plain field, and a filtered related manager (prefetching would not help)",
            files=blog(
                {
                    "blog/stats.py": """\
from blog.models import Post


def stats():
    for post in Post.objects.all():
        print(post.title, post.views, post.comments.filter(body__icontains="spam").count())
""",
                }
            ),
        ),
        Example(
            title="near miss: a custom queryset method that prefetches, and a queryset parameter",
            files={
                "shop/__init__.py": "",
                "shop/models.py": """\
from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=50)


class ProductQuerySet(models.QuerySet):
    def listed(self):
        return self.filter(active=True).select_related("category")


class Product(models.Model):
    name = models.CharField(max_length=50)
    active = models.BooleanField(default=True)
    category = models.ForeignKey(Category, on_delete=models.CASCADE)

    objects = ProductQuerySet.as_manager()
""",
                "shop/views.py": """\
from django.db.models import QuerySet

from shop.models import Product


def catalogue():
    return [p.category.name for p in Product.objects.listed()]


def render(products: QuerySet[Product]):
    return [p.category.name for p in products]
""",
            },
        ),
        Example(
            title="near miss: a relation read once outside a loop, a list of other objects, an error path",
            files=blog(
                {
                    "blog/misc.py": """\
from blog.models import Post


def one(pk, items):
    post = Post.objects.get(pk=pk)
    print(post.author.name)
    for item in items:
        print(item.author.name)
    for entry in Post.objects.all():
        try:
            print(entry.title)
        except ValueError:
            print("bad post", entry.author.name)
""",
                }
            ),
        ),
    )

    @visit(ast.For, *COMPREHENSIONS)
    def check_loop(self, node: ast.AST, ctx: FileContext) -> None:
        parts = loop_parts(node)
        if parts is None:
            return
        row, iterable, body = parts
        queryset_flow = flow(ctx)
        if queryset_flow is None:
            return
        function = ctx.enclosing_function()
        if (
            isinstance(node, ast.For)
            and function is not None
            and len(ctx.scope(function).values(row)) > 1
        ):
            return  # the name is rebound elsewhere: which rows it holds is not clear
        queryset = queryset_flow.queryset(iterable, function)
        if queryset is None or queryset.values or queryset.unknown:
            return
        # The same queryset object iterated again: its rows (and their loaded relations) are
        # cached, so only the first loop over it pays, and only that one is reported.
        seen: set[tuple[str, str]] = ctx.__dict__.setdefault("_n_plus_one_seen", {}).setdefault(
            id(function), set()
        )
        name = iterable.id if isinstance(iterable, ast.Name) else None
        uncovered: dict[str, tuple] = {}  # full path -> what to report, first place first
        for first, chain in row_attribute_chains(body, row):
            found = self._path(queryset, chain, ctx)
            if found is None:
                continue
            path, prefetch, key_only = found
            outer, full = queryset.full_path(path)
            if queryset.covers(path) or full in uncovered or (name, full) in seen:
                continue
            attributes = [n for n in chain if isinstance(n, ast.Attribute)]
            shown = attributes[min(path.count("__") + 1, len(attributes)) - 1]
            uncovered[full] = (first, shown, outer, prefetch, key_only)
        for full, (first, shown, outer, prefetch, key_only) in uncovered.items():
            if not key_only and any(
                other.startswith(full + "__") and not uncovered[other][4] for other in uncovered
            ):
                continue  # `select_related("a__b")`, reported for a longer path, loads `a` too
            if name is not None:
                seen.add((name, full))
            self._report(ctx, first, shown, queryset, outer, full, prefetch, key_only)

    @staticmethod
    def _path(
        queryset: QuerySet, chain: list[ast.AST], ctx: FileContext
    ) -> tuple[str, bool, bool] | None:
        """(relation path read per row, needs prefetch_related, reads only the key)."""
        models = flow(ctx).models  # type: ignore[union-attr]
        current: str | None = queryset.model
        path: list[str] = []
        prefetch = False
        attributes = [n for n in chain if isinstance(n, ast.Attribute)]
        for index, node in enumerate(attributes):
            if current is None:
                break
            if index == 0 and isinstance(node.ctx, ast.Store):
                return None
            attribute = models.attribute(current, node.attr)
            if attribute is None or isinstance(attribute, Field):
                break
            assert isinstance(attribute, Relation)
            if attribute.single:
                path.append(node.attr)
                current = attribute.target
                following = attributes[index + 1] if index + 1 < len(attributes) else None
                if len(path) == 1 and attribute.kind in ("fk", "o2o"):
                    if following is not None and following.attr in ("pk", "id"):
                        return node.attr, False, True
                    if following is None and _lookup_argument(chain):
                        return node.attr, False, True  # `Q(cable=row.cable)`: the key will do
                continue
            if attribute.kind == "gfk":
                path.append(node.attr)
                prefetch = True
                break
            if attribute.many:
                following = attributes[index + 1] if index + 1 < len(attributes) else None
                position = chain.index(following) if following in chain else -1
                call = chain[position + 1] if 0 <= position < len(chain) - 1 else None
                consumer = chain[position + 2] if 0 <= position < len(chain) - 2 else None
                if (
                    following is not None
                    and following.attr in MANAGER_READS
                    and isinstance(call, ast.Call)
                    and call.func is following
                    and not call.args
                    # `.all().delete()`, `.all().filter()`: a new query that no prefetch serves
                    and not (following.attr == "all" and isinstance(consumer, ast.Attribute))
                ):
                    path.append(node.attr)
                    prefetch = True
                break
            break
        if not path:
            return None
        return "__".join(path), prefetch, False

    @staticmethod
    def _report(
        ctx: FileContext,
        first: ast.Attribute,
        shown: ast.Attribute,
        queryset: QuerySet,
        outer: QuerySet,
        full: str,
        prefetch: bool,
        key_only: bool,
    ) -> None:
        row = ast.unparse(first.value)
        model = queryset.model.rpartition(".")[2]
        if key_only:
            ctx.report(
                first,
                f"`{row}.{first.attr}` loads the related row of every `{model}` in the loop only "
                f"for its key; use `{row}.{first.attr}_id` instead, which needs no query",
            )
            return
        nested = outer is not queryset
        method = "prefetch_related" if prefetch or nested else "select_related"
        where = (
            f"the outer queryset of `{outer.model.rpartition('.')[2]}` rows"
            if nested
            else "the queryset the loop iterates"
        )
        head = full.partition("__")[0]
        note = (
            f' (and "{head}" to its `.only()` fields, which leave it out now)'
            if not nested and not outer.loads(head)
            else ""
        )
        ctx.report(
            shown,
            f"N+1 queries: `{ast.unparse(shown)}` runs a query for every `{model}` row of the "
            f'loop; add `.{method}("{full}")` to {where}{note}',
        )
