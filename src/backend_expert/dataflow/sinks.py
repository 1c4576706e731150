"""Where tainted values do harm: the calls each security concept watches, by qualified name.

A `Sink` names the functions (qualified names, imports resolved) and which argument of them
carries the dangerous value. `sink_of(call, ctx)` says which concept a call belongs to, and
`tainted_argument(call, ctx, slug)` returns the argument with its `Source` when the call is a
sink of that concept. Rules decide what to report from the kind of the source.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend_expert.dataflow.model import Source

if TYPE_CHECKING:
    from backend_expert.check import FileContext


@dataclass(frozen=True)
class Sink:
    """Calls whose argument `position` (or keyword `keyword`) reaches something dangerous."""

    slug: str
    names: frozenset[str]
    position: int = 0
    keyword: str | None = None
    label: str = ""

    def argument(self, call: ast.Call) -> ast.AST | None:
        for keyword in call.keywords:
            if self.keyword is not None and keyword.arg == self.keyword:
                return keyword.value
        if len(call.args) > self.position:
            arg = call.args[self.position]
            return None if isinstance(arg, ast.Starred) else arg
        return None


def _sink(slug: str, names: str, position: int = 0, keyword: str | None = None) -> Sink:
    return Sink(slug, frozenset(names.split()), position, keyword)


SINKS: tuple[Sink, ...] = (
    _sink("code-injection", "builtins.eval builtins.exec", 0, "source"),
    _sink(
        "shell-injection",
        """os.system os.popen os.popen2 os.popen3 os.popen4 commands.getoutput
        commands.getstatusoutput subprocess.getoutput subprocess.getstatusoutput""",
        0,
        "cmd",
    ),
    _sink(
        "xss",
        """django.utils.safestring.mark_safe django.utils.safestring.SafeString
        django.utils.safestring.SafeText markupsafe.Markup flask.Markup jinja2.Markup
        django.http.HttpResponse django.http.response.HttpResponse
        starlette.responses.HTMLResponse fastapi.responses.HTMLResponse""",
        0,
        "content",
    ),
    _sink(
        "path-traversal",
        """builtins.open io.open codecs.open os.open os.remove os.unlink os.rmdir shutil.rmtree
        shutil.copy shutil.copyfile shutil.move os.listdir aiofiles.open
        starlette.responses.FileResponse fastapi.responses.FileResponse
        django.http.FileResponse django.http.response.FileResponse""",
        0,
        "path",
    ),
    _sink("flask-send-file-path", "flask.send_file flask.helpers.send_file", 0, "path_or_file"),
    _sink(
        "flask-ssti",
        "flask.render_template_string flask.templating.render_template_string",
        0,
        "source",
    ),
    _sink(
        "insecure-deserialization",
        """pickle.loads pickle.load _pickle.loads _pickle.load cPickle.loads cPickle.load dill.loads dill.load marshal.loads
        marshal.load shelve.open jsonpickle.decode pandas.read_pickle joblib.load""",
        0,
        "data",
    ),
)
BY_SLUG: dict[str, tuple[Sink, ...]] = {}
for _item in SINKS:
    BY_SLUG[_item.slug] = (*BY_SLUG.get(_item.slug, ()), _item)


def sink_names(slug: str | None = None) -> frozenset[str]:
    """The qualified names of the sinks of `slug` (of every concept when None): what a rule
    gives `visit_call` so that it is sent these calls only."""
    return frozenset(name for sink in (BY_SLUG[slug] if slug else SINKS) for name in sink.names)


def sink_of(call: ast.Call, ctx: FileContext, slug: str | None = None) -> Sink | None:
    """The sink `call` is (of concept `slug` when given), or None."""
    qualified = ctx.qualname(call.func)
    if qualified is None:
        return None
    for sink in BY_SLUG.get(slug, ()) if slug else SINKS:
        if qualified in sink.names:
            return sink
    return None


def tainted_argument(
    call: ast.Call, ctx: FileContext, slug: str
) -> tuple[Sink, ast.AST, Source] | None:
    """(sink, argument, its source) when `call` is a sink of `slug`; None otherwise."""
    from backend_expert.dataflow.api import taint_of

    sink = sink_of(call, ctx, slug)
    if sink is None:
        return None
    argument = sink.argument(call)
    if argument is None:
        return None
    return sink, argument, taint_of(argument, ctx)
