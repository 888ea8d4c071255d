"""The demo's HTML report in a real browser: Debian's chromium driven by Playwright, offline.

Skipped only when chromium (or Playwright) is missing; `.ci/run` installs chromium so CI runs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.demo import SOURCE_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = SOURCE_ROOT / "reports"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); `.ci/run` installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def visible_findings(page) -> int:
    return page.locator("#findings-table tr.finding").count()


def test_the_demo_report_in_chromium(browser, demo_run):
    report = demo_run.report_dir / "drift-report.html"
    document = demo_run.document
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_selector("#findings-table tr.finding")

    assert problems == []
    assert requests == [report.as_uri()]                         # the page itself, nothing else
    for key in ("instances", "checked", "unchecked", "changed", "missing", "unmanaged", "suppressed", "errors"):
        shown = page.locator(f'#summary .card[data-key="{key}"] .n').inner_text()
        assert int(shown) == document["summary"][key], key
    total = len(document["findings"])
    assert visible_findings(page) == total and page.locator("#finding-count").get_attribute("data-matching") == \
        str(total)

    page.select_option("#f-kind", "missing")
    missing = [f for f in document["findings"] if f["kind"] == "missing"]
    assert 0 < visible_findings(page) == len(missing) < total
    page.select_option("#f-kind", "")
    assert visible_findings(page) == total

    page.fill("#f-search", "tags.purpose")                      # case-insensitive, over every column
    page.wait_for_function("document.querySelector('#finding-count').dataset.matching === '1'")
    assert visible_findings(page) == 1
    assert "scratch" in page.locator("#findings-table tr.finding").inner_text()
    page.fill("#f-search", "")
    page.wait_for_function(f"document.querySelector('#finding-count').dataset.matching === '{total}'")

    page.locator('table.heat td[data-stack="platform-ue1-prod"][data-component="web-sg"]').click()
    assert visible_findings(page) == 1 and page.locator("#f-cell").is_visible()

    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#f-cell").click()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "drift-report.png"), full_page=True)
    assert (SCREENSHOTS / "drift-report.png").stat().st_size > 10_000
    assert problems == [] and requests == [report.as_uri()]
    page.close()



def test_ten_thousand_findings_stay_usable(browser, tmp_path):
    from harness.log import Redactor
    from harness.report.html import write_drift_report
    from tests.report.synthetic import synthetic_document

    document = synthetic_document(10_000)
    report = write_drift_report(tmp_path / "drift-report.html", document, redactor=Redactor())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_selector("#findings-table tr.finding")
    assert page.locator("#finding-count").get_attribute("data-matching") == "10000"
    assert visible_findings(page) == 100                          # one page of rows in the DOM
    page.click("#p-next")
    assert "page 2 of 100" in page.locator("#p-info").inner_text()
    stack = document["findings"][0]["stack"]
    page.fill("#f-search", stack)
    expected = sum(1 for f in document["findings"] if stack in " ".join(
        str(f.get(k) or "") for k in ("stack", "instance", "address", "path")))
    page.wait_for_function(f"document.querySelector('#finding-count').dataset.matching === '{expected}'")
    assert 0 < expected < 10_000 and problems == [] and requests == [report.as_uri()]
    page.close()
