"""A crash inside one rule is reported and contained; everything else still runs."""

from backend_expert.findings import Severity
from backend_expert.rules.base import Explanation, Rule


class InternalErrorRule(Rule):
    code = "BEX002"
    slug = "internal-error"
    pack = "core"
    severity = Severity.ERROR
    category = "bex"
    summary = "A bex rule failed on this file (a bug in bex, not in your code)"
    explanation = Explanation(
        what=(
            "Reports that one rule raised an exception while checking this file. The rule is "
            "skipped for the rest of the file; every other rule and every other file still runs."
        ),
        why=(
            "A silent crash would hide findings without telling you. Please report it with the "
            "file (or a reduced version of it) and the message."
        ),
        use_instead="Report the message to the bex maintainers; ignore the code to silence it meanwhile.",
    )
