"""A project model kept warm between checks, for editors and agents.

`bex check` builds the model, checks, and exits. An editor asks again on every
keystroke: the model is built once per project (from the cache when it can be),
then one changed document is parsed, its facts replace the old ones, and only
that document is checked. Facts hold names, not line numbers, so most edits
leave the model as it was and the checker is reused.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from backend_expert.cache import Cache
from backend_expert.check import Checker
from backend_expert.config import Config, load_config
from backend_expert.discover import Discovery, _Walker, discover, find_root, relative
from backend_expert.engine import _check, _facts, _filter_confidence, _index, _parse, release
from backend_expert.findings import Finding
from backend_expert.index import ModuleFacts, Project, build_project, module_names
from backend_expert.suppress import PerFileIgnores
from backend_expert.workers import Pool


class WarmProject:
    """The model of one project, updated one file at a time."""

    def __init__(
        self,
        root: Path,
        config: Config | None = None,
        *,
        use_cache: bool = True,
        jobs: int | None = None,
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self.config = config or load_config(self.root)
        self.config.root = self.root
        found = discover([self.root], self.config)
        self.warnings = list(found.warnings)
        self.dependencies, self.requires_python = found.dependencies, found.requires_python
        files = {relative(path, self.root): path for path in found.files}
        self.files = set(files)
        self.modules = module_names(files)
        self.facts: dict[str, ModuleFacts] = self._index(files, use_cache, jobs)
        self.per_file = PerFileIgnores(self.config)
        self._rules = self.config.enabled_rules()
        self._project: Project | None = None
        self._checker: Checker | None = None
        self._project_findings: list[Finding] | None = None
        self._last_project_findings: list[Finding] = []
        self._lagging = False  # the model lags behind self.facts (see update)

    def _index(self, files: dict[str, Path], use_cache: bool, jobs: int | None) -> dict:
        cache = Cache(self.root / ".bex_cache", self.config.fingerprint(), enabled=use_cache)
        enabled = gc.isenabled()
        gc.disable()
        try:
            with Pool(jobs or os.cpu_count() or 1, len(files)) as workers:
                entries, fresh = _index(files, self.config, cache, workers)
        finally:
            release()
            gc.unfreeze()
            if enabled:
                gc.enable()
        facts = {}
        for rel, entry in entries.items():
            item = fresh.get(rel) or (cache.facts(rel) if entry.digest else None)
            if item is not None:
                facts[rel] = item
        warning = cache.save()
        if warning:
            self.warnings.append(warning)
        return facts

    # --- the model ---------------------------------------------------------------------------

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = self._build(self.facts)
        return self._project

    def _build(self, facts: dict[str, ModuleFacts]) -> Project:
        return build_project(
            facts.values(),
            str(self.root),
            self.dependencies,
            self.requires_python,
            self.config.target_version,
        )

    @property
    def checker(self) -> Checker:
        if self._checker is None:
            self._checker = Checker(self._rules, self.project, self.config)
        return self._checker

    def project_findings(self, *, fresh: bool = True) -> list[Finding]:
        """Findings of the project-level rules, computed once per model.

        They read the whole project and cost more than a file's check: with `fresh=False`
        (a keystroke) the last ones computed are returned even if the model moved since.
        """
        if self._project_findings is None:
            if not fresh:
                return self._last_project_findings
            found = self.checker.check_project()
            self._project_findings = [f for f in found if not self.per_file.ignored(f)]
            self._last_project_findings = self._project_findings
        return self._project_findings

    def update(self, rel: str, facts: ModuleFacts | None, *, defer: bool = False) -> bool:
        """Put one file's new facts in the model; True when the model changed.

        With `defer`, the project model is not rebuilt yet (it lags until the next
        `refresh`): while a user types a new function, every keystroke changes the facts,
        and rebuilding the whole model (Django's model registry among it) each time costs
        more than the check itself. The document itself is always checked with its own
        fresh facts.
        """
        old = self.facts.get(rel)
        if facts is None and old is None:
            return False
        if facts is not None and old is not None and facts.digest() == old.digest():
            self.facts[rel] = facts
            return False
        if facts is None:
            del self.facts[rel]
        else:
            self.facts[rel] = facts
        if defer and self._project is not None:
            self._lagging = True
        else:
            self.refresh()
        return True

    def refresh(self) -> None:
        """Rebuild the model from the current facts (on next use)."""
        self._project = self._checker = self._project_findings = None
        self._lagging = False

    # --- checking ----------------------------------------------------------------------------

    def module_of(self, rel: str) -> str:
        if rel not in self.modules:
            self.modules = module_names([*self.modules, rel])
        return self.modules[rel]

    def excluded(self, path: Path) -> bool:
        """True for a file under the root that the configuration's excludes leave out.

        (A git-ignored file the user opens is still checked, as a path named on the
        command line would be.)
        """
        rel = self.relative(path)
        if rel is None or rel in self.files:
            return False
        walker = _Walker(self.config, Discovery(root=self.root))
        parts = rel.split("/")
        for index, name in enumerate(parts):
            full = str(self.root.joinpath(*parts[: index + 1]))
            if walker.excluded(full, name, index < len(parts) - 1, ()):
                return True
        return False

    def relative(self, path: Path) -> str | None:
        """`path` relative to the root, or None when it lies outside."""
        rel = relative(Path(os.path.abspath(path)), self.root)
        return None if rel.startswith("/") else rel

    def check_text(
        self, rel: str, text: str, *, update: bool = True, project_level: bool = True
    ) -> list[Finding]:
        """Check one document's current text against the warm model.

        With `update`, the document's facts replace the file's (an editor's buffer is the
        truth); without, the model is left as it was (a snippet an agent asks about).
        Without `project_level` (a keystroke), project-wide findings are not recomputed
        and a change to the model waits for the next check with it (open, save).
        """
        source, problems = _parse(rel, text, "utf-8", self.config)
        facts = _facts(source, self.module_of(rel), self.config, problems)
        if update:
            self.update(rel, facts, defer=not project_level)
            if project_level and self._lagging:
                self.refresh()
            checker = self.checker
            extra = [f for f in self.project_findings(fresh=project_level) if f.path == rel]
        else:
            old = self.facts.get(rel)
            if facts is not None and (old is None or old.digest() != facts.digest()):
                project = self._build({**self.facts, rel: facts})
                checker = Checker(self._rules, project, self.config)
            else:
                checker = self.checker
            extra = []
        filtered = _check(source, facts, problems, checker, self.per_file)
        findings = _filter_confidence([*filtered.kept, *extra], self.config)
        return sorted(findings, key=lambda f: f.sort_key)

    def reload(self, rel: str) -> None:
        """Forget a document's unsaved text: read the file from disk again."""
        path = self.root / rel
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            self.update(rel, None)
            return
        source, problems = _parse(rel, text, "utf-8", self.config)
        self.update(rel, _facts(source, self.module_of(rel), self.config, problems))


class Workspace:
    """Warm projects by root, created on first use (a file's root is found as `bex check` does)."""

    def __init__(self, *, use_cache: bool = True) -> None:
        self.use_cache = use_cache
        self.projects: dict[Path, WarmProject] = {}

    def known(self, path: Path) -> bool:
        """Whether the model of `path`'s project is built already."""
        return find_root(Path(os.path.abspath(path))) in self.projects

    def project_for(self, path: Path) -> WarmProject:
        root = find_root(Path(os.path.abspath(path)))
        project = self.projects.get(root)
        if project is None:
            project = self.projects[root] = WarmProject(root, use_cache=self.use_cache)
        return project
