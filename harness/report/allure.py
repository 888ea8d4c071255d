"""Allure: the run-level files of a results folder, and rendering it offline with the Allure 3 CLI.

Per-item labels and attachments are written on the workers by allure-pytest (see
`harness.plugin.allure_labels`); this module writes what belongs to the whole run —
`environment.properties`, `executor.json`, `categories.json` — cleans a results folder before a
run, and renders a report with `npx allure generate` (Allure 3, from the npm registry). Allure 3
ignores `categories.json`, so the same categories go into the `allurerc.mjs` it reads. Both Allure
versions embed a Google Analytics `<script>`; it is stripped, so the report makes no request.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.log import Redactor

ALLURE_PACKAGE = "allure@3"
RESULT_FILE = re.compile(r"^(?:[0-9a-f-]{36}-(?:result|container)\.json|[0-9a-f-]{36}-attachment(?:\.\w+)?|"
                         r"environment\.properties|executor\.json|categories\.json)$")
RUN_FILES = ("environment.properties", "executor.json", "categories.json")
INSTALL_HINT = ("install Node.js 20 or later (it brings npx; e.g. `apt-get install nodejs npm`), then either let "
                f"`npx --yes {ALLURE_PACKAGE}` fetch the CLI from the npm registry once, or install it with "
                f"`npm install --global {ALLURE_PACKAGE}` (or `npm install --prefix DIR {ALLURE_PACKAGE}` and pass "
                "--allure-cli DIR/node_modules/.bin/allure)")


class AllureError(HarnessError):
    """The Allure CLI is missing or failed."""


@dataclass(frozen=True)
class Category:
    """An Allure category: results with one of `statuses` whose message matches `pattern`."""

    name: str
    statuses: tuple[str, ...]
    pattern: str

    def allure2(self) -> dict[str, Any]:
        """The `categories.json` entry (Allure 2 matches the whole message, case-insensitively here)."""
        return {"name": self.name, "matchedStatuses": list(self.statuses),
                "messageRegex": f"(?is).*(?:{self.pattern}).*"}

    def allure3(self) -> str:
        """The `allurerc.mjs` rule (a JavaScript object literal)."""
        return (f"{{ name: {json.dumps(self.name)}, matchers: {{ statuses: {json.dumps(list(self.statuses))}, "
                f"message: new RegExp({json.dumps(self.pattern)}, \"is\") }} }}")


# First match wins in Allure 3: the specific categories come first.
CATEGORIES = (
    Category("Expired suppression", ("failed", "broken"), r"suppression expired"),
    Category("Infrastructure drift", ("failed",), r"drift finding"),
    Category("Evaluation error / throttling", ("broken", "failed"),
             r"could not be evaluated|not checked|throttl|rate exceeded|api budget|EvaluationFailed"),
)


# -- run-level files ------------------------------------------------------------------------------
def _property_escape(text: str) -> str:
    """Escape for a Java .properties value (what Allure reads)."""
    out = str(text).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return out.replace("=", "\\=").replace(":", "\\:")


def executor_info(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`executor.json`: the CI system that ran the tests (GitHub Actions, GitLab CI) or `local`."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
        return {"name": "GitHub Actions", "type": "github", "url": f"{server}/{env['GITHUB_REPOSITORY']}",
                "buildOrder": int(env.get("GITHUB_RUN_NUMBER", "0") or 0),
                "buildName": f"{env.get('GITHUB_WORKFLOW', 'workflow')} #{env.get('GITHUB_RUN_NUMBER', '')}",
                "buildUrl": url, "reportName": "stackharness drift"}
    if env.get("CI_PIPELINE_ID"):
        return {"name": "GitLab CI", "type": "gitlab", "url": env.get("CI_PROJECT_URL", ""),
                "buildOrder": int(env.get("CI_PIPELINE_IID", "0") or 0),
                "buildName": f"pipeline {env.get('CI_PIPELINE_ID')}", "buildUrl": env.get("CI_PIPELINE_URL", ""),
                "reportName": "stackharness drift"}
    return {"name": "stackharness", "type": "local", "reportName": "stackharness drift"}


def write_run_files(results_dir: Path, properties: Mapping[str, Any], *, redactor: Redactor,
                    environ: Mapping[str, str] | None = None) -> list[Path]:
    """Write `environment.properties`, `executor.json` and `categories.json` into the results folder."""
    results_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"{_property_escape(k)}={_property_escape(v)}" for k, v in properties.items() if v not in (None, "")]
    written = []
    for name, text in (("environment.properties", "\n".join(lines) + "\n"),
                       ("executor.json", json.dumps(executor_info(environ), indent=2) + "\n"),
                       ("categories.json", json.dumps([c.allure2() for c in CATEGORIES], indent=2) + "\n")):
        path = results_dir / name
        path.write_text(redactor.redact(text), encoding="utf-8")
        written.append(path)
    return written


def clean_results(results_dir: Path) -> int:
    """Delete the Allure files in a results folder (nothing else: a mistyped folder loses no data)."""
    if not results_dir.is_dir():
        return 0
    removed = 0
    for path in results_dir.iterdir():
        if path.is_file() and RESULT_FILE.match(path.name):
            path.unlink()
            removed += 1
    return removed


def copy_results(sources: Iterable[Path], target: Path) -> int:
    """Copy every shard's result, container and attachment files into one folder (names are UUIDs)."""
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for source in sources:
        if not source.is_dir():
            continue
        for path in source.iterdir():
            if path.is_file() and RESULT_FILE.match(path.name) and path.name not in RUN_FILES:
                shutil.copy2(path, target / path.name)
                copied += 1
    return copied


