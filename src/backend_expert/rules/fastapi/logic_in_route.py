"""A FastAPI route that runs many database statements itself: data access and business rules
written in the path function instead of a service/repository function it depends on."""

from __future__ import annotations

import ast
import re

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.nodes import own_nodes, own_statements
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.web import dependency_name, fastapi_route, route_parameters

# A route is reported when its own body runs at least this many database operations...
MIN_DB_OPERATIONS = 4
# ...and has at least this many logical lines (statements, the docstring not counted),
MIN_LOGICAL_LINES = 20
# or when it runs at least this many operations in at least this many logical lines.
MANY_DB_OPERATIONS = 6
MIN_LOGICAL_LINES_WITH_MANY = 12

SESSION_TYPES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.async_scoped_session",
        "sqlmodel.Session",
        "sqlmodel.orm.session.Session",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
# Module-level session proxies (fastapi-sqlalchemy's middleware gives each request `db.session`).
SESSION_OBJECTS = frozenset(
    {"fastapi_sqlalchemy.db.session", "fastapi_sqlalchemy.middleware.db.session"}
)
SESSION_METHODS = frozenset(
    {
        "execute",
        "scalars",
        "scalar",
        "get",
        "get_one",
        "add",
        "add_all",
        "delete",
        "commit",
        "flush",
        "refresh",
        "merge",
        "query",
        "exec",  # SQLModel
        "stream",
        "stream_scalars",
    }
)
STATEMENT_BUILDERS = frozenset({"select", "insert", "update", "delete", "text", "union"})
STATEMENT_MODULES = ("sqlalchemy", "sqlmodel")
# `Depends(get_db)`, `Depends(get_db_session)`, `Depends(get_async_session)`: after dropping
# `get`, every word of the dependency's name is one of these and one names a database session.
SESSION_DEPENDENCY_WORDS = frozenset(
    {"db", "database", "session", "async", "sync", "read", "write", "sql", "sqlalchemy", "orm"}
)
SESSION_DEPENDENCY_KEYS = frozenset({"db", "database", "session"})
# `http: aiohttp.ClientSession = Depends(get_session)` is a session of another kind.
NOT_DATABASE_LIBRARIES = ("aiohttp.", "requests.", "httpx.", "starlette.", "fastapi.", "redis.")


