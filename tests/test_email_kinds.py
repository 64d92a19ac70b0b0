"""Every email kind exists in both languages and both formats, with a subject."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventsvc.domain import outbox
from eventsvc.domain.vocabulary import LANGUAGES

TEMPLATES = Path(__file__).resolve().parent.parent / "email_templates"


@pytest.mark.parametrize("kind", outbox.KINDS)
def test_each_kind_has_text_html_and_subject_in_each_language(kind):
    for language in LANGUAGES:
        for part in ("subject.txt", "txt", "html"):
            assert (TEMPLATES / language / f"{kind}.{part}").is_file(), f"{language}/{kind}.{part}"


def test_every_template_belongs_to_a_kind():
    names = {path.name.split(".")[0] for language in LANGUAGES for path in (TEMPLATES / language).iterdir()}
    assert names - {"_layout"} == set(outbox.KINDS)
