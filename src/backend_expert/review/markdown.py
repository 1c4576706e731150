"""The review as Markdown, in the seeds' eight sections."""

from __future__ import annotations

import os

from backend_expert.review import RECOMMENDED_LAYERS, SECTIONS, Problem, Review

TOP = 5
EXAMPLES = 3


def _where(problem: Problem) -> str:
    first = sorted(problem.findings, key=lambda f: f.sort_key)[0]
    more = len(problem.findings) - 1
    return f"`{first.path}:{first.line}`" + (f" and {more} more" if more else "")


def top_problems(review: Review) -> list[Problem]:
    return review.problems[:TOP]


def _summary(review: Review) -> list[str]:
    stack = ", ".join(f"{k}: **{v}**" for k, v in review.stack.items())
    counts = review.by("severity")
    lines = [
        f"Reviewed `{review.root}`: {review.files} Python files. Stack: {stack}.",
        "",
        f"{len(review.findings)} findings: {counts.get('error', 0)} errors, "
        f"{counts.get('warning', 0)} warnings, {counts.get('info', 0)} notes, from "
        f"{len(review.problems)} rules. {len(review.arch.routes)} routes, "
        f"{len(review.arch.data.models)} models, layout {review.layout_score}% of the "
        "recommended one.",
        "",
    ]
    if review.problems:
        lines.append("Top problems, by severity and reach:")
        lines.append("")
        for number, problem in enumerate(top_problems(review), start=1):
            lines.append(
                f"{number}. **{problem.rule.summary}** ({problem.rule.code} "
                f"`{problem.rule.slug}`, {problem.severity.value}): {len(problem.findings)} "
                f"finding(s) in {problem.files} file(s), first at {_where(problem)}."
            )
    else:
        lines.append("No problems found by the enabled rules.")
    return lines


def _implementation(review: Review) -> list[str]:
    arch = review.arch
    sizes = arch.layer_sizes()
    if not sizes:
        return ["No Python module to describe."]
    lines = ["### Layers", "", "| layer | modules |", "|---|---|"]
    lines += [f"| {layer} | {sizes[layer]} |" for layer in sorted(sizes, key=lambda k: -sizes[k])]
    lines.append("")
    if review.missing_layers:
        lines.append(
            "Compared with the recommended layout ("
            + " -> ".join(RECOMMENDED_LAYERS[:4])
            + ", schemas and settings beside them, tests), the project has no "
            + ", ".join(f"`{m}`" for m in review.missing_layers)
            + " layer."
        )
    else:
        lines.append("Every layer of the recommended layout is present.")
    edges = [
        (k, n) for k, n in sorted(arch.layer_edges().items(), key=lambda kv: -kv[1]) if k[0] != k[1]
    ]
    if edges:
        lines += [
            "",
            "Imports between layers (module edges): "
            + ", ".join(f"{a} -> {b} ({n})" for (a, b), n in edges[:10])
            + ".",
        ]
    if arch.cycles:
        lines += [
            "",
            f"{len(arch.cycles)} import cycle(s) at module level; the largest: "
            + ", ".join(f"`{m}`" for m in arch.cycles[0][:6])
            + ".",
        ]
    routes = arch.routes
    if routes:
        frameworks = sorted({r.framework for r in routes})
        lines += [
            "",
            "### Routes",
            "",
            f"{len(routes)} routes ({', '.join(frameworks)}); "
            f"{sum(1 for r in routes if r.auth)} show authentication.",
            "",
            "| method | path | handler | auth | response model |",
            "|---|---|---|---|---|",
        ]
        for route in routes[:40]:
            lines.append(
                f"| {'/'.join(route.methods)} | `{route.path}` | `{route.handler}` | "
                f"{_auth(route)} | {route.response_model or ''} |"
            )
        if len(routes) > 40:
            lines.append(f"| ... | {len(routes) - 40} more | | | |")
    data = arch.data
    if data.models:
        lines += [
            "",
            "### Data model",
            "",
            f"{len(data.models)} models ({data.orm}), {len(data.relations)} relations.",
        ]
        for source, name, target, kind in data.relations[:20]:
            lines.append(
                f"- `{source.rpartition('.')[2]}.{name}` -> `{target.rpartition('.')[2]}` ({kind})"
            )
    return lines


def _auth(route) -> str:
    if route.auth:
        return route.auth
    return "? (cannot tell)" if route.auth_unknown else "**none**"


def _examples(review: Review) -> list[str]:
    lines: list[str] = []
    for problem in review.problems[:EXAMPLES]:
        rule = problem.rule
        first = sorted(problem.findings, key=lambda f: f.sort_key)[0]
        lines += [
            f"### {rule.code} {rule.slug}",
            "",
            f"`{first.path}:{first.line}`: {first.message}.",
            "",
        ]
        current, fixed = code_change(review, first)
        if current:
            lines += ["The code now:", "", "```python", current, "```", ""]
        if fixed is not None:
            lines += [f"With bex's fix ({first.fix.message}):", "", "```python", fixed, "```", ""]
        else:
            bad, good = rule_example(rule)
            if bad:
                lines += ["The pattern, in the rule's example:", "", "```python", bad, "```", ""]
            if good:
                lines += ["Written the right way:", "", "```python", good, "```", ""]
        if rule.explanation.use_instead:
            lines += ["What to write instead: " + rule.explanation.use_instead, ""]
    return lines or ["Nothing to change."]


def rule_example(rule) -> tuple[str, str]:
    """The rule's first `fire` example (the file carrying the marker) and its fixed form."""
    if not rule.fire:
        return "", ""
    example = rule.fire[0]
    sources = example.sources()
    marked = next((t for t in sources.values() if "# flagged" in t), next(iter(sources.values())))
    return marked.strip("\n"), example.fixed.strip("\n")


