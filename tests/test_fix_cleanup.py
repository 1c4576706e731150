"""What the fix engine guards and tidies around the rules' edits: comments are never lost
unless a fix says so, and imports a fix declares redundant go once nothing uses them."""

from __future__ import annotations

import re
from pathlib import Path

from backend_expert.config import Config, Selection
from backend_expert.findings import Applicability, Edit, Finding, Fix, Severity
from backend_expert.fixes import fix_sources, fix_text

PATH = "m.py"


def toy(edits, line=1, **fix_options) -> Finding:
    return Finding(
        "BEX999", "toy", "toy", Severity.WARNING, "toy", PATH, line, 1, line, 1, "toy",
        fix=Fix("toy fix", tuple(edits), Applicability.SAFE, **fix_options),
    )  # fmt: skip


def once(pattern: str, replacement: str, **fix_options):
    """A recheck flagging the first line matching `pattern`, fixed by replacing that line."""

    def recheck(text: str) -> list[Finding]:
        for number, line in enumerate(text.split("\n"), start=1):
            if re.search(pattern, line):
                edit = Edit(number, 1, number, len(line) + 1, replacement)
                return [toy([edit], number, **fix_options)]
        return []

    return recheck


# --- comments ----------------------------------------------------------------------------------


def test_a_fix_that_deletes_a_comment_fails_verification():
    text = "x = old()  # keep me\ny = 2\n"
    outcome = fix_text(PATH, text, recheck=once(r"old\(\)", "x = new()"))
    assert outcome.text == text and not outcome.applied
    [failed] = outcome.failed
    assert "delete comments" in failed.reason and "# keep me" in failed.reason


def test_a_fix_may_move_a_comment():
    text = "x = old()  # keep me\n"
    outcome = fix_text(PATH, text, recheck=once(r"old\(\)", "# keep me\nx = new()"))
    assert outcome.text == "# keep me\nx = new()\n" and not outcome.failed


def test_a_fix_declaring_it_removes_comments_may():
    text = "x = 1  # bex: ignore[BEX999]\n"
    outcome = fix_text(PATH, text, recheck=once(r"ignore", "x = 1", removes_comments=True))
    assert outcome.text == "x = 1\n" and not outcome.failed


def test_the_permission_covers_only_that_fix_s_own_edits():
    text = "a = 1  # stale\nb = old  # mine\n"

    def recheck(current: str) -> list[Finding]:
        found = []
        lines = current.split("\n")
        if "# stale" in lines[0]:
            found.append(toy([Edit(1, 1, 1, len(lines[0]) + 1, "a = 1")], 1, removes_comments=True))
        if "old" in lines[1]:
            found.append(toy([Edit(2, 1, 2, len(lines[1]) + 1, "b = new")], 2))
        return found

    outcome = fix_text(PATH, text, recheck=recheck)
    assert outcome.text == "a = 1\nb = old  # mine\n"
    assert [f.finding.line for f in outcome.failed] == [2]


def test_unused_suppression_still_removes_stale_suppressions():
    sources = {"m.py": "def total(prices):\n    return sum(prices)  # bex: ignore -- slow\n"}
    config = Config(root=Path("."), layers=[Selection(select=("core",))])
    outcome = fix_sources(sources, config)["m.py"]
    assert outcome.text == "def total(prices):\n    return sum(prices)\n" and not outcome.failed


# --- imports a fix left unused -----------------------------------------------------------------


def drop_use(names=("pydantic.validator",)):
    """Replaces `@validator(...)` by `@other(...)` and declares `validator` redundant."""
    return once(r"@validator\(", "@other()", unused_imports=names)


def test_the_last_use_replaced_removes_the_name_from_its_import():
    text = "from pydantic import BaseModel, validator\n\n@validator()\ndef f(): ...\n"
    outcome = fix_text(PATH, text, recheck=drop_use())
    assert outcome.text == "from pydantic import BaseModel\n\n@other()\ndef f(): ...\n"


def test_the_only_name_removes_the_whole_line():
    text = "import os\nfrom pydantic import validator\n\n@validator()\ndef f(): ...\n"
    outcome = fix_text(PATH, text, recheck=drop_use())
    assert outcome.text == "import os\n\n@other()\ndef f(): ...\n"


def test_removal_waits_for_every_fix_of_the_file():
    text = "from pydantic import validator\n\n@validator()\ndef f(): ...\n@validator()\ndef g(): ...\n"
    outcome = fix_text(PATH, text, recheck=drop_use())
    assert "validator" not in outcome.text and outcome.text.count("@other()") == 2


