"""The fix engine on its own: rounds, overlaps, verification, imports, text preservation.

A toy rule (`rename`) stands in for real ones so that each behaviour is tested alone:
it flags every word `old` and offers to replace it.
"""

from __future__ import annotations

import re

import pytest

from backend_expert.findings import Applicability, Edit, Finding, Fix, Severity
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.fixes import applicable, apply_edits, fix_text

PATH = "m.py"


def finding(edits, code="BEX999", applicability=Applicability.SAFE, line=1) -> Finding:
    return Finding(
        code=code,
        slug="toy",
        pack="toy",
        severity=Severity.WARNING,
        category="toy",
        path=PATH,
        line=line,
        column=1,
        end_line=line,
        end_column=1,
        message="toy",
        fix=Fix("toy fix", tuple(edits), applicability),
    )


def rename(word: str, replacement: str, code="BEX999", applicability=Applicability.SAFE, extra=()):
    """A recheck: a finding, with a fix, for every `word` in the text."""

    def recheck(text: str) -> list[Finding]:
        found = []
        for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
            for match in re.finditer(rf"\b{word}\b", line):
                start, end = match.start() + 1, match.end() + 1
                edits = [Edit(number, start, number, end, replacement), *extra]
                found.append(finding(edits, code, applicability, number))
        return found

    return recheck


def test_applicability():
    safe = Fix("f", (Edit(1, 1, 1, 1, "x"),), Applicability.SAFE)
    unsafe = Fix("f", (Edit(1, 1, 1, 1, "x"),), Applicability.UNSAFE)
    shown = Fix("f", (Edit(1, 1, 1, 1, "x"),), Applicability.DISPLAY)
    assert applicable(safe) and applicable(safe, unsafe=True)
    assert not applicable(unsafe) and applicable(unsafe, unsafe=True)
    assert not applicable(shown, unsafe=True)
    assert not applicable(None)


def test_apply_edits_positions_are_characters_and_end_exclusive():
    text = "café = 1\nx = café\n"
    assert apply_edits(text, [Edit(2, 5, 2, 9, "tea")]) == "café = 1\nx = tea\n"
    with pytest.raises(ValueError):
        apply_edits(text, [Edit(9, 1, 9, 2, "")])
    with pytest.raises(ValueError):
        apply_edits(text, [Edit(1, 40, 1, 41, "")])


def test_fix_text_applies_safe_fixes_and_reports_them():
    text = "old = 1\nprint(old)\n"
    outcome = fix_text(PATH, text, recheck=rename("old", "new"))
    assert outcome.text == "new = 1\nprint(new)\n"
    assert len(outcome.applied) == 2 and not outcome.failed and not outcome.remaining


def test_unsafe_fixes_need_the_flag():
    recheck = rename("old", "new", applicability=Applicability.UNSAFE)
    assert fix_text(PATH, "old = 1\n", recheck=recheck).text == "old = 1\n"
    assert fix_text(PATH, "old = 1\n", recheck=recheck, unsafe=True).text == "new = 1\n"


def test_display_only_fixes_are_never_applied():
    recheck = rename("old", "new", applicability=Applicability.DISPLAY)
    assert not fix_text(PATH, "old = 1\n", recheck=recheck, unsafe=True).changed


def test_overlapping_fixes_wait_for_the_next_round():
    # Two fixes rewrite the same call; the second is deferred and re-found on the new text.
    def recheck(text: str) -> list[Finding]:
        found = []
        if "f(g(x))" in text:
            found.append(finding([Edit(1, 5, 1, 12, "F(g(x))")], code="BEX998"))
            found.append(finding([Edit(1, 7, 1, 11, "G(x)")], code="BEX997"))
        if "F(g(x))" in text:
            found.append(finding([Edit(1, 7, 1, 11, "G(x)")], code="BEX997"))
        return found

    outcome = fix_text(PATH, "y = f(g(x))\n", recheck=recheck)
    assert outcome.text == "y = F(G(x))\n"
    assert outcome.rounds == 2
    assert [f.code for f in outcome.applied] == ["BEX998", "BEX997"]


