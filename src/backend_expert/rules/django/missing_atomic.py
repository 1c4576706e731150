"""A view or service that writes several rows without `transaction.atomic`."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backend_expert.check import FileContext
from backend_expert.django_web import (
    decorator_names,
    is_model,
    manager_chain_model,
    view_of,
    web_model,
)
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.nodes import children
from backend_expert.rules.base import Example, Explanation, Rule, visit

CREATES = frozenset({"create", "bulk_create", "get_or_create", "update_or_create"})
QUERYSET_WRITES = frozenset({"update", "delete", "bulk_update"})
INSTANCE_WRITES = frozenset({"save", "delete"})
RELATED_WRITES = frozenset({"add", "set", "remove", "clear", "create"})
INSTANCE_SOURCES = frozenset(
    {"get", "create", "first", "last", "latest", "earliest", "get_object_or_404", "get_object"}
)
WRITE_NAMES = CREATES | QUERYSET_WRITES | INSTANCE_WRITES | RELATED_WRITES
SERVICE_NAMES = frozenset({"services", "service"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass(frozen=True)
class Write:
    call: ast.Call
    row: str  # what it writes: the same text means the same row(s)
    label: str
    path: tuple[tuple[int, int], ...]  # (branching statement, branch) from the function down
    exits: tuple[tuple[int, int], ...] = ()  # the branches it is in that end with return/raise
    tries: tuple[int, ...] = ()  # the `try` statements whose body it is in


def _is_service(path: str) -> bool:
    return bool(SERVICE_NAMES & set(path.removesuffix(".py").split("/")))


def _atomic(expr: ast.AST) -> bool:
    """`transaction.atomic()`, `atomic(using=...)`, `transaction.atomic` (as a decorator)."""
    target = expr.func if isinstance(expr, ast.Call) else expr
    return (dotted(target) or "").rpartition(".")[2] == "atomic"


def together(first: Write, second: Write) -> bool:
    """True when `second` (written after `first`) runs whenever `first` has run: it is not
    under a condition `first` is not under, and `first` is not in a branch that returns."""
    if second.path[: len(first.path)] != first.path:
        return False  # another branch, or a condition of its own (`if a: x.save()` `if b: ...`)
    if any(node in first.tries for node, index in second.path if index >= 1):
        return False  # `second` is in a handler of the `try` around `first`: `first` failed
    return not any(branch not in second.path for branch in first.exits)


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break))


class _Collector:
    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> None:
        self.function = function
        self.ctx = ctx
        self.scope = ctx.scope(function)
        self.writes: list[Write] = []
        self.exits: tuple[tuple[int, int], ...] = ()
        self.tries: tuple[int, ...] = ()
        self.target: str | None = None  # the name the current statement binds a call to
        self.target_call: ast.AST | None = None

    def block(self, body: list[ast.stmt], atomic: bool, path: tuple) -> None:
        for stmt in body:
            self.statement(stmt, atomic, path)

    def branch(self, body: list[ast.stmt], atomic: bool, path: tuple, key: tuple) -> None:
        saved = self.exits
        if _exits(body):
            self.exits = (*self.exits, key)
        self.block(body, atomic, (*path, key))
        self.exits = saved

    def statement(self, stmt: ast.stmt, atomic: bool, path: tuple) -> None:
        if isinstance(stmt, _SCOPES):
            return
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            inner = atomic or any(_atomic(item.context_expr) for item in stmt.items)
            for item in stmt.items:
                self.expression(item.context_expr, atomic, path)
            self.block(stmt.body, inner, path)
        elif isinstance(stmt, ast.If):
            self.expression(stmt.test, atomic, path)
            self.branch(stmt.body, atomic, path, (id(stmt), 0))
            self.branch(stmt.orelse, atomic, path, (id(stmt), 1))
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            saved = self.tries
            self.tries = (*self.tries, id(stmt))
            self.block(stmt.body, atomic, path)
            self.tries = saved
            for index, handler in enumerate(stmt.handlers, start=1):
                self.branch(handler.body, atomic, path, (id(stmt), index))
            self.block(stmt.orelse, atomic, path)
            self.block(stmt.finalbody, atomic, path)
        elif isinstance(stmt, ast.Match):
            self.expression(stmt.subject, atomic, path)
            for index, case in enumerate(stmt.cases):
                self.branch(case.body, atomic, path, (id(stmt), index))
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            self.expression(
                stmt.iter if not isinstance(stmt, ast.While) else stmt.test, atomic, path
            )
            self.block(stmt.body, atomic, path)
            self.block(stmt.orelse, atomic, path)
        else:
            bound = _bound_name(stmt)
            self.target, self.target_call = bound if bound else (None, None)
            self.expression(stmt, atomic, path)
            self.target = self.target_call = None

    def expression(self, node: ast.AST, atomic: bool, path: tuple) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, _SCOPES):
                continue
            if isinstance(current, ast.Call):
                write = self.write(current, path)
                if write is not None and not atomic:
                    self.writes.append(write)
            stack.extend(children(current))

    def write(self, call: ast.Call, path: tuple) -> Write | None:
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in WRITE_NAMES:
            return None
        name = func.attr
        receiver = func.value
        model = manager_chain_model(receiver, self.ctx)
        if model is not None:
            short = (
                model.rpartition(".")[2]
                if model != "?"
                else ast.unparse(receiver).split(".objects")[0]
            )
            if name in CREATES:
                # `order = Order.objects.create()` then `order.save()`: one row.
                row = self.target if self.target and self.target_call is call else f"new@{id(call)}"
                return Write(call, row, f"{short}.objects.{name}()", path, self.exits, self.tries)
            if name in QUERYSET_WRITES:
                text = ast.unparse(receiver)
                return Write(call, text, f"{text}.{name}()", path, self.exits, self.tries)
            return None
        if any(
            k.arg == "commit" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in call.keywords
        ):
            return None  # form.save(commit=False) builds the instance without saving it
        if name in INSTANCE_WRITES and not call.args and self.instance(receiver):
            label = f"{ast.unparse(receiver)}.{name}()"
            return Write(call, self.row(receiver), label, path, self.exits, self.tries)
        if (
            name in RELATED_WRITES
            and isinstance(receiver, ast.Attribute)
            and self.instance(receiver.value)
        ):
            # New related rows are other rows; links added to an object belong to it.
            row = f"new@{id(call)}" if name == "create" else ast.unparse(receiver.value)
            label = f"{ast.unparse(receiver)}.{name}()"
            return Write(call, row, label, path, self.exits, self.tries)
        return None

    def row(self, receiver: ast.AST) -> str:
        """What `receiver.save()` writes: a form or serializer built with `instance=x` writes
        `x`'s row."""
        if isinstance(receiver, ast.Name):
            for value in self.scope.values(receiver.id)[:2]:
                if isinstance(value, ast.Call):
                    for keyword in value.keywords:
                        if keyword.arg == "instance" and isinstance(keyword.value, ast.Name):
                            return keyword.value.id
            return receiver.id
        return ast.unparse(receiver)

    def instance(self, node: ast.AST, depth: int = 0) -> bool:
        """Whether `node` holds a model instance (or a form/serializer whose save() writes)."""
        if depth > 3:
            return False
        if isinstance(node, ast.Attribute):
            if node.attr == "user" and isinstance(node.value, (ast.Name, ast.Attribute)):
                return (dotted(node.value) or "").endswith("request")
            return (
                node.attr == "object"
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            )
        if isinstance(node, ast.Call):
            func = node.func
            name = (dotted(func) or "").rpartition(".")[2]
            if isinstance(func, ast.Attribute) and manager_chain_model(func.value, self.ctx):
                return name in INSTANCE_SOURCES
            if name in ("get_object_or_404", "get_object"):
                return True
            if name == "save" and isinstance(func, ast.Attribute):
                return self.instance(func.value, depth + 1)  # form.save(commit=False)
            qualified = (
                self.ctx.qualname(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
            )
            if qualified and is_model(qualified, self.ctx.project):
                return True
            return name.endswith(("Form", "Serializer")) and name[:1].isupper()
        if isinstance(node, ast.Name):
            param = self.scope.params.get(node.id)
            if param is not None and param.annotation is not None:
                annotation = param.annotation
                if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                    annotation = ast.Name(id=annotation.value)
                if isinstance(annotation, (ast.Name, ast.Attribute)):
                    return is_model(self.ctx.qualname(annotation), self.ctx.project)
            values = self.scope.values(node.id)
            for value in values[:4]:
                if isinstance(value, (ast.For, ast.AsyncFor, ast.comprehension)):
                    iterable = value.iter
                    if manager_chain_model(iterable, self.ctx):
                        return True
                    continue
                if self.instance(value, depth + 1):
                    return True
        return False


class MissingAtomic(Rule):
    code = "BEX417"
    slug = "django-missing-atomic"
    pack = "django"
    severity = Severity.WARNING
    category = "correctness"
    frameworks = ("django",)
    skip_tests = True
    summary = "View or service writing several rows outside `transaction.atomic`"
    hint = "Wrap the writes that belong together in `with transaction.atomic():` (or decorate the function)."
    explanation = Explanation(
        what=(
            "Flags a view (function view, method of a class-based or DRF view) or a function "
            "in a `services` module that makes two or more ORM writes to different rows "
            "(`Model.objects.create()`, `get_or_create()`, `update()`/`delete()` on a queryset, "
            "`save()`/`delete()` on an instance, a form's or serializer's `save()`, "
            "`related.create()`) where the second runs whenever the first has run, outside "
            "`with transaction.atomic():` and without `@transaction.atomic`. Writes under "
            "separate conditions, or after a branch that returns, do not count together; "
            "`save()` twice on one object and m2m `add()`/`set()` on the object just saved are "
            "one row; two `get_or_create()`/`update_or_create()` calls can simply be run again; "
            "views are left alone when the settings turn on `ATOMIC_REQUESTS`. Tests and "
            "migrations are not checked."
        ),
        why=(
            "Outside a transaction Django commits every write on its own (autocommit). When "
            "the second write fails (a constraint, a timeout, a bug, a worker killed mid-"
            "request) the first one stays: an order without its items, a payment recorded "
            "against an order that was never marked paid, stock taken for a cancelled "
            "purchase. Nothing rolls back, and the inconsistency is found later by a customer."
        ),
        use_instead=(
            "`with transaction.atomic():` around the writes that must happen together (or "
            "`@transaction.atomic` on the function); use `transaction.on_commit()` for e-mails "
            "and tasks that should only run once the data is saved."
        ),
        references=("https://docs.djangoproject.com/en/stable/topics/db/transactions/",),
    )
    fire = (
        Example(
            title="a checkout view that creates an order and its items",
            files={
                "shop/__init__.py": "",
                "shop/views.py": """\
from django.http import JsonResponse

from .models import Order, OrderItem, Product


def checkout(request):
    order = Order.objects.create(customer=request.user)
    for line in request.session.get("cart", []):
        OrderItem.objects.create(order=order, product_id=line["id"], quantity=line["qty"])  # flagged
    Product.objects.filter(pk__in=[line["id"] for line in request.session["cart"]]).update(reserved=True)
    return JsonResponse({"order": order.pk})
""",
            },
            fixed="""\
from django.db import transaction


def checkout(request):
    with transaction.atomic():
        order = Order.objects.create(customer=request.user)
        ...
""",
        ),
        Example(
            title="a service function and the model it writes (cross-file)",
            files={
                "shop/__init__.py": "",
                "shop/models.py": """\
from django.db import models


class Account(models.Model):
    balance = models.DecimalField(max_digits=12, decimal_places=2)
""",
                "shop/services.py": """\
from .models import Account


def transfer(source_id, target_id, amount):
    source = Account.objects.get(pk=source_id)
    target = Account.objects.get(pk=target_id)
    source.balance -= amount
    target.balance += amount
    source.save()
    target.save()  # flagged
""",
            },
        ),
    )
    clean = (
        Example(
            title="writes inside transaction.atomic (block and decorator)",
            code="""\
from django.db import transaction
from django.http import JsonResponse

from .models import Order, OrderItem


def checkout(request):
    with transaction.atomic():
        order = Order.objects.create(customer=request.user)
        OrderItem.objects.create(order=order, product_id=1)
    return JsonResponse({"order": order.pk})


@transaction.atomic
def reorder(request, pk):
    order = Order.objects.create(customer=request.user)
    OrderItem.objects.create(order=order, product_id=pk)
    return JsonResponse({"order": order.pk})
""",
        ),
        Example(
            title="one row saved twice, and writes in different branches",
            code="""\
from django.http import JsonResponse
from django.shortcuts import get_object_or_404

from .models import Order, Refund


def mark_paid(request, pk):
    order = get_object_or_404(Order, pk=pk)
    order.status = "paid"
    order.save()
    order.paid_by = request.user.username
    order.save(update_fields=["paid_by"])
    return JsonResponse({})


def settle(request, pk):
    if request.POST.get("refund"):
        Refund.objects.create(order_id=pk)
    else:
        Order.objects.filter(pk=pk).update(status="settled")
    return JsonResponse({})
""",
        ),
        Example(
            title="ATOMIC_REQUESTS on in the settings",
            files={
                "shop/__init__.py": "",
                "shop/settings.py": """\
INSTALLED_APPS = ["shop"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "ATOMIC_REQUESTS": True}}
""",
                "shop/views.py": """\
from django.http import JsonResponse

from .models import Order, OrderItem


def checkout(request):
    order = Order.objects.create(customer=request.user)
    OrderItem.objects.create(order=order, product_id=1)
    return JsonResponse({"order": order.pk})
""",
            },
        ),
        Example(
            title="a helper outside views and services, and a cache entry",
            code="""\
from django.core.cache import cache

from .models import Order, OrderItem


def seed_demo_data():
    order = Order.objects.create(number="demo")
    OrderItem.objects.create(order=order, product_id=1)


def forget(request, key):
    cache.delete(key)
    request.session.delete()
""",
        ),
        Example(
            title="writes under separate conditions, and a branch that returns first",
            files={
                "shop/__init__.py": "",
                "shop/views.py": """\
from django.http import HttpResponse

from .models import Channel, Notification, Profile


def bounce(request, kind, code):
    if kind == "notification":
        Notification.objects.filter(code=code).update(error="bounced")
    if kind == "report":
        profile = Profile.objects.get(code=code)
        profile.reports = "off"
        profile.save()
    return HttpResponse()


def subscribe(request, project):
    if request.GET.get("unsubscribed") == "1":
        Channel.objects.filter(project=project, kind="push").delete()
        return HttpResponse()
    channel = Channel(project=project, kind="push")
    channel.save()
    return HttpResponse()
""",
            },
        ),
        Example(
            title="many-to-many links added to the object just saved",
            files={
                "shop/__init__.py": "",
                "shop/views.py": """\
from django.shortcuts import get_object_or_404, redirect

from .models import Check


def copy_check(request, pk):
    check = get_object_or_404(Check, pk=pk)
    copied = Check(project=check.project, name=f"{check.name} (copy)")
    copied.save()
    copied.channel_set.add(*check.channel_set.all())
    return redirect("/")
""",
            },
        ),
        Example(
            title="a method of a provider class in a services package",
            files={
                "oauth/__init__.py": "",
                "oauth/services/__init__.py": "",
                "oauth/services/github.py": """\
from .models import Relation


class GitHubService:
    def resync(self, repo, accounts):
        keep = []
        for account in accounts:
            relation, _ = Relation.objects.get_or_create(repo=repo, account=account)
            keep.append(relation.pk)
        Relation.objects.filter(repo=repo).exclude(pk__in=keep).delete()
""",
            },
        ),
        Example(
            title="a row created then saved again, a form over the row just fetched, idempotent writes",
            files={
                "shop/__init__.py": "",
                "shop/services.py": """\
from .models import Policy, Story, Watch


def promote(task):
    story = Story.objects.create(subject=task.subject)
    story.due_date = task.due_date
    story.save()
    return story


def watch(obj, user):
    Watch.objects.get_or_create(object_id=obj.pk, user=user)
    Policy.objects.get_or_create(project=obj.project, user=user)
""",
                "shop/views.py": """\
from django.shortcuts import redirect, render

from .forms import ProfileForm
from .models import Profile


def edit_profile(request):
    profile, _ = Profile.objects.get_or_create(user=request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    if form.is_valid():
        form.save()
        return redirect("/")
    return render(request, "profile.html", {"form": form})
""",
            },
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
    ) -> None:
        if "migrations" in ctx.path.split("/")[:-1]:
            return
        if any(_atomic(d) for d in node.decorator_list):
            return
        view = view_of(node, ctx)
        if view is None:
            if not _is_service(ctx.path) or not isinstance(ctx.parent(), ast.Module):
                return  # service functions (methods of a service class are its own business)
        else:
            if view.klass is not None and any(
                _atomic(arg)
                for d in view.klass.decorator_list
                if isinstance(d, ast.Call)
                for arg in d.args
            ):
                return
            if (
                "non_atomic_requests" not in decorator_names(node)
                and web_model(ctx.project).atomic_requests()
            ):
                return
        collector = _Collector(node, ctx)
        collector.block(node.body, False, ())
        writes = collector.writes
        for index, second in enumerate(writes):
            for first in writes[:index]:
                idempotent = all(
                    w.label.endswith(("get_or_create()", "update_or_create()"))
                    for w in (first, second)
                )  # running the function again completes what a failure left half-done
                if first.row != second.row and not idempotent and together(first, second):
                    where = "view" if view is not None else "service"
                    ctx.report(
                        second.call,
                        f"`{second.label}` is a second database write in this {where} after "
                        f"`{first.label}` (line {first.call.lineno}), outside "
                        "transaction.atomic(): if it fails, the first write stays committed and "
                        "the data is left half-changed. Wrap the writes in "
                        "`with transaction.atomic():`.",
                        confidence=Confidence.MEDIUM,
                    )
                    return


def _bound_name(stmt: ast.stmt) -> tuple[str, ast.AST] | None:
    """`x = call(...)` / `x, created = call(...)`: ("x", the call)."""
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call):
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        if isinstance(target, (ast.Tuple, ast.List)) and target.elts:
            target = target.elts[0]
        if isinstance(target, ast.Name):
            return target.id, stmt.value
    return None
