"""The emails' words and layout: one template per kind (`email_templates/KIND.jinja`),
rendered twice, as plain text and as HTML, by two environments over the same files.

A template writes its German words once, marked for the service's one catalogue
(eventsvc/translations, the pages' catalogue too), and lays them out with the helpers below
(`p`, `button`, `facts`, …). The text environment's helpers return plain text; the HTML
environment's return escaped, inline-styled HTML that Outlook renders. So an email's text and
HTML parts come from the same blocks and cannot drift apart, and a new language is a
catalogue, not a folder of copies.

Operators may override a template for every language (`KIND.jinja`) or for one
(`de/KIND.jinja`) in the folder EVENTSVC_EMAIL_TEMPLATES names; an override may extend the
built-in template (`{% extends "KIND.jinja" %}`) and replace just a block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from eventsvc.translations import translations

LINK_STYLE = "color:#1d3f6e;"
_P = Markup('<p style="margin:0 0 12px 0;">{}</p>\n')


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class EmailTemplates:
    """The two environments over the built-in templates and an operator's overrides."""

    def __init__(self, default_dir: Path, override: Optional[str] = None) -> None:
        loaders: list[FileSystemLoader] = [FileSystemLoader(override)] if override else []
        loaders.append(FileSystemLoader(str(default_dir)))
        self.text = _environment(ChoiceLoader(loaders), html=False)
        self.html = _environment(ChoiceLoader(loaders), html=True)

    def render(self, kind: str, language: str, context: dict[str, Any]) -> Rendered:
        names: list[str | Template] = [f"{language}/{kind}.jinja", f"{kind}.jinja"]
        values = context | {"language": language}
        text_template = self.text.get_or_select_template(names)
        subject = _one_line(_block(text_template, "subject", values))
        html = self.html.get_or_select_template(names).render(values | {"subject": subject})
        text = _tidy(text_template.render(values | {"subject": subject}))
        return Rendered(subject, text, html)


def _block(template: Template, name: str, values: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(values)))


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(context["language"]).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, number: int) -> str:
    return translations(context["language"]).ngettext(singular, plural, number)


def _environment(loader: ChoiceLoader, html: bool) -> Environment:
    env = Environment(
        loader=loader,
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(HTML_HELPERS if html else TEXT_HELPERS)
    env.globals["html"] = html
    return env


# --- plain text -----------------------------------------------------------------------------


def _text_p(*parts: Any) -> str:
    return " ".join(str(part) for part in parts if part) + "\n\n"


def _text_button(url: str, label: str) -> str:
    return f"{label}:\n{url}\n\n"


def _text_link(url: str, label: str) -> str:
    return f"{label}: {url}"


def _text_facts(rows: Iterable[tuple[str, Any]]) -> str:
    shown = [(f"{label}:", str(value)) for label, value in rows if value]
    width = max((len(label) for label, _ in shown), default=0) + 1
    lines = [label.ljust(width) + value.replace("\n", "\n" + " " * width) for label, value in shown]
    return "\n".join(lines) + "\n\n"


def _text_item(text: Any, url: Optional[str] = None) -> str:
    # Each helper call stands on a line of its own: that line's end ends the item.
    return f"- {text}: {url}" if url else f"- {text}"


TEXT_HELPERS: dict[str, Any] = {
    "p": _text_p,
    "strong": str,
    "deleted": str,
    "button": _text_button,
    "link": _text_link,
    "facts": _text_facts,
    "heading": lambda text: f"{text}:",
    "list_open": lambda: "",
    "item": _text_item,
    "list_close": lambda: "\n",
    "note": _text_p,
    "paragraphs": lambda text: str(text).strip() + "\n\n",
    "mailto": lambda address: f"<{address}>",
    "line_break": lambda: "\n",
}


def _tidy(text: str) -> str:
    """Blank lines as the helpers meant them: at most one between paragraphs, no trailing
    spaces except in the signature delimiter "-- "."""
    lines = [line if line == "-- " else line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


# --- HTML -----------------------------------------------------------------------------------


def _html_p(*parts: Any) -> Markup:
    return _P.format(Markup(" ").join(escape(part) for part in parts if part))


def _html_button(url: str, label: str) -> Markup:
    return Markup('<p style="margin:16px 0;"><a href="{}" style="{}font-weight:bold;">{}</a></p>\n').format(
        url, LINK_STYLE, label
    )


def _html_link(url: str, label: str) -> Markup:
    return Markup('<a href="{}" style="{}">{}</a>').format(url, LINK_STYLE, label)


def html_lines(text: Any) -> Markup:
    """A text of several lines (an address) in HTML: escaped, the lines kept."""
    return Markup("<br>").join(escape(line) for line in str(text).splitlines())


def _html_facts(rows: Iterable[tuple[str, Any]]) -> Markup:
    cell = 'style="padding:2px 16px 2px 0;font-weight:bold;vertical-align:top;"'
    body = Markup("").join(
        Markup('<tr><td {}>{}</td><td style="padding:2px 0;">{}</td></tr>').format(
            Markup(cell), label, value if isinstance(value, Markup) else html_lines(value)
        )
        for label, value in rows
        if value
    )
    return Markup(
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" '
        'style="margin:16px 0;font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:22px;">{}</table>\n'
    ).format(body)


def _html_item(text: Any, url: Optional[str] = None) -> Markup:
    content = _html_link(url, text) if url else escape(text)
    return Markup('<li style="margin:0 0 6px 0;">{}</li>\n').format(content)


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def _html_paragraphs(text: Any) -> Markup:
    """Plain text as HTML paragraphs: blank lines part paragraphs, single line breaks stay."""
    parts = [part.strip("\n") for part in _PARAGRAPH_BREAK.split(str(text).replace("\r\n", "\n"))]
    return Markup("").join(_P.format(html_lines(part)) for part in parts if part.strip())


HTML_HELPERS: dict[str, Any] = {
    "p": _html_p,
    "strong": lambda text: Markup("<strong>{}</strong>").format(text),
    "deleted": lambda text: Markup("<del>{}</del>").format(html_lines(text)),
    "button": _html_button,
    "link": _html_link,
    "facts": _html_facts,
    "heading": lambda text: Markup('<p style="margin:16px 0 4px 0;font-weight:bold;">{}</p>\n').format(text),
    "list_open": lambda: Markup('<ul style="margin:0 0 16px 0;padding-left:20px;">\n'),
    "item": _html_item,
    "list_close": lambda: Markup("</ul>\n"),
    "note": lambda *parts: Markup('<p style="margin:0 0 12px 0;padding:6px 8px;background:#fef3c7;">{}</p>\n').format(
        Markup(" ").join(escape(part) for part in parts if part)
    ),
    "paragraphs": _html_paragraphs,
    "mailto": lambda address: Markup('&lt;<a href="mailto:{}" style="{}">{}</a>&gt;').format(
        address, LINK_STYLE, address
    ),
    "line_break": lambda: Markup("<br>"),
}

_LINE_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f]+")


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text).strip()
