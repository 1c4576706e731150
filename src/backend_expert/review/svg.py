"""Small SVG drawings computed here (no JavaScript library): bar charts and layered graphs."""

from __future__ import annotations

from html import escape

COLORS = {"error": "#c0392b", "warning": "#e67e22", "info": "#2e86c1"}
LAYER_ORDER = (
    "routes",
    "services",
    "repositories",
    "schemas",
    "models",
    "tasks",
    "settings",
    "other",
    "tests",
)


def stacked_bars(rows: dict[str, dict[str, int]], title: str, css_id: str) -> str:
    """Horizontal bars, one per row, stacked by severity."""
    width, bar, gap, label = 560, 22, 8, 110
    height = max(1, len(rows)) * (bar + gap) + 40
    biggest = max((sum(v.values()) for v in rows.values()), default=1) or 1
    parts = [
        f'<svg id="{css_id}" class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for index, (name, counts) in enumerate(
        sorted(rows.items(), key=lambda kv: -sum(kv[1].values()))
    ):
        y = 28 + index * (bar + gap)
        parts.append(f'<text x="0" y="{y + 15}">{escape(name)}</text>')
        x = label
        for severity in ("error", "warning", "info"):
            count = counts.get(severity, 0)
            if not count:
                continue
            w = max(2, round((width - label - 40) * count / biggest))
            parts.append(
                f'<rect class="bar {severity}" x="{x}" y="{y}" width="{w}" height="{bar}" '
                f'fill="{COLORS[severity]}"><title>{escape(name)}: {count} {severity}</title></rect>'
            )
            x += w
        parts.append(f'<text x="{x + 4}" y="{y + 15}">{sum(counts.values())}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _layering(
    nodes: list[str], edges: list[tuple[str, str]], rank: dict[str, int] | None
) -> dict[str, int]:
    """Layer of each node: the given rank, or the longest path from the sources (cycles cut)."""
    if rank is not None:
        return {n: rank.get(n, len(rank)) for n in nodes}
    depth = {n: 0 for n in nodes}
    for _ in range(len(nodes)):
        changed = False
        for source, target in edges:
            if (
                source != target
                and depth[target] < depth[source] + 1
                and depth[source] + 1 < len(nodes)
            ):
                depth[target] = depth[source] + 1
                changed = True
        if not changed:
            break
    return depth


def layered_graph(
    nodes: dict[str, str],
    edges: list[tuple[str, str, str]],
    title: str,
    css_id: str,
    rank: dict[str, int] | None = None,
) -> str:
    """Nodes (id -> label) in rows by layer, edges (source, target, label) as lines with arrows."""
    ids = list(nodes)
    depth = _layering(ids, [(a, b) for a, b, _ in edges if a in nodes and b in nodes], rank)
    rows: dict[int, list[str]] = {}
    for node in ids:
        rows.setdefault(depth[node], []).append(node)
    order = sorted(rows)
    box_w, box_h, row_gap = 150, 34, 70
    width = max(600, max((len(r) for r in rows.values()), default=1) * (box_w + 20) + 20)
    height = len(order) * (box_h + row_gap) + 40
    place: dict[str, tuple[int, int]] = {}
    for level, key in enumerate(order):
        members = sorted(rows[key])
        span = len(members) * (box_w + 20)
        start = (width - span) // 2 + 10
        for i, node in enumerate(members):
            place[node] = (start + i * (box_w + 20), 30 + level * (box_h + row_gap))
    parts = [
        f'<svg id="{css_id}" class="graph" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        '<defs><marker id="arrow-'
        + css_id
        + '" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for source, target, label in edges:
        if source not in place or target not in place or source == target:
            continue
        (x1, y1), (x2, y2) = place[source], place[target]
        ax, ay = x1 + box_w // 2, y1 + box_h
        bx, by = x2 + box_w // 2, y2
        if y2 <= y1:  # an edge going up (against the layering)
            ay, by = y1, y2 + box_h
        parts.append(
            f'<line class="edge" x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}" stroke="#555" '
            f'marker-end="url(#arrow-{css_id})"><title>{escape(source)} -> {escape(target)} {escape(label)}</title></line>'
        )
        if label:
            parts.append(
                f'<text x="{(ax + bx) // 2 + 3}" y="{(ay + by) // 2}" font-size="11">{escape(label)}</text>'
            )
    for node, (x, y) in place.items():
        parts.append(
            f'<g class="node"><rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" '
            f'fill="#eef3f8" stroke="#2e86c1"/><text x="{x + box_w // 2}" y="{y + 21}" '
            f'text-anchor="middle">{escape(nodes[node][:22])}</text><title>{escape(nodes[node])}</title></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
