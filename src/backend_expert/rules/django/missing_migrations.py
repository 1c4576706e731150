"""An app that defines models but has no migrations package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from backend_expert.django_models import EXTERNAL_MODELS, django_models
from backend_expert.findings import Confidence, Finding, Severity
from backend_expert.index import Project
from backend_expert.rules.base import Example, Explanation, Rule

APP = {
    "shop/__init__.py": "",
    "shop/apps.py": "from django.apps import AppConfig\n\n\nclass ShopConfig(AppConfig):\n    name = 'shop'\n",
}
MIGRATED = {
    "billing/__init__.py": "",
    "billing/models.py": "from django.db import models\n\n\nclass Invoice(models.Model):\n    total = models.IntegerField()\n",
    "billing/migrations/__init__.py": "",
    "billing/migrations/0001_initial.py": "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    initial = True\n",
}


class MissingMigrations(Rule):
    code = "BEX408"
    slug = "django-missing-migrations"
    pack = "django"
    severity = Severity.WARNING
    category = "correctness"
    frameworks = ("django",)
    summary = "An app defines models but has no migrations package"
    hint = "Run `python manage.py makemigrations <app_label>` and commit the `migrations/` package."
    explanation = Explanation(
        what=(
            "Reports, once per app, a `models.py` (or `models/` package) that defines concrete "
            "models while the app has no `migrations/` package, in a project where other apps "
            "do have migrations."
        ),
        why=(
            "Without a migrations package `migrate` creates no tables for the app (only "
            "`--run-syncdb` would, and never alters them later), so the first query fails with "
            "'no such table' on a fresh database, tests that rely on migrations break, and "
            "schema changes are never recorded. `makemigrations` only writes a first migration "
            "for an app it is asked for by label when the package does not exist."
        ),
        use_instead=(
            "`python manage.py makemigrations <app_label>` creates `migrations/__init__.py` and "
            "`0001_initial.py`; commit both. Apps with only abstract models need none."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/topics/migrations/",
            "https://docs.djangoproject.com/en/stable/ref/django-admin/#makemigrations",
        ),
    )
    fire = (
        Example(
            title="a new app whose models were never migrated",
            files={
                **APP,
                **MIGRATED,
                "shop/models.py": "from django.db import models  # flagged\n\nfrom billing.models import Invoice\n\n\nclass Cart(models.Model):\n    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE)\n",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: the app has its migrations",
            files=MIGRATED,
        ),
        Example(
            title="near miss: an app with only abstract models",
            files={
                **MIGRATED,
                "core/__init__.py": "",
                "core/models.py": "from django.db import models\n\n\nclass Stamped(models.Model):\n    created = models.DateTimeField()\n\n    class Meta:\n        abstract = True\n",
            },
        ),
        Example(
            title="near miss: no app of the project has migrations (they are excluded from the run, or kept elsewhere)",
            files={
                **APP,
                "shop/models.py": "from django.db import models\n\n\nclass Cart(models.Model):\n    total = models.IntegerField()\n",
            },
        ),
        Example(
            title="near miss: models in a test package, and a models package with migrations",
            files={
                **MIGRATED,
                "tests/models.py": "from django.db import models\n\n\nclass Dummy(models.Model):\n    name = models.CharField(max_length=5)\n",
                "catalog/__init__.py": "",
                "catalog/models/__init__.py": "from catalog.models.item import Item\n",
                "catalog/models/item.py": "from django.db import models\n\n\nclass Item(models.Model):\n    name = models.CharField(max_length=5)\n",
                "catalog/migrations/__init__.py": "",
            },
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        if not project.uses("django"):
            return
        paths = project.by_path
        migration_dirs = {
            str(PurePosixPath(path).parent)
            for path in paths
            if PurePosixPath(path).parent.name == "migrations"
        }
        if not migration_dirs:
            return  # no app has migrations here: they are excluded, or kept elsewhere
        models = django_models(project)
        apps: dict[str, list[str]] = {}  # app directory -> models modules with concrete models
        for model in models.models.values():
            if model.qualname in EXTERNAL_MODELS or model.abstract or not model.path:
                continue
            facts = paths.get(model.path)
            if facts is None or facts.is_test:
                continue
            path = PurePosixPath(model.path)
            if path.stem != "models" and "models" not in path.parent.parts:
                continue
            app_dir, _ = models.app_of(facts)
            apps.setdefault(app_dir, []).append(model.path)
        for app_dir, files in sorted(apps.items()):
            prefix = "" if app_dir == "." else f"{app_dir}/"
            if f"{prefix}migrations" in migration_dirs:
                continue
            where = sorted(files)
            package = f"{prefix}models/__init__.py"
            path = package if package in paths else where[0]
            label = models.app_of(paths[where[0]])[1]
            yield Finding(
                code=self.code,
                slug=self.slug,
                pack=self.pack,
                severity=self.severity,
                category=self.category,
                path=path,
                line=1,
                column=1,
                end_line=1,
                end_column=1,
                message=(
                    f"App `{label}` defines models but has no `migrations` package: `migrate` "
                    f"creates no tables for it; run `python manage.py makemigrations {label}`"
                ),
                confidence=Confidence.HIGH,
                docs=self.docs_url,
            )
