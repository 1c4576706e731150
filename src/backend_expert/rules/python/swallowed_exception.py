"""`except Exception: pass` and bare `except:` that hide every error without a trace."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.python._places import is_script_path

BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})
# Teardown code where ignoring every error is the usual, deliberate choice.
CLEANUP_FUNCTIONS = frozenset(
    {
        "__del__",
        "__exit__",
        "__aexit__",
        "close",
        "aclose",
        "cleanup",
        "shutdown",
        "teardown",
        "dispose",
    }
)


# Comments addressed to tools, not explanations for a reader.
TOOL_COMMENTS = ("flagged", "noqa", "type:", "pragma", "bex:", "pylint:", "nosec", "fmt:")


def _is_noop(stmt: ast.stmt) -> bool:
    return isinstance(stmt, (ast.Pass, ast.Continue)) or (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
    )


CLEANUP_CALLS = (
    "close",
    "release",
    "cancel",
    "shutdown",
    "unlink",
    "remove",
    "terminate",
    "kill",
    "stop",
    "disconnect",
    "dispose",
    "cleanup",
    "rmtree",
    "delete",
    "quit",
)


def _only_cleanup(body: list[ast.stmt]) -> bool:
    """Every statement releases a resource (`x.close()`, `os.remove(p)`...)."""
    for stmt in body:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, (ast.Call, ast.Await))):
            return False
        call = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
        if not isinstance(call, ast.Call):
            return False
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if not name.lstrip("_").lower().startswith(CLEANUP_CALLS):
            return False
    return bool(body)


def _retries(body: list[ast.stmt]) -> bool:
    """`except Exception: continue`: the loop moves on to the next candidate."""
    return all(isinstance(stmt, ast.Continue) for stmt in body)


class SwallowedException(Rule):
    code = "BEX801"
    slug = "swallowed-exception"
    pack = "python"
    severity = Severity.WARNING
    category = "reliability"
    skip_tests = True
    summary = "Every exception caught and silently discarded"
    hint = "Catch the specific exceptions you expect, or at least log the error (`logger.exception(...)`) before moving on."
    explanation = Explanation(
        what=(
            "Flags `except:`, `except BaseException:` and `except Exception:` (alone or in a "
            "tuple) whose body does nothing: only `pass`, `continue`, `...` or a string. A "
            "handler with a comment is taken as a deliberate, documented choice and is not "
            "reported, nor are handlers around pure clean-up calls (`x.close()`) or in teardown code (`__del__`, `__exit__`, `close`) or "
            "in tests, nor optional imports (`try: import x`). In scripts and tooling folders, and for "
            "`continue` (try the next candidate), the confidence is low. Elsewhere bare `except:` has high confidence (it also swallows `KeyboardInterrupt` "
            "and `SystemExit`), `except Exception` medium."
        ),
        why=(
            "A handler that catches everything and says nothing turns bugs into silence: a "
            "typo, a `None` where an object was expected, a database that went away, all "
            "disappear, and the code goes on with half-done work. The failure shows up later, "
            "elsewhere, with no traceback to start from. A bare `except:` even stops Ctrl-C "
            "and interpreter shutdown from working inside the `try`."
        ),
        use_instead=(
            "Catch what you expect (`except KeyError:`), or log it: "
            "`except Exception: logger.exception('refreshing %s failed', key)`; when ignoring "
            "an error is the intent, `contextlib.suppress(SpecificError)` says so."
        ),
        references=(
            "https://docs.python.org/3/tutorial/errors.html#handling-exceptions",
            "https://docs.python.org/3/library/contextlib.html#contextlib.suppress",
        ),
    )
    fire = (
        Example(
            title="errors silently dropped",
            code="""\
def refresh(cache, keys):
    for key in keys:
        try:
            cache.refresh(key)
        except Exception:  # flagged
            continue


def parse(raw):
    try:
        return int(raw)
    except:  # flagged
        pass
""",
            fixed="""\
import logging

logger = logging.getLogger(__name__)


def refresh(cache, keys):
    for key in keys:
        try:
            cache.refresh(key)
        except Exception:
            logger.exception("refreshing %s failed", key)
""",
        ),
    )
    clean = (
        Example(
            title="near miss: logged, re-raised, specific, commented, or in teardown",
            code="""\
import logging

logger = logging.getLogger(__name__)


def refresh(cache, key):
    try:
        cache.refresh(key)
    except Exception:
        logger.exception("refresh failed")
    try:
        cache.touch(key)
    except KeyError:
        pass
    try:
        cache.ping()
    except Exception:  # the cache is optional: a dead cache must not fail the request
        pass
    try:
        cache.flush()
    except Exception:
        raise


def fetch(pool, url):
    response = pool.request("GET", url)
    try:
        response.release_conn()
    except Exception:
        pass
    return response


class Client:
    def close(self):
        try:
            self.socket.close()
        except Exception:
            pass
""",
        ),
    )

    @visit(ast.ExceptHandler)
    def check_handler(self, node: ast.ExceptHandler, ctx: FileContext) -> None:
        if not node.body or not all(_is_noop(stmt) for stmt in node.body):
            return
        bare = node.type is None
        if not bare:
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            names = {ctx.qualname(t) for t in types}
            if not names & BROAD:
                return
        function = ctx.enclosing_function()
        parent = ctx.parent()
        if getattr(function, "name", "") in CLEANUP_FUNCTIONS or self._commented(node, parent, ctx):
            return
        if isinstance(parent, ast.Try) and any(
            isinstance(stmt, (ast.Import, ast.ImportFrom)) for stmt in parent.body
        ):
            return  # an optional dependency: `try: import x ... except Exception: pass`
        if isinstance(parent, ast.Try) and _only_cleanup(parent.body):
            return  # `try: resp.close() except Exception: pass`: best-effort release
        base = "BaseException" if not bare and "builtins.BaseException" in names else "Exception"
        what = "A bare `except:`" if bare else f"`except {ast.unparse(node.type)}`"
        ctx.report(
            node,
            f"{what} discards every error without a trace; catch the exceptions you expect "
            "or log it",
            confidence=Confidence.LOW
            if is_script_path(ctx.path) or _retries(node.body)
            else Confidence.HIGH
            if bare or base == "BaseException"
            else Confidence.MEDIUM,
            end_node=node.type or node,
        )

    @staticmethod
    def _commented(node: ast.ExceptHandler, parent: ast.AST | None, ctx: FileContext) -> bool:
        """A comment line just above the `try`, or a comment on the `except` line or inside the
        handler, marks a deliberate choice (`# best effort: ...`, `# pydantic v1`)."""
        last = max(getattr(stmt, "end_lineno", node.lineno) or node.lineno for stmt in node.body)
        lines = ctx.source.lines
        texts = [lines[n - 1] for n in range(node.lineno, min(last, len(lines)) + 1)]
        if isinstance(parent, ast.Try) and 1 < parent.lineno <= len(lines) + 1:
            above = lines[parent.lineno - 2]
            if above.lstrip().startswith("#"):
                texts.append(above)
        for text in texts:
            comment = text.partition("#")[2].strip().lower()
            if comment and not comment.startswith(TOOL_COMMENTS):
                return True
        return False
