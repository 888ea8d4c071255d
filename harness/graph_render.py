"""Pictures of a DependencyGraph: JSON, Mermaid, Graphviz DOT and a self-contained HTML page.

The HTML is laid out by batch (one column per batch, blocked instances in a last column) and
coloured by environment type; search and click-to-highlight run in inline JavaScript, so the file
needs no network when viewed. Above `collapse_above` instances (default 2,000) the picture shows
one box per stack and lists a stack's instances when it is clicked. `html_fragment` returns the
same picture as an embeddable block (the drift report uses it to highlight drifted instances).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from harness.graph import DependencyGraph
from harness.templating import script_json, template_environment

FORMATS = ("json", "mermaid", "dot", "html")
COLLAPSE_ABOVE = 2000

ENVIRONMENT_COLOURS = {
    "prod": "#d62728", "production": "#d62728", "staging": "#ff7f0e", "stage": "#ff7f0e",
    "dev": "#2ca02c", "development": "#2ca02c", "test": "#1f77b4", "qa": "#1f77b4",
    "sandbox": "#9467bd", "shared": "#8c564b", "ops": "#8c564b",
}
_OTHER_COLOURS = ("#17becf", "#bcbd22", "#e377c2", "#393b79", "#637939", "#8c6d31", "#843c39")
UNTYPED_COLOUR = "#7f7f7f"

# Layout of the HTML picture, in SVG user units.
_COLUMN_WIDTH, _ROW_HEIGHT, _BOX_WIDTH, _BOX_HEIGHT, _MARGIN = 250, 30, 210, 22, 20


def environment_colour(environment_type: str | None) -> str:
    """The fill colour of an environment type: fixed for the usual names, stable for the others."""
    if not environment_type:
        return UNTYPED_COLOUR
    known = ENVIRONMENT_COLOURS.get(environment_type.lower())
    return known or _OTHER_COLOURS[zlib.crc32(environment_type.encode()) % len(_OTHER_COLOURS)]


def render(graph: DependencyGraph, fmt: str, *, highlight: Iterable[str] = (),
           title: str = "Dependency graph", collapse_above: int = COLLAPSE_ABOVE) -> str:
    """The graph in one of FORMATS."""
    if fmt == "json":
        return to_json(graph)
    if fmt == "mermaid":
        return to_mermaid(graph)
    if fmt == "dot":
        return to_dot(graph)
    if fmt == "html":
        return to_html(graph, title=title, highlight=highlight, collapse_above=collapse_above)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def to_json(graph: DependencyGraph) -> str:
    """The JSON contract (see `DependencyGraph.to_dict`), indented, ending with a newline."""
    return json.dumps(graph.to_dict(), indent=2) + "\n"


# -- text formats ----------------------------------------------------------------------------------
def _columns(graph: DependencyGraph) -> list[tuple[str, tuple[str, ...]]]:
    """(label, ids) per batch, then the blocked instances when there are any."""
    columns = [(f"batch {n}", batch) for n, batch in enumerate(graph.batches())]
    if graph.blocked:
        columns.append(("blocked by a cycle", tuple(sorted(graph.blocked))))
    return columns


def _cycle_edges(graph: DependencyGraph) -> set[tuple[str, str]]:
    return {(c[i], c[(i + 1) % len(c)]) for c in graph.cycles for i in range(len(c))}


def to_mermaid(graph: DependencyGraph) -> str:
    """A Mermaid flowchart, left to right, one subgraph per batch, classes per environment type."""
    key = {node: f"n{index}" for index, node in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for number, (label, ids) in enumerate(_columns(graph)):
        lines.append(f'  subgraph b{number}["{label}"]')
        lines.extend(f'    {key[i]}["{_mermaid_text(i)}"]' for i in ids)
        lines.append("  end")
    lines.extend(f"  {key[s]} --> {key[t]}" for s, t in graph.edges)
    by_type: dict[str, list[str]] = defaultdict(list)
    for node in graph.node_infos():
        by_type[node.environment_type or ""].append(key[node.id])
    for number, (env_type, keys) in enumerate(sorted(by_type.items())):
        lines.append(f"  classDef env{number} fill:{environment_colour(env_type or None)},color:#fff")
        lines.append(f"  class {','.join(keys)} env{number}")
    if graph.blocked:
        lines.append("  classDef blocked stroke:#b00000,stroke-width:3px,stroke-dasharray:4 3")
        lines.append(f"  class {','.join(key[i] for i in sorted(graph.blocked))} blocked")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_dot(graph: DependencyGraph) -> str:
    """Graphviz DOT: left to right, one rank per batch, filled by environment type, cycles in red."""
    lines = ["digraph dependencies {", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontcolor="white"];']
    for label, ids in _columns(graph):
        lines.append(f"  {{ rank=same; /* {label} */ {' '.join(_dot_id(i) + ';' for i in ids)} }}")
    for node in graph.node_infos():
        extra = ', color="#b00000", penwidth=3' if node.id in graph.blocked else ""
        lines.append(f"  {_dot_id(node.id)} [fillcolor={_dot_id(environment_colour(node.environment_type))}"
                     f"{extra}];")
    on_cycle = _cycle_edges(graph)
    for source, target in graph.edges:
        extra = ' [color="#b00000", penwidth=2]' if (source, target) in on_cycle else ""
        lines.append(f"  {_dot_id(source)} -> {_dot_id(target)}{extra};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- HTML ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Box:
    key: str                 # node id, or stack name when collapsed
    label: str
    column: int
    row: int
    colour: str
    blocked: bool
    highlighted: bool
    title: str

    @property
    def x(self) -> int:
        return _MARGIN + self.column * _COLUMN_WIDTH

    @property
    def y(self) -> int:
        return _MARGIN + 20 + self.row * _ROW_HEIGHT


def _order_columns(columns: list[list[str]], preds: Mapping[str, Iterable[str]],
                   tie: Mapping[str, tuple[Any, ...]]) -> list[list[str]]:
    """Order each column by the mean row of its predecessors (one barycentre sweep), fewer crossings."""
    row: dict[str, int] = {}
    ordered: list[list[str]] = []
    for column in columns:
        def centre(key: str) -> float:
            rows = [row[p] for p in preds.get(key, ()) if p in row]
            return sum(rows) / len(rows) if rows else -1.0
        column = sorted(column, key=lambda k: (centre(k), tie[k]))
        row.update((k, r) for r, k in enumerate(column))
        ordered.append(column)
    return ordered


def _instance_layout(graph: DependencyGraph, highlight: set[str]) -> dict[str, Any]:
    columns = [list(ids) for _, ids in _columns(graph)]
    infos = {n.id: n for n in graph.node_infos()}
    tie = {i: (infos[i].stack, infos[i].component) for i in infos}
    preds = {i: graph.dependencies(i) for i in infos}
    blocked_column = len(graph.batches()) if graph.blocked else -1
    boxes = []
    for number, column in enumerate(_order_columns(columns, preds, tie)):
        for row, node_id in enumerate(column):
            info = infos[node_id]
            batch = "blocked by a cycle" if number == blocked_column else f"batch {number}"
            boxes.append(_Box(node_id, node_id, number, row, environment_colour(info.environment_type),
                              node_id in graph.blocked, node_id in highlight,
                              f"{node_id} · {info.environment_type or 'no environment type'} · {batch}"))
    return {"boxes": boxes, "edges": graph.edges, "members": {},
            "headers": [label for label, _ in _columns(graph)]}


def _stack_layout(graph: DependencyGraph, highlight: set[str]) -> dict[str, Any]:
    """One box per stack in the column of its earliest batch; edges between stacks."""
    members: dict[str, list[str]] = defaultdict(list)
    info = {node.id: node for node in graph.node_infos()}
    for node in info.values():
        members[node.stack].append(node.id)
    blocked_column = len(graph.batches())
    batch_of = graph.batch_numbers
    column_of = {}
    for stack, ids in members.items():
        batches = [b for b in (batch_of.get(i) for i in ids) if b is not None]
        column_of[stack] = min(batches) if batches else blocked_column
    stack_of = {n.id: n.stack for n in info.values()}
    edges = sorted({(stack_of[s], stack_of[t]) for s, t in graph.edges if stack_of[s] != stack_of[t]})
    preds: dict[str, list[str]] = defaultdict(list)
    for s, t in edges:
        preds[t].append(s)
    width = max(column_of.values(), default=-1) + 1
    columns: list[list[str]] = [[] for _ in range(width)]
    for stack, column in column_of.items():
        columns[column].append(stack)
    headers = [f"from batch {n}" for n in range(width)]
    if graph.blocked and width > blocked_column:
        headers[blocked_column] = "blocked by a cycle"
    boxes = []
    for number, column in enumerate(_order_columns(columns, preds, {s: (s,) for s in members})):
        for row, stack in enumerate(column):
            ids = members[stack]
            env_type = Counter(info[i].environment_type for i in ids).most_common(1)[0][0]
            blocked = sum(1 for i in ids if i in graph.blocked)
            boxes.append(_Box(stack, f"{stack} ({len(ids)})", number, row, environment_colour(env_type),
                              blocked > 0, any(i in highlight for i in ids),
                              f"stack {stack} · {len(ids)} instances"
                              + (f" · {blocked} blocked by a cycle" if blocked else "")))
    listing = {s: [[i, batch_of.get(i)] for i in ids] for s, ids in members.items()}
    return {"boxes": boxes, "edges": edges, "members": listing, "headers": headers}


def html_fragment(graph: DependencyGraph, *, highlight: Iterable[str] = (), element_id: str = "shg-graph",
                  collapse_above: int = COLLAPSE_ABOVE) -> str:
    """An embeddable <div> with the picture, its style and script; `highlight` ids get a marked box.

    Several fragments may sit on one page when each has its own `element_id`.
    """
    wanted = set(highlight)
    collapsed = len(graph) > collapse_above
    layout = _stack_layout(graph, wanted) if collapsed else _instance_layout(graph, wanted)
    boxes: list[_Box] = layout["boxes"]
    index = {b.key: n for n, b in enumerate(boxes)}
    edges = [(index[s], index[t]) for s, t in layout["edges"]]
    on_cycle = _cycle_edges(graph)
    columns = max((b.column for b in boxes), default=-1) + 1
    rows = max((b.row for b in boxes), default=-1) + 1
    legend = sorted({(n.environment_type or "no type", environment_colour(n.environment_type))
                     for n in graph.node_infos()})
    data = {"keys": [b.key for b in boxes], "edges": edges, "members": layout["members"],
            "collapsed": collapsed}
    return template_environment(strict=True).get_template("graph_fragment.html.j2").render(
        element_id=element_id, boxes=boxes, collapsed=collapsed, legend=legend,
        headers=[(layout["headers"][c], _MARGIN + c * _COLUMN_WIDTH) for c in range(columns)],
        paths=[(s, t, _edge_path(boxes[s], boxes[t]),
                not collapsed and (boxes[s].key, boxes[t].key) in on_cycle) for s, t in edges],
        width=2 * _MARGIN + max(columns, 1) * _COLUMN_WIDTH,
        height=2 * _MARGIN + 20 + max(rows, 1) * _ROW_HEIGHT,
        box_width=_BOX_WIDTH, box_height=_BOX_HEIGHT, data=script_json(data),
        counts={"instances": len(graph), "edges": len(graph.edges), "batches": len(graph.batches()),
                "blocked": len(graph.blocked), "cycles": graph.cycle_count,
                "errors": sum(len(v) for v in graph.errors.values()), "highlighted": len(wanted)},
    )


def _edge_path(source: _Box, target: _Box) -> str:
    x1, y1 = source.x + _BOX_WIDTH, source.y + _BOX_HEIGHT / 2
    x2, y2 = target.x, target.y + _BOX_HEIGHT / 2
    bend = max(30.0, abs(x2 - x1) / 2)
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


def to_html(graph: DependencyGraph, *, title: str = "Dependency graph", highlight: Iterable[str] = (),
            collapse_above: int = COLLAPSE_ABOVE) -> str:
    """A complete, self-contained HTML page (inline CSS, JS and SVG; no network when viewed)."""
    fragment = html_fragment(graph, highlight=highlight, collapse_above=collapse_above)
    return template_environment(strict=True).get_template("graph_page.html.j2").render(
        title=title, fragment=Markup(fragment),
        cycles=[" -> ".join((*c, c[0])) for c in graph.cycles], cycle_count=graph.cycle_count,
        capped=graph.cycle_count_capped,
        errors=[(p.id, p.message) for p in graph.problems if p.severity == "error"])