def logical_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Statements in the function's own body (nested bodies of if/for/with/try included, nested
    functions counted as one), the docstring left out."""
    count = sum(1 for _ in own_statements(function.body))
    first = function.body[0] if function.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        count -= 1
    return count


def _is_session_dependency(name: str | None) -> bool:
    if not name:
        return False
    words = [w for w in re.split(r"_+", name.rpartition(".")[2].lower()) if w and w != "get"]
    return (
        bool(words)
        and all(w in SESSION_DEPENDENCY_WORDS for w in words)
        and any(w in SESSION_DEPENDENCY_KEYS for w in words)
    )


def session_parameters(
    function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> set[str]:
    """Parameters that hold a database session: by type, or by a `Depends(get_db)`-like default."""
    names = set()
    for arg, default in route_parameters(function):
        kind = ctx.inference.annotation_type(arg.annotation)
        if _is_session_type(kind, ctx) or (
            not (kind or "").startswith(NOT_DATABASE_LIBRARIES)
            and _is_session_dependency(dependency_name(arg, default, ctx))
        ):
            names.add(arg.arg)
    return names


def _is_session_type(kind: str | None, ctx: FileContext) -> bool:
    return kind is not None and (
        kind in SESSION_TYPES or ctx.project.is_subclass(kind, SESSION_TYPES)
    )


def _statement_builder(call: ast.Call, ctx: FileContext) -> bool:
    name = ctx.qualname(call.func)
    return (
        name is not None
        and name.startswith(STATEMENT_MODULES)
        and name.rpartition(".")[2] in STATEMENT_BUILDERS
    )


def _chain_top(node: ast.AST, parents: dict[int, ast.AST]) -> ast.AST:
    """Climb a method chain, `select(X).where(...).limit(1)`, to the expression it builds."""
    top = node
    while True:
        parent = parents.get(id(top))
        if isinstance(parent, ast.Attribute) or (
            isinstance(parent, ast.Call) and parent.func is top
        ):
            top = parent
            continue
        return top


def _assigned_names(node: ast.AST, parents: dict[int, ast.AST]) -> list[str]:
    parent = parents.get(id(node))
    if isinstance(parent, ast.Assign):
        return [t.id for t in parent.targets if isinstance(t, ast.Name)]
    if isinstance(parent, (ast.AnnAssign, ast.NamedExpr)) and isinstance(parent.target, ast.Name):
        return [parent.target.id]
    return []


def _argument_nodes(call: ast.Call):
    for argument in (*call.args, *(kw.value for kw in call.keywords)):
        yield from ast.walk(argument)


def db_operations(
    function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> list[ast.Call]:
    """The database operations a route runs in its own body, in source order.

    Each call of a session method (`execute`, `scalars`, `get`, `add`, `commit`...) is one; a
    `select()`/`insert()`/`update()`/`delete()` built in the route is one more unless it is run
    by one of those calls (inline or through the variable it was assigned to). A session is a
    receiver typed as one, a `Depends(get_db)`-like parameter, or any object the route hands a
    statement it built to (`session.execute(select(...))`).
    """
    parents: dict[int, ast.AST] = {}
    calls: list[ast.Call] = []
    builders: list[ast.Call] = []
    for node in own_nodes(function):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.Call):
            calls.append(node)
            if _statement_builder(node, ctx):
                builders.append(node)
    builder_ids = {id(b) for b in builders}
    statement_names = {
        name for b in builders for name in _assigned_names(_chain_top(b, parents), parents)
    }

    def runs_statement(call: ast.Call) -> bool:
        return any(
            id(n) in builder_ids or (isinstance(n, ast.Name) and n.id in statement_names)
            for n in _argument_nodes(call)
        )

    session_names = session_parameters(function, ctx)
    for call in calls:  # evidence: what a statement built here is handed to is a session
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in SESSION_METHODS
            and runs_statement(call)
        ):
            receiver = dotted(func.value)
            if receiver:
                session_names.add(receiver)

    session_calls = []
    for call in calls:
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in SESSION_METHODS):
            continue
        receiver = dotted(func.value)
        if (
            (receiver is not None and receiver in session_names)
            or _is_session_type(ctx.type_of(func.value), ctx)
            or ctx.qualname(func.value) in SESSION_OBJECTS
        ):
            session_calls.append(call)
    run_inline = {id(n) for call in session_calls for n in _argument_nodes(call)}
    run_names = {
        n.id for call in session_calls for n in _argument_nodes(call) if isinstance(n, ast.Name)
    }
    counted = list(session_calls)
    for builder in builders:
        if id(builder) in run_inline:
            continue
        names = _assigned_names(_chain_top(builder, parents), parents)
        if names and all(name in run_names for name in names):
            continue
        counted.append(builder)
    counted.sort(key=lambda n: (n.lineno, n.col_offset))
    return counted


class LogicInRoute(Rule):
    code = "BEX103"
    slug = "fastapi-logic-in-route"
    pack = "fastapi"
    severity = Severity.INFO
    category = "architecture"
    frameworks = ("fastapi",)
    skip_tests = True
    summary = "Route runs many database statements itself instead of calling a service"
    hint = (
        "Move the queries and rules into a service/repository function, inject it with "
        "`Depends()`, and keep the route to parsing input, one call and shaping the response."
    )
    explanation = Explanation(
        what=(
            f"Flags a FastAPI route whose own body runs {MIN_DB_OPERATIONS} or more database "
            "operations (calls such as `execute`, `scalars`, `get`, `add`, `delete`, `commit`, "
            "`flush`, `refresh` on a SQLAlchemy/SQLModel session, plus `select()`/`insert()`/"
            "`update()`/`delete()` statements built there and not run by one of those calls) and "
            f"is at least {MIN_LOGICAL_LINES} logical lines long (statements, the docstring not "
            f"counted), or that runs {MANY_DB_OPERATIONS} or more in at least "
            f"{MIN_LOGICAL_LINES_WITH_MANY} logical lines. A session is recognised by its type, "
            "by a `Depends(get_db)`-like parameter, or by being handed a statement built in the "
            "route. Nested functions, thin routes that call one service, and routes with a "
            "lookup or two are left alone."
        ),
        why=(
            "When queries, checks and writes live in the path function, the business rule is "
            "tied to HTTP: it cannot be reused from a worker, a CLI or another route, it can only "
            "be tested through the web client with a real database behind it, and the "
            "transaction boundaries are hard to see. A service function that takes the session "
            "(or a repository) as an argument can be unit-tested directly and replaced with a "
            "fake in route tests through `app.dependency_overrides`."
        ),
        use_instead=(
            "Extract the work into a service (business rules) and/or a repository (queries) "
            "function or class, provide it through a dependency, and let the route validate the "
            "input, call it once and return the result. Map domain errors to HTTP errors in the "
            "route or in an exception handler."
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/bigger-applications/",
            "https://fastapi.tiangolo.com/tutorial/dependencies/classes-as-dependencies/",
            "https://fastapi.tiangolo.com/advanced/testing-dependencies/",
        ),
    )
    fire = (
        Example(
            title="a transfer written out in the path function",
            code="""\
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .db import get_session
from .models import Account, Transfer

