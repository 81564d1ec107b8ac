"""Branded visuals: cards drawn with Pillow in the authority's colours, with its logo and name, so
every author and every network shows the same visual identity.

Three templates: an event (title, date, place), an announcement (title, short text) and an alert
for urgent pillars (high contrast, a warning sign, short text). Text wraps, then shrinks to fit;
characters the font cannot draw (emoji…) are left out rather than shown as empty boxes. The font
is Source Sans Pro (SIL Open Font License), installed from PyPI by pyproject.toml.
"""

from __future__ import annotations

import importlib.resources
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from PIL import Image, ImageDraw, ImageFont
from pydantic import AfterValidator, BaseModel, Field, model_validator

Color = tuple[int, int, int]
Box = tuple[int, int, int, int]

WHITE: Color = (255, 255, 255)
INK: Color = (17, 17, 17)
ALERT_BACKGROUND: Color = (18, 18, 18)
ALERT_YELLOW: Color = (255, 212, 0)


class CardFormat(StrEnum):
    square = "square"  # 1080 × 1080: every network
    portrait = "portrait"  # 1080 × 1350: Instagram's and Facebook's tallest
    landscape = "landscape"  # 1200 × 630: X, LinkedIn, Facebook link size

    @property
    def size(self) -> tuple[int, int]:
        return {
            CardFormat.square: (1080, 1080),
            CardFormat.portrait: (1080, 1350),
            CardFormat.landscape: (1200, 630),
        }[self]


