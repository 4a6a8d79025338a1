"""`<eos>`, `<pad>`, `y_<t` in prose: shown as written on the docs site.

Markdown passes `<...>` through as an HTML tag, so `-inf at <pad> and <bos>` would render as
`-inf at  and `. `escape` writes every such `<` outside code as `&lt;`; the MkDocs hook applies
it to the pages, and `Docstrings` (a griffe extension, named in mkdocs.yml) to the docstrings
mkdocstrings renders. The code's own docstrings and `--help` stay plain text.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
_ANGLE = re.compile(r"(?<!--8)<(?![!/]|https?:)")  # not a snippet include (--8<--), a comment or a URL


def _line(text: str) -> str:
    out, at = [], 0
    for m in _CODE_SPAN.finditer(text):
        out += [_ANGLE.sub("&lt;", text[at:m.start()]), m.group(0)]
        at = m.end()
    return "".join(out) + _ANGLE.sub("&lt;", text[at:])


def escape(markdown: str, indented_code: bool = False) -> str:
    """`<` outside fenced code, code spans (and, with `indented_code`, lines indented by four
    spaces: a docstring's examples) as `&lt;`."""
    lines, fenced = [], False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and not (indented_code and line.startswith("    ")):
            line = _line(line)
        lines.append(line)
    return "\n".join(lines)


class Docstrings(griffe.Extension):
    """Escape the angles of every docstring mkdocstrings renders."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = escape(obj.docstring.value, indented_code=True)