router = APIRouter()


class TransferIn(BaseModel):
    source_id: int
    target_id: int
    amount: int


@router.post("/transfers")
async def create_transfer(  # flagged
    body: TransferIn, session: Annotated[AsyncSession, Depends(get_session)]
):
    \"\"\"Move money between two accounts.\"\"\"
    source = await session.get(Account, body.source_id)
    if source is None:
        raise HTTPException(status_code=404, detail="source account not found")
    target = await session.get(Account, body.target_id)
    if target is None:
        raise HTTPException(status_code=404, detail="target account not found")
    if source.currency != target.currency:
        raise HTTPException(status_code=409, detail="currency mismatch")
    if source.frozen or target.frozen:
        raise HTTPException(status_code=409, detail="account frozen")
    pending = await session.scalars(
        select(Transfer).where(Transfer.source_id == source.id, Transfer.done.is_(False))
    )
    reserved = sum(t.amount for t in pending)
    if source.balance - reserved < body.amount:
        raise HTTPException(status_code=409, detail="insufficient funds")
    source.balance -= body.amount
    target.balance += body.amount
    transfer = Transfer(source_id=source.id, target_id=target.id, amount=body.amount)
    transfer.done = True
    session.add(transfer)
    await session.commit()
    await session.refresh(transfer)
    result = {"id": transfer.id, "balance": source.balance}
    return result
""",
            fixed="""\
# services/transfers.py: the rules and the queries, testable without HTTP
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .db import get_session
from .models import Account, Transfer


class TransferError(Exception):
    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class TransferService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def transfer(self, source_id: int, target_id: int, amount: int) -> Transfer:
        source = await self._account(source_id)
        target = await self._account(target_id)
        if source.currency != target.currency or source.frozen or target.frozen:
            raise TransferError("accounts cannot trade with each other")
        if await self.available(source) < amount:
            raise TransferError("insufficient funds")
        source.balance -= amount
        target.balance += amount
        transfer = Transfer(source_id=source.id, target_id=target.id, amount=amount, done=True)
        self.session.add(transfer)
        await self.session.commit()
        return transfer

    async def available(self, account: Account) -> int:
        pending = await self.session.scalars(
            select(Transfer).where(Transfer.source_id == account.id, Transfer.done.is_(False))
        )
        return account.balance - sum(t.amount for t in pending)

    async def _account(self, account_id: int) -> Account:
        account = await self.session.get(Account, account_id)
        if account is None:
            raise TransferError(f"account {account_id} not found", status=404)
        return account


def get_transfer_service(
    session: Annotated[AsyncSession, Depends(get_session)],
) -> TransferService:
    return TransferService(session)


# routes/transfers.py: parse, call once, map errors, shape the response
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

router = APIRouter()


class TransferIn(BaseModel):
    source_id: int
    target_id: int
    amount: int


@router.post("/transfers")
async def create_transfer(
    body: TransferIn,
    transfers: Annotated[TransferService, Depends(get_transfer_service)],
):
    try:
        transfer = await transfers.transfer(body.source_id, body.target_id, body.amount)
    except TransferError as error:
        raise HTTPException(status_code=error.status, detail=str(error)) from error
    return {"id": transfer.id, "amount": transfer.amount}
""",
        ),
        Example(
            title="a sync route; the router and the session dependency live in other modules",
            files={
                "app/__init__.py": "",
                "app/deps.py": """\
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from app.db import SessionLocal


