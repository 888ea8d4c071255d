"""A small parser for `.tfvars` files holding literal values (what `!include` needs).

Supported: `name = value` attributes; strings (with escapes and `<<EOF` / `<<-EOF` heredocs),
numbers, `true`/`false`/`null`, lists `[...]`, objects `{ key = value, "k": v }`, and `#`, `//`,
`/* */` comments. Expressions (function calls, references, interpolations `${...}`) are refused
with the line where they start: a tfvars file for Atmos holds literals.
"""

from __future__ import annotations

import re
from typing import Any


class TfvarsError(Exception):
    """A syntax the parser does not accept, with the 1-based line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- low level ------------------------------------------------------------------------------
    @property
    def line(self) -> int:
        return self.text.count("\n", 0, self.pos) + 1

    def error(self, message: str) -> TfvarsError:
        return TfvarsError(message, self.line)

    def skip(self, newlines: bool = True) -> None:
        """Skip blanks and comments (and newlines when asked)."""
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.pos += 1
            elif ch == "#" or text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated /* comment")
                self.pos = end + 2
            else:
                return

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            found = self.peek() or "end of file"
            raise self.error(f"expected {ch!r}, found {found!r}")
        self.pos += 1

    # -- grammar --------------------------------------------------------------------------------
    def body(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while True:
            self.skip()
            if self.pos >= len(self.text):
                return result
            name = self.key()
            self.skip(newlines=False)
            if self.peek() not in ("=", ":"):
                raise self.error(f"expected '=' after {name!r}")
            self.pos += 1
            self.skip(newlines=False)
            result[name] = self.value()
            self.skip(newlines=False)
            if self.peek() not in ("\n", "") and not self.text.startswith(("#", "//", "/*"), self.pos):
                raise self.error(f"unexpected {self.peek()!r} after the value of {name!r}")

    def key(self) -> str:
        if self.peek() == '"':
            return self.string()
        match = _IDENT.match(self.text, self.pos)
        if not match:
            raise self.error(f"expected a name, found {self.peek()!r}")
        self.pos = match.end()
        return match.group(0)

    def value(self) -> Any:
        ch = self.peek()
        if ch == '"':
            return self.string()
        if ch == "[":
            return self.sequence()
        if ch == "{":
            return self.mapping()
        if self.text.startswith("<<", self.pos):
            return self.heredoc()
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            literal = number.group(0)
            return float(literal) if any(c in literal for c in ".eE") else int(literal)
        word = _IDENT.match(self.text, self.pos)
        if word:
            literals = {"true": True, "false": False, "null": None}
            if word.group(0) in literals and not self.text.startswith("(", word.end()):
                self.pos = word.end()
                return literals[word.group(0)]
            raise self.error(f"{word.group(0)!r} is an expression; only literal values are supported")
        raise self.error(f"unexpected {ch or 'end of file'!r}")

    def string(self) -> str:
        self.expect('"')
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise self.error("unterminated string")
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                nxt = text[self.pos + 1: self.pos + 2]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                    self.pos += 2
                    continue
                if nxt == "u":
                    out.append(chr(int(text[self.pos + 2: self.pos + 6], 16)))
                    self.pos += 6
                    continue
                raise self.error(f"unknown escape \\{nxt}")
            if text.startswith(("$${", "%%{"), self.pos):     # escaped: a literal ${ or %{
                out.append(text[self.pos + 1: self.pos + 3])
                self.pos += 3
                continue
            if text.startswith("${", self.pos) or text.startswith("%{", self.pos):
                raise self.error("string templates (${...}) are expressions; only literals are supported")
            out.append(ch)
            self.pos += 1

    def heredoc(self) -> str:
        match = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n").match(self.text, self.pos)
        if not match:
            raise self.error("malformed heredoc")
        strip, marker = match.group(1) == "-", match.group(2)
        self.pos = match.end()
        lines: list[str] = []
        while self.pos < len(self.text):
            end = self.text.find("\n", self.pos)
            end = len(self.text) if end < 0 else end
            line = self.text[self.pos:end]
            self.pos = min(end + 1, len(self.text))
            if line.strip() == marker:
                if self.pos > 0 and self.text[self.pos - 1] == "\n":
                    self.pos -= 1
                if strip:
                    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
                    lines = [x[indent:] for x in lines]
                return "".join(x + "\n" for x in lines)
            lines.append(line)
        raise self.error(f"heredoc {marker} is not terminated")

    def sequence(self) -> list[Any]:
        self.expect("[")
        items: list[Any] = []
        while True:
            self.skip()
            if self.peek() == "]":
                self.pos += 1
                return items
            items.append(self.value())
            self.skip()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                raise self.error(f"expected ',' or ']' in a list, found {self.peek() or 'end of file'!r}")

    def mapping(self) -> dict[str, Any]:
        self.expect("{")
        result: dict[str, Any] = {}
        while True:
            self.skip()
            if self.peek() == "}":
                self.pos += 1
                return result
            name = self.key()
            self.skip(newlines=False)
            if self.peek() not in ("=", ":"):
                raise self.error(f"expected '=' or ':' after {name!r}")
            self.pos += 1
            self.skip()
            result[name] = self.value()
            self.skip(newlines=False)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() not in ("\n", "}") and not self.text.startswith(("#", "//", "/*"), self.pos):
                raise self.error(f"expected ',', a newline or '}}' in an object, found {self.peek()!r}")


def parse_tfvars(text: str) -> dict[str, Any]:
    """The attributes of a `.tfvars` file as plain Python values; `TfvarsError` on anything else."""
    return _Parser(text).body()