def source_text(review: Review, path: str) -> str | None:
    if path in review.texts:
        return review.texts[path]
    try:
        with open(os.path.join(review.root, path), encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def code_change(review: Review, finding, context: int = 3) -> tuple[str, str | None]:
    """The project's lines around a finding, and the same lines after its fix (when it has one)."""
    text = source_text(review, finding.path)
    if text is None:
        return "", None
    lines = text.splitlines()
    start = max(0, finding.line - 1 - context)
    end = min(len(lines), finding.end_line + context)
    current = "\n".join(lines[start:end]).strip("\n")
    if finding.fix is None:
        return current, None
    fixed_lines = apply_edits(text, finding.fix.edits).splitlines()
    delta = len(fixed_lines) - len(lines)
    return current, "\n".join(fixed_lines[start : max(start, end + delta)]).strip("\n")


def apply_edits(text: str, edits) -> str:
    """Apply a fix's edits (1-based lines, 1-based character columns, end exclusive)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def position(line: int, column: int) -> int:
        return offsets[min(line, len(lines) + 1) - 1] + column - 1 if line >= 1 else 0

    for edit in sorted(edits, key=lambda e: (e.line, e.column), reverse=True):
        begin, finish = position(edit.line, edit.column), position(edit.end_line, edit.end_column)
        text = text[:begin] + edit.content + text[finish:]
    return text


def _testing(review: Review) -> list[str]:
    lines = []
    if any(f.slug == "project-no-tests" for f in review.findings):
        lines.append("There are no tests yet: start with pytest and the framework's test client.")
    else:
        lines.append(
            f"Testing framework in use: {review.stack.get('testing_framework', 'unknown')}."
        )
    writes = [r for r in review.arch.routes if r.mutating]
    if writes:
        lines += [
            "",
            f"Cover the {len(writes)} routes that change data first, each with an "
            "unauthenticated call (expect 401/403) and a valid one:",
        ]
        lines += [f"- {'/'.join(r.methods)} `{r.path}` (`{r.handler}`)" for r in writes[:15]]
        if len(writes) > 15:
            lines.append(f"- ... and {len(writes) - 15} more (see the route table)")
    if review.problems:
        lines += ["", "Pin each of the top problems with a regression test before fixing it:"]
    for problem in review.problems[:TOP]:
        lines.append(f"- {problem.rule.slug}: the case at {_where(problem)}.")
    return lines


def _by_kind(problems: list[Problem], empty: str) -> list[str]:
    if not problems:
        return [empty]
    return [
        f"- **{p.rule.summary}** ({p.rule.code}): {len(p.findings)} finding(s), "
        f"first at {_where(p)}. {p.rule.hint}"
        for p in problems
    ]


def _security(review: Review) -> list[str]:
    lines = _by_kind(review.problems_in("security", packs=("security",)), "No security finding.")
    from backend_expert.rules.security.unauthenticated_route import PUBLIC, RECEIVERS

    open_writes = [
        r for r in review.arch.routes if r.mutating and not r.auth and not r.auth_unknown
    ]
    public = [
        r for r in open_writes if PUBLIC.search(f"{r.path} {r.handler}") or RECEIVERS.search(r.file)
    ]
    open_writes = [r for r in open_writes if r not in public]
    if open_writes:
        lines += [
            "",
            f"Routes that change data with no authentication bex can see ({len(open_writes)}):",
        ]
        lines += [f"- {'/'.join(r.methods)} `{r.path}` in `{r.file}`" for r in open_writes[:20]]
    if public:
        lines += [
            "",
            f"Open by design (login, sign-up, password reset, webhooks; check their own "
            f"verification): {', '.join(f'`{r.path}`' for r in public[:10])}"
            + (f" and {len(public) - 10} more" if len(public) > 10 else "")
            + ".",
        ]
    return lines


def _next_steps(review: Review) -> list[str]:
    steps = [
        f"{n}. Fix {p.rule.slug} ({len(p.findings)}): {p.rule.hint}"
        for n, p in enumerate(review.problems[:TOP], start=1)
    ]
    if review.missing_layers:
        steps.append(
            f"{len(steps) + 1}. Grow the missing layers: " + ", ".join(review.missing_layers) + "."
        )
    steps.append(f"{len(steps) + 1}. Run `bex check` in CI so new findings fail the build.")
    return steps


def _documentation(review: Review) -> list[str]:
    lines = ["Each rule explains itself with `bex explain CODE`:", ""]
    for problem in review.problems[:10]:
        refs = problem.rule.explanation.references
        lines.append(
            f"- `bex explain {problem.rule.code}` ({problem.rule.slug})"
            + (f"; {refs[0]}" if refs else "")
        )
    lines += ["", "Adjust the layer of a module in `[tool.bex.layers]` (glob = layer)."]
    return lines


def sections(review: Review) -> dict[str, list[str]]:
    return {
        "Summary": _summary(review),
        "Implementation details": _implementation(review),
        "Code examples": _examples(review),
        "Testing strategy": _testing(review),
        "Performance considerations": _by_kind(
            review.problems_in("performance", packs=("async",)), "No performance finding."
        ),
        "Security notes": _security(review),
        "Next steps": _next_steps(review),
        "Documentation": _documentation(review),
    }


def render(review: Review) -> str:
    parts = [f"# bex review: {review.root.rstrip('/').rpartition('/')[2] or review.root}", ""]
    for title, lines in sections(review).items():
        assert title in SECTIONS
        parts += [f"## {title}", "", *lines, ""]
    return "\n".join(parts)