def get_db() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]
""",
                "app/routing.py": "from fastapi import APIRouter\n\nrouter = APIRouter(prefix='/teams')\n",
                "app/views.py": """\
from sqlalchemy import delete, func, select

from app.deps import DbSession
from app.models import Invite, Member, Team
from app.routing import router


@router.post("/{team_id}/invites/{code}")
def accept_invite(team_id: int, code: str, user_id: int, db: DbSession):  # flagged
    team = db.get(Team, team_id)
    if team is None:
        return {"error": "no team"}
    invite = db.scalar(select(Invite).where(Invite.team_id == team_id, Invite.code == code))
    if invite is None:
        return {"error": "no invite"}
    if invite.expired:
        return {"error": "expired"}
    members = db.scalar(select(func.count()).where(Member.team_id == team_id))
    if members >= team.seats:
        return {"error": "team full"}
    existing = db.scalar(
        select(Member).where(Member.team_id == team_id, Member.user_id == user_id)
    )
    if existing is not None:
        return {"error": "already a member"}
    member = Member(team_id=team_id, user_id=user_id, role=invite.role)
    db.add(member)
    cleanup = delete(Invite).where(Invite.id == invite.id)
    db.execute(cleanup)
    db.commit()
    team.size = members + 1
    return {"member": member.id}
""",
            },
        ),
        Example(
            title="a shorter route that still runs six statements of its own",
            code="""\
from fastapi import APIRouter, HTTPException
from sqlalchemy import select, update

from .db import DbSession
from .models import Ballot, Poll, PollEvent

router = APIRouter()


@router.post("/polls/{poll_id}/close")
async def close_poll(poll_id: int, db: DbSession):  # flagged
    poll = await db.scalar(select(Poll).where(Poll.id == poll_id).with_for_update())
    if poll is None:
        raise HTTPException(status_code=404)
    if poll.closed:
        raise HTTPException(status_code=409, detail="already closed")
    for option in poll.options:
        await db.execute(
            update(Ballot).where(Ballot.option_id == option.id).values(final=True)
        )
    await db.execute(update(Poll).where(Poll.id == poll.id).values(closed=True))
    db.add(PollEvent(poll_id=poll.id, kind="closed"))
    await db.commit()
    await db.refresh(poll)
    return poll
""",
        ),
    )
    clean = (
        Example(
            title="a thin route that calls one service function injected with Depends()",
            code="""\
from typing import Annotated

from fastapi import APIRouter, Depends

from .services import OrderService, get_order_service

router = APIRouter()


@router.post("/orders/{order_id}/cancel")
async def cancel_order(
    order_id: int, orders: Annotated[OrderService, Depends(get_order_service)]
):
    return await orders.cancel(order_id)
""",
        ),
        Example(
            title="a short route with a lookup and a write",
            code="""\
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from .db import get_db
from .models import Item

app = FastAPI()


@app.patch("/items/{item_id}/archive")
async def archive_item(item_id: int, db: AsyncSession = Depends(get_db)):
    item = await db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404)
    item.archived = True
    await db.commit()
    return item
""",
        ),
        Example(
            title="a long route whose work is done by repository methods, not session calls",
            code="""\
from fastapi import APIRouter, Depends, HTTPException

from .deps import get_repositories

router = APIRouter()


@router.get("/dashboard/{org_id}")
async def dashboard(org_id: int, repos=Depends(get_repositories)):
    org = await repos.orgs.get(org_id)
    if org is None:
        raise HTTPException(status_code=404)
    members = await repos.members.list(org_id)
    projects = await repos.projects.list(org_id)
    invoices = await repos.invoices.recent(org_id)
    open_invoices = [i for i in invoices if not i.paid]
    overdue = [i for i in open_invoices if i.overdue]
    total = sum(i.amount for i in invoices)
    admins = [m for m in members if m.role == "admin"]
    active = [p for p in projects if p.active]
    archived = [p for p in projects if not p.active]
    summary = {"members": len(members), "admins": len(admins)}
    summary["projects"] = len(active)
    summary["archived"] = len(archived)
    summary["open"] = len(open_invoices)
    summary["overdue"] = len(overdue)
    summary["total"] = total
    summary["name"] = org.name
    summary["plan"] = org.plan
    return summary
""",
        ),
        Example(
            title="many statements, but in a short route",
            code="""\
from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import get_db
from .models import Tag

