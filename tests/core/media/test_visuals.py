"""Branded visuals, checked by their properties: size, colours, text inside its area."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pydantic import ValidationError

from core.media import visuals
from core.media.visuals import Brand, CardFormat, VisualCreate, hex_color

DOCS = Path(__file__).resolve().parents[3] / "docs" / "visuals"

SCHEMES = {
    "bleu et or": ("#1d4e89", "#f2a900"),
    "vert clair": ("#a8e6a1", "#1b5e20"),  # a light primary: text must turn dark
    "bordeaux": ("#7b1e3a", "#f7c8d0"),
}
LONG_TITLE = (
    "Réunion publique sur le réaménagement du cœur de bourg, de l'école Émile-Zola et des "
    "berges de l'Yèvre : venez donner votre avis"
)


def logo() -> Image.Image:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, 299, 299), fill=(40, 40, 40, 255))
    draw.rectangle((110, 60, 190, 240), fill=(250, 250, 250, 255))
    return image


def brand(scheme: str, with_logo: bool = True) -> Brand:
    primary, secondary = SCHEMES[scheme]
    return Brand(
        name="Communauté de communes du Pays d'Yèvre-et-Sauldre",
        primary=hex_color(primary),
        secondary=hex_color(secondary),
        logo=logo() if with_logo else None,
    )


CARDS = {
    "evenement": VisualCreate(
        template="event",
        title="Fête de la musique à l'Espace Émile-Zola",
        date="2026-06-21T19:00:00+02:00",
        place="Place de l'Hôtel-de-Ville",
    ),
    "evenement-long": VisualCreate(
        template="event",
        format="landscape",
        title=LONG_TITLE,
        date="du lundi 3 au vendredi 7 août",
        place="Salle polyvalente Jean-Jaurès, 12 rue de l'Église, Saint-Père-sur-Loire",
    ),
    "annonce": VisualCreate(
        template="announcement",
        title="Nouveaux horaires de la médiathèque",
        text=(
            "À partir du 1er septembre, la médiathèque ouvre le mercredi de 9 h à 19 h et le "
            "samedi de 10 h à 18 h. L'accès reste gratuit. 🎉"
        ),
    ),
    "annonce-longue": VisualCreate(
        template="announcement",
        format="landscape",
        title=LONG_TITLE,
        text="Œuvres, ça, où, été, Noël, « guillemets » — " * 6,
    ),
    "alerte": VisualCreate(
        template="alert",
        title="Vigilance orange crues",
        text="Évitez les berges et ne traversez pas les zones inondées.",
    ),
    "alerte-paysage": VisualCreate(
        template="alert",
        format="landscape",
        title="Route départementale 940 fermée à la circulation",
        text="Déviation par Aubigny-sur-Nère jusqu'à vendredi 18 h.",
    ),
}


def colours(image: Image.Image) -> set[tuple[int, int, int]]:
    found = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    return {color for count, color in found if count > 200}  # type: ignore[misc]


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("name", list(CARDS))
def test_cards_fit_their_format_colours_and_bounds(name: str, scheme: str) -> None:
    spec = CARDS[name]
    card = visuals.render(spec, brand(scheme))
    assert card.image.size == spec.format.size
    present = colours(card.image)
    if spec.template == "alert":
        assert {visuals.ALERT_YELLOW, visuals.ALERT_BACKGROUND} <= present
    else:
        assert hex_color(SCHEMES[scheme][0]) in present  # the background
        assert hex_color(SCHEMES[scheme][1]) in present  # the tag and the accent bar
    assert visuals.WHITE in present  # the footer

    left, top, right, bottom = card.safe_area
    roles = {box.role for box in card.text_boxes}
    assert {"tag", "title", "footer"} <= roles
    for text_box in card.text_boxes:
        x0, y0, x1, y1 = text_box.box
        assert left <= x0 <= x1 <= right, text_box
        assert top <= y0 <= y1 <= bottom, text_box
        if text_box.role != "footer":
            assert y1 <= card.footer_top, text_box  # the main text never runs into the footer
    # The title is readable on its background (WCAG AA for large text at least).
    title = next(b for b in card.text_boxes if b.role == "title")
    background = (
        visuals.ALERT_BACKGROUND if spec.template == "alert" else hex_color(SCHEMES[scheme][0])
    )
    ink = visuals.WHITE if spec.template == "alert" else visuals.readable_on(background)
    assert visuals.contrast_ratio(ink, background) >= 3
    assert title.text


def test_long_text_shrinks_then_is_cut_with_an_ellipsis() -> None:
    short = visuals.render(CARDS["annonce"], brand("bleu et or"))
    long = visuals.render(CARDS["annonce-longue"], brand("bleu et or"))

    def size(card: visuals.Card, role: str) -> int:
        return next(b.size for b in card.text_boxes if b.role == role)

    assert size(long, "title") < size(short, "title")  # shrunk to make room
    assert size(long, "body") < size(short, "body")
    # Past the smallest size, the last line that fits ends with an ellipsis.
    block = visuals.fit(
        LONG_TITLE, weight="regular", max_width=300, max_height=100, sizes=range(40, 29, -2)
    )
    assert block.truncated
    assert len(block.lines) == 100 // block.line_height
    assert block.lines[-1].endswith("…")
    assert all(visuals.width_of(line, block.font) <= 300 for line in block.lines)


def test_accents_render_and_unknown_characters_are_left_out() -> None:
    text = visuals.drawable_text("Œuvre d'été à « Noël », ça où ! 🎉")
    assert text == "Œuvre d'été à «\u00a0Noël\u00a0», ça où\u00a0!"
    # The accented capital takes more height than the bare letter: the accent is drawn.
    face = visuals.font("bold", 80)
    assert face.getbbox("É")[1] < face.getbbox("E")[1]


def test_alt_text_is_the_cards_text() -> None:
    card = visuals.render(CARDS["evenement"], brand("bleu et or"))
    assert card.alt_text == (
        "Événement : Fête de la musique à l'Espace Émile-Zola. Dimanche 21 juin 2026 à 19 h. "
        "Place de l'Hôtel-de-Ville."
    )
    alert = visuals.render(CARDS["alerte"], brand("bordeaux"))
    assert alert.alt_text.startswith("Alerte : Vigilance orange crues.")
    assert "🎉" not in visuals.render(CARDS["annonce"], brand("bleu et or")).alt_text


def test_each_template_asks_for_its_fields() -> None:
    with pytest.raises(ValidationError, match="date"):
        VisualCreate(template="event", title="Concert")
    with pytest.raises(ValidationError, match="court texte"):
        VisualCreate(template="announcement", title="Annonce")
    with pytest.raises(ValidationError, match="200 caractères"):
        VisualCreate(template="alert", title="Alerte", text="x" * 201)
    assert VisualCreate(template="alert", title="A", text="B").format is CardFormat.square


def test_render_the_documentation_examples() -> None:
    """docs/visuals/ shows what the templates look like (and is looked at by a person)."""
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, scheme in [
        ("evenement", "bleu et or"),
        ("evenement-long", "vert clair"),
        ("annonce", "bordeaux"),
        ("alerte", "bleu et or"),
        ("alerte-paysage", "bordeaux"),
    ]:
        card = visuals.render(CARDS[name], brand(scheme))
        card.image.save(DOCS / f"{name}.png", optimize=True)
        assert (DOCS / f"{name}.png").stat().st_size > 10_000
