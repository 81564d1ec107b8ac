"""Every French message of the interface has an English translation with the same placeholders."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from i18n import PO, french_messages  # noqa: E402

PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def test_english_catalogue_is_complete_and_consistent() -> None:
    with PO.open("rb") as handle:
        catalogue = {m.id: m.string for m in read_po(handle, locale="en") if m.id}
    untranslated = [m for m in french_messages() if not catalogue.get(m)]
    assert not untranslated, "run `make i18n` and translate:\n" + "\n".join(untranslated)
    for french, english in catalogue.items():
        assert sorted(PLACEHOLDER.findall(french)) == sorted(PLACEHOLDER.findall(english)), french