app = FastAPI()


@app.put("/tags/{name}")
def rename_tag(name: str, new_name: str, db: Session = Depends(get_db)):
    tag = db.scalar(select(Tag).where(Tag.name == name))
    tag.name = new_name
    db.add(tag)
    db.commit()
    db.refresh(tag)
    return tag
""",
        ),
        Example(
            title="a list route with a count and a page query on each of two branches",
            code="""\
from fastapi import APIRouter
from sqlmodel import Session, func, select

from .deps import CurrentUser, SessionDep
from .models import Item

router = APIRouter()


@router.get("/items")
def read_items(session: SessionDep, user: CurrentUser, skip: int = 0, limit: int = 100):
    \"\"\"Retrieve items.\"\"\"
    if user.is_superuser:
        count = session.exec(select(func.count()).select_from(Item)).one()
        items = session.exec(select(Item).offset(skip).limit(limit)).all()
    else:
        mine = select(func.count()).select_from(Item).where(Item.owner_id == user.id)
        count = session.exec(mine).one()
        page = select(Item).where(Item.owner_id == user.id).offset(skip).limit(limit)
        items = session.exec(page).all()
    return {"data": items, "count": count}
""",
        ),
        Example(
            title="a long route whose `session` is an HTTP client session",
            code="""\
import aiohttp
from fastapi import Depends, FastAPI

from .deps import get_session

app = FastAPI()


@app.get("/mirror/{name}")
async def mirror(name: str, session: aiohttp.ClientSession = Depends(get_session)):
    index = await session.get(f"https://mirror.example/{name}/index.json")
    meta = await index.json()
    files = []
    for entry in meta["files"]:
        response = await session.get(entry["url"])
        if response.status != 200:
            continue
        body = await response.read()
        files.append({"name": entry["name"], "size": len(body)})
    readme = await session.get(f"https://mirror.example/{name}/README")
    text = await readme.text()
    license_ = await session.get(f"https://mirror.example/{name}/LICENSE")
    license_text = await license_.text()
    summary = {"name": name, "files": files}
    summary["readme"] = text[:200]
    summary["license"] = license_text[:80]
    summary["count"] = len(files)
    summary["total"] = sum(f["size"] for f in files)
    summary["largest"] = max((f["size"] for f in files), default=0)
    summary["empty"] = not files
    summary["source"] = "mirror"
    return summary
""",
        ),
        Example(
            title="the statements run in a nested helper and in a function that is not a route",
            code="""\
from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import get_db
from .models import Job

app = FastAPI()


def requeue_failed(db: Session) -> int:
    jobs = db.scalars(select(Job).where(Job.state == "failed")).all()
    for job in jobs:
        job.state = "queued"
        db.add(job)
    db.flush()
    db.commit()
    return len(jobs)


@app.post("/jobs/requeue")
def requeue(db: Session = Depends(get_db)):
    count = requeue_failed(db)
    return {"requeued": count}
""",
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_route(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> None:
        if fastapi_route(node, ctx) is None:
            return
        lines = logical_lines(node)
        if lines < min(MIN_LOGICAL_LINES, MIN_LOGICAL_LINES_WITH_MANY):
            return
        operations = db_operations(node, ctx)
        count = len(operations)
        if not (
            (count >= MIN_DB_OPERATIONS and lines >= MIN_LOGICAL_LINES)
            or (count >= MANY_DB_OPERATIONS and lines >= MIN_LOGICAL_LINES_WITH_MANY)
        ):
            return
        kinds = sorted(
            {
                op.func.attr if isinstance(op.func, ast.Attribute) else ast.unparse(op.func)
                for op in operations
            }
        )
        head = "async def " if isinstance(node, ast.AsyncFunctionDef) else "def "
        signature = ast.Name(id=node.name)  # where to point: `def name`, not the whole body
        signature.lineno = signature.end_lineno = node.lineno
        signature.col_offset = node.col_offset
        signature.end_col_offset = node.col_offset + len(head) + len(node.name)
        ctx.report(
            signature,
            f"Route `{node.name}` runs {len(operations)} database operations itself "
            f"({', '.join(f'`{k}`' for k in kinds)}) in {lines} logical lines. Move the queries "
            "and rules into a service/repository function injected with `Depends()` and keep the "
            "route thin.",
            confidence=Confidence.MEDIUM,
        )
