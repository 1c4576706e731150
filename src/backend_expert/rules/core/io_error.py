"""A file that cannot be read or decoded is reported, and the run goes on."""

from backend_expert.findings import Severity
from backend_expert.rules.base import Explanation, Rule


class IoErrorRule(Rule):
    code = "BEX003"
    slug = "io-error"
    pack = "core"
    severity = Severity.ERROR
    category = "correctness"
    summary = "The file cannot be read, is binary, or is not valid text in its declared encoding"
    explanation = Explanation(
        what=(
            "Reports a `.py` file bex could not read: permission denied, a binary file, bytes "
            "that are invalid in the encoding the file declares (PEP 263 cookie, BOM, or UTF-8 "
            "by default), or a file larger than `max-file-size`."
        ),
        why="Python itself would fail to import such a file, and bex cannot check it.",
        use_instead=(
            "Fix the permissions or the encoding, or exclude the path with `extend-exclude` if it "
            "is not source code."
        ),
    )