def test_one_import_two_fixes_need_is_added_once():
    text = "import os\n\na = old\nb = old\n"
    extra = [Edit(2, 1, 2, 1, "from lib import new\n")]
    outcome = fix_text(PATH, text, recheck=rename("old", "new", extra=extra))
    assert outcome.text == "import os\nfrom lib import new\n\na = new\nb = new\n"
    assert len(outcome.applied) == 2


def test_a_fix_that_breaks_the_syntax_is_dropped_and_reported():
    outcome = fix_text(PATH, "old = 1\nkeep = 2\n", recheck=rename("old", "1 +"))
    assert outcome.text == "old = 1\nkeep = 2\n"
    assert outcome.failed and "would not parse" in outcome.failed[0].reason


def test_only_the_breaking_fix_is_dropped():
    def recheck(text: str) -> list[Finding]:
        found = rename("old", "new", code="BEX998")(text)
        if "bad" in text:
            found.append(finding([Edit(2, 1, 2, 4, "(((")], code="BEX997", line=2))
        return found

    outcome = fix_text(PATH, "old = 1\nbad = 2\n", recheck=recheck)
    assert outcome.text == "new = 1\nbad = 2\n"
    assert [f.finding.code for f in outcome.failed] == ["BEX997"]


def test_a_fix_that_keeps_firing_is_dropped():
    # old -> new -> old -> ...: never reaches a fixed point.
    def recheck(text: str) -> list[Finding]:
        return rename("old", "new")(text) + rename("new", "old", code="BEX998")(text)

    outcome = fix_text(PATH, "x = old\n", recheck=recheck)
    assert {f.finding.code for f in outcome.failed} >= {"BEX999"} or outcome.text == "x = old\n"
    assert any("idempotent" in f.reason for f in outcome.failed)
    again = fix_text(PATH, outcome.text, recheck=recheck)
    assert again.text == outcome.text or not again.applied


def test_a_fix_that_grows_forever_is_stopped():
    outcome = fix_text(PATH, "x = old\n", recheck=rename("old", "(old)"), max_rounds=4)
    assert outcome.text == "x = old\n"
    assert "idempotent" in outcome.failed[0].reason


def test_unparsable_input_is_left_alone():
    assert not fix_text(PATH, "old = (\n", recheck=rename("old", "new")).changed


@pytest.mark.parametrize(
    "text,expected",
    [
        ("old = 1\r\nx = 2\r\n", "new = 1\r\nx = 2\r\n"),  # CRLF kept
        ("x = 2\nold = 1", "x = 2\nnew = 1"),  # no trailing newline
        ("# a comment\n\n\nold = 1  # why\n", "# a comment\n\n\nnew = 1  # why\n"),
        ("\ufeffold = 1\n", "\ufeffnew = 1\n"),  # a BOM kept in memory too
    ],
)
def test_text_outside_the_edits_is_kept(text, expected):
    assert fix_text(PATH, text, recheck=rename("old", "new")).text == expected


def test_newlines_in_a_fix_follow_the_file():
    extra = [Edit(1, 1, 1, 1, "import lib\n")]
    outcome = fix_text(PATH, "a = old\r\n", recheck=rename("old", "new", extra=extra))
    assert outcome.text == "import lib\r\na = new\r\n"


def test_a_fix_may_not_move_the_encoding_declaration():
    text = "# -*- coding: latin-1 -*-\nold = 1\n"
    extra = [Edit(1, 1, 1, 1, "import lib\n")]
    outcome = fix_text(PATH, text, recheck=rename("old", "new", extra=extra))
    assert outcome.text == text
    assert "encoding" in outcome.failed[0].reason


