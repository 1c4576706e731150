"""Permission checks written as `assert`, which `python -O` removes."""

from __future__ import annotations

import ast
import re

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit

AUTH_NAME = re.compile(
    r"^(?:is_(?:authenticated|anonymous|staff|superuser|admin|owner|member|allowed|authorized|"
    r"authorised|moderator)|has_(?:perm|perms|permission|permissions|object_permission|access|"
    r"role|roles|scope|scopes)|check_(?:permission|permissions|password|access|auth|scope|"
    r"scopes)|can_\w+|user_can\w*|is_\w+_allowed|authorized|authenticated|"
    r"verify_\w*(?:token|signature|password)\w*)$"
)
# Collections that are an access check when something is tested for membership in them.
GRANTS = frozenset({"permissions", "perms", "roles", "scopes", "groups", "privileges"})
USER_NAMES = frozenset({"user", "current_user", "request_user", "actor", "account"})
OWNER_NAMES = frozenset({"owner", "author", "created_by", "user", "owner_id", "user_id"})


def _names(node: ast.AST) -> set[str]:
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
    return found


def _auth_check(test: ast.AST) -> str | None:
    """The name that makes `test` a permission check, or None."""
    for name in sorted(_names(test)):
        if AUTH_NAME.match(name):
            return name
    for child in ast.walk(test):
        if (
            isinstance(child, ast.Compare)
            and isinstance(child.ops[0], ast.In | ast.NotIn)
            and _names(child.comparators[0]) & GRANTS
        ):
            return "a role or permission membership test"
        if (
            isinstance(child, ast.Compare)
            and len(child.ops) == 1
            and isinstance(child.ops[0], ast.Eq | ast.NotEq | ast.Is | ast.IsNot)
        ):
            left, right = child.left, child.comparators[0]
            for user, owner in ((left, right), (right, left)):
                if _names(user) & USER_NAMES and _owner_attribute(owner):
                    return "an ownership comparison"
    return None


def _only_attribute(test: ast.AST) -> bool:
    """`assert request.user.is_authenticated`: one attribute, nothing else."""
    return isinstance(test, ast.Attribute)


def _owner_attribute(node: ast.AST) -> bool:
    """`invoice.owner`, `post.author_id`: an object's owner, not the user itself."""
    return isinstance(node, ast.Attribute) and node.attr in OWNER_NAMES


class AssertForAuth(Rule):
    code = "BEX714"
    slug = "assert-for-auth"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 285
    security_severity = 7.5
    skip_tests = True
    summary = "A permission or authentication check written as `assert`"
    hint = "Raise an explicit error instead: `if not user.is_staff: raise PermissionDenied`."
    explanation = Explanation(
        what=(
            "Flags `assert` statements outside tests whose condition is an authentication or "
            "permission check: `is_authenticated`, `is_staff`, `is_superuser`, `has_perm()`, "
            "`has_permission()`, `check_password()`, `can_*()`, roles and scopes, or a "
            "comparison of the current user with an object's owner. A bare "
            "`assert request.user.is_authenticated` is left alone: it is the usual way to "
            "narrow the user's type for a type checker after `@login_required`."
        ),
        why=(
            "Python drops every `assert` when it runs with `-O` or `PYTHONOPTIMIZE` set, which "
            "some images and process managers do: the check then vanishes and everyone passes. "
            "Even when it runs, a failed assert is an `AssertionError`, a 500 error rather than "
            "a 403, and it reads as a claim about the code rather than a rule about users."
        ),
        use_instead=(
            "An `if` that raises the framework's error: `PermissionDenied` (Django), "
            "`HTTPException(status_code=403)` (FastAPI), `abort(403)` (Flask), or a "
            "permission class / dependency that does the check for every route."
        ),
        references=(
            "https://docs.python.org/3/reference/simple_stmts.html#the-assert-statement",
            "https://docs.python.org/3/using/cmdline.html#cmdoption-O",
            "https://cwe.mitre.org/data/definitions/285.html",
        ),
    )
    fire = (
        Example(
            title="permission and ownership checks as asserts",
            code="""\
from django.http import JsonResponse

from .models import Invoice


def delete_invoice(request, pk):
    assert request.user.has_perm("billing.delete_invoice")  # flagged
    invoice = Invoice.objects.get(pk=pk)
    assert invoice.owner == request.user, "not yours"  # flagged
    invoice.delete()
    return JsonResponse({"deleted": pk})
""",
            fixed="""\
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse

from .models import Invoice


def delete_invoice(request, pk):
    if not request.user.has_perm("billing.delete_invoice"):
        raise PermissionDenied
    invoice = Invoice.objects.get(pk=pk)
    if invoice.owner != request.user:
        raise PermissionDenied("not yours")
    invoice.delete()
    return JsonResponse({"deleted": pk})
""",
        ),
    )
    clean = (
        Example(
            title="asserts about the code, and checks in tests",
            files={
                "app.py": """\
def total(items, user):
    assert isinstance(items, list)
    assert user is not None
    return sum(item.price for item in items)
""",
                "tests/test_views.py": """\
def test_admin(admin_user):
    assert admin_user.is_staff
""",
            },
        ),
    )

    @visit(ast.Assert)
    def check_assert(self, node: ast.Assert, ctx: FileContext) -> None:
        reason = _auth_check(node.test)
        if reason is None:
            return
        what = f"`{reason}`" if not reason.startswith("an ") else reason
        confidence = Confidence.HIGH if ctx.enclosing_function() is not None else Confidence.MEDIUM
        if reason == "is_authenticated" and _only_attribute(node.test):
            return  # the idiom that narrows `User | AnonymousUser` after `@login_required`
        ctx.report(
            node,
            f"This `assert` is an access check ({what}); Python removes asserts under `-O`, "
            "and then everyone passes. Raise a permission error with an `if` instead.",
            confidence=confidence,
        )
