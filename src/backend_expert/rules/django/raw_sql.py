"""Constant raw SQL in a Django project where the ORM would do: guidance, not a vulnerability.

SQL assembled from values is `sql-injection`'s business (BEX701); this rule only speaks of SQL
text that is entirely constant.
"""

from __future__ import annotations

import ast
import re

from backend_expert import dataflow
from backend_expert.check import FileContext
from backend_expert.django_web import manager_chain_model
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.sqltext import extra_fragments, strip_comments

RAW_SQL = frozenset({"django.db.models.RawSQL", "django.db.models.expressions.RawSQL"})
CONNECTIONS = frozenset({"django.db.connection", "django.db.connections"})
_DML = re.compile(r"^[\s(]*(select|insert|update|delete)\b", re.IGNORECASE)
# What the ORM cannot say (or says only with much more code): raw SQL is the right tool there.
_BEYOND_ORM = re.compile(
    r"\bwith\s+recursive\b|\bover\s*\(|\blateral\b|::|\bgenerate_series\b|\bunnest\b"
    r"|\bpg_\w+|\binformation_schema\b|\bsqlite_master\b|\bpragma\b|\bjsonb?_\w+\s*\("
    r"|\bto_tsvector\b|\bto_tsquery\b|\bts_rank\b|\bsimilarity\s*\(|\bpercentile_\w+"
    r"|\bwithin\s+group\b|\bon\s+conflict\b|\breturning\b|\bcrosstab\b|\bstring_to_array\b"
    r"|\bregexp_\w+|\bdate_trunc\b|\binterval\b|\bnextval\b|\bcurrval\b|\bsetval\b"
    r"|\bmatch\s*\(.*\)\s*against\b|\bfts\d?\b|\bexplain\b"
    r"|<<=?|>>=?|&&|@>|<@|\|\||\s~\*?\s|\bsimilar\s+to\b|\bany\s*\(|\ball\s*\("
    r"|\barray_\w+|\barray\s*\[",
    re.IGNORECASE | re.DOTALL,
)


def _is_connection(node: ast.AST, ctx: FileContext) -> bool:
    """`connection`, or `connections["default"]`: another alias is another database, often
    one without models (a legacy or external schema), where raw SQL is the only way."""
    if isinstance(node, ast.Subscript):
        key = node.slice
        if not (isinstance(key, ast.Constant) and key.value == "default"):
            return False
        node = node.value
    return (
        ctx.qualname(node) in CONNECTIONS if isinstance(node, (ast.Name, ast.Attribute)) else False
    )


def _django_cursor(node: ast.AST, ctx: FileContext, depth: int = 0) -> bool:
    """`connection.cursor()`, or a local name bound to it (`with connection.cursor() as c`)."""
    if depth > 3:
        return False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "cursor" and _is_connection(node.func.value, ctx)
    if isinstance(node, ast.Name):
        function = ctx.enclosing_function()
        if function is None:
            return False
        return any(
            _django_cursor(value, ctx, depth + 1) for value in ctx.scope(function).values(node.id)
        )
    return False


