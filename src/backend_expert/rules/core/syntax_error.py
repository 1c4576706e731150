"""A file that does not parse is reported, never skipped in silence."""

from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule


class SyntaxErrorRule(Rule):
    code = "BEX001"
    slug = "syntax-error"
    pack = "core"
    severity = Severity.ERROR
    category = "correctness"
    summary = "The file is not valid Python for any supported version"
    explanation = Explanation(
        what=(
            "Reports a file that no Python version from 3.10 to 3.14 can parse. bex understands "
            "syntax newer than the interpreter it runs on (PEP 695 type parameters, PEP 701 "
            "f-strings, PEP 758 `except A, B:`), so this finding means the file is really broken."
        ),
        why=(
            "A file that does not parse cannot be imported, and no other check can look at it: "
            "every problem it may hide stays hidden until it is fixed."
        ),
        use_instead="Fix the syntax at the reported position.",
    )
    fire = (
        Example(
            title="an unclosed parenthesis",
            code="def handler(request:  # flagged\n    return request\n",
        ),
    )
    clean = (
        Example(
            title="syntax newer than the running interpreter is still analysed",
            code="type UserId = int\n\ndef first[T](items: list[T]) -> T:\n    return items[0]\n",
        ),
    )
