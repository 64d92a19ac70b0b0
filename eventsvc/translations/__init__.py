"""The one catalogue of the service's words: pages, the console and emails are written in
German and translated here (English in en/LC_MESSAGES/messages.po). Flask-Babel reads it
for the pages; mail/templates.py reads it for the emails."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from eventsvc.domain.vocabulary import DEFAULT_LANGUAGE

CATALOGUE_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    """The words of `language`; German is the source language, so it needs no catalogue."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(CATALOGUE_DIR), [language], domain="messages")
