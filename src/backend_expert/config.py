"""Configuration: `[tool.bex]` in pyproject.toml or a bex.toml, then the command line.

Rule selection follows ruff: each layer (file, then command line) may `select`
(which resets what came before), `extend-select` and `ignore`; for each rule the
most specific matching selector wins, and `ignore` wins a tie.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from backend_expert.findings import Confidence, Severity
from backend_expert.rules import PACKS, Rule, all_rules

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".eggs",
    ".bex_cache",
    "site-packages",
    "__pypackages__",
    ".direnv",
    ".ipynb_checkpoints",
)
TARGET_VERSIONS = ("py310", "py311", "py312", "py313", "py314")
CONFIG_FILES = ("bex.toml", ".bex.toml", "pyproject.toml")


class ConfigError(Exception):
    """A configuration problem the user must fix; reported with exit code 2."""


@dataclass(frozen=True)
class Selection:
    """One layer of rule selection."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


@dataclass
class Config:
    root: Path
    source: Path | None = None  # the file the settings came from
    layers: list[Selection] = field(default_factory=list)
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    target_version: str | None = None
    severity: dict[str, Severity] = field(default_factory=dict)
    min_confidence: Confidence = Confidence.LOW
    max_file_size_kb: int = 2048
    # `[tool.bex.layers]`: glob -> architecture layer (layers.py), for `bex review` and BEX013.
    architecture_layers: dict[str, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A hash of everything that changes what findings a file produces."""
        data = {
            "layers": [vars(layer) for layer in self.layers],
            "pfi": self.per_file_ignores,
            "target": self.target_version,
            "severity": {k: v.value for k, v in self.severity.items()},
            "max": self.max_file_size_kb,
            "architecture_layers": self.architecture_layers,
        }
        return hashlib.blake2b(
            json.dumps(data, sort_keys=True, default=list).encode(), digest_size=12
        ).hexdigest()

    def enabled_rules(self) -> tuple[Rule, ...]:
        return resolve_selection(self.layers)

    def severity_of(self, rule: Rule) -> Severity:
        for key in (rule.slug, rule.code, rule.pack):
            if key in self.severity:
                return self.severity[key]
        return rule.severity


# --- selection -----------------------------------------------------------------------------


def _specificity(selector: str, rule: Rule) -> int | None:
    """How precisely `selector` names `rule` (None: not at all)."""
    if selector == "ALL":
        return 0
    if selector in (rule.code, rule.slug):
        return 100
    if selector == rule.pack:
        return 1
    if rule.code.startswith(selector):
        return len(selector)
    return None


def validate_selector(selector: str, where: str) -> str:
    """Return the canonical form of `selector` or raise ConfigError naming it."""
    rules = all_rules()
    candidates = {"ALL", *PACKS.values()}
    for rule in rules:
        candidates.update((rule.code, rule.slug))
    if selector in candidates:
        return selector
    upper = selector.upper()
    if upper in candidates:
        return upper
    if upper.startswith("BEX") and any(rule.code.startswith(upper) for rule in rules):
        return upper
    close = difflib.get_close_matches(selector, sorted(candidates), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(f"Unknown rule selector {selector!r} in {where}.{hint} See `bex rules`.")


def resolve_selection(layers: list[Selection]) -> tuple[Rule, ...]:
    enabled = {rule.code: True for rule in all_rules()}
    for layer in layers:
        on = (*(layer.select or ()), *layer.extend_select)
        for rule in all_rules():
            best_on = max(
                (s for s in map(lambda x: _specificity(x, rule), on) if s is not None), default=None
            )
            best_off = max(
                (s for s in map(lambda x: _specificity(x, rule), layer.ignore) if s is not None),
                default=None,
            )
            if best_off is not None and (best_on is None or best_off >= best_on):
                enabled[rule.code] = False
            elif best_on is not None:
                enabled[rule.code] = True
            elif layer.select is not None:
                enabled[rule.code] = False
    return tuple(rule for rule in all_rules() if enabled[rule.code])


# --- loading ---------------------------------------------------------------------------------

_KNOWN_KEYS = {
    "select",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "exclude",
    "extend-exclude",
    "respect-gitignore",
    "target-version",
    "severity",
    "min-confidence",
    "max-file-size-kb",
    "layers",
}


def find_config_file(start: Path) -> Path | None:
    """The nearest bex.toml, or pyproject.toml with a [tool.bex] table, at or above `start`."""
    for directory in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = directory / name
            if not candidate.is_file():
                continue
            if name != "pyproject.toml" or (
                "tool" in _read_toml(candidate) and "bex" in _read_toml(candidate)["tool"]
            ):
                return candidate
    return None


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None


def load_config(root: Path, config_file: Path | None = None) -> Config:
    """Read the settings that apply to a project rooted at `root`."""
    path = config_file or find_config_file(root)
    config = Config(root=root, source=path)
    if path is None:
        return config
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("bex", {})
    else:
        table = data.get("tool", {}).get("bex", data) if "tool" in data else data
    apply_table(config, table, str(path))
    return config


def _strings(value: object, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings, got {value!r}")
    return tuple(value)


def _choice(value: object, key: str, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{where}: `{key}` must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


def apply_table(config: Config, table: dict, where: str) -> None:
    """Validate a `[tool.bex]` table and apply it to `config`."""
    for key in table:
        if key not in _KNOWN_KEYS:
            close = difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise ConfigError(f"{where}: unknown option `{key}`.{hint}")
    selectors = {}
    for key in ("select", "extend-select", "ignore"):
        if key in table:
            selectors[key] = tuple(
                validate_selector(s, f"{where} `{key}`") for s in _strings(table[key], key, where)
            )
    config.layers.append(
        Selection(
            select=selectors.get("select"),
            extend_select=selectors.get("extend-select", ()),
            ignore=selectors.get("ignore", ()),
        )
    )
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{where}: `per-file-ignores` must be a table of glob = [rules]")
    for pattern, rules in pfi.items():
        config.per_file_ignores[pattern] = tuple(
            validate_selector(s, f"{where} `per-file-ignores` {pattern!r}")
            for s in _strings(rules, f"per-file-ignores.{pattern}", where)
        )
    if "exclude" in table:
        config.exclude = _strings(table["exclude"], "exclude", where)
    if "extend-exclude" in table:
        config.extend_exclude = _strings(table["extend-exclude"], "extend-exclude", where)
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise ConfigError(f"{where}: `respect-gitignore` must be true or false")
        config.respect_gitignore = table["respect-gitignore"]
    if "target-version" in table:
        config.target_version = _choice(
            table["target-version"], "target-version", where, TARGET_VERSIONS
        )
    if "min-confidence" in table:
        levels = tuple(c.value for c in Confidence)
        config.min_confidence = Confidence(
            _choice(table["min-confidence"], "min-confidence", where, levels)
        )
    if "max-file-size-kb" in table:
        size = table["max-file-size-kb"]
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ConfigError(
                f"{where}: `max-file-size-kb` must be a positive integer, got {size!r}"
            )
        config.max_file_size_kb = size
    if "layers" in table:
        config.architecture_layers = _layers(table["layers"], where)
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f'{where}: `severity` must be a table of rule = "error|warning|info"')
    levels = tuple(s.value for s in Severity)
    for selector, level in severity.items():
        canonical = validate_selector(selector, f"{where} `severity`")
        config.severity[canonical] = Severity(_choice(level, f"severity.{selector}", where, levels))


def _layers(value: object, where: str) -> dict[str, str]:
    """`[tool.bex.layers]`: a table of glob = layer name."""
    from backend_expert.layers import LAYERS

    if not isinstance(value, dict):
        raise ConfigError(f'{where}: `layers` must be a table of "glob" = "layer"')
    for glob, layer in value.items():
        if layer not in LAYERS:
            raise ConfigError(
                f"{where}: `layers` {glob!r} = {layer!r}: the layer must be one of {', '.join(LAYERS)}"
            )
    return dict(value)
