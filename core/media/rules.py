"""What each network accepts for images, in one table, and the checks that read it.

The renditions (core.media.pipeline) are cut to these rules, and the checks run before a post is
scheduled use the same functions, so a rendition Beffroi made can never fail its own check. Hard
limits (the network refuses the upload) are errors; recommendations (the network rescales or crops
in the feed) are warnings. Sources: shared/reference/networks.md, section 8 of each network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.accounts.models import Network
from core.i18n import N_

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
GIF = "image/gif"
FORMAT_NAMES = {JPEG: "JPEG", PNG: "PNG", WEBP: "WebP", GIF: "GIF"}

# The feed band of Meta and LinkedIn: portrait 4:5 to landscape 1.91:1 (width / height).
PORTRAIT_4_5 = 0.8
LANDSCAPE_1_91 = 1.91


class Severity(StrEnum):
    error = "error"  # the network refuses it: blocks scheduling
    warning = "warning"  # the network rescales or crops it: shown, can be acknowledged


@dataclass(frozen=True)
class MediaFinding:
    severity: Severity
    code: str
    detail: str  # a French template marked N_(), filled with `params`
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.detail.format(**self.params)

    def translated(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.detail).format(**self.params)


@dataclass(frozen=True)
class ImageProperties:
    """What the checks need to know about one image (a media, a rendition or anything else)."""

    mime: str
    width: int
    height: int
    bytes: int
    alt_text: str | None = None
    animated: bool = False


@dataclass(frozen=True)
class NetworkMediaRules:
    network: Network
    formats: frozenset[str]
    max_bytes: int
    max_images: int
    max_gif_bytes: int | None = None
    max_pixels: int | None = None
    # width / height; `ratio_required` makes leaving the band an error rather than a warning.
    min_ratio: float | None = None
    max_ratio: float | None = None
    ratio_required: bool = False
    # Recommended dimensions: outside them the network rescales the image (warning).
    min_width: int | None = None
    max_width: int | None = None
    max_height: int | None = None
    alt_text_max: int | None = None
    requires_image: bool = False
    # The box (width, height) the rendition for this network fits in; always inside the above.
    rendition_box: tuple[int, int] = (2048, 2048)

    @property
    def label(self) -> str:
        return self.network.label


MB = 1_000_000

RULES: dict[Network, NetworkMediaRules] = {
    rules.network: rules
    for rules in (
        # 4 images (or 1 GIF); 5 MB, GIF 15 MB; alt text 1 000 characters. X shows up to 4096 px.
        NetworkMediaRules(
            network=Network.x,
            formats=frozenset({JPEG, PNG, WEBP, GIF}),
            max_bytes=5 * MB,
            max_gif_bytes=15 * MB,
            max_images=4,
            max_width=4096,
            max_height=4096,
            alt_text_max=1000,
            rendition_box=(2048, 2048),
        ),
        # JPG, PNG, GIF under 36 152 320 pixels; recommended 1 200 px wide, feed band 4:5-1.91:1.
        NetworkMediaRules(
            network=Network.linkedin,
            formats=frozenset({JPEG, PNG, GIF}),
            max_bytes=8 * MB,
            max_pixels=36_152_319,
            max_images=20,
            min_ratio=PORTRAIT_4_5,
            max_ratio=LANDSCAPE_1_91,
            max_width=1200,
            max_height=1500,
            rendition_box=(1200, 1500),
        ),
        # About 4 MB; Facebook recommends 720, 960 or 2 048 px wide; its feed crops outside
        # 4:5-1.91:1.
        NetworkMediaRules(
            network=Network.facebook,
            formats=frozenset({JPEG, PNG, GIF}),
            max_bytes=4 * MB,
            max_images=10,
            min_ratio=PORTRAIT_4_5,
            max_ratio=LANDSCAPE_1_91,
            max_width=2048,
            max_height=2048,
            rendition_box=(2048, 2048),
        ),
        # JPEG only, 8 MB, ratio 4:5 to 1.91:1 (refused outside), 320-1440 px wide (rescaled
        # outside); an Instagram post needs an image; carousels of up to 10.
        NetworkMediaRules(
            network=Network.instagram,
            formats=frozenset({JPEG}),
            max_bytes=8 * MB,
            max_images=10,
            min_ratio=PORTRAIT_4_5,
            max_ratio=LANDSCAPE_1_91,
            ratio_required=True,
            min_width=320,
            max_width=1440,
            requires_image=True,
            rendition_box=(1080, 1350),
        ),
        # Instance settings; these defaults fit every current instance: 4 images, 8 MB,
        # 8.3 megapixels before the server shrinks them, alt text 1 500 characters.
        NetworkMediaRules(
            network=Network.mastodon,
            formats=frozenset({JPEG, PNG, WEBP, GIF}),
            max_bytes=8 * MB,
            max_images=4,
            max_width=3840,
            max_height=3840,
            max_pixels=8_294_400,
            alt_text_max=1500,
            rendition_box=(2048, 2048),
        ),
        # 4 images, each blob at most 1 000 000 bytes; the app shows up to 2 000 px.
        NetworkMediaRules(
            network=Network.bluesky,
            formats=frozenset({JPEG, PNG, WEBP, GIF}),
            max_bytes=1_000_000,
            max_images=4,
            max_width=2000,
            max_height=2000,
            alt_text_max=2000,
            rendition_box=(2000, 2000),
        ),
    )
}


def rules_for(network: Network) -> NetworkMediaRules | None:
    """The media rules of a network; None for manual channels, which take any image."""
    return RULES.get(network)


def check_image(
    network: Network, image: ImageProperties, *, rules: NetworkMediaRules | None = None
) -> list[MediaFinding]:
    """The findings for one image on one network (an empty list when it fits). `rules` overrides
    the table, e.g. with the limits a Mastodon instance announces."""
    rules = rules or rules_for(network)
    if rules is None:
        return []
    found: list[MediaFinding] = []
    name = rules.label

    if image.mime not in rules.formats:
        found.append(
            _error(
                "format",
                N_("{network} n'accepte pas les images {format} : formats acceptés : {accepted}."),
                network=name,
                format=FORMAT_NAMES.get(image.mime, image.mime),
                accepted=", ".join(sorted(FORMAT_NAMES.get(f, f) for f in rules.formats)),
            )
        )
    limit = rules.max_gif_bytes if image.mime == GIF and rules.max_gif_bytes else rules.max_bytes
    if image.bytes > limit:
        found.append(
            _error(
                "bytes",
                N_("{network} refuse les images de plus de {limit} ; celle-ci fait {size}."),
                network=name,
                limit=human_bytes(limit),
                size=human_bytes(image.bytes),
            )
        )
    pixels = image.width * image.height
    if rules.max_pixels and pixels > rules.max_pixels:
        found.append(
            _finding(
                # Mastodon shrinks big images itself; LinkedIn refuses them.
                Severity.warning if network is Network.mastodon else Severity.error,
                "pixels",
                N_(
                    "{network} accepte au plus {limit} mégapixels ; cette image en fait {size} "
                    "({width} × {height} pixels)."
                ),
                network=name,
                limit=_decimal(rules.max_pixels / 1e6),
                size=_decimal(pixels / 1e6),
                width=image.width,
                height=image.height,
            )
        )
    found += _ratio_findings(rules, image)
    found += _size_findings(rules, image)
    found += _alt_text_findings(rules, image)
    return found


def check_images(
    network: Network,
    images: Sequence[ImageProperties],
    *,
    rules: NetworkMediaRules | None = None,
) -> list[MediaFinding]:
    """The findings for the images of one publication: their count, Instagram's need for an
    image, then each image."""
    rules = rules or rules_for(network)
    if rules is None:
        return []
    found: list[MediaFinding] = []
    if rules.requires_image and not images:
        found.append(
            _error(
                "image_required",
                N_("{network} ne publie pas de texte seul : ajoutez au moins une image."),
                network=rules.label,
            )
        )
    if len(images) > rules.max_images:
        found.append(
            _error(
                "count",
                N_("{network} accepte au plus {max} images par publication ; il y en a {count}."),
                network=rules.label,
                max=rules.max_images,
                count=len(images),
            )
        )
    gifs = [image for image in images if image.mime == GIF and image.animated]
    if network is Network.x and gifs and len(images) > 1:
        found.append(
            _error(
                "gif_alone",
                N_("X publie un GIF animé seul : retirez les autres images ou le GIF."),
            )
        )
    for image in images:
        found += check_image(network, image, rules=rules)
    return found


def _ratio_findings(rules: NetworkMediaRules, image: ImageProperties) -> list[MediaFinding]:
    ratio = image.width / image.height
    too_tall = rules.min_ratio is not None and ratio < rules.min_ratio
    too_wide = rules.max_ratio is not None and ratio > rules.max_ratio
    if not (too_tall or too_wide):
        return []
    params = {
        "network": rules.label,
        "min": _ratio_label(rules.min_ratio or 0),
        "max": _ratio_label(rules.max_ratio or 0),
        "ratio": _decimal(ratio, 2),
    }
    if rules.ratio_required:
        return [
            _error(
                "ratio",
                N_(
                    "{network} n'accepte que des proportions entre {min} (portrait) et {max} "
                    "(paysage) ; cette image est à {ratio}:1. Recadrez-la."
                ),
                **params,
            )
        ]
    return [
        _warning(
            "ratio",
            N_(
                "{network} recadre dans le fil les images hors des proportions {min} à {max} ; "
                "cette image est à {ratio}:1."
            ),
            **params,
        )
    ]


def _size_findings(rules: NetworkMediaRules, image: ImageProperties) -> list[MediaFinding]:
    found = []
    if rules.min_width and image.width < rules.min_width:
        found.append(
            _warning(
                "small",
                N_(
                    "{network} agrandit les images de moins de {min} pixels de large (celle-ci "
                    "en fait {width}) : elle risque d'être floue."
                ),
                network=rules.label,
                min=rules.min_width,
                width=image.width,
            )
        )
    too_wide = rules.max_width is not None and image.width > rules.max_width
    too_high = rules.max_height is not None and image.height > rules.max_height
    if too_wide or too_high:
        found.append(
            _warning(
                "large",
                N_(
                    "{network} réduit les images de plus de {max_width} × {max_height} pixels ; "
                    "celle-ci fait {width} × {height} pixels."
                ),
                network=rules.label,
                max_width=rules.max_width or "…",
                max_height=rules.max_height or "…",
                width=image.width,
                height=image.height,
            )
        )
    return found


def _alt_text_findings(rules: NetworkMediaRules, image: ImageProperties) -> list[MediaFinding]:
    alt = (image.alt_text or "").strip()
    if not alt:
        return [
            _error(
                "alt_text",
                N_(
                    "Chaque image doit avoir un texte alternatif (RGAA) : décrivez-la pour les "
                    "personnes qui ne la voient pas."
                ),
            )
        ]
    if rules.alt_text_max and len(alt) > rules.alt_text_max:
        return [
            _error(
                "alt_text_length",
                N_(
                    "{network} limite le texte alternatif à {max} caractères ; celui-ci en fait "
                    "{length}."
                ),
                network=rules.label,
                max=rules.alt_text_max,
                length=len(alt),
            )
        ]
    return []


def _finding(severity: Severity, code: str, detail: str, **params: Any) -> MediaFinding:
    return MediaFinding(severity=severity, code=code, detail=detail, params=params)


def _error(code: str, detail: str, **params: Any) -> MediaFinding:
    return _finding(Severity.error, code, detail, **params)


def _warning(code: str, detail: str, **params: Any) -> MediaFinding:
    return _finding(Severity.warning, code, detail, **params)


def _decimal(value: float, digits: int = 1) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _ratio_label(ratio: float) -> str:
    return "4:5" if ratio == PORTRAIT_4_5 else f"{_decimal(ratio, 2)}:1"


def human_bytes(size: int) -> str:
    """A size as a French reader writes it: "20 Mo", "1,5 Mo", "830 ko"."""
    if size >= MB:
        return f"{_decimal(size / MB)} Mo"
    if size >= 1000:
        return f"{round(size / 1000)} ko"
    return f"{size} octets"
