"""Mermaid, DOT and the HTML picture: structure in Python, behaviour in a real Chromium."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.graph import DependencyGraph
from harness.graph_render import environment_colour, html_fragment, render, to_dot, to_html, to_mermaid
from tests.graph.helpers import instance, stackset

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def graph() -> DependencyGraph:
    return DependencyGraph.build(stackset(
        instance("vpc@dev", environment_type="dev"),
        instance("subnet@dev", "vpc@dev", environment_type="dev"),
        instance("app@dev", "subnet@dev", environment_type="dev"),
        instance("dns@prod", environment_type="prod"),
        instance("x@ops", "y@ops"), instance("y@ops", "x@ops"),
    ))


class _Boxes(HTMLParser):
    """Collects the node boxes of the SVG: key, classes and translate() position."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes: dict[str, dict[str, object]] = {}
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend(attrs)
        values = dict(attrs)
        if tag == "g" and "shg-node" in (values.get("class") or "").split():
            x, y = map(float, re.match(r"translate\(([\d.]+),([\d.]+)\)", values["transform"]).groups())
            self.boxes[values["data-key"]] = {"class": values["class"].split(), "x": x, "y": y}


def _boxes(html: str) -> _Boxes:
    parser = _Boxes()
    parser.feed(html)
    return parser


def test_mermaid_has_a_subgraph_per_batch_and_every_edge(graph):
    text = to_mermaid(graph)
    assert text.startswith("flowchart LR\n")
    assert text.count("subgraph ") == 4          # three batches and the blocked column
    assert '["blocked by a cycle"]' in text
    assert text.count(" --> ") == len(graph.edges)
    assert "fill:#2ca02c" in text and "fill:#d62728" in text


def test_dot_ranks_batches_and_marks_cycle_edges(graph):
    text = to_dot(graph)
    assert text.startswith("digraph dependencies {")
    assert '{ rank=same; /* batch 0 */ "dns@prod"; "vpc@dev"; }' in text
    assert '"x@ops" -> "y@ops" [color="#b00000", penwidth=2];' in text
    assert '"vpc@dev" -> "subnet@dev";' in text


def test_render_json_is_the_contract(graph):
    assert json.loads(render(graph, "json")) == graph.to_dict()
    with pytest.raises(ValueError, match="unknown format"):
        render(graph, "png")


def test_html_is_self_contained_and_laid_out_by_batch(graph):
    html = to_html(graph)
    parser = _Boxes()
    parser.feed(html)
    assert not {"link", "img", "iframe"} & parser.tags
    assert not [v for k, v in parser.attrs if k in {"src", "href"} and v]
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)
    boxes = parser.boxes
    assert set(boxes) == set(graph.nodes)
    assert boxes["vpc@dev"]["x"] < boxes["subnet@dev"]["x"] < boxes["app@dev"]["x"]
    assert boxes["vpc@dev"]["x"] == boxes["dns@prod"]["x"]
    assert "shg-blocked" in boxes["x@ops"]["class"] and boxes["x@ops"]["x"] > boxes["app@dev"]["x"]
    assert "x@ops -&gt; y@ops -&gt; x@ops" in html   # the cycle listed above the picture


def test_fragment_highlights_the_given_ids(graph):
    boxes = _boxes(html_fragment(graph, highlight=["subnet@dev"], element_id="drift-graph")).boxes
    assert "shg-hl" in boxes["subnet@dev"]["class"]
    assert "shg-hl" not in boxes["vpc@dev"]["class"]


def test_large_graphs_collapse_to_one_box_per_stack(graph):
    html = html_fragment(graph, collapse_above=3, highlight=["app@dev"])
    boxes = _boxes(html).boxes
    assert set(boxes) == {"dev", "prod", "ops"}
    assert "shg-hl" in boxes["dev"]["class"] and "shg-blocked" in boxes["ops"]["class"]
    data = json.loads(re.search(r'class="shg-data">(.*?)</script>', html, re.S).group(1))
    assert data["collapsed"] and data["members"]["dev"] == [["app@dev", 2], ["subnet@dev", 1], ["vpc@dev", 0]]


def test_ids_are_escaped_in_markup_and_script():
    weird = DependencyGraph.from_edges(['a</script><b x="1">@s'], [])
    html = to_html(weird)
    assert "</script><b" not in html
    assert "a&lt;/script&gt;" in html


def test_colours_are_stable():
    assert environment_colour("prod") == environment_colour("PROD") == "#d62728"
    assert environment_colour("perf") == environment_colour("perf")
    assert environment_colour(None) == "#7f7f7f"


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_html_search_and_click_to_highlight_in_chromium(graph, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "graph.html"
    page_file.write_text(to_html(graph), encoding="utf-8")
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())

            def classes(key: str) -> list[str]:
                return page.get_attribute(f'.shg-node[data-key="{key}"]', "class").split()

            page.click('.shg-node[data-key="subnet@dev"]')
            assert "shg-sel" in classes("subnet@dev")
            assert "shg-up" in classes("vpc@dev") and "shg-down" in classes("app@dev")
            assert not {"shg-up", "shg-down"} & set(classes("dns@prod"))
            panel = page.inner_text(".shg-panel")
            assert "Depends on (1)" in panel and "vpc@dev" in panel and "Needed by (1)" in panel
            page.click(".shg-panel a:text('vpc@dev')")   # follow a link in the panel
            assert "shg-sel" in classes("vpc@dev") and "shg-down" in classes("app@dev")
            page.keyboard.press("Escape")
            assert "shg-sel" not in classes("vpc@dev")

            page.fill(".shg-search", "@ops")
            assert "shg-match" in classes("x@ops") and "shg-match" not in classes("vpc@dev")
            assert page.inner_text(".shg-matches") == "2 matches"
            page.press(".shg-search", "Enter")
            assert "shg-sel" in classes("x@ops")
            assert errors == []
        finally:
            browser.close()
    assert all(url.startswith("file://") for url in requests)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_collapsed_html_lists_a_stacks_instances_in_chromium(graph, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "graph.html"
    page_file.write_text(to_html(graph, collapse_above=3), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.click('.shg-node[data-key="dev"]')
            panel = page.inner_text(".shg-panel")
            assert "subnet@dev (batch 1)" in panel
            page.fill(".shg-search", "x@ops")
            assert "shg-match" in page.get_attribute('.shg-node[data-key="ops"]', "class")
        finally:
            browser.close()
