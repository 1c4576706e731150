"""Naive datetimes: `datetime.utcnow()`, `utcfromtimestamp()`, `datetime.now()` with no zone."""

from __future__ import annotations

import ast
import re

from backend_expert.check import FileContext
from backend_expert.edits import replace_node
from backend_expert.findings import Applicability, Confidence, Fix, Severity
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.rules.base import Example, Explanation, Rule, visit, visit_call
from backend_expert.rules.python._places import is_application_code

DATETIME = "datetime.datetime"
LOCAL_USES = frozenset(
    {"timestamp", "strftime", "year", "month", "day", "hour", "minute", "date", "time",
     "weekday", "isoweekday", "timetuple", "ctime", "astimezone"}
)  # fmt: skip
CALLABLE_KEYWORDS = frozenset({"default", "onupdate", "default_factory", "server_onupdate"})


def min_python(ctx: FileContext) -> tuple[int, int] | None:
    """The oldest Python the project supports (target-version, else requires-python)."""
    target = ctx.config.target_version or ""
    match = re.fullmatch(r"py3(\d+)", target)
    if match:
        return (3, int(match.group(1)))
    spec = ctx.project.requires_python or ""
    match = re.search(r">=?\s*3\.(\d+)", spec) or re.search(r"~=\s*3\.(\d+)", spec)
    return (3, int(match.group(1))) if match else None


