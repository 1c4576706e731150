"""SQL text assembled from values the code does not control, then run as SQL."""

from __future__ import annotations

import ast
import re

from backend_expert import dataflow
from backend_expert.check import FileContext
from backend_expert.dataflow import Hole, Kind, Text
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.sqltext import extra_fragments, strip_comments

# Methods that run their first argument as SQL, on whatever object.
METHOD_SINKS = frozenset(
    {"execute", "executemany", "executescript", "exec_driver_sql", "raw"}
    | {"fetch", "fetchrow", "fetchval"}  # asyncpg connections and pools
)
# Functions and classes whose first argument is SQL text, by qualified name.
CALL_SINKS = {
    "sqlalchemy.text": "sqlalchemy.text()",
    "sqlalchemy.sql.text": "sqlalchemy.text()",
    "sqlalchemy.sql.expression.text": "sqlalchemy.text()",
    "sqlmodel.text": "sqlalchemy.text()",
    "django.db.models.RawSQL": "RawSQL()",
    "django.db.models.expressions.RawSQL": "RawSQL()",
    "pandas.read_sql": "pandas.read_sql()",
    "pandas.read_sql_query": "pandas.read_sql_query()",
    "pandas.io.sql.read_sql": "pandas.read_sql()",
    "pandas.io.sql.read_sql_query": "pandas.read_sql_query()",
    "psycopg2.sql.SQL": "psycopg sql.SQL()",
    "psycopg.sql.SQL": "psycopg sql.SQL()",
}
# Receivers known to be database connections, cursors or sessions.
DATABASE_TYPES = frozenset(
    {
        "sqlite3.Connection",
        "sqlite3.Cursor",
        "psycopg2.connection",
        "psycopg2.cursor",
        "pymysql.Connection",
        "pymysql.Cursor",
        "sqlalchemy.engine.Engine",
        "sqlalchemy.engine.Connection",
        "sqlalchemy.orm.Session",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.AsyncEngine",
        "sqlalchemy.ext.asyncio.AsyncConnection",
        "sqlmodel.Session",
        "psycopg.Connection",
        "psycopg.Cursor",
    }
)
ARGUMENT_NAMES = ("sql", "query", "statement", "operation", "raw_query", "sql_script", "text")