# --- imports -----------------------------------------------------------------------------------


def with_import(text: str, module: str, name: str | None) -> str:
    edit = add_import(text, module, name)
    return text if edit is None else apply_edits(text, [edit])


@pytest.mark.parametrize(
    "text,expected",
    [
        # an existing `from x import a` is extended
        ("from lib import a\n\nx = 1\n", "from lib import a, new\n\nx = 1\n"),
        ("from lib import a as b  # note\n", "from lib import a as b, new  # note\n"),
        (
            "from lib import (\n    a,\n    b,\n)\n",
            "from lib import (\n    a,\n    b,\n    new,\n)\n",
        ),
        # after the last import of the header
        (
            "import os\nimport sys\n\nx = 1\n",
            "import os\nimport sys\nfrom lib import new\n\nx = 1\n",
        ),
        # TYPE_CHECKING imports are not runtime imports: neither extended nor counted
        (
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from lib import new\n",
            "from typing import TYPE_CHECKING\nfrom lib import new\n\nif TYPE_CHECKING:\n    from lib import new\n",
        ),
        (
            "import os\n\nif TYPE_CHECKING:\n    from lib import a\n",
            "import os\nfrom lib import new\n\nif TYPE_CHECKING:\n    from lib import a\n",
        ),
        # a docstring and __future__ imports come first
        (
            '"""Doc."""\n\nfrom __future__ import annotations\n\nx = 1\n',
            '"""Doc."""\n\nfrom __future__ import annotations\n\nfrom lib import new\n\nx = 1\n',
        ),
        ('"""Doc."""\nx = 1\n', '"""Doc."""\n\nfrom lib import new\n\nx = 1\n'),
        # shebang and encoding comments stay on top
        (
            "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nx = 1\n",
            "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nfrom lib import new\n\nx = 1\n",
        ),
        ("", "from lib import new\n"),
        ("import os", "import os\nfrom lib import new"),
        # already there: nothing to do
        ("from lib import new\n", "from lib import new\n"),
        ("try:\n    from lib import new\nexcept ImportError:\n    new = None\n", None),
    ],
)
def test_add_import(text, expected):
    if expected is None:
        assert add_import(text, "lib", "new") is None
        return
    assert with_import(text, "lib", "new") == expected


def test_add_plain_import():
    assert with_import("import os\n", "contextlib", None) == "import contextlib\nimport os\n"
    assert add_import("import contextlib\n", "contextlib") is None


@pytest.mark.parametrize(
    "text,module,expected",
    [
        # next to imports of the same package, in order
        (
            "import os\nfrom fastapi import Depends\nfrom sqlalchemy.orm import Session\nfrom .models import User\n",
            "sqlalchemy",
            "import os\nfrom fastapi import Depends\nfrom sqlalchemy import new\nfrom sqlalchemy.orm import Session\nfrom .models import User\n",
        ),
        (
            "from sqlalchemy.engine import Engine\nimport zlib\n",
            "sqlalchemy.orm",
            "from sqlalchemy.engine import Engine\nfrom sqlalchemy.orm import new\nimport zlib\n",
        ),
        # the standard library with the standard library, or as a first group of its own
        (
            "import json\nimport sys\n\nimport httpx\n",
            "contextlib",
            "from contextlib import new\nimport json\nimport sys\n\nimport httpx\n",
        ),
        (
            "import httpx\nfrom fastapi import FastAPI\n",
            "contextlib",
            "from contextlib import new\n\nimport httpx\nfrom fastapi import FastAPI\n",
        ),
    ],
)
def test_add_import_goes_into_its_group(text, module, expected):
    assert with_import(text, module, "new") == expected


def test_add_import_refuses_a_name_already_taken():
    with pytest.raises(ImportConflict):
        add_import("def new():\n    pass\n", "lib", "new")
    with pytest.raises(ImportConflict):
        add_import("from other import new\n", "lib", "new")