# -- rendering ------------------------------------------------------------------------------------
def allurerc(results: Sequence[Path], output: Path, *, name: str) -> str:
    """An `allurerc.mjs` for Allure 3: our categories, one self-contained HTML file, the tree grouped by
    environment type > stack > component."""
    rules = ",\n    ".join(c.allure3() for c in CATEGORIES)
    return (f"// written by stackharness for `allure generate`\nexport default {{\n"
            f"  name: {json.dumps(name)},\n  output: {json.dumps(str(output))},\n"
            f"  categories: {{ rules: [\n    {rules}\n  ] }},\n"
            "  plugins: { awesome: { options: { singleFile: true, reportLanguage: \"en\",\n"
            "    groupBy: [\"parentSuite\", \"suite\", \"subSuite\"] } } },\n};\n")


def cli_command(explicit: str | None = None, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """How to run Allure 3: `explicit`, else an `allure` 3.x on PATH, else `npx --yes allure@3`.

    A path-like `explicit` (`bin/allure`, `~/x/allure`) is made absolute, since the CLI runs in a
    temporary folder; a bare name is looked up on PATH."""
    env = os.environ if environ is None else environ
    path = env.get("PATH", os.defpath)
    if explicit:
        given = Path(explicit).expanduser()
        path_like = any(sep in explicit for sep in (os.sep, os.altsep) if sep) or explicit.startswith("~")
        found = None if path_like else shutil.which(explicit, path=path)
        if not found and given.is_file():
            found = str(given.resolve())
        if not found:
            raise AllureError(f"the Allure CLI {explicit!r} does not exist", where="--allure-cli", hint=INSTALL_HINT)
        return [found]
    on_path = shutil.which("allure", path=path)
    if on_path and _major_version([on_path]) == 3:
        return [on_path]
    npx = shutil.which("npx", path=path)
    if npx:
        return [npx, "--yes", ALLURE_PACKAGE]
    raise AllureError("cannot render the Allure report: neither an Allure 3 `allure` nor `npx` is on PATH",
                      hint=INSTALL_HINT)


def _major_version(command: list[str]) -> int | None:
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)\.\d+", done.stdout + done.stderr)
    return int(match.group(1)) if match else None


def render(results: Sequence[Path], output: Path, *, cli: Sequence[str], name: str = "stackharness drift",
           timeout: float = 600) -> Path:
    """Generate the Allure report of `results` into `output` (one offline HTML file); returns index.html."""
    results = [r.resolve() for r in results]
    missing = [str(r) for r in results if not r.is_dir()]
    if missing:
        raise AllureError(f"no Allure results folder at {', '.join(missing)}", where="--results",
                          hint="run pytest with --allure (or --alluredir DIR) first")
    output = output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stackharness-allure-") as tmp:
        config = Path(tmp) / "allurerc.mjs"
        config.write_text(allurerc(results, output, name=name), encoding="utf-8")
        command = [*cli, "generate", "--config", str(config), "--output", str(output), *map(str, results)]
        try:
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AllureError(f"the Allure CLI did not run: {exc}", hint=INSTALL_HINT) from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        hint = INSTALL_HINT if "npx" in Path(cli[0]).name or "not found" in " ".join(detail) else \
            "see the message above; `allure generate --help` lists the options"
        raise AllureError(f"`{' '.join(command[:3])} generate` failed (exit {done.returncode}): "
                          + " | ".join(detail), hint=hint)
    index = output / "index.html"
    if not index.is_file():
        raise AllureError(f"the Allure CLI wrote no index.html into {output}", hint=INSTALL_HINT)
    strip_analytics_dir(output)
    return index


# -- offline -------------------------------------------------------------------------------------
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_EXTERNAL_SRC = re.compile(r"""\bsrc\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
_ANALYTICS = re.compile(r"googletagmanager|google-analytics|gtag\s*\(|\bdataLayer\b", re.IGNORECASE)


def strip_analytics(html: str) -> str:
    """Remove `<script>` blocks that load from the network or run analytics (gtag / dataLayer)."""
    def keep(match: re.Match[str]) -> str:
        attributes, body = match.group(1), match.group(2)
        if _EXTERNAL_SRC.search(attributes) or (len(body) < 5000 and _ANALYTICS.search(body)):
            return ""
        return match.group(0)
    return _SCRIPT.sub(keep, html)


def strip_analytics_dir(output: Path) -> list[Path]:
    """Strip analytics from every HTML file of a rendered report; returns the files changed."""
    changed = []
    for path in output.rglob("*.html"):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        stripped = strip_analytics(text)
        if stripped != text:
            path.write_text(stripped, encoding="utf-8", errors="surrogateescape")
            changed.append(path)
    return changed