def test_a_name_still_used_is_kept():
    for use in ("x = validator\n", '__all__ = ["validator"]\n', "def h(v: 'validator'): ...\n"):
        text = f"from pydantic import validator\n\n@validator()\ndef f(): ...\n{use}"
        outcome = fix_text(PATH, text, recheck=drop_use())
        assert outcome.text.startswith("from pydantic import validator\n"), use


def test_prose_mentioning_the_name_does_not_keep_it():
    text = 'from pydantic import validator\n\n@validator()\ndef f():\n    "Run the validator."\n'
    outcome = fix_text(PATH, text, recheck=drop_use())
    assert outcome.text.startswith("\n@other()")


def test_names_the_fix_did_not_declare_are_left_alone():
    text = "from pydantic import validator\n\n@validator()\ndef f(): ...\n"
    outcome = fix_text(PATH, text, recheck=drop_use(names=("pydantic.root_validator",)))
    assert outcome.text.startswith("from pydantic import validator\n")


def test_init_modules_keep_their_imports():
    text = "from pydantic import validator\n\n@validator()\ndef f(): ...\n"
    recheck = drop_use()

    def at_init(current: str) -> list[Finding]:
        return [
            Finding(**{**{s: getattr(f, s) for s in f.__slots__}, "path": "pkg/__init__.py"})
            for f in recheck(current)
        ]

    outcome = fix_text("pkg/__init__.py", text, recheck=at_init)
    assert outcome.text.startswith("from pydantic import validator\n")


def test_parenthesised_imports_lose_the_name_s_line():
    text = "from pydantic import (\n    BaseModel,\n    validator,\n)\n\n@validator()\ndef f(): ...\n"
    outcome = fix_text(PATH, text, recheck=drop_use())
    assert outcome.text.startswith("from pydantic import (\n    BaseModel,\n)\n")


def test_an_import_line_with_a_comment_is_kept():
    text = "from pydantic import validator  # v1\n\n@validator()\ndef f(): ...\n"
    outcome = fix_text(PATH, text, recheck=drop_use())
    assert outcome.text.startswith("from pydantic import validator  # v1\n")
    assert not outcome.failed


# --- the Pydantic fixes ------------------------------------------------------------------------


def fix_pydantic(text: str) -> str:
    config = Config(root=Path("."), layers=[Selection(select=("pydantic",))])
    return fix_sources({"m.py": text}, config, unsafe=True)["m.py"].text


def test_validator_import_stays_while_an_unported_validator_uses_it():
    text = (
        "from pydantic import BaseModel, validator\n\n\n"
        "class Range(BaseModel):\n    low: int\n    high: int\n\n"
        '    @validator("low")\n    def low_ok(cls, value):\n        return value\n\n'
        '    @validator("high")\n    def ordered(cls, high, values):\n        return high\n'
    )
    fixed = fix_pydantic(text)
    assert "@field_validator(\"low\")" in fixed and '@validator("high")' in fixed
    assert fixed.startswith("from pydantic import BaseModel, field_validator, validator\n")


def test_extra_import_goes_only_when_the_config_was_its_last_use():
    model = (
        "\n\nclass A(BaseModel):\n    id: int\n\n    class Config:\n        extra = Extra.forbid\n"
    )
    fixed = fix_pydantic("from pydantic import BaseModel, Extra\n" + model)
    assert fixed.startswith("from pydantic import BaseModel, ConfigDict\n")
    kept = fix_pydantic("from pydantic import BaseModel, Extra\n" + model + "\nMODE = Extra.allow\n")
    assert kept.startswith("from pydantic import BaseModel, ConfigDict, Extra\n")


def test_config_comments_survive_on_settings_and_multiline_values():
    text = (
        "from pydantic_settings import BaseSettings\n\n\n"
        "class S(BaseSettings):\n    url: str\n\n"
        "    class Config:\n"
        '        env_prefix = "APP_"  # all variables\n'
        "        schema_extra = {\n"
        '            "x": 1,  # inside the value\n'
        "        }\n"
    )
    fixed = fix_pydantic(text)
    assert '        env_prefix="APP_",  # all variables\n' in fixed
    assert '            "x": 1,  # inside the value\n' in fixed
    assert fixed.count("# inside the value") == 1 and "class Config" not in fixed


def test_a_lone_trailing_comment_stays_after_a_one_line_config():
    text = (
        "from pydantic import BaseModel\n\n\nclass A(BaseModel):\n    id: int\n\n"
        "    class Config:\n        orm_mode = True  # rows from the ORM\n"
    )
    fixed = fix_pydantic(text)
    assert "    model_config = ConfigDict(from_attributes=True)  # rows from the ORM\n" in fixed
