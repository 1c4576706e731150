"""The review as one self-contained HTML page: inline CSS, inline SVG, a few lines of JS."""

from __future__ import annotations

from html import escape

from backend_expert.review import Review
from backend_expert.review.markdown import sections
from backend_expert.review.svg import LAYER_RANK, layered_graph, stacked_bars

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;background:#fff}
h1{border-bottom:3px solid #2e86c1}h2{margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border:1px solid #ddd;padding:4px 6px;text-align:left}
tr.noauth td{background:#fdecea}.sev-error{color:#c0392b}.sev-warning{color:#b9770e}.sev-info{color:#2e86c1}
pre{background:#f6f8fa;padding:.6rem;overflow:auto}.charts{display:flex;flex-wrap:wrap;gap:2rem}
svg text{font-size:12px;font-family:system-ui,sans-serif}.filters button{margin-right:.4rem}
"""
JS = """
document.querySelectorAll('.filters button').forEach(function (button) {
  button.addEventListener('click', function () {
    var wanted = button.dataset.severity;
    document.querySelectorAll('#findings tbody tr').forEach(function (row) {
      row.style.display = (wanted === 'all' || row.dataset.severity === wanted) ? '' : 'none';
    });
  });
});
"""


def _markdownish(lines: list[str]) -> str:
    """The Markdown sections' lines as simple HTML (code fences, lists, tables kept as text)."""
    out, code, items = [], False, []
    listing = False
    for line in lines:
        is_item = not code and line.startswith(
            ("- ", "1. ", "2. ", "3. ", "4. ", "5. ", "6. ", "7. ")
        )
        if is_item and not listing:
            out.append("<ul>")
        elif listing and not is_item:
            out.append("</ul>")
        listing = is_item
        if line.startswith("```"):
            out.append("</code></pre>" if code else "<pre><code>")
            code = not code
            continue
        if code:
            out.append(escape(line) + "\n")
        elif line.startswith("|"):
            continue  # tables are drawn from the model below
        elif line.startswith("### "):
            out.append(f"<h3>{escape(line[4:])}</h3>")
        elif line.startswith(("- ", "1. ", "2. ", "3. ", "4. ", "5. ", "6. ", "7. ")):
            out.append(f"<li>{_inline(line.partition(' ')[2])}</li>")
        elif line:
            out.append(f"<p>{_inline(line)}</p>")
    del items
    if listing:
        out.append("</ul>")
    return "".join(out)


def _inline(text: str) -> str:
    import re

    text = escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def _charts(review: Review) -> str:
    by_pack: dict[str, dict[str, int]] = {}
    by_severity: dict[str, dict[str, int]] = {}
    for finding in review.findings:
        pack = by_pack.setdefault(finding.pack, {})
        pack[finding.severity.value] = pack.get(finding.severity.value, 0) + 1
        row = by_severity.setdefault(finding.severity.value, {})
        row[finding.severity.value] = row.get(finding.severity.value, 0) + 1
    return (
        '<div class="charts">'
        + stacked_bars(by_pack, "Findings by pack", "chart-packs")
        + stacked_bars(by_severity, "Findings by severity", "chart-severity")
        + "</div>"
    )


def _layer_graph(review: Review) -> str:
    arch = review.arch
    sizes = arch.layer_sizes()
    nodes = {layer: f"{layer} ({sizes[layer]})" for layer in sizes}
    edges = [
        (a, b, str(n))
        for (a, b), n in arch.layer_edges().items()
        if a != b and a in nodes and b in nodes
    ]
    from backend_expert.rules.project.layer_violation import FORBIDDEN

    bad = frozenset((a, b) for a, b, _ in edges if b in FORBIDDEN.get(a, ()))
    return layered_graph(
        nodes,
        edges,
        "Layers and the imports between them (red: against the layering)",
        "graph-layers",
        LAYER_RANK,
        bad=bad,
    )


def _model_graph(review: Review) -> str:
    data = review.arch.data
    if not data.models:
        return '<p id="graph-models">No models found.</p>'
    shown = list(data.models)[:40]
    nodes = {q: q.rpartition(".")[2] for q in shown}
    edges = [(s, t, name) for s, name, t, _ in data.relations if s in nodes and t in nodes]
    return layered_graph(nodes, edges, "Models and their relations", "graph-models")


def _routes(review: Review) -> str:
    routes = review.arch.routes
    if not routes:
        return '<p id="routes">No routes found.</p>'
    covered = sum(1 for r in routes if r.auth)
    rows = "".join(
        f'<tr class="{"" if r.auth or r.auth_unknown or not r.mutating else "noauth"}"><td>{"/".join(r.methods)}</td>'
        f"<td><code>{escape(r.path)}</code></td><td>{escape(r.handler)}</td>"
        f"<td>{escape(r.auth or ('?' if r.auth_unknown else 'none'))}</td><td>{escape(r.response_model or '')}</td></tr>"
        for r in routes
    )
    return (
        f"<p>{covered} of {len(routes)} routes show authentication "
        f"({round(100 * covered / len(routes))}%).</p>"
        '<table id="routes"><thead><tr><th>method</th><th>path</th><th>handler</th><th>auth</th>'
        f"<th>response model</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _findings(review: Review) -> str:
    rows = "".join(
        f'<tr data-severity="{f.severity.value}"><td class="sev-{f.severity.value}">{f.severity.value}</td>'
        f'<td><a href="#rule-{f.code}">{f.code}</a></td><td>{escape(f.path)}:{f.line}</td>'
        f"<td>{escape(f.message)}</td></tr>"
        for f in review.findings[:2000]
    )
    buttons = "".join(
        f'<button type="button" data-severity="{s}">{s}</button>'
        for s in ("all", "error", "warning", "info")
    )
    return (
        f'<div class="filters">{buttons}</div><table id="findings"><thead><tr><th>severity</th>'
        f"<th>rule</th><th>where</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _explanations(review: Review) -> str:
    parts = []
    for problem in review.problems:
        rule = problem.rule
        text = rule.explanation
        parts.append(
            f'<section id="rule-{rule.code}" class="explanation"><h3>{rule.code} {escape(rule.slug)}</h3>'
            f"<p>{_inline(text.what)}</p><p>{_inline(text.why)}</p>"
            + (f"<p>{_inline(text.use_instead)}</p>" if text.use_instead else "")
            + "</section>"
        )
    return "".join(parts) or "<p>No findings.</p>"


def render(review: Review) -> str:
    name = review.root.rstrip("/").rpartition("/")[2] or review.root
    body = []
    content = sections(review)
    for title, lines in content.items():
        anchor = title.lower().replace(" ", "-")
        body.append(f'<section id="{anchor}"><h2>{escape(title)}</h2>{_markdownish(lines)}')
        if title == "Summary":
            body.append(_charts(review))
        if title == "Implementation details":
            body.append(
                _layer_graph(review)
                + _model_graph(review)
                + "<h3>Route table</h3>"
                + _routes(review)
            )
        if title == "Next steps":
            body.append("<h3>All findings</h3>" + _findings(review))
        if title == "Documentation":
            body.append('<h3 id="explanations">Explanations</h3>' + _explanations(review))
        body.append("</section>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>bex review: {escape(name)}</title><style>{CSS}</style></head><body>"
        f"<h1>bex review: {escape(name)}</h1>{''.join(body)}<script>{JS}</script></body></html>\n"
    )
