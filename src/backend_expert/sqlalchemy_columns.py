"""How one class-body binding of a mapped class reads: a column or a relationship.

`name: Mapped[str | None] = mapped_column(String(40))`, `name = Column(String, nullable=False)`,
`posts = relationship("Post", lazy="selectin", backref="author")`, SQLModel's
`team: Team | None = Relationship(...)`: the type, nullability, target and loading strategy
they declare, read from the indexed text of the binding. Also which column names hold secrets.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from itertools import pairwise

from backend_expert.index import MemberFacts

MAPPED_HEADS = frozenset({"Mapped", "WriteOnlyMapped", "DynamicMapped"})
RELATIONSHIP_CALLS = frozenset({"relationship", "relation", "Relationship", "dynamic_loader"})
COLUMN_CALLS = frozenset({"Column", "mapped_column", "Field", "column_property"})
COLLECTIONS = frozenset({"list", "List", "set", "Set", "Sequence", "tuple", "dict", "Dict"})
# Loading strategies that do not emit a query when the attribute is first read.
EAGER = frozenset({"selectin", "joined", "subquery", "immediate"})
BUILTIN_NAMES = frozenset(dir(builtins))
LAZY_VALUES = {"True": "select", "False": "joined", "None": "noload"}


@dataclass
class Column:
    """A mapped column: `type` is the Python type for `Mapped[...]`/SQLModel, `sql_type` the
    SQL type written in `Column(...)`/`mapped_column(...)`, as source text (qualified names)."""

    name: str
    owner: str  # qualified name of the class that declares it
    style: str  # "mapped" (Mapped annotation), "column" (legacy Column), "sqlmodel"
    type: str | None = None
    sql_type: str | None = None
    nullable: bool | None = None
    primary_key: bool = False
    foreign_key: bool = False

    @property
    def sensitive(self) -> bool:
        return is_sensitive_column(self.name)


@dataclass
class Relationship:
    name: str
    owner: str
    target: str | None  # qualified model class, None when it cannot be resolved
    target_name: str | None  # as written ("User", "app.models.User", from the annotation)
    lazy: str = "select"  # the loading strategy; "unknown" when it is not a literal
    back_populates: str | None = None
    backref: str | None = None
    uselist: bool | None = None  # True for collections, False for scalars, None unknown
    viewonly: bool = False

    @property
    def lazy_loads(self) -> bool:
        """Reading it on an object loaded without an eager option emits a query."""
        return self.lazy == "select"


def literal(text: str | None) -> object:
    if text is None:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return Unknown


class Unknown:
    pass


def parse_expr(text: str | None) -> ast.expr | None:
    if not text:
        return None
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None


def last_part(name: str | None) -> str:
    return (name or "").rpartition(".")[2]


def mapped_head(annotation: str | None) -> str | None:
    node = parse_expr(annotation) if annotation and "Mapped" in annotation else None
    if isinstance(node, ast.Subscript):
        head = last_part(ast.unparse(node.value))
        return head if head in MAPPED_HEADS else None
    return None


def mapped_inner(annotation: str | None) -> ast.expr | None:
    node = parse_expr(annotation)
    return node.slice if isinstance(node, ast.Subscript) else None


def unwrap_optional(node: ast.expr | None) -> tuple[ast.expr | None, bool]:
    """`Optional[T]`, `T | None`, `"T | None"` -> (T, True); anything else -> (node, False)."""
    optional = False
    for _ in range(4):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node = parse_expr(node.value)
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left_none = isinstance(node.left, ast.Constant) and node.left.value is None
            right_none = isinstance(node.right, ast.Constant) and node.right.value is None
            if left_none or right_none:
                node, optional = (node.right if left_none else node.left), True
                continue
        if isinstance(node, ast.Subscript) and last_part(ast.unparse(node.value)) == "Optional":
            node, optional = node.slice, True
            continue
        break
    return node, optional


def annotation_target(annotation: ast.expr | None) -> tuple[str | None, bool | None]:
    """The class named by a relationship annotation, and whether it is a collection."""
    node, _ = unwrap_optional(annotation)
    uselist: bool | None = None
    if isinstance(node, ast.Subscript) and last_part(ast.unparse(node.value)) in COLLECTIONS:
        uselist = True
        node = node.slice
        if isinstance(node, ast.Tuple) and node.elts:
            node = node.elts[-1]
        node, _ = unwrap_optional(node)
    elif node is not None:
        uselist = False
    if isinstance(node, (ast.Name, ast.Attribute)):
        return ast.unparse(node), uselist
    return None, uselist


def lazy_of(member: MemberFacts) -> str:
    text = member.keyword("lazy")
    if text is None:
        kwargs = parse_expr(member.keyword("sa_relationship_kwargs"))
        if isinstance(kwargs, ast.Dict):
            for key, value in zip(kwargs.keys, kwargs.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "lazy":
                    text = ast.unparse(value)
        elif kwargs is not None:
            return "unknown"
    if last_part(member.callee) == "dynamic_loader":
        return "dynamic"
    if text is None:
        return "select"
    if text in LAZY_VALUES:
        return LAZY_VALUES[text]
    value = literal(text)
    return value if isinstance(value, str) else "unknown"


def string_literal(text: str | None) -> str | None:
    value = literal(text)
    return value if isinstance(value, str) else None


def read_column(
    name: str,
    member: MemberFacts,
    owner: str,
    inner: ast.expr | None,
    mapped: bool,
    flavour: str,
) -> Column:
    python_type, optional = unwrap_optional(inner)
    style = "mapped" if mapped else "sqlmodel" if flavour == "sqlmodel" else "column"
    primary = literal(member.keyword("primary_key")) is True
    nullable_kw = literal(member.keyword("nullable"))
    sql_type = None
    foreign = any("ForeignKey" in arg for arg in member.args) or member.keyword("foreign_key")
    for arg in member.args:
        if literal(arg) is Unknown and "ForeignKey" not in arg and not arg.startswith("lambda"):
            sql_type = arg
            break
        if isinstance(literal(arg), str) and last_part(member.callee) == "Column":
            continue  # `Column("name", Integer)`: the column's name comes first
        break
    if isinstance(nullable_kw, bool):
        nullable: bool | None = nullable_kw
    elif primary:
        nullable = False
    elif mapped or style == "sqlmodel":
        nullable = optional
    else:
        nullable = True  # `Column()` is nullable unless told otherwise
    return Column(
        name=name,
        owner=owner,
        style=style,
        type=ast.unparse(python_type) if python_type is not None else None,
        sql_type=sql_type,
        nullable=nullable,
        primary_key=primary,
        foreign_key=bool(foreign),
    )


# --- sensitive columns --------------------------------------------------------------------

SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "passphrase", "secret", "token", "otp", "totp", "salt",
        "credential", "credentials", "apikey", "privkey", "pin", "cvv", "ssn",
    }
)  # fmt: skip
SECRET_PAIRS = frozenset(
    {("api", "key"), ("private", "key"), ("secret", "key"), ("access", "key"),
     ("signing", "key"), ("encryption", "key"), ("hashed", "password"), ("password", "hash")}
)  # fmt: skip
# A last word that makes the column a fact *about* the secret, not the secret itself.
NOT_SECRET_LAST = frozenset(
    {
        "at", "on", "date", "time", "count", "type", "kind", "id", "ids", "url", "expires",
        "expiry", "expiration", "length", "limit", "hint", "prefix", "suffix", "last4",
        "version", "updated", "changed", "set", "enabled", "required", "policy", "name",
        "used", "usage", "field", "valid", "strength", "reset",
    }
)  # fmt: skip
FLAG_FIRST = frozenset({"is", "has", "can", "should", "show", "allow", "require", "requires"})


def column_words(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [w for w in spaced.lower().split("_") if w]


def is_sensitive_column(name: str) -> bool:
    """A column (or field) that holds a secret: password, its hash, token, API key, secret.

    `password_changed_at`, `token_count`, `is_secret` and `max_tokens` are not secrets.
    """
    words = column_words(name)
    if not words or words[-1] in NOT_SECRET_LAST or words[0] in FLAG_FIRST:
        return False
    if any(word in SECRET_WORDS for word in words):
        return True
    return any(pair in SECRET_PAIRS for pair in pairwise(words))
