"""A rule's documentation as Markdown, built from its metadata, explanation and examples."""

from __future__ import annotations

from backend_expert.rules import Example, Rule
from backend_expert.rules.base import MARKER


def _code(example: Example, show_marker: bool) -> str:
    blocks = []
    for path, text in example.sources().items():
        if not show_marker:
            text = "\n".join(
                line.replace(f"  {MARKER}", "").replace(MARKER, "") for line in text.splitlines()
            )
        header = f"# {path}\n" if len(example.sources()) > 1 else ""
        blocks.append(f"```python\n{header}{text.rstrip()}\n```")
    return "\n".join(blocks)


def explain(rule: Rule) -> str:
    """ruff-shaped sections: what, why, example, use instead, not flagged, fix safety, references."""
    fix = (
        rule.fix_applicability.value
        if rule.fix_applicability
        else "none (the correct code is shown)"
    )
    lines = [
        f"# {rule.code} `{rule.slug}`",
        "",
        f"{rule.summary}.",
        "",
        f"Pack: `{rule.pack}` · severity: {rule.severity.value} · category: {rule.category} · fix: {fix}",
    ]
    if rule.frameworks:
        lines.append(f"Runs when the project uses: {', '.join(rule.frameworks)}")
    if rule.cwe:
        lines.append(f"CWE-{rule.cwe} · security severity {rule.security_severity}")
    lines += [
        "",
        "## What it does",
        rule.explanation.what,
        "",
        "## Why it matters",
        rule.explanation.why,
    ]
    if rule.fire:
        lines += ["", "## Example", "Lines marked `# flagged` are reported:", ""]
        lines += [_code(example, show_marker=True) for example in rule.fire[:2]]
    good = [example for example in rule.fire if example.fixed]
    if rule.explanation.use_instead or good:
        lines += ["", "## Use instead", rule.explanation.use_instead]
        lines += [_code(Example(code=example.fixed), show_marker=False) for example in good[:1]]
    if rule.clean:
        lines += ["", "## Not flagged"]
        for example in rule.clean:
            lines += [
                f"- {example.title or 'near miss'}:",
                "",
                _code(example, show_marker=False),
                "",
            ]
    if rule.explanation.fix_safety:
        lines += ["", "## Fix safety", rule.explanation.fix_safety]
    if rule.explanation.references:
        lines += ["", "## References", *(f"- {ref}" for ref in rule.explanation.references)]
    return "\n".join(lines).rstrip() + "\n"
