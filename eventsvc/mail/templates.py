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

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from eventsvc.translations import translations

LINK_STYLE = "color:#1d3f6e;"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class EmailTemplates:
    """The environments over the built-in templates and an operator's overrides: one for
    the text and one for the HTML rendering of each language, the language's words bound in.

    Templates are read once: a changed override takes effect when the service restarts.
    (Checking the files for changes cost a file-system call per template and email.)"""

    def __init__(self, default_dir: Path, override: Optional[str] = None) -> None:
        loaders: list[FileSystemLoader] = [FileSystemLoader(override)] if override else []
        loaders.append(FileSystemLoader(str(default_dir)))
        self.loader = ChoiceLoader(loaders)
        self._environments: dict[tuple[str, bool], Environment] = {}
        self._chosen: dict[tuple[str, str], tuple[Template, Template]] = {}

    def render(self, kind: str, language: str, context: dict[str, Any]) -> Rendered:
        text_template, html_template = self._templates(kind, language)
        values = context | {"language": language}
        subject = _one_line(_block(text_template, "subject", values))
        values["subject"] = subject
        return Rendered(subject, _tidy(text_template.render(values)), html_template.render(values))

    def _templates(self, kind: str, language: str) -> tuple[Template, Template]:
        """The text and HTML templates of `kind` in `language`: an override for the
        language, else the kind's template."""
        chosen = self._chosen.get((kind, language))
        if chosen is None:
            names: list[str | Template] = [f"{language}/{kind}.jinja", f"{kind}.jinja"]
            text, html = (self._environment(language, html) for html in (False, True))
            chosen = self._chosen[(kind, language)] = (text.select_template(names), html.select_template(names))
        return chosen

    def _environment(self, language: str, html: bool) -> Environment:
        env = self._environments.get((language, html))
        if env is None:
            env = self._environments[(language, html)] = _environment(self.loader, language, html)
        return env


def _block(template: Template, name: str, values: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(values)))


def _words(language: str, html: bool) -> dict[str, Any]:
    """`_`, `gettext` and `ngettext` for templates, as Jinja's newstyle gettext behaves
    (the message formatted with its named values, escaped in HTML), bound to one language:
    Jinja's own go through two more calls and a look-up of the language for every phrase."""
    catalogue = translations(language)
    marked = Markup if html else str

    def gettext(message: str, **values: Any) -> str:
        return marked(catalogue.gettext(message)) % values

    def ngettext(singular: str, plural: str, number: int, **values: Any) -> str:
        values.setdefault("num", number)
        return marked(catalogue.ngettext(singular, plural, number)) % values

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def _environment(loader: ChoiceLoader, language: str, html: bool) -> Environment:
    env = Environment(
        loader=loader,
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # For {% trans %} in an operator's template; it calls the gettext set below.
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(_words(language, html))
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
# Built with escape() and f-strings: Markup.format runs a formatter written in Python, and
# the helpers run some thirty times an email. escape() leaves Markup as it is, so a helper's
# output passed into another is not escaped twice.


def _joined(parts: Iterable[Any]) -> str:
    return " ".join(escape(part) for part in parts if part)


def _html_p(*parts: Any) -> Markup:
    return Markup(f'<p style="margin:0 0 12px 0;">{_joined(parts)}</p>\n')


def _html_button(url: str, label: str) -> Markup:
    return Markup(
        f'<p style="margin:16px 0;"><a href="{escape(url)}" style="{LINK_STYLE}font-weight:bold;">{escape(label)}</a></p>\n'
    )


def _html_link(url: str, label: str) -> Markup:
    return Markup(f'<a href="{escape(url)}" style="{LINK_STYLE}">{escape(label)}</a>')


def html_lines(text: Any) -> Markup:
    """A text of several lines (an address) in HTML: escaped, the lines kept."""
    return Markup("<br>".join(escape(line) for line in str(text).splitlines()))


_FACT_LABEL = 'style="padding:2px 16px 2px 0;font-weight:bold;vertical-align:top;"'


def _html_facts(rows: Iterable[tuple[str, Any]]) -> Markup:
    body = "".join(
        f'<tr><td {_FACT_LABEL}>{escape(label)}</td><td style="padding:2px 0;">'
        f"{value if isinstance(value, Markup) else html_lines(value)}</td></tr>"
        for label, value in rows
        if value
    )
    return Markup(
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" '
        f'style="margin:16px 0;font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:22px;">{body}</table>\n'
    )


def _html_item(text: Any, url: Optional[str] = None) -> Markup:
    content = _html_link(url, text) if url else escape(text)
    return Markup(f'<li style="margin:0 0 6px 0;">{content}</li>\n')


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def _html_paragraphs(text: Any) -> Markup:
    """Plain text as HTML paragraphs: blank lines part paragraphs, single line breaks stay."""
    parts = [part.strip("\n") for part in _PARAGRAPH_BREAK.split(str(text).replace("\r\n", "\n"))]
    return Markup("".join(_html_p(html_lines(part)) for part in parts if part.strip()))


HTML_HELPERS: dict[str, Any] = {
    "p": _html_p,
    "strong": lambda text: Markup(f"<strong>{escape(text)}</strong>"),
    "deleted": lambda text: Markup(f"<del>{html_lines(text)}</del>"),
    "button": _html_button,
    "link": _html_link,
    "facts": _html_facts,
    "heading": lambda text: Markup(f'<p style="margin:16px 0 4px 0;font-weight:bold;">{escape(text)}</p>\n'),
    "list_open": lambda: Markup('<ul style="margin:0 0 16px 0;padding-left:20px;">\n'),
    "item": _html_item,
    "list_close": lambda: Markup("</ul>\n"),
    "note": lambda *parts: Markup(
        f'<p style="margin:0 0 12px 0;padding:6px 8px;background:#fef3c7;">{_joined(parts)}</p>\n'
    ),
    "paragraphs": _html_paragraphs,
    "mailto": lambda address: Markup(
        f'&lt;<a href="mailto:{escape(address)}" style="{LINK_STYLE}">{escape(address)}</a>&gt;'
    ),
    "line_break": lambda: Markup("<br>"),
}

_LINE_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f]+")


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text).strip()