class RawSql(Rule):
    code = "BEX412"
    slug = "django-raw-sql"
    pack = "django"
    severity = Severity.INFO
    category = "maintainability"
    frameworks = ("django",)
    skip_tests = True
    summary = (
        "Constant raw SQL (`raw()`, `extra()`, `RawSQL`, `cursor.execute`) where the ORM would do"
    )
    hint = "Write the query with the ORM (filter/annotate/aggregate/update), or keep the SQL and say why."
    explanation = Explanation(
        what=(
            "Flags plain SELECT/INSERT/UPDATE/DELETE statements written as constant text and "
            "run through `Model.objects.raw()`, `QuerySet.extra()`, `RawSQL()` or a cursor of "
            "`django.db.connection`. SQL that uses what the ORM cannot express (recursive CTEs, "
            "window functions, `LATERAL`, casts, `ON CONFLICT`, `RETURNING`, full-text search, "
            "catalog tables, database functions), DDL and utility statements, migrations and "
            "tests are left alone. SQL assembled from values is not this rule's business: "
            "`sql-injection` (BEX701) reports it when a value is not a constant."
        ),
        why=(
            "Raw SQL is written against table and column names, not models: renaming a field, "
            "changing `db_table`, adding a soft-delete manager or a multi-database router "
            "silently bypasses it, and nothing checks it until it runs. It is also where the "
            "next change will be made by formatting a value into the string. The ORM spelling "
            "is checked against the models and keeps values as parameters."
        ),
        use_instead=(
            "`Order.objects.filter(...).values(...).annotate(...)`, `F()`/`Q()`/`Subquery()`, "
            "`update()`, `aggregate()`. When the SQL really is needed, keep it and suppress the "
            "finding with a note saying why."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/topics/db/sql/",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#extra",
        ),
    )
    fire = (
        Example(
            title="raw(), extra() and a cursor of django.db.connection",
            code="""\
from django.contrib.auth.models import User
from django.db import connection

ACTIVE = "SELECT id, username FROM auth_user WHERE is_active = %s"


def active_users():
    return list(User.objects.raw(ACTIVE, [True]))  # flagged


def staff_first():
    return User.objects.extra(order_by=["-is_staff"], where=["is_active"])  # flagged


def deactivate(user_id):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE auth_user SET is_active = false WHERE id = %s", [user_id])  # flagged
""",
            fixed="""\
def active_users():
    return list(User.objects.filter(is_active=True).only("id", "username"))


def deactivate(user_id):
    User.objects.filter(pk=user_id).update(is_active=False)
""",
        ),
        Example(
            title="RawSQL in an annotation",
            code="""\
from django.db.models.expressions import RawSQL

from .models import Order


def with_item_count():
    return Order.objects.annotate(
        items=RawSQL("SELECT COUNT(*) FROM shop_item WHERE shop_item.order_id = shop_order.id", ())  # flagged
    )
""",
        ),
        Example(
            title="raw() on a model defined in another module (cross-file)",
            files={
                "shop/__init__.py": "",
                "shop/models.py": """\
from django.db import models


class Order(models.Model):
    total = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=16)
""",
                "shop/reports.py": """\
from .models import Order

BIG_ORDERS = "SELECT * FROM shop_order WHERE total > %s AND status = 'paid'"


def big_orders(threshold):
    return Order.objects.raw(BIG_ORDERS, [threshold])  # flagged
""",
            },
        ),
    )
    clean = (
        Example(
            title="SQL built from values: sql-injection's business",
            code="""\
from django.db import connection


def search(term):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM auth_user WHERE username LIKE '%{term}%'")
""",
        ),
        Example(
            title="SQL the ORM cannot express",
            code="""\
from django.db import connection


def category_tree(root_id):
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE tree AS (SELECT id FROM shop_category WHERE id = %s "
            "UNION ALL SELECT c.id FROM shop_category c JOIN tree t ON c.parent_id = t.id) "
            "SELECT id FROM tree",
            [root_id],
        )
        return [row[0] for row in cursor.fetchall()]


def ranked():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, rank() OVER (ORDER BY total DESC) FROM shop_order")
        return cursor.fetchall()
""",
        ),
        Example(
            title="utility statements and a health check",
            code="""\
from django.db import connection


def lock_and_ping():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 5000")
        cursor.execute("SELECT 1")
""",
        ),
        Example(
            title="`execute()` on something that is not a Django connection",
            code="""\
import sqlite3


def read_export(path):
    conn = sqlite3.connect(path)
    return conn.execute("SELECT id, name FROM items").fetchall()
""",
        ),
        Example(
            title="database operators the ORM has no lookup for, and SQL whose reason is written down",
            code="""\
from django.db import models
from django.db.models.expressions import RawSQL


class PrefixQuerySet(models.QuerySet):
    def with_children(self):
        return self.annotate(
            children=RawSQL(
                "SELECT COUNT(*) FROM ipam_prefix p WHERE p.prefix << ipam_prefix.prefix", ()
            )
        )

    def with_contacts(self):
        \"\"\"Raw SQL is used here so that contacts in several child groups count once.\"\"\"
        return self.annotate(
            contacts=RawSQL(
                "SELECT COUNT(DISTINCT m.contact_id) FROM tenancy_members m "
                "WHERE m.group_id = tenancy_group.id",
                (),
            )
        )
""",
        ),
        Example(
            title="another database without models, and array functions",
            code="""\
from django.db import connection, connections


def bouncing_tickets():
    cursor = connections["trac"].cursor()
    cursor.execute("SELECT * FROM bouncing_tickets WHERE times_reopened >= 3")
    return cursor.fetchall()


def rename_tag(project_id, old, new):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE stories SET tags = array_replace(tags, %s, %s) WHERE project_id = %s",
            [old, new, project_id],
        )
""",
        ),
    )

    @visit_call("raw", "extra", "execute", "executemany", "RawSQL")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        label = None
        fragments: list[ast.AST] = []
        if isinstance(func, ast.Attribute):
            if func.attr == "raw" and node.args and manager_chain_model(func.value, ctx):
                label, fragments = "raw()", [node.args[0]]
            elif func.attr == "extra" and manager_chain_model(func.value, ctx):
                label, fragments = "extra()", extra_fragments(node)
            elif (
                func.attr in ("execute", "executemany")
                and node.args
                and _django_cursor(func.value, ctx)
            ):
                label, fragments = "cursor.execute()", [node.args[0]]
        elif (
            isinstance(func, ast.Name)
            and func.id == "RawSQL"
            and node.args
            and ctx.qualname(func) in RAW_SQL
        ):
            label, fragments = "RawSQL()", [node.args[0]]
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "RawSQL"
            and node.args
            and ctx.qualname(func) in RAW_SQL
        ):
            label, fragments = "RawSQL()", [node.args[0]]
        if label is None or not fragments or "migrations" in ctx.path.split("/")[:-1]:
            return
        texts = []
        for fragment in fragments:
            text = dataflow.text_of(fragment, ctx)
            if text is None or text.dynamic:
                return  # not constant: unknown, or sql-injection's business
            texts.append(strip_comments(text.constant_text))
        sql = " ".join(texts)
        if label != "extra()" and not _DML.match(sql):
            return
        if _BEYOND_ORM.search(sql) or (
            label != "extra()"
            and re.match(r"^[\s(]*select\b", sql, re.I)
            and not re.search(r"\bfrom\b", sql, re.I)
        ):
            return
        if _justified(node, ctx):
            return
        ctx.report(
            node,
            f"Constant SQL run through {label}: it is written against table and column names, "
            "so model renames, managers and routers do not apply to it and nothing checks it "
            "before it runs. Prefer the ORM for a query like this one, or keep it and note why.",
            confidence=Confidence.MEDIUM,
        )


_JUSTIFIED = re.compile(
    r"raw\s*sql|raw\s+query|rawsql|\bsql\b.*\b(?:because|faster|avoid|instead)\b", re.I
)


def _justified(node: ast.Call, ctx: FileContext) -> bool:
    """A comment or docstring near the call that says why raw SQL is used: the choice was made."""
    lines = ctx.source.text.splitlines()
    start = max(0, node.lineno - 6)
    nearby = "\n".join(lines[start : node.lineno])
    if any(_JUSTIFIED.search(line.partition("#")[2]) for line in nearby.splitlines()):
        return True
    function = ctx.enclosing_function()
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        docstring = ast.get_docstring(function) or ""
        return bool(_JUSTIFIED.search(docstring))
    return False