# The constant text of a statement: a statement keyword at the start, or clauses that only
# SQL has. English prose passed to an `execute()` method rarely matches either.
_STATEMENT = re.compile(
    r"""^[\s(]*(?:
        select\s | insert\s+(?:or\s+\w+\s+)?into\s | update\s+\S+\s+set\s | delete\s+from\s
      | with\s+(?:recursive\s+)?\S+\s+as\s*\( | replace\s+into\s | merge\s+into\s
      | (?:create|drop|alter)\s+(?:or\s+replace\s+)?(?:temp\w*\s+|unique\s+|materialized\s+)*
        (?:table|index|view|schema|database|function|trigger|sequence|extension|role|user|type|
           procedure|policy|constraint|column)\b
      | truncate\s | explain\s | vacuum\b | analyze\s | pragma\s | show\s+\w | grant\s | revoke\s
      | set\s+(?:session\s+|local\s+)?[\w.]+\s*(?:=|to\s) | refresh\s+materialized | copy\s
      | lock\s+table | comment\s+on\s | reindex\s | call\s+\w+\s*\(
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_CLAUSES = re.compile(
    r"\bselect\b[\s\S]+?\bfrom\b|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\b[\s\S]+?\bset\b"
    r"|\bwhere\b[\s\S]*?(?:=|<|>|\blike\b|\bin\s*\(|\bis\s+(?:not\s+)?null\b)"
    r"|\border\s+by\b|\bgroup\s+by\b|\bvalues\s*\(",
    re.IGNORECASE,
)
# The interpolated value stands for a table/column name (cannot be a bound parameter).
_IDENTIFIER_BEFORE = re.compile(
    r"""(?:
        \b(?:from|join|into|update|table|exists|on|index|view|schema|sequence|truncate|by|as
           |to|owner|role|user|database|template|grant|revoke)\s+[\w".`\[\]?]*
      | [.`"\[]
      | \bselect\s+(?:distinct\s+)?
      | \b(?:into|table)\s+[\w".`\[\]?]+\s*\(\s*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Statements that take no bound parameters at all (DDL and utility commands): whatever is
# formatted into them is a name or a setting, chosen by the code that runs them.
_UTILITY = re.compile(
    r"^[\s(]*(?:create|drop|alter|grant|revoke|truncate|comment|set|reset|vacuum|analyze"
    r"|refresh|reindex|cluster|lock|copy|do|listen|notify|unlisten|use|show|declare|savepoint"
    r"|release|attach|detach|pragma)\b",
    re.IGNORECASE,
)
# A list of names: `SELECT a, {x}`, `ORDER BY a, {x}`, `INSERT INTO t (a, {x})`.
_NAME_LIST_PAREN = re.compile(r"\b(?:into|table|on)\s+[\w\".`\[\]?]+\s*$", re.IGNORECASE)
_VALUE_LIST = re.compile(r"\b(?:values|in)\s*\([^()]*$", re.IGNORECASE)
_CONDITION_START = re.compile(r"(?:\b(?:where|and|or|having|on)\s+|\()$", re.IGNORECASE)
_OPERATOR_AFTER = re.compile(
    r"\s*(?:=|<|>|!=|\blike\b|\bilike\b|\bin\s*\(|\bis\s|\bbetween\b)", re.IGNORECASE
)
# Names of values that hold SQL written elsewhere (a clause or a whole query).
_SQL_FRAGMENT_NAME = re.compile(
    r"(?:^|_)(?:sql|query|queries|clause|clauses|where|condition|conditions|stmt|statement|"
    r"subquery|cte|join|joins|filters?|order_by|group_by|select|expr|expression)(?:_|$|s$)",
    re.IGNORECASE,
)


def looks_like_sql(text: str) -> bool:
    stripped = strip_comments(text)
    return bool(_STATEMENT.search(stripped) or _CLAUSES.search(stripped))


class SqlInjection(Rule):
    code = "BEX701"
    slug = "sql-injection"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 89
    # CVSS 3.1 AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H for the request-data case: a network
    # attacker with no account reads and rewrites the database.
    security_severity = 9.8
    summary = "SQL text built by string formatting from a value the code does not control"
    hint = (
        "Keep the SQL constant and pass values as bound parameters; check table or column "
        "names against a fixed set of allowed names."
    )
    explanation = Explanation(
        what=(
            "Flags SQL text assembled with an f-string, `%`, `.format()`, `+`, `+=` or "
            '`"sep".join(...)` from a value that is not a constant, when that text reaches '
            "something that runs it: `execute()`, `executemany()`, `executescript()`, "
            "`exec_driver_sql()`, `raw()` (any object, as long as the text reads as SQL), "
            "`sqlalchemy.text()`, Django's `RawSQL()` and `QuerySet.extra()`, "
            "`pandas.read_sql()` and psycopg's `sql.SQL()`. The text is followed through the "
            "local variables of the function (`=`, `+=`, `list.append`, joins). Confidence is "
            "high when the value comes from the request (a FastAPI or Flask route parameter, "
            "`request.args`, `request.GET`, DRF's `query_params`...), medium when it is a "
            "parameter of the function or a value bex cannot trace written inside quotes, low "
            "for an untraced value written bare (most often a number or an id). Values that "
            "are constants, numbers (`int()`, `len()`, `%d`, `: int` parameters), placeholder "
            "lists (`', '.join(['%s'] * len(ids))`), quoted identifiers (`quote_name()`, "
            "`sql.Identifier()`), model metadata (`_meta.db_table`, `__tablename__`), enum "
            "members or names checked against a whitelist in the same function are not "
            "reported. Outside request data, bex also stays quiet where a bound parameter is "
            "impossible or the value is SQL itself: table and column names, DDL and utility "
            "statements (`CREATE`, `GRANT`, `SET`...), values named like SQL fragments "
            "(`where_clause`, `base_query`), and migrations, which run once on the project's "
            "own data."
        ),
        why=(
            "The database cannot tell the query the developer wrote from text that arrived "
            "inside a value: a quote in the value ends the string literal and the rest runs as "
            "SQL. `' OR 1=1 --` turns a lookup into a dump of the table, and on drivers that "
            "accept several statements, `'; DROP TABLE users; --` does what it says. Escaping by "
            "hand misses cases (encodings, backslashes, numeric contexts); bound parameters are "
            "sent separately from the SQL and are never parsed as SQL. A value that is safe "
            "today because every caller passes a constant stops being safe the day one caller "
            "passes user input, which is why parameters of helpers are reported too."
        ),
        use_instead=(
            "Write the SQL as a constant with placeholders and pass the values next to it: "
            '`cursor.execute("... WHERE name = %s", [name])`, '
            '`session.execute(text("... WHERE id = :id"), {"id": item_id})`, '
            '`Model.objects.raw("... WHERE id = %s", [pk])`, `RawSQL("... %s", (value,))`. '
            "Table and column names cannot be parameters: map the input to a name through a "
            "constant dict, check it against a set of allowed names, or quote it with "
            "`connection.ops.quote_name()` / psycopg's `sql.Identifier()`. Better still, use "
            "the ORM or SQLAlchemy Core expressions, which bind every value."
        ),
        fix_safety=(
            "No automatic fix: the placeholder style depends on the driver (`%s`, `?`, `:name`) "
            "and the values have to be moved into the parameters argument."
        ),
        references=(
            "https://cheatsheetseries.owasp.org/cheatsheets/Query_Parameterization_Cheat_Sheet.html",
            "https://docs.djangoproject.com/en/stable/topics/db/sql/#passing-parameters-into-raw",
            "https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.text",
            "https://www.psycopg.org/docs/sql.html",
            "https://cwe.mitre.org/data/definitions/89.html",
        ),
    )
    fire = (
        Example(
            title="an f-string passed straight to `cursor.execute()`",
            code="""\
import sqlite3

conn = sqlite3.connect("shop.db")


def search_products(term: str):
    cursor = conn.cursor()
    cursor.execute(f"SELECT id, name FROM products WHERE name LIKE '%{term}%'")  # flagged
    return cursor.fetchall()
""",
            fixed="""\
import sqlite3

conn = sqlite3.connect("shop.db")


def search_products(term: str):
    cursor = conn.cursor()
    cursor.execute("SELECT id, name FROM products WHERE name LIKE ?", (f"%{term}%",))
    return cursor.fetchall()
""",
        ),
        Example(
            title="the query built in a local variable first, then executed",
            code="""\
from django.db import connection


def orders_of(customer_id, status):
    sql = f"SELECT * FROM orders WHERE customer_id = {customer_id}"
    if status:
        sql += f" AND status = '{status}'"
    with connection.cursor() as cursor:
        cursor.execute(sql)  # flagged
        return cursor.fetchall()
""",
            fixed="""\
from django.db import connection


def orders_of(customer_id, status):
    sql = "SELECT * FROM orders WHERE customer_id = %s"
    params = [customer_id]
    if status:
        sql += " AND status = %s"
        params.append(status)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
""",
        ),
        Example(
            title="a FastAPI query parameter formatted into `text()` (high confidence)",
            code="""\
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from .db import get_db

app = FastAPI()


@app.get("/users")
def find_users(name: str, db: Session = Depends(get_db)):
    query = text(f"SELECT id, email FROM users WHERE name = '{name}'")  # flagged
    return db.execute(query).all()
""",
            fixed="""\
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from .db import get_db

app = FastAPI()


@app.get("/users")
def find_users(name: str, db: Session = Depends(get_db)):
    query = text("SELECT id, email FROM users WHERE name = :name")
    return db.execute(query, {"name": name}).all()
""",
        ),
        Example(
            title="Flask request data through `.format()` and `%`",
            code="""\
from flask import Flask, request

from .db import get_cursor

app = Flask(__name__)


@app.route("/report")
def report():
    cursor = get_cursor()
    year = request.args.get("year", "")
    cursor.execute("SELECT * FROM sales WHERE year = {}".format(year))  # flagged
    region = request.args["region"]
    cursor.execute("SELECT * FROM sales WHERE region = '%s'" % region)  # flagged
    return {"rows": cursor.fetchall()}
""",
            fixed="""\
from flask import Flask, request

from .db import get_cursor

app = Flask(__name__)


@app.route("/report")
def report():
    cursor = get_cursor()
    cursor.execute("SELECT * FROM sales WHERE year = %s", (request.args.get("year", ""),))
    cursor.execute("SELECT * FROM sales WHERE region = %s", (request.args["region"],))
    return {"rows": cursor.fetchall()}
""",
        ),
        Example(
            title="Django `raw()`, `RawSQL()` and `extra()` with interpolated values",
            code="""\
from django.db.models.expressions import RawSQL

from .models import Author, Book


def authors_named(request):
    name = request.GET["name"]
    return Author.objects.raw("SELECT * FROM app_author WHERE name = '" + name + "'")  # flagged


def books_with_rank(weight):
    return Book.objects.annotate(
        rank=RawSQL(f"SELECT COUNT(*) * {weight} FROM app_review WHERE book_id = app_book.id", ())  # flagged
    )


def recent_books(days):
    return Book.objects.extra(where=[f"published > now() - interval '{days} days'"])  # flagged
""",
            fixed="""\
from django.db.models.expressions import RawSQL

from .models import Author, Book


def authors_named(request):
    return Author.objects.raw("SELECT * FROM app_author WHERE name = %s", [request.GET["name"]])


def books_with_rank(weight):
    return Book.objects.annotate(
        rank=RawSQL("SELECT COUNT(*) * %s FROM app_review WHERE book_id = app_book.id", (weight,))
    )


def recent_books(days):
    return Book.objects.extra(where=["published > now() - %s * interval '1 day'"], params=[days])
""",
        ),
        Example(
            title="a WHERE clause assembled from a list of conditions",
            code="""\
def find(session, filters: dict):
    conditions = []
    for column, value in filters.items():
        conditions.append(f"{column} = '{value}'")
    where = " AND ".join(conditions)
    return session.execute(f"SELECT * FROM items WHERE {where}")  # flagged
""",
            fixed="""\
from sqlalchemy import column, select, table

ALLOWED = {"name", "status", "owner_id"}
items = table("items", column("name"), column("status"), column("owner_id"))


def find(session, filters: dict):
    query = select(items)
    for name, value in filters.items():
        if name not in ALLOWED:
            raise ValueError(f"cannot filter on {name!r}")
        query = query.where(items.c[name] == value)
    return session.execute(query)
""",
        ),
        Example(
            title="a sort column taken from the query string (a name cannot be bound)",
            code="""\
from fastapi import APIRouter
from sqlalchemy import text

from .db import engine

router = APIRouter()


@router.get("/products")
async def products(sort: str = "name"):
    async with engine.connect() as conn:
        result = await conn.execute(text(f"SELECT * FROM products ORDER BY {sort}"))  # flagged
        return result.mappings().all()
""",
            fixed="""\
from fastapi import APIRouter
from sqlalchemy import text

from .db import engine

router = APIRouter()
SORTS = {"name": "name", "price": "price", "newest": "created_at DESC"}


@router.get("/products")
async def products(sort: str = "name"):
    order = SORTS.get(sort, "name")
    async with engine.connect() as conn:
        result = await conn.execute(text(f"SELECT * FROM products ORDER BY {order}"))
        return result.mappings().all()
""",
        ),
        Example(
            title="`pandas.read_sql()` and `exec_driver_sql()`",
            code="""\
import pandas as pd


def load_events(engine, kind, since):
    frame = pd.read_sql(f"SELECT * FROM events WHERE kind = '{kind}'", engine)  # flagged
    with engine.connect() as conn:
        conn.exec_driver_sql("DELETE FROM events WHERE created < '%s'" % since)  # flagged
    return frame
""",
            fixed="""\
import pandas as pd
from sqlalchemy import text


def load_events(engine, kind, since):
    frame = pd.read_sql(text("SELECT * FROM events WHERE kind = :kind"), engine, params={"kind": kind})
    with engine.connect() as conn:
        conn.exec_driver_sql("DELETE FROM events WHERE created < %(since)s", {"since": since})
    return frame
""",
        ),
    )
    clean = (
        Example(
            title="an f-string made only of module constants",
            code="""\
TABLE = "audit_log"
COLUMNS = ("id", "created", "action")


def latest(cursor):
    cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY created DESC LIMIT 50")
    return cursor.fetchall()
""",
        ),
        Example(
            title="a list of placeholders joined into the text, values bound",
            code="""\
def fetch_many(cursor, ids):
    placeholders = ", ".join(["%s"] * len(ids))
    cursor.execute(f"SELECT * FROM items WHERE id IN ({placeholders})", ids)
    marks = ",".join("?" * len(ids))
    cursor.execute("DELETE FROM items WHERE id IN (%s)" % marks, ids)
    return cursor.fetchall()
""",
        ),
        Example(
            title="bound parameters with every driver style",
            code="""\
from sqlalchemy import text


def lookups(cursor, session, user_id, email):
    cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))
    cursor.executemany("INSERT INTO seen (email) VALUES (?)", [(email,)])
    session.execute(text("SELECT * FROM users WHERE email = :email"), {"email": email})
    stmt = text("UPDATE users SET active = false WHERE id = :id").bindparams(id=user_id)
    return session.execute(stmt)
""",
        ),
        Example(
            title="an identifier checked against a whitelist before it is formatted in",
            code="""\
from fastapi import FastAPI
from sqlalchemy import text

app = FastAPI()
SORTABLE = {"name", "created_at", "price"}
DIRECTIONS = {"asc": "ASC", "desc": "DESC"}


@app.get("/products")
def products(db, sort: str = "name", direction: str = "asc", limit: int = 20):
    if sort not in SORTABLE:
        raise ValueError("bad sort column")
    order = DIRECTIONS[direction]
    query = f"SELECT * FROM products ORDER BY {sort} {order} LIMIT {limit}"
    return db.execute(text(query)).all()


def by_column(cursor, column, value):
    assert column in ("name", "email")
    cursor.execute(f"SELECT * FROM users WHERE {column} = %s", [value])
""",
        ),
        Example(
            title="psycopg `sql.SQL(...).format(sql.Identifier(...))` and Django's quoting",
            code="""\
from django.db import connection
from psycopg2 import sql


def count_rows(cursor, table):
    cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    return cursor.fetchone()


def truncate(model):
    name = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {name}")
        cursor.execute("DELETE FROM %s" % model._meta.db_table)
""",
        ),
        Example(
            title="an f-string that mentions SELECT but is only logged or raised",
            code="""\
import logging

log = logging.getLogger(__name__)


def pick(options, choice):
    log.info(f"SELECT {choice} FROM the menu")
    if choice not in options:
        raise ValueError(f"Please select a value from {options}, not {choice}")
""",
        ),
        Example(
            title="`execute()` of something that is not SQL (a task runner)",
            code="""\
def run(runner, task_name, host):
    runner.execute(f"task {task_name} --host {host}")
    runner.execute("deploy %s" % host)
""",
        ),
        Example(
            title="numbers: int casts, `%d`, numeric format specs, typed parameters",
            code="""\
def page(cursor, page, size, user_id: int):
    offset = (int(page) - 1) * int(size)
    cursor.execute(f"SELECT * FROM events WHERE owner = {user_id} LIMIT {int(size)} OFFSET {offset}")
    cursor.execute("SELECT * FROM events LIMIT %d" % size)
    cursor.execute(f"SELECT * FROM events WHERE score > {page:.2f}")
""",
        ),
        Example(
            title="model metadata and a SQL fragment composed by the ORM",
            code="""\
from django.db import connection


def refresh(model, queryset):
    table = model._meta.db_table
    inner, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id IN ({inner})", params)
""",
        ),
        Example(
            title="SQL text received whole from the caller (a query runner), not assembled here",
            code="""\
def run_query(connection, query, max_rows=1000):
    cursor = connection.cursor()
    cursor.execute(query)
    return cursor.fetchmany(max_rows)
""",
        ),
        Example(
            title="DDL and utility statements built from settings and helper values",
            code="""\
from sqlalchemy import text

from .config import settings


def grant_read_access(conn, role_name):
    read_user = settings.POSTGRES_READ_USER
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {read_user}"))
    conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {read_user}"))
    conn.execute(f"CREATE ROLE {role_name} LOGIN")


async def set_timezone(session, timezone):
    await session.execute(text(f"SET LOCAL TIME ZONE '{timezone.key}'"))
""",
        ),
        Example(
            title="table and column names passed by the code's own callers, values bound",
            code="""\
def fix_column_name(name):
    return '"{}"'.format(name.replace('"', "_"))


def create_table(connection, table_name, columns, rows):
    column_list = ", ".join(fix_column_name(column) for column in columns)
    connection.execute(f"CREATE TABLE {table_name} ({column_list})")
    insert = "INSERT INTO {table} ({columns}) VALUES ({marks})".format(
        table=table_name, columns=column_list, marks=",".join(["?"] * len(columns))
    )
    for row in rows:
        connection.execute(insert, row)
""",
        ),
        Example(
            title="a data migration that writes back values it has just read",
            code="""\
from alembic import op

revision = "b0b00d3e8330"
down_revision = "2780d28e4f39"


def upgrade():
    conn = op.get_bind()
    for row in conn.execute("SELECT id, status FROM workflow").fetchall():
        conn.execute(f"UPDATE workflow SET status = '{row[1].capitalize()}' WHERE id = {row[0]}")
""",
        ),
        Example(
            title="an enum's own value, and a clause composed by a helper",
            code="""\
from enum import StrEnum

from sqlalchemy import text


class Interval(StrEnum):
    day = "day"
    month = "month"

    def sql_interval(self):
        return text(f"'1 {self.value}'::interval")


def count_matching(session, build_where, extra_condition):
    where_clause = build_where(extra_condition)
    return session.execute(text(f"SELECT COUNT(*) FROM organizations WHERE {where_clause}"))
""",
        ),
    )

    # --- detection -----------------------------------------------------------------------------

    @visit_call(CALL_SINKS, METHOD_SINKS, "extra")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        qualified = ctx.qualname(func)
        if qualified in CALL_SINKS:
            argument = _argument(node)
            if argument is not None:
                self._check(node, argument, CALL_SINKS[qualified], None, ctx)
            return
        if not isinstance(func, ast.Attribute):
            return
        if func.attr in METHOD_SINKS:
            argument = _argument(node)
            if argument is not None:
                self._check(node, argument, f"{_label(func)}()", func.value, ctx)
        elif func.attr == "extra" and ctx.project.uses("django"):
            for expression in extra_fragments(node):
                self._check(node, expression, f"{_label(func)}()", None, ctx)

    def _check(
        self,
        sink: ast.Call,
        argument: ast.AST,
        label: str,
        receiver: ast.AST | None,
        ctx: FileContext,
    ) -> None:
        """Report `argument` of `sink` when it is SQL text assembled from tainted values.

        `receiver` is the object of a method sink (`cursor` in `cursor.execute`), None for the
        functions and classes that always take SQL.
        """
        if isinstance(argument, ast.Constant):
            return
        text = dataflow.flow(ctx).text(argument)
        if text is None or not text.dynamic:
            return
        skip_derived = _is_migration(ctx) or _UTILITY.match(strip_comments(text.constant_text))
        found: list[tuple[Confidence, Hole, str]] = []
        for hole in text.holes:
            kind = hole.source.kind
            if not kind.tainted:
                continue
            place = _place(text, hole)
            if kind == Kind.REQUEST:
                found.append((Confidence.HIGH, hole, place))
                continue
            # Names (tables, columns) come from code almost always, SQL fragments were
            # assembled elsewhere, DDL takes no parameters and migrations run once on the
            # project's own data: only request data is worth a finding there.
            if skip_derived or place == "name" or (place == "bare" and _names_sql(hole.node)):
                continue
            if kind == Kind.PARAMETER or place == "quoted":
                found.append((Confidence.MEDIUM, hole, place))
            else:  # an unquoted value the code computed: most often a number or an id
                found.append((Confidence.LOW, hole, place))
        if not found:
            return
        if (
            receiver is not None
            and not looks_like_sql(text.constant_text)
            and not _is_sql_receiver(receiver, sink, ctx)
        ):
            return  # an `execute()` of something that does not read as SQL
        confidence, culprit, _ = max(found, key=lambda item: (item[0].rank, item[1].source.kind))
        source = culprit.source
        value = dataflow._short(culprit.node, 40)
        where = f"{_how_built(text, culprit)} on line {_line(culprit, sink)}"
        advice = [
            "Keep the SQL constant and pass the value as a bound parameter "
            "(a `%s`/`?`/`:name` placeholder and the params argument)."
        ]
        if any(place == "name" for _, _, place in found):
            advice.append(
                "A table or column name cannot be a bound parameter: map the input through a "
                "constant dict or check it against a set of allowed names first."
            )
        if all(place == "name" for _, _, place in found):
            advice = advice[1:]
        others = len({id(hole.node) for _, hole, _ in found}) - 1
        more = f" (and {others} more value{'s' if others > 1 else ''})" if others > 0 else ""
        message = (
            f"SQL injection: `{value}`{more} is formatted into the SQL text run by `{label}` "
            f"({where}); it comes from {source.origin}. {' '.join(advice)}"
        )
        ctx.report(sink, message, confidence=confidence, source=source.origin)


# --- helpers -----------------------------------------------------------------------------------


def _argument(call: ast.Call) -> ast.AST | None:
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    for keyword in call.keywords:
        if keyword.arg in ARGUMENT_NAMES:
            return keyword.value
    return None


def _is_sql_receiver(receiver: ast.AST, sink: ast.Call, ctx: FileContext) -> bool:
    """A database connection/cursor/session, or a Django manager for `.raw()`."""
    func = sink.func
    if isinstance(func, ast.Attribute) and func.attr == "raw" and _is_django_manager(receiver):
        return True
    return ctx.type_of(receiver) in DATABASE_TYPES


def _is_django_manager(node: ast.AST) -> bool:
    """`Model.objects`, `Model.objects.filter(...)`, `Model._default_manager`..."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager"):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _label(func: ast.Attribute) -> str:
    receiver = dotted(func.value)
    if receiver is None:
        receiver = dataflow._short(func.value, 30)
    return f"{receiver}.{func.attr}"


def _is_migration(ctx: FileContext) -> bool:
    """A Django or Alembic migration module."""
    parts = ctx.path.split("/")
    if "migrations" in parts[:-1]:
        return True
    return "down_revision" in ctx.facts.constants and "revision" in ctx.facts.constants


def _names_sql(node: ast.AST) -> bool:
    """`where_clause`, `self.base_query`, `build_filter_sql(...)`: a value that holds SQL."""
    if isinstance(node, ast.Call):
        node = node.func
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return bool(name) and _SQL_FRAGMENT_NAME.search(name) is not None


def _place(text: Text, hole: Hole) -> str:
    """Where a hole sits in the SQL: "quoted" (in a string literal), "name", or "bare"."""
    before = text.before(hole, None)
    if before.count("'") % 2 == 1:
        return "quoted"
    return "name" if _is_identifier(before, text.after(hole)) else "bare"


def _is_identifier(before: str, after: str) -> bool:
    """True when the text around a hole puts it where a name goes, not a value."""
    if before.count("'") % 2 == 1:  # inside a string literal
        return False
    if before.rstrip().endswith(("%", "=", "<", ">")) or _VALUE_LIST.search(before):
        return False
    if _IDENTIFIER_BEFORE.search(before) is not None:
        return True
    if before.rstrip().endswith(","):
        opened = _unclosed_paren(before)
        return opened < 0 or _NAME_LIST_PAREN.search(before[:opened]) is not None
    return bool(_CONDITION_START.search(before) and _OPERATOR_AFTER.match(after))


def _unclosed_paren(text: str) -> int:
    """Index of the innermost `(` left open at the end of `text`, or -1."""
    stack: list[int] = []
    for index, char in enumerate(text):
        if char == "(":
            stack.append(index)
        elif char == ")" and stack:
            stack.pop()
    return stack[-1] if stack else -1


def _how_built(text: Text, hole: Hole) -> str:
    for built in reversed(text.built):  # the innermost construct first
        if any(child is hole.node for child in ast.walk(built)):
            if isinstance(built, ast.JoinedStr):
                return "an f-string"
            if isinstance(built, ast.BinOp):
                return "`%` formatting" if isinstance(built.op, ast.Mod) else "`+` concatenation"
            if isinstance(built, ast.Call) and isinstance(built.func, ast.Attribute):
                return "`.format()`" if built.func.attr == "format" else "`join()`"
    return "string building"


def _line(hole: Hole, sink: ast.AST) -> int:
    return getattr(hole.node, "lineno", None) or getattr(sink, "lineno", 0)
