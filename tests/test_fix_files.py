"""Fixing files on disk and from the command line: bytes preserved, atomic writes, refusals,
and `bex check --fix / --unsafe-fixes / --diff / --fix-only` with their exit codes."""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner
from test_fixes import rename

from backend_expert.cli import main
from backend_expert.fix_files import fix_file
from backend_expert.rules.django._orm_examples import blog

# --- one file ----------------------------------------------------------------------------------


def fix_on_disk(tmp_path, data: bytes, recheck=None, write=True):
    path = tmp_path / "m.py"
    path.write_bytes(data)
    result = fix_file(path, "m.py", recheck or rename("old", "new"), unsafe=False, write=write)
    return result, path.read_bytes()


@pytest.mark.parametrize(
    "before,after",
    [
        (b"old = 1\r\nx = 2\r\n", b"new = 1\r\nx = 2\r\n"),
        (b"\xef\xbb\xbfold = 1\n", b"\xef\xbb\xbfnew = 1\n"),  # BOM
        (
            b"# -*- coding: latin-1 -*-\nold = '\xe9t\xe9'\n",
            b"# -*- coding: latin-1 -*-\nnew = '\xe9t\xe9'\n",
        ),
        (b"x = 1\n\n\n# note\nold = 2", b"x = 1\n\n\n# note\nnew = 2"),  # no final newline
    ],
)
def test_bytes_outside_the_edits_survive(tmp_path, before, after):
    result, data = fix_on_disk(tmp_path, before)
    assert result.written and not result.error
    assert data == after


def test_permissions_are_kept_and_no_temporary_file_is_left(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("old = 1\n")
    path.chmod(0o640)
    result = fix_file(path, "m.py", rename("old", "new"), unsafe=False, write=True)
    assert result.written
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["m.py"]


def test_a_symlink_is_written_through_not_replaced(tmp_path):
    (tmp_path / "real.py").write_text("old = 1\n")
    (tmp_path / "link.py").symlink_to("real.py")
    result = fix_file(tmp_path / "link.py", "m.py", rename("old", "new"), False, True)
    assert result.written
    assert (tmp_path / "link.py").is_symlink()
    assert (tmp_path / "real.py").read_text() == "new = 1\n"


def test_a_file_changed_while_fixing_is_not_overwritten(tmp_path):
    path = tmp_path / "m.py"
    inner = rename("old", "new")

    def recheck(text):
        if "new" in text:  # bex has fixed its copy; someone edits the file meanwhile
            path.write_text("old = 1  # edited by hand\n")
        return inner(text)

    result, data = fix_on_disk(tmp_path, b"old = 1\n", recheck)
    assert not result.written and "changed on disk" in result.error
    assert data == b"old = 1  # edited by hand\n"


def test_text_the_encoding_cannot_hold_is_not_written(tmp_path):
    before = b"# -*- coding: latin-1 -*-\nx = old\n"
    result, data = fix_on_disk(tmp_path, before, rename("old", "'\u20ac'"))
    assert not result.written and "encoding" in result.error
    assert data == before


def test_diff_mode_writes_nothing(tmp_path):
    result, data = fix_on_disk(tmp_path, b"old = 1\n", write=False)
    assert result.changed and not result.written and data == b"old = 1\n"


def test_unreadable_files_are_reported(tmp_path):
    result = fix_file(tmp_path / "gone.py", "gone.py", rename("old", "new"), False, True)
    assert "cannot read" in result.error


# --- the command line --------------------------------------------------------------------------

VIEWS = """\
from blog.models import Post


def has_posts(author):
    return len(Post.objects.filter(author=author)) > 0
"""
MAIN = """\
from fastapi import FastAPI

app = FastAPI()


@app.on_event("startup")
async def start():
    ...
"""


@pytest.fixture
def project(write_project):
    files = blog({"blog/views.py": VIEWS})
    files["svc/__init__.py"] = ""
    files["svc/main.py"] = MAIN
    root = write_project(files)
    (root / "requirements.txt").write_text("django>=5\nfastapi\n")
    return root


def bex(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), "--no-cache"])


def test_summary_counts_what_fix_would_do(project):
    result = bex(project)
    assert result.exit_code == 1
    assert "[*] 1 fixable with `--fix` (1 more with `--unsafe-fixes`)." in result.output
    assert "- " in result.output and "+ " in result.output  # the fix shown as a small diff


def test_fix_applies_safe_fixes_only(project):
    result = bex(project, "--fix")
    assert "Fixed 1 finding in 1 file." in result.output
    assert "Post.objects.filter(author=author).exists()" in (project / "blog/views.py").read_text()
    assert (project / "svc/main.py").read_text() == MAIN
    assert result.exit_code == 1  # the on_event finding remains
    assert "BEX101" in result.output and "BEX403" not in result.output


def test_unsafe_fixes_too(project):
    result = bex(project, "--fix", "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert "Fixed 2 findings in 2 files." in result.output
    assert "lifespan=lifespan" in (project / "svc/main.py").read_text()
    assert bex(project).exit_code == 0


def test_diff_prints_and_writes_nothing(project):
    before = (project / "blog/views.py").read_text()
    result = CliRunner().invoke(main, ["check", str(project), "--no-cache", "--diff"])
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/blog/views.py\n+++ b/blog/views.py\n")
    assert "+    return Post.objects.filter(author=author).exists()" in result.stdout
    assert "Would fix 1 finding in 1 file." in result.stderr
    assert (project / "blog/views.py").read_text() == before
    (project / "blog/views.py").write_text("")
    assert bex(project, "--diff").exit_code == 0  # nothing safe left to fix


def test_fix_only_reports_nothing_else(project):
    result = bex(project, "--fix-only")
    assert result.exit_code == 0
    assert result.output.strip() == "Fixed 1 finding in 1 file."


def test_a_failed_fix_is_a_warning_and_the_file_is_untouched(project, monkeypatch):
    from backend_expert import fixes

    monkeypatch.setattr(fixes, "_problem", lambda *args: "refused for the test")
    result = CliRunner().invoke(main, ["check", str(project), "--no-cache", "--fix"])
    assert "not applied: refused for the test" in result.stderr
    assert "len(Post.objects" in (project / "blog/views.py").read_text()
    assert result.exit_code == 1
