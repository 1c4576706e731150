"""Discovery: which files, which root, which frameworks."""

from __future__ import annotations

from backend_expert.config import load_config
from backend_expert.discover import discover, find_root, read_dependencies
from backend_expert.engine import run


def rels(root, found):
    return sorted(p.relative_to(root).as_posix() for p in found.files)


def test_default_excludes_gitignore_and_extend_exclude(write_project):
    root = write_project(
        {
            "app/main.py": "x = 1\n",
            ".venv/lib/site.py": "x = 1\n",
            "node_modules/a.py": "x = 1\n",
            "build/gen.py": "x = 1\n",
            "generated/out.py": "x = 1\n",
            "legacy/old.py": "x = 1\n",
            "app/notes.txt": "not python",
            ".gitignore": "generated/\n*.tmp.py\n",
            "app/scratch.tmp.py": "x = 1\n",
        },
        pyproject='[tool.bex]\nextend-exclude = ["legacy"]\n',
    )
    found = discover([root], load_config(root))
    assert rels(root, found) == ["app/main.py"]


def test_explicit_files_are_checked_even_when_excluded(write_project):
    root = write_project(
        {"legacy/old.py": "x = 1\n"}, pyproject='[tool.bex]\nextend-exclude = ["legacy"]\n'
    )
    found = discover([root / "legacy" / "old.py"], load_config(root))
    assert rels(root, found) == ["legacy/old.py"]


def test_root_is_the_nearest_pyproject_or_git(tmp_path):
    (tmp_path / "svc" / "pkg").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    assert find_root(tmp_path / "svc" / "pkg") == tmp_path
    (tmp_path / "svc" / "pyproject.toml").write_text("")
    assert find_root(tmp_path / "svc" / "pkg") == tmp_path / "svc"


def test_dependencies_from_every_declaration_style(write_project):
    root = write_project(
        {
            "requirements.txt": "requests==2.32.0  # pinned\n-r other.txt\nDjango>=5.2\n",
            "requirements/dev.txt": "pytest>=8\n",
            "setup.cfg": "[options]\ninstall_requires =\n    flask>=3\n",
        },
        pyproject=(
            '[project]\nname = "x"\nrequires-python = ">=3.11"\ndependencies = ["fastapi[standard]>=0.115", "pydantic<2"]\n'
            '[project.optional-dependencies]\npg = ["asyncpg"]\n'
            '[dependency-groups]\ndev = ["httpx>=0.28"]\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nsqlalchemy = "^2.0"\n'
            '[tool.poetry.group.test.dependencies]\npytest-asyncio = {version = "~0.23"}\n'
        ),
    )
    deps, requires_python = read_dependencies(root)
    assert requires_python == ">=3.11"
    assert deps["fastapi"] == ">=0.115"
    assert deps["pydantic"] == "<2"
    assert deps["sqlalchemy"] == ">=2.0,<3"
    assert deps["pytest-asyncio"] == "~=0.23"
    assert {"asyncpg", "httpx", "requests", "django", "pytest", "flask"} <= set(deps)


def test_frameworks_from_dependencies_and_imports(write_project):
    root = write_project(
        {
            "app/__init__.py": "",
            "app/views.py": "from rest_framework import viewsets\nimport sqlalchemy.orm\n",
        },
        pyproject='[project]\nname = "x"\ndependencies = ["flask"]\n',
    )
    result = run([root], use_cache=False)
    assert {"flask", "drf", "sqlalchemy"} <= result.project.frameworks
    assert "fastapi" not in result.project.frameworks
