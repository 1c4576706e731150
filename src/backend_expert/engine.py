"""The pipeline, end to end: discover -> parse -> index -> check -> suppress.

Two passes over the files: the first parses each file and collects its facts,
the merged facts become the project model, the second checks each file against
that model. Both passes run in a process pool for large trees, and both are
skipped for files the cache already knows.
"""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backend_expert.cache import Cache, Entry, content_hash, signature
from backend_expert.check import Checker, file_finding
from backend_expert.config import Config, load_config
from backend_expert.discover import Discovery, discover, find_root, relative
from backend_expert.findings import Finding
from backend_expert.index import (
    ModuleFacts,
    Project,
    build_project,
    collect_facts,
    model_fingerprint,
    module_names,
)
from backend_expert.parse import ReadProblem, SourceFile, decode, parse_text
from backend_expert.suppress import (
    Filtered,
    PerFileIgnores,
    Suppression,
    apply_suppressions,
    suppress_and_audit,
)
from backend_expert.workers import OTHERS, Pool


@dataclass
class RunResult:
    findings: list[Finding]
    suppressed: list[tuple[Finding, Suppression | None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: int = 0
    from_cache: int = 0
    root: Path | None = None
    texts: dict[str, str] = field(default_factory=dict)  # sources of files with findings
    baselined: int = 0  # findings hidden because the baseline file lists them
    _project: Project | None = None
    _build_project: Callable[[], Project] | None = field(default=None, repr=False)

    @property
    def project(self) -> Project:
        """The project model (built on first use when the run came wholly from the cache)."""
        if self._project is None and self._build_project is not None:
            self._project = self._build_project()
        assert self._project is not None
        return self._project


@dataclass
class _Indexed:
    rel: str
    content_hash: str
    facts: ModuleFacts | None
    problems: list[Finding]
    digest: str = ""  # of the facts, computed in the worker


# --- per-file work (runs in worker processes) --------------------------------------------------

_STATE: dict[str, object] = {}


@dataclass
class _ModelParts:
    """What a worker process needs to build the project model itself, beside the facts of
    the files it indexed and the other workers' index results (`workers.OTHERS`)."""

    root: str
    dependencies: dict[str, str]
    requires_python: str | None
    target_version: str | None
    cached: list[ModuleFacts]  # the facts of files this run did not index

    def build(self, own: Iterable[ModuleFacts], others: Iterable[bytes]) -> Project:
        facts = [*own, *self.cached]
        for raw in others:
            facts.extend(item.facts for item in pickle.loads(raw) if item.facts is not None)
        return build_project(
            facts, self.root, self.dependencies, self.requires_python, self.target_version
        )


def _init_worker(state: dict) -> None:
    """Prepare this process for a pass: the index pass needs the config; the check pass the
    project model (given, or built from `_ModelParts`) and the checker."""
    _STATE.update(state)
    parts = state.get("model")
    if parts is not None:
        own = _STATE.pop("own_facts", {}).values()  # type: ignore[union-attr]
        _STATE["project"] = parts.build(own, state[OTHERS])
        del _STATE[OTHERS]
    if "project" in state or parts is not None:
        _STATE["checker"] = Checker(_STATE["rules"], _STATE["project"], _STATE["config"])  # type: ignore[arg-type]
        # Checked files (trees, what rules worked out) are kept until `release()`: a worker
        # process ends without freeing its memory, and freeing a million objects one by
        # one would only cost time. With nothing to free during a run, the cycle collector
        # stays off until it ends (`run`).
        _STATE["checked"] = []
    # The project model is long-lived: keep the collector from scanning it again and again.
    gc.freeze()


def release() -> None:
    """Drop what the passes kept in this process (trees, facts) when they ran here."""
    _STATE.clear()


def _read(path: Path, rel: str, config: Config) -> tuple[bytes | None, str, str, list[Finding]]:
    """Read and decode one file: (bytes, text, encoding, problems)."""
    try:
        size = path.stat().st_size
        if size > config.max_file_size_kb * 1024:
            limit = config.max_file_size_kb
            message = f"file is {size // 1024} KiB, over the max-file-size-kb limit ({limit}); not checked"
            return None, "", "", [file_finding("io-error", rel, message, config)]
        data = path.read_bytes()
        text, encoding = decode(data)
    except ReadProblem as problem:
        return (
            None,
            "",
            "",
            [file_finding("io-error", rel, f"cannot check this file: {problem}", config)],
        )
    except OSError as error:
        reason = error.strerror or str(error)
        return (
            None,
            "",
            "",
            [file_finding("io-error", rel, f"cannot read this file: {reason}", config)],
        )
    return data, text, encoding, []


def _parse(rel: str, text: str, encoding: str, config: Config) -> tuple[SourceFile, list[Finding]]:
    source = parse_text(rel, text, encoding)
    error = source.syntax_error
    if error is None:
        return source, []
    line = error.lineno or 1
    column = source.char_column(line, error.offset - 1) + 1 if error.offset else 1
    return source, [
        file_finding("syntax-error", rel, f"syntax error: {error.msg}", config, line, column)
    ]


def _facts(
    source: SourceFile, module: str, config: Config, problems: list[Finding]
) -> ModuleFacts | None:
    if source.tree is None:
        return None
    try:
        return collect_facts(source.tree, source.path, module, source.text)
    except Exception as error:  # one odd file must not stop the run
        message = f"indexing failed: {type(error).__name__}: {error}; the file was not checked"
        problems.append(file_finding("internal-error", source.path, message, config))
        return None


def _check(
    source: SourceFile | None,
    facts: ModuleFacts | None,
    problems: list[Finding],
    checker: Checker,
    per_file: PerFileIgnores,
    keep: list | None = None,
) -> Filtered:
    findings = list(problems)
    if source is not None and source.tree is not None and facts is not None:
        findings.extend(checker.check_file(source, facts, keep))
        return suppress_and_audit(findings, source, facts, checker, per_file)
    return apply_suppressions(findings, source.text if source else "", per_file)


def _index_one(job: tuple[str, str, str]) -> _Indexed:
    path, rel, module = job
    config: Config = _STATE["config"]  # type: ignore[assignment]
    data, text, encoding, problems = _read(Path(path), rel, config)
    facts = None
    if data is not None:
        source, problems = _parse(rel, text, encoding, config)
        facts = _facts(source, module, config, problems)
        # Kept for the check pass in this same process: parsing twice is the costliest waste.
        _STATE.setdefault("parsed", {})[rel] = (source, list(problems))  # type: ignore[union-attr]
        if facts is not None:  # and the facts, for this process's copy of the project model
            _STATE.setdefault("own_facts", {})[rel] = facts  # type: ignore[union-attr]
    if facts is None:
        digest = ""
    elif _STATE["digests"]:
        digest = facts.digest()
    else:  # no cache to key (--no-cache): any mark that is not "" says the file has facts
        digest = "unhashed"
    hashed = content_hash(data) if data is not None and _STATE["digests"] else ""
    return _Indexed(rel, hashed, facts, problems, digest)


def _check_one(
    job: tuple[str, str],
) -> tuple[str, list[Finding], list[tuple[Finding, Suppression | None]], str]:
    path, rel = job
    config: Config = _STATE["config"]  # type: ignore[assignment]
    kept = _STATE.get("parsed", {}).pop(rel, None)  # type: ignore[union-attr]
    if kept is not None:
        source, problems = kept[0], [p for p in kept[1] if p.slug != "internal-error"]
        text = source.text  # (indexing failures are reported by the run, for cached files too)
    else:
        data, text, encoding, problems = _read(Path(path), rel, config)
        source = None
        if data is not None:
            source, problems = _parse(rel, text, encoding, config)
    facts = _STATE["project"].by_path.get(rel)  # type: ignore[union-attr]
    keep = _STATE.get("checked")
    filtered = _check(source, facts, problems, _STATE["checker"], _STATE["per_file"], keep)  # type: ignore[arg-type]
    return rel, filtered.kept, filtered.suppressed, text if filtered.kept else ""


# --- the run -----------------------------------------------------------------------------------


def run(
    paths: Sequence[str | Path],
    config: Config | None = None,
    *,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    jobs: int | None = None,
) -> RunResult:
    """Check `paths` (files or directories) and return what was found.

    When `paths` name only part of the project, the rest of the project is still
    indexed (from the cache when it can be), so cross-file knowledge holds.
    """
    paths = [Path(os.path.abspath(p)) for p in (paths or ["."])]
    root = Path(os.path.abspath(config.root)) if config else find_root(paths[0])
    config = config or load_config(root)
    config.root = root
    found = discover(paths, config)
    context = found if paths == [root] else discover([root], config)
    cache = Cache(cache_dir or root / ".bex_cache", config.fingerprint(), enabled=use_cache)
    enabled = gc.isenabled()
    gc.disable()
    try:
        with Pool(jobs or os.cpu_count() or 1, len(context.files)) as workers:
            return _run(found, context, config, cache, workers)
    finally:
        release()
        gc.unfreeze()
        if enabled:
            gc.enable()


def _index(
    files: dict[str, Path], config: Config, cache: Cache, workers: Pool
) -> tuple[dict[str, Entry], dict[str, ModuleFacts]]:
    """An entry for every file, from the cache or from a parse; and the facts collected anew."""
    modules = module_names(files)
    entries: dict[str, Entry] = {}
    signatures: dict[str, tuple[int, int] | None] = {}
    jobs = []
    for rel, path in files.items():
        signatures[rel] = sig = signature(path)
        entry = cache.get(rel, sig)
        if entry is not None and entry.module == modules[rel]:
            entries[rel] = entry
        else:
            jobs.append((str(path), rel, modules[rel]))
    fresh: dict[str, ModuleFacts] = {}
    state = {"config": config, "digests": cache.enabled}
    for item in workers.index(_init_worker, _index_one, jobs, state):
        sig = signatures[item.rel] or (0, 0)
        entries[item.rel] = Entry(
            sig, item.content_hash, modules[item.rel], item.problems, item.digest
        )
        cache.put(item.rel, entries[item.rel], item.facts)
        if item.facts is not None:
            fresh[item.rel] = item.facts
    return entries, fresh


def _run(
    found: Discovery, context: Discovery, config: Config, cache: Cache, workers: Pool
) -> RunResult:
    root = found.root
    checked = {relative(path, root): path for path in found.files}
    indexed = {relative(path, root): path for path in context.files} | checked
    entries, fresh = _index(indexed, config, cache, workers)

    def build() -> Project:
        facts = (
            fresh.get(rel) or cache.facts(rel) for rel, entry in entries.items() if entry.digest
        )
        deps, python = found.dependencies, found.requires_python
        return build_project(
            (f for f in facts if f is not None), str(root), deps, python, config.target_version
        )

    result = RunResult(findings=[], warnings=list(found.warnings), files=len(checked), root=root)
    result._build_project = build
    digests = (entry.digest for entry in entries.values() if entry.digest)
    from backend_expert.pytest_config import config_fingerprint  # pytest settings feed BEX902

    model_key = model_fingerprint(
        digests,
        {**found.dependencies, " pytest-config": config_fingerprint(str(root))},
        found.requires_python,
        config.target_version,
    )
    to_check = []
    for rel, path in checked.items():
        entry = entries[rel]
        if entry.kept is not None and entry.model_key == model_key:
            result.from_cache += 1
            result.findings.extend(entry.kept)
            result.suppressed.extend(entry.suppressed or ())
        else:
            to_check.append((str(path), rel))
    per_file = PerFileIgnores(config)
    # Project-level rules speak of the whole project only; their findings are kept by model.
    key, kept_findings = cache.project
    rerun_project = context is found and (key != model_key or not cache.enabled)
    project_findings: list[Finding] | None = None
    if not rerun_project:
        project_findings = kept_findings if context is found else []
    if to_check:
        common = {"config": config, "rules": config.enabled_rules(), "per_file": per_file}
        here, there = {**common, "project": result.project}, {}
        if workers.parallel:  # the forked workers build the model from the facts they lack
            cached = [
                f
                for rel, e in entries.items()
                if e.digest and rel not in fresh
                if (f := cache.facts(rel))
            ]
            deps, python = found.dependencies, found.requires_python
            parts = _ModelParts(str(root), deps, python, config.target_version, cached)
            there = {**common, "model": parts}
        # The project rules run in the first process done with its files, not after them all.
        extra = _project_check if rerun_project else None
        checks, computed = workers.check(_init_worker, _check_one, to_check, here, there, extra)
        if rerun_project:
            project_findings = computed  # type: ignore[assignment]
        for rel, kept, suppressed, text in checks:
            entry = entries[rel]
            entry.model_key, entry.kept, entry.suppressed = model_key, kept, suppressed
            cache.put(rel, entry)
            result.findings.extend(kept)
            result.suppressed.extend(suppressed)
            if text:
                result.texts[rel] = text
    for rel in checked:  # a file whose indexing failed was not checked: say so
        result.findings.extend(p for p in entries[rel].problems if p.slug == "internal-error")
    if project_findings is None:  # nothing was checked, but the model changed
        project_findings = Checker(config.enabled_rules(), result.project, config).check_project()
    if context is found:
        cache.put_project(model_key, project_findings)
    result.findings.extend(f for f in project_findings if not per_file.ignored(f))
    cache.prune({rel for rel in cache.entries if rel in indexed or (root / rel).exists()})
    warning = cache.save()
    if warning:
        result.warnings.append(warning)
    result.findings = _filter_confidence(result.findings, config)
    result.findings.sort(key=lambda f: f.sort_key)
    return result


def _project_check() -> list[Finding]:
    """The findings of the project-level rules, in a process prepared for the check pass."""
    return _STATE["checker"].check_project()  # type: ignore[attr-defined]


def _filter_confidence(findings: Iterable[Finding], config: Config) -> list[Finding]:
    floor = config.min_confidence.rank
    return [f for f in findings if f.confidence.rank >= floor]


def run_sources(
    sources: dict[str, str],
    config: Config | None = None,
    dependencies: dict[str, str] | None = None,
) -> RunResult:
    """Check in-memory files ({relative path: text}); used by examples, tests and editors."""
    config = config or Config(root=Path("."))
    other = {rel: text for rel, text in sources.items() if not rel.endswith((".py", ".pyi"))}
    sources = {rel: text for rel, text in sources.items() if rel not in other}
    modules = module_names(sources)
    parsed = {rel: _parse(rel, text, "utf-8", config) for rel, text in sources.items()}
    facts = [
        item
        for rel, (source, problems) in parsed.items()
        if (item := _facts(source, modules[rel], config, problems)) is not None
    ]
    project = build_project(
        facts, str(config.root), dependencies or {}, None, config.target_version
    )
    # pyproject.toml, alembic.ini...: the project's other files are known in memory, not on disk.
    project.files = other
    if "pyproject.toml" in other:
        from backend_expert.project_files import requires_python_of

        project.requires_python = requires_python_of(other["pyproject.toml"])
    checker = Checker(config.enabled_rules(), project, config)
    per_file = PerFileIgnores(config)
    result = RunResult(findings=[], files=len(sources), root=config.root, _project=project)
    for rel, (source, problems) in parsed.items():
        filtered = _check(source, project.by_path.get(rel), problems, checker, per_file)
        result.findings.extend(filtered.kept)
        result.suppressed.extend(filtered.suppressed)
        result.texts[rel] = source.text
    result.findings.extend(f for f in checker.check_project() if not per_file.ignored(f))
    result.findings = sorted(_filter_confidence(result.findings, config), key=lambda f: f.sort_key)
    return result


def check_text(
    rel: str, text: str, project: Project, config: Config, checker: Checker | None = None
) -> list[Finding]:
    """Check a new version of one file against an existing project model (fixes, editors).

    The file's own facts are collected afresh; the rest of the project is as the model
    knows it. Suppressions and the confidence floor apply as in a run.
    """
    source, problems = _parse(rel, text, "utf-8", config)
    existing = project.by_path.get(rel)
    module = existing.module if existing is not None else module_names([rel])[rel]
    facts = _facts(source, module, config, problems)
    checker = checker or Checker(config.enabled_rules(), project, config)
    filtered = _check(source, facts, problems, checker, PerFileIgnores(config))
    return sorted(_filter_confidence(filtered.kept, config), key=lambda f: f.sort_key)
