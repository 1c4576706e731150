"""Small SVG drawings computed here (no JavaScript library): bar charts and layered graphs."""

from __future__ import annotations

from html import escape

COLORS = {"error": "#c0392b", "warning": "#e67e22", "info": "#2e86c1"}
# Rows of the layer drawing: entry points, services, data access and schemas, models, the rest.
LAYER_RANK = {
    "tests": 0, "routes": 0, "tasks": 0, "services": 1, "repositories": 2, "schemas": 2,
    "models": 3, "settings": 4, "other": 4,
}  # fmt: skip


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
    per_row: int = 6,
    bad: frozenset[tuple[str, str]] = frozenset(),
) -> str:
    """Nodes (id -> label) in rows by layer (wrapped at `per_row`), edges (source, target,
    label) as curves with arrows; the `bad` ones (against the layering) are drawn red."""
    ids = list(nodes)
    depth = _layering(ids, [(a, b) for a, b, _ in edges if a in nodes and b in nodes], rank)
    grouped: dict[int, list[str]] = {}
    for node in ids:
        grouped.setdefault(depth[node], []).append(node)
    rows: list[list[str]] = []
    level_of: dict[str, int] = {}
    position: dict[str, float] = {}
    neighbours: dict[str, list[str]] = {}
    for a, b, _ in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    for key in sorted(grouped):
        # Barycentre ordering: a node sits under the mean position of the nodes placed above.
        def weight(node: str) -> tuple[float, str]:
            placed = [position[n] for n in neighbours.get(node, ()) if n in position]
            return (sum(placed) / len(placed) if placed else 0.5, nodes[node])

        members = sorted(grouped[key], key=weight)
        for index, node in enumerate(members):
            position[node] = (index + 0.5) / len(members)
        for start in range(0, len(members), per_row):
            for node in members[start : start + per_row]:
                level_of[node] = depth[node]
            rows.append(members[start : start + per_row])
    box_w, box_h, row_gap, col_gap = 150, 34, 64, 24
    width = max(640, max((len(r) for r in rows), default=1) * (box_w + col_gap) + col_gap)
    height = len(rows) * (box_h + row_gap) + 40
    place: dict[str, tuple[int, int]] = {}
    for index, members in enumerate(rows):
        span = len(members) * (box_w + col_gap) - col_gap
        left = (width - span) // 2
        for i, node in enumerate(members):
            place[node] = (left + i * (box_w + col_gap), 30 + index * (box_h + row_gap))
    parts = [
        f'<svg id="{css_id}" class="graph" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<defs><marker id="arrow-{css_id}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>',
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for number, (source, target, label) in enumerate(edges):
        if source not in place or target not in place or source == target:
            continue
        wrong = (source, target) in bad
        parts.append(_edge(place, source, target, label, wrong, css_id, number, box_w, box_h))
    for node, (x, y) in place.items():
        parts.append(
            f'<g class="node"><rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" '
            f'fill="#eef3f8" stroke="#2e86c1"/><text x="{x + box_w // 2}" y="{y + 21}" '
            f'text-anchor="middle">{escape(nodes[node][:22])}</text>'
            f"<title>{escape(nodes[node])}</title></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _edge(place, source, target, label, upward, css_id, number, box_w, box_h) -> str:
    (x1, y1), (x2, y2) = place[source], place[target]
    if y2 > y1:  # downwards: bottom of the source to the top of the target
        ax, ay, bx, by = x1 + box_w // 2, y1 + box_h, x2 + box_w // 2, y2
    elif y2 < y1:
        ax, ay, bx, by = x1 + box_w // 2, y1, x2 + box_w // 2, y2 + box_h
    else:  # same row: an arc above
        ax, ay, bx, by = x1 + box_w // 2, y1, x2 + box_w // 2, y2
    bend = 18 + 9 * (number % 4)
    cx = (ax + bx) // 2 + (bend if (number % 2) else -bend)
    cy = (ay + by) // 2 - (40 if y1 == y2 else 0)
    color = "#c0392b" if upward else "#666"
    css = "edge up" if upward else "edge"
    # the label sits a third of the way along the curve, near its source
    lx = round((4 * ax + 4 * cx + bx) / 9)
    ly = round((4 * ay + 4 * cy + by) / 9)
    text = (
        f'<text x="{lx + 3}" y="{ly}" font-size="10" fill="{color}">{escape(label)}</text>'
        if label
        else ""
    )
    return (
        f'<path class="{css}" d="M{ax},{ay} Q{cx},{cy} {bx},{by}" fill="none" stroke="{color}" '
        f'stroke-width="1.3" marker-end="url(#arrow-{css_id})"><title>{escape(source)} -> '
        f"{escape(target)} {escape(label)}</title></path>{text}"
    )
