"""Refresh the English catalogue: extract the French messages, keep existing translations, add
those given in an optional JSON file ({"French": "English"}), and list what is still missing.

    .venv/bin/python scripts/i18n.py [translations.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
SOURCES = {"core", "api", "web", "scheduler", "networks", "beffroi"}
KEYWORDS = {"N_": None, "_": None, "gettext": None, "ngettext": (1, 2)}


def french_messages() -> list[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=lambda path: Path(path).relative_to(ROOT).parts[0] in SOURCES,
    ):
        found.add(message if isinstance(message, str) else message[0])
    return sorted(found)


def main() -> int:
    existing: dict[str, str] = {}
    if PO.exists():
        with PO.open("rb") as handle:
            existing = {m.id: m.string for m in read_po(handle, locale="en") if m.id and m.string}
    extra = json.loads(Path(sys.argv[1]).read_text()) if len(sys.argv) > 1 else {}
    catalog = Catalog(locale="en", project="Beffroi", language_team="Beffroi")
    missing = []
    for message in french_messages():
        text = extra.get(message) or existing.get(message, "")
        if not text:
            missing.append(message)
        catalog.add(message, text)
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as handle:
        write_po(handle, catalog, sort_output=True, width=100, omit_header=True)
    for message in missing:
        print(f"à traduire : {message!r}")  # noqa: T201
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
