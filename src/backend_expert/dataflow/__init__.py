"""Where does a value come from: a small intra-procedural data-flow analysis.

Security rules ask the same questions about an expression inside one function:

- `taint_of(node, ctx)` (alias `source_of`): what is this value built from? The answer is a
  `Source`: a `Kind` (CONSTANT, SAFE_IDENTIFIER, UNKNOWN, PARAMETER, REQUEST, from harmless to
  dangerous), a human-readable origin ("parameter `term` of `search_products`",
  "`request.args['q']`") and the line where the value entered the function.
- `text_of(node, ctx)`: when the value is a string assembled in this function (f-string, `%`,
  `.format()`, `+`, `+=`, `"sep".join(...)`), its constant fragments and its interpolated
  holes, each hole with its own `Source`.
- `tainted_argument(call, ctx, slug)`: the argument of a sink call of a security concept
  (`xss`, `path-traversal`, `flask-ssti`...; see `sinks.py`) and its source.

Local variables are followed through every assignment in the function (flow-insensitive: when
a name is bound several times, the worst source wins), through tuple unpacking, loop targets,
comprehensions, `list.append(...)`, containers and closures. Module-level names bound to
literals are constants. Calls are opaque (UNKNOWN) except for a few that are known to produce
harmless values (`len`, `int`, quoting and escaping) or to pass their input through (string
methods, `str()`, `os.path.join`, `Path(...) / x`, `json.loads`). Checks in the same function
that restrict a value to a known set (`if col not in ALLOWED: raise`) make it a
SAFE_IDENTIFIER from that point on.

The analysis never guesses towards danger: what it cannot see is UNKNOWN, and rules report
UNKNOWN with lower confidence than REQUEST (or not at all).

The package: `model` (kinds, sources, texts), `known` (tables of names), `sources`,
`requests`, `bindings`, `guards` and `texts` (the parts of the analysis of one function),
`analysis` (the parts put together, cached per file), `sinks` (dangerous calls by concept)
and `api` (what rules call).
"""

from __future__ import annotations

from backend_expert.dataflow.analysis import DataFlow, flow, source_of, text_of
from backend_expert.dataflow.api import confidence_for, origin_note, route_framework, taint_of
from backend_expert.dataflow.model import CONSTANT, Hole, Kind, Source, Text, worst
from backend_expert.dataflow.sinks import SINKS, Sink, sink_names, sink_of, tainted_argument
from backend_expert.dataflow.util import _short

__all__ = [
    "CONSTANT",
    "SINKS",
    "DataFlow",
    "Hole",
    "Kind",
    "Sink",
    "Source",
    "Text",
    "_short",
    "confidence_for",
    "flow",
    "origin_note",
    "route_framework",
    "sink_names",
    "sink_of",
    "source_of",
    "taint_of",
    "tainted_argument",
    "text_of",
    "worst",
]