class NaiveDatetime(Rule):
    code = "BEX803"
    slug = "naive-datetime"
    pack = "python"
    severity = Severity.WARNING
    category = "correctness"
    skip_tests = True
    fix_applicability = Applicability.UNSAFE
    requires_text = ("now", "utcfromtimestamp")  # `now`, `utcnow`, `utcfromtimestamp`
    summary = "Naive datetime: `utcnow()`, `utcfromtimestamp()` or `now()` without a time zone"
    hint = "Use aware datetimes: `datetime.now(UTC)` and `datetime.fromtimestamp(ts, UTC)` (`timezone.utc` before Python 3.11)."
    explanation = Explanation(
        what=(
            "Flags calls to `datetime.utcnow()` and `datetime.utcfromtimestamp(ts)` (high "
            "confidence: deprecated since Python 3.12), `datetime.now()` with no time zone "
            "(medium; not when only its timestamp, date parts, `strftime` or `astimezone(...)` "
            "are used, which treat the value as local time, as it is), and `datetime.utcnow`/`datetime.now` handed over as a callable default "
            "(`default=datetime.utcnow` on a column or field, medium, no fix). Tests, "
            "migrations and scripts are left alone."
        ),
        why=(
            "A naive datetime carries no time zone, so nothing says whether it is UTC or local "
            "time. `utcnow()` returns UTC wall time labelled as nothing: `.timestamp()` and "
            "`.astimezone()` then read it as *local* time and are off by the server's UTC offset. "
            "Mixing naive and aware values raises `TypeError` on comparison, and `now()` gives "
            "different answers on servers in different zones or across a DST change."
        ),
        use_instead=(
            "`datetime.now(UTC)` (Python 3.11+; `datetime.now(timezone.utc)` on 3.10) and "
            "`datetime.fromtimestamp(ts, UTC)`; in Django, `django.utils.timezone.now()`. Store "
            "timestamps in time-zone-aware columns (`DateTime(timezone=True)`)."
        ),
        fix_safety=(
            "Unsafe: the result becomes aware, and aware values no longer compare with the "
            "naive ones still stored or computed elsewhere; `now()` also changes from local "
            "time to UTC. The fix spells the zone `UTC` for Python 3.11+ targets and "
            "`timezone.utc` otherwise, and adds the import."
        ),
        references=(
            "https://docs.python.org/3/library/datetime.html#datetime.datetime.utcnow",
            "https://docs.python.org/3/library/datetime.html#aware-and-naive-objects",
        ),
    )
    fire = (
        Example(
            title="UTC wall time without a zone",
            code="""\
from datetime import datetime


def expires_at(ttl: int) -> float:
    started = datetime.utcnow()  # flagged
    return started.timestamp() + ttl
""",
            fixed="""\
from datetime import datetime, timezone


def expires_at(ttl: int) -> float:
    started = datetime.now(timezone.utc)
    return started.timestamp() + ttl
""",
        ),
        Example(
            title="module-style import and a callable default",
            code="""\
import datetime

import sqlalchemy as sa

created = sa.Column(sa.DateTime, default=datetime.datetime.utcnow)  # flagged


def stamp(ts: float) -> datetime.datetime:
    return datetime.datetime.utcfromtimestamp(ts)  # flagged


def today() -> datetime.datetime:
    return datetime.datetime.now()  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="near miss: aware datetimes, and a migration",
            files={
                "app.py": """\
from datetime import UTC, datetime, timezone


def now() -> datetime:
    return datetime.now(UTC)


def then(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)
""",
                "migrations/versions/0001_init.py": """\
from datetime import datetime

CREATED = datetime.utcnow()
""",
            },
        ),
    )

    @visit_call("utcnow", "utcfromtimestamp", "now")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in (
            "utcnow",
            "utcfromtimestamp",
            "now",
        ):
            return
        if ctx.qualname(func.value) != DATETIME or not self._applies(ctx):
            return
        if func.attr == "now" and (node.args or node.keywords or self._local_use(ctx)):
            return
        if func.attr == "utcfromtimestamp" and (len(node.args) != 1 or node.keywords):
            return
        zone, extra = self._zone(func.value, ctx)
        receiver = ast.unparse(func.value)
        if func.attr == "utcfromtimestamp":
            replacement = f"{receiver}.fromtimestamp({ast.unparse(node.args[0])}, {zone})"
        else:
            replacement = f"{receiver}.now({zone})"
        edits = (replace_node(ctx, node, replacement), *(extra or ()))
        fix = (
            Fix(f"Use `{replacement}`", edits, Applicability.UNSAFE) if extra is not None else None
        )
        if func.attr == "now":
            message = (
                "`datetime.now()` without a time zone gives the server's local time as a naive "
                f"value; use `{replacement}` (or convert explicitly)"
            )
        else:
            message = (
                f"`{func.attr}()` returns a naive datetime (and is deprecated since Python 3.12): "
                f"`.timestamp()` reads it as local time; use `{replacement}`"
            )
        ctx.report(
            node,
            message,
            confidence=Confidence.MEDIUM if func.attr == "now" else Confidence.HIGH,
            fix=fix,
        )

    @visit(ast.keyword)
    def check_default(self, node: ast.keyword, ctx: FileContext) -> None:
        value = node.value
        if node.arg not in CALLABLE_KEYWORDS or not isinstance(value, ast.Attribute):
            return
        if value.attr not in ("utcnow", "now") or ctx.qualname(value.value) != DATETIME:
            return
        if not self._applies(ctx):
            return
        ctx.report(
            value,
            f"`{node.arg}={ast.unparse(value)}` stores naive datetimes; use an aware default "
            "such as `lambda: datetime.now(UTC)` with a time-zone-aware column",
            confidence=Confidence.MEDIUM,
        )

    @staticmethod
    def _local_use(ctx: FileContext) -> bool:
        """`datetime.now().timestamp()`/`.strftime(...)`/`.year`: local time used as local time."""
        parent = ctx.parent()
        return isinstance(parent, ast.Attribute) and parent.attr in LOCAL_USES

    @staticmethod
    def _applies(ctx: FileContext) -> bool:
        cached = getattr(ctx, "_bex803_app", None)
        if cached is None:
            cached = is_application_code(ctx)
            ctx._bex803_app = cached  # type: ignore[attr-defined]
        return cached

    @staticmethod
    def _zone(receiver: ast.AST, ctx: FileContext) -> tuple[str, tuple | None]:
        """How to spell UTC here, and the import edit it needs."""
        modern = (min_python(ctx) or (3, 0)) >= (3, 11)
        if isinstance(receiver, ast.Attribute):  # `datetime.datetime` / `dt.datetime`
            module = ast.unparse(receiver.value)
            return (f"{module}.UTC" if modern else f"{module}.timezone.utc"), ()
        imports = ctx.facts.imports
        if imports.get("UTC") == "datetime.UTC":
            return "UTC", ()
        if imports.get("timezone") == "datetime.timezone":
            return "timezone.utc", ()
        name = "UTC" if modern else "timezone"
        try:
            edit = add_import(ctx.source, "datetime", name)
        except ImportConflict:  # the name means something else here: no fix
            return ("UTC" if modern else "timezone.utc"), None
        return ("UTC" if modern else "timezone.utc"), ((edit,) if edit else ())