def _line(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("Ce texte ne peut pas être vide.")
    return value


def _paragraphs(value: str) -> str:
    lines = [" ".join(line.split()) for line in value.strip().splitlines()]
    value = "\n".join(line for line in lines if line)
    if not value:
        raise ValueError("Ce texte ne peut pas être vide.")
    return value


Line = Annotated[str, AfterValidator(_line)]
Paragraphs = Annotated[str, AfterValidator(_paragraphs)]


class VisualTemplate(StrEnum):
    event = "event"  # title, date, place
    announcement = "announcement"  # title, short text
    alert = "alert"  # urgent: title, short text, high contrast


ALERT_TEXT_MAX = 200


class VisualCreate(BaseModel):
    """A branded visual to draw. `date` may be free text (« du 3 au 5 mai ») or ISO 8601 (written
    out in French, in the authority's timezone)."""

    template: VisualTemplate
    format: CardFormat = CardFormat.square
    title: Line = Field(max_length=140)
    date: Line | None = Field(default=None, max_length=80)
    place: Line | None = Field(default=None, max_length=120)
    text: Paragraphs | None = Field(default=None, max_length=280)

    @model_validator(mode="after")
    def _fields_of_the_template(self) -> VisualCreate:
        if self.template is VisualTemplate.event and not (self.date and self.place):
            raise ValueError(
                "Un visuel d'événement a besoin d'une date (« date ») et d'un lieu (« place »)."
            )
        if self.template is not VisualTemplate.event and not self.text:
            raise ValueError("Ce visuel a besoin d'un court texte (champ « text »).")
        if self.template is VisualTemplate.alert and len(self.text or "") > ALERT_TEXT_MAX:
            raise ValueError(
                f"Le texte d'une alerte doit rester court : {ALERT_TEXT_MAX} caractères au plus "
                f"(il en fait {len(self.text or '')})."
            )
        return self


@dataclass(frozen=True)
class Brand:
    name: str
    primary: Color
    secondary: Color
    timezone: str = "Europe/Paris"
    logo: Image.Image | None = None


@dataclass(frozen=True)
class TextBox:
    role: str  # tag, title, body, detail, footer
    text: str
    box: Box
    size: int  # of the font, in pixels


@dataclass
class Card:
    image: Image.Image
    alt_text: str
    # Where text was drawn, so that checks can see it stays inside the safe area and that the
    # main text stays above the footer.
    text_boxes: list[TextBox] = field(default_factory=list)
    safe_area: Box = (0, 0, 0, 0)
    footer_top: int = 0


def render(card: VisualCreate, brand: Brand) -> Card:
    width, height = card.format.size
    text = card.text or ""
    if card.template is VisualTemplate.alert:
        painter = _Painter(width, height, background=ALERT_BACKGROUND, brand=brand)
        painter.hazard_stripes()
        painter.warning_sign()
        painter.tag("ALERTE", background=ALERT_YELLOW)
        painter.texts(title=card.title, body=text, title_color=WHITE, body_color=WHITE)
        alt = f"Alerte : {_sentence(card.title)} {_sentence(text)}"
    elif card.template is VisualTemplate.event:
        when = describe_date(card.date or "", brand.timezone)
        place = card.place or ""
        painter = _Painter(width, height, background=brand.primary, brand=brand)
        painter.tag("ÉVÉNEMENT", background=brand.secondary)
        painter.texts(title=card.title, details=[("calendar", when), ("pin", place)])
        alt = f"Événement : {_sentence(card.title)} {_sentence(when)} {_sentence(place)}"
    else:
        painter = _Painter(width, height, background=brand.primary, brand=brand)
        painter.tag("ANNONCE", background=brand.secondary)
        painter.texts(title=card.title, body=text)
        alt = f"Annonce : {_sentence(card.title)} {_sentence(text)}"
    painter.footer()
    return Card(
        image=painter.image,
        alt_text=alt,
        text_boxes=painter.text_boxes,
        safe_area=painter.safe_area,
        footer_top=painter.footer_top,
    )


def describe_date(value: str, timezone: str) -> str:
    """An ISO date or datetime written out in French; anything else is kept as written."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) <= len("2026-07-14"):
        text = format_date(date(moment.year, moment.month, moment.day), "full", locale="fr")
    else:
        zone = ZoneInfo(timezone)
        local = moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)
        day = format_date(local.date(), "full", locale="fr")
        hour = format_datetime(local, "H", locale="fr")
        minutes = "" if local.minute == 0 else f"{local.minute:02d}"
        text = f"{day} à {hour} h {minutes}".rstrip()
    return text[0].upper() + text[1:]


def hex_color(value: str) -> Color:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def contrast_ratio(a: Color, b: Color) -> float:
    """The WCAG contrast ratio between two colours (1 to 21)."""
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(background: Color) -> Color:
    """White or near-black, whichever reads better on `background`."""
    return WHITE if contrast_ratio(WHITE, background) >= contrast_ratio(INK, background) else INK


def _luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _sentence(text: str) -> str:
    """`text` as a sentence for the alt text (what the card shows): capital first, final full
    stop."""
    text = " ".join(drawable_text(text).split())
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


# --- fonts -----------------------------------------------------------------------------------

FONT_FILES = {
    "regular": "SourceSansPro-Regular.ttf",
    "semibold": "SourceSansPro-Semibold.ttf",
    "bold": "SourceSansPro-Bold.ttf",
    "black": "SourceSansPro-Black.ttf",
}


@cache
def font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    path = importlib.resources.files("font_source_sans_pro") / "files" / FONT_FILES[weight]
    with importlib.resources.as_file(path) as real_path:
        return ImageFont.truetype(str(real_path), size)


@cache
def _drawable(character: str) -> bool:
    if character in "\n ":
        return True
    if unicodedata.category(character) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
        return False
    probe = font("regular", 40)
    missing = probe.getmask("\U0010fffd")  # a private code point: the font's "missing" glyph
    mask = probe.getmask(character)
    return bool(mask.size != missing.size or bytes(mask) != bytes(missing))


def drawable_text(text: str) -> str:
    """`text` without the characters the font cannot draw, spaces tidied."""
    text = text.replace("\u202f", "\u00a0")  # French narrow no-break space: the font's own
    kept = "".join(c for c in unicodedata.normalize("NFC", text) if _drawable(c))
    lines = [" ".join(line.split()) for line in kept.splitlines()]
    # French spacing: guillemets, high punctuation and units never start or end a line alone.
    return "\n".join(
        _NO_BREAK.sub(lambda m: m.group(0).replace(" ", "\u00a0"), line) for line in lines
    )


# « a », b : c, 18 h, 5 €, 30 % and the like stay together on one line.
_NO_BREAK = re.compile(r"« | »| [:;!?]|\d (?:h|min|km|m|€|%)(?!\w)")


# --- layout ----------------------------------------------------------------------------------


@dataclass
class _Block:
    lines: list[str]
    font: ImageFont.FreeTypeFont
    line_height: int
    truncated: bool = False

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


def width_of(text: str, face: ImageFont.FreeTypeFont) -> float:
    """The width a line takes: its advance, or its ink where a glyph overhangs (« V », « f »)."""
    left, _top, right, _bottom = face.getbbox(text)
    return max(face.getlength(text), right) - min(0, left)


def wrap(text: str, face: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap; a word longer than the line is cut with a hyphen."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if width_of(candidate, face) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while width_of(word, face) > max_width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and width_of(word[:cut] + "-", face) > max_width:
                    cut -= 1
                lines.append(word[:cut] + "-")
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def fit(
    text: str,
    *,
    weight: str,
    max_width: float,
    max_height: float,
    sizes: Iterable[int],
    leading: float = 1.15,
) -> _Block:
    """The largest size at which `text` fits the box; at the smallest size, the lines that do
    not fit are cut with an ellipsis."""
    block: _Block | None = None
    for size in sizes:
        face = font(weight, size)
        block = _Block(wrap(text, face, max_width), face, round(size * leading))
        if block.height <= max_height:
            return block
    assert block is not None, "no size to try"
    keep = max(1, int(max_height // block.line_height))
    if len(block.lines) > keep:
        lines = block.lines[:keep]
        last = lines[-1].rstrip(" -")
        while last and width_of(last + "…", block.font) > max_width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
        block.lines = lines
        block.truncated = True
    return block


def _sizes(largest: float, smallest: float) -> range:
    return range(round(largest), round(smallest) - 1, -2)


class _Painter:
    def __init__(self, width: int, height: int, *, background: Color, brand: Brand) -> None:
        self.width, self.height = width, height
        self.brand = brand
        self.background = background
        self.image = Image.new("RGB", (width, height), background)
        self.draw = ImageDraw.Draw(self.image)
        self.unit = min(width, height)
        self.margin = round(self.unit * 0.075)
        self.footer_height = round(height * (0.17 if width > height * 1.5 else 0.13))
        self.footer_top = height - self.footer_height
        self.cursor = self.margin  # the next free y in the main area
        self.beside: tuple[int, int, int] | None = None  # (x, top, height) of a row to join
        self.text_boxes: list[TextBox] = []
        self.safe_area: Box = (self.margin, self.margin, width - self.margin, height)

    # -- pieces --

    def tag(self, label: str, *, background: Color) -> None:
        """A pill naming the kind of card; beside the warning sign when there is one."""
        face = font("bold", round(self.unit * 0.034))
        pad_x, pad_y = round(self.unit * 0.022), round(self.unit * 0.012)
        box = [round(v) for v in self.draw.textbbox((0, 0), label, font=face)]
        w, h = box[2] - box[0], box[3] - box[1]
        x, y = self.margin, self.cursor
        row_bottom = None
        if self.beside is not None:
            x, row_top, row_height = self.beside
            y = row_top + (row_height - h - 2 * pad_y) // 2
            row_bottom = row_top + row_height
        pill = (x, y, x + w + 2 * pad_x, y + h + 2 * pad_y)
        self.draw.rounded_rectangle(pill, radius=(pill[3] - pill[1]) // 2, fill=background)
        self._text(
            "tag", (x + pad_x - box[0], y + pad_y - box[1]), label, face, readable_on(background)
        )
        self.cursor = max(pill[3], row_bottom or 0) + round(self.unit * 0.05)

    def texts(
        self,
        *,
        title: str,
        body: str | None = None,
        details: list[tuple[str, str]] | None = None,
        title_color: Color | None = None,
        body_color: Color | None = None,
    ) -> None:
        """Title, then a body or detail lines, sized together to fill the main area: the largest
        title with which the rest still fits without being cut."""
        ink = readable_on(self.background)
        title = drawable_text(title)
        body = drawable_text(body) if body else None
        details = [(icon, drawable_text(text)) for icon, text in details or []]
        left, right = self.margin, self.width - self.margin
        gap = round(self.unit * 0.04)
        available = self.footer_top - self.margin - self.cursor
        icon_size = round(self.unit * 0.05)
        indent = icon_size + round(self.unit * 0.025)

        def fit_rest(space: float) -> list[_Block]:
            if body:
                return [
                    fit(
                        body,
                        weight="regular",
                        max_width=right - left,
                        max_height=space,
                        sizes=_sizes(self.unit * 0.058, self.unit * 0.03),
                        leading=1.25,
                    )
                ]
            share = (space - gap // 2 * (len(details) - 1)) / max(1, len(details))
            return [
                fit(
                    text,
                    weight="semibold",
                    max_width=right - left - indent,
                    max_height=share,
                    sizes=_sizes(self.unit * 0.05, self.unit * 0.03),
                )
                for _icon, text in details
            ]

        chosen: tuple[_Block, list[_Block]] | None = None
        for size in _sizes(self.unit * 0.1, self.unit * 0.05):
            face = font("black" if size > self.unit * 0.07 else "bold", size)
            candidate = _Block(wrap(title, face, right - left), face, round(size * 1.08))
            if candidate.height > available * 0.7:
                continue
            rest = fit_rest(available - candidate.height - gap)
            # The rest must fit whole, and stay at least half the title's size: a big title
            # over a text too small to read is worse than a smaller title.
            if not any(b.truncated or b.font.size < size * 0.5 for b in rest):
                chosen = candidate, rest
                break
        if chosen is None:  # even the smallest title leaves too little room: share it
            small = fit(
                title,
                weight="bold",
                max_width=right - left,
                max_height=available * 0.55,
                sizes=_sizes(self.unit * 0.05, self.unit * 0.04),
                leading=1.08,
            )
            chosen = small, fit_rest(available - small.height - gap)

        title_block, rest = chosen
        used = title_block.height + gap + sum(b.height for b in rest)
        if details:
            used += gap // 2 * (len(details) - 1)
        # Short texts sit in the middle of the main area rather than under the tag.
        y = self.cursor + max(0, (available - used) // 2)
        for line in title_block.lines:
            self._text("title", (left, y), line, title_block.font, title_color or ink)
            y += title_block.line_height
        y += gap
        if body:
            for line in rest[0].lines:
                self._text("body", (left, y), line, rest[0].font, body_color or ink)
                y += rest[0].line_height
        for (icon, _text), block in zip(details, rest if details else [], strict=True):
            self._icon(icon, left, y + (block.line_height - icon_size) // 2, icon_size)
            for line in block.lines:
                self._text("detail", (left + indent, y), line, block.font, body_color or ink)
                y += block.line_height
            y += gap // 2
        self.cursor = y

    def footer(self) -> None:
        accent = self.brand.secondary if self.background != ALERT_BACKGROUND else ALERT_YELLOW
        bar = round(self.height * 0.014)
        self.draw.rectangle((0, self.footer_top - bar, self.width, self.footer_top), fill=accent)
        self.draw.rectangle((0, self.footer_top, self.width, self.height), fill=WHITE)
        x = self.margin
        inner = round(self.footer_height * 0.62)
        if self.brand.logo is not None:
            logo = _fit_logo(self.brand.logo, (round(self.width * 0.3), inner))
            top = self.footer_top + (self.footer_height - logo.height) // 2
            self.image.paste(logo, (x, top), logo)
            x += logo.width + round(self.unit * 0.03)
        name_color = self.brand.primary if contrast_ratio(self.brand.primary, WHITE) >= 4.5 else INK
        block = fit(
            drawable_text(self.brand.name),
            weight="bold",
            max_width=self.width - self.margin - x,
            max_height=inner,
            sizes=_sizes(self.unit * 0.045, self.unit * 0.026),
        )
        y = self.footer_top + (self.footer_height - block.height) // 2
        for line in block.lines:
            self._text("footer", (x, y), line, block.font, name_color)
            y += block.line_height

    def hazard_stripes(self) -> None:
        """Yellow and black stripes along the top edge: the visual code of a warning."""
        band = round(self.unit * 0.03)
        self.draw.rectangle((0, 0, self.width, band), fill=ALERT_YELLOW)
        step = band * 2
        for x in range(-band, self.width + band, step):
            self.draw.polygon([(x, band), (x + band, 0), (x + 2 * band, 0), (x + band, band)], INK)
        self.cursor = band + self.margin

    def warning_sign(self) -> None:
        """A yellow triangle with an exclamation mark, at the top left; the tag goes beside."""
        size = round(self.unit * 0.15)
        left, top = self.margin, self.cursor
        triangle = [(left + size / 2, top), (left + size, top + size), (left, top + size)]
        self.draw.polygon(triangle, fill=ALERT_YELLOW)
        cx = left + size / 2
        stroke = max(4, size // 9)
        self.draw.rounded_rectangle(
            (cx - stroke / 2, top + size * 0.32, cx + stroke / 2, top + size * 0.72),
            radius=stroke // 2,
            fill=INK,
        )
        self.draw.ellipse(
            (cx - stroke * 0.6, top + size * 0.79, cx + stroke * 0.6, top + size * 0.79 + stroke),
            fill=INK,
        )
        self.beside = (left + size + round(self.unit * 0.035), top, size)

    def _icon(self, kind: str, x: int, y: int, size: int) -> None:
        color = self.brand.secondary
        if contrast_ratio(color, self.background) < 1.8:
            color = readable_on(self.background)
        if kind == "calendar":
            w = max(3, size // 10)
            self.draw.rounded_rectangle(
                (x, y + size * 0.12, x + size, y + size), radius=size // 6, outline=color, width=w
            )
            self.draw.rectangle((x, y + size * 0.12, x + size, y + size * 0.36), fill=color)
            for ring in (0.28, 0.72):
                rx = x + size * ring
                self.draw.line((rx, y, rx, y + size * 0.22), fill=color, width=w)
        else:  # a map pin
            r = size * 0.36
            cx, cy = x + size / 2, y + r + size * 0.02
            self.draw.polygon(
                [(cx - r * 0.82, cy + r * 0.5), (cx + r * 0.82, cy + r * 0.5), (cx, y + size)],
                fill=color,
            )
            self.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color)
            hole = r * 0.42
            self.draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=self.background)

    def _text(
        self,
        role: str,
        xy: tuple[float, float],
        text: str,
        face: ImageFont.FreeTypeFont,
        fill: Color,
    ) -> None:
        # A glyph that overhangs to the left (« V », « J ») starts at the margin, not before it.
        overhang = min(0, face.getbbox(text)[0])
        xy = (xy[0] - overhang, xy[1])
        self.draw.text(xy, text, font=face, fill=fill)
        left, top, right, bottom = self.draw.textbbox(xy, text, font=face)
        self.text_boxes.append(
            TextBox(
                role, text, (round(left), round(top), round(right), round(bottom)), round(face.size)
            )
        )


def _fit_logo(logo: Image.Image, box: tuple[int, int]) -> Image.Image:
    logo = logo.convert("RGBA")
    logo.thumbnail(box, Image.Resampling.LANCZOS)
    return logo
