"""Rendering HTML from the package's Jinja2 templates (`harness/report/templates/`), shared by the
graph pictures and the reports."""

from __future__ import annotations

import json
from typing import Any

import jinja2


def template_environment(*, strict: bool = False) -> jinja2.Environment:
    """A Jinja2 environment over the package templates, autoescaping HTML (`strict`: undefined names fail)."""
    return jinja2.Environment(loader=jinja2.PackageLoader("harness", "report/templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True, undefined=jinja2.StrictUndefined if strict else jinja2.Undefined)


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element (no `</script>`, no HTML comment openers, no line separators)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
