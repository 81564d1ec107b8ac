"""The image pipeline on real files: what is accepted, what is refused, what is removed."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.accounts.models import Network
from core.errors import AppError
from core.media import pipeline, rules
from core.media.errors import CorruptImage, TooManyPixels, UnsupportedFormat
from core.media.rules import RULES, ImageProperties, Severity, check_image, check_images
from tests.core.media import images

LIMIT = 50_000_000


def sanitize(data: bytes, max_pixels: int = LIMIT) -> pipeline.CleanImage:
    return pipeline.sanitize(io.BytesIO(data), max_pixels=max_pixels)


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("fmt", "mode", "stored"),
    [
        ("JPEG", "RGB", "image/jpeg"),
        ("PNG", "RGB", "image/png"),
        ("PNG", "RGBA", "image/png"),
        ("WEBP", "RGB", "image/jpeg"),
        ("WEBP", "RGBA", "image/png"),
        ("GIF", "P", "image/png"),
        ("JPEG", "CMYK", "image/jpeg"),
        ("PNG", "L", "image/png"),
    ],
)
def test_each_accepted_format_is_re_encoded(fmt: str, mode: str, stored: str) -> None:
    source = images.halves((300, 200)).convert(mode)
    if mode == "RGBA":
        source.putalpha(Image.linear_gradient("L").resize(source.size))
    clean = sanitize(images.encode(source, fmt))
    assert clean.mime == stored
    assert (clean.width, clean.height) == (300, 200)
    decoded = reopen(clean.data)
    assert decoded.format == {"image/jpeg": "JPEG", "image/png": "PNG"}[stored]
    assert decoded.mode in {"RGB", "RGBA"}
    assert images.metadata_left(clean.data) == []
    if mode not in {"CMYK", "L", "P"}:
        # Colours survive: left red, right blue.
        rgb = decoded.convert("RGB")
        assert images.is_red(rgb.getpixel((20, 100)))
        assert images.is_blue(rgb.getpixel((280, 100)))


def test_a_phone_photo_loses_gps_and_every_other_metadata_but_stays_upright() -> None:
    data = images.phone_photo(orientation=6)  # stored sideways, shown turned 90° clockwise
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(images.GPS_IFD)  # really has GPS
    clean = sanitize(data)
    assert images.metadata_left(clean.data) == []
    upright = reopen(clean.data)
    assert upright.size == (200, 400)  # portrait now
    assert images.is_red(upright.getpixel((100, 30)))  # the red half is on top
    assert images.is_blue(upright.getpixel((100, 370)))
    for network, network_rules in RULES.items():
        made = pipeline.render(clean.image, network_rules)
        assert images.metadata_left(made.data) == [], network
        assert reopen(made.data).height > reopen(made.data).width, network


def test_content_decides_not_the_name() -> None:
    # The file name never reaches the pipeline: a PNG called photo.jpg is a PNG.
    assert sanitize(images.encode(images.halves(), "PNG")).mime == "image/png"
    for data, expected in [
        (b"Ceci n'est pas une image, malgre son nom en .png", "JPEG, PNG, WebP ou GIF"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
        (images.encode(images.halves(), "TIFF"), "TIFF"),
        (images.encode(images.halves(), "BMP"), "BMP"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
    ]:
        with pytest.raises(UnsupportedFormat) as refused:
            sanitize(data)
        assert refused.value.status_code == 415
        assert expected in refused.value.message


def test_truncated_and_corrupt_files_are_refused_cleanly() -> None:
    jpeg = images.encode(images.noise((600, 400)), "JPEG", quality=90)
    png = images.encode(images.noise((300, 200)), "PNG")
    broken = [
        jpeg[: len(jpeg) * 6 // 10],
        png[: len(png) // 2],
        png[:40],
        jpeg[:2] + b"\x00" * 200,
    ]
    for data in broken:
        with pytest.raises((CorruptImage, UnsupportedFormat)) as refused:
            sanitize(data)
        assert 400 <= refused.value.status_code < 500
    with pytest.raises(CorruptImage):
        sanitize(jpeg[: len(jpeg) * 6 // 10])


def test_pixel_limits_stop_bombs_before_decoding() -> None:
    # 900 megapixels in 74 bytes: past twice the limit, Pillow itself refuses at open.
    with pytest.raises(TooManyPixels) as refused:
        sanitize(images.png_bomb())
    assert "50 mégapixels" in refused.value.message
    # Between the limit and twice the limit Pillow only warns: refused all the same.
    big = images.encode(Image.new("RGB", (1500, 1000), images.GREEN), "JPEG")
    with pytest.raises(TooManyPixels):
        sanitize(big, max_pixels=1_000_000)
    assert Image.MAX_IMAGE_PIXELS == 1_000_000  # set explicitly from the setting
    assert sanitize(big, max_pixels=2_000_000).width == 1500


def test_huge_images_are_stored_at_most_4096_pixels_wide() -> None:
    clean = sanitize(images.encode(Image.new("RGB", (8000, 2000), images.BLUE), "JPEG"))
    assert (clean.width, clean.height) == (4096, 1024)


def test_animated_gif_keeps_its_first_frame() -> None:
    clean = sanitize(images.animated_gif())
    assert clean.was_animated
    assert clean.mime == "image/png"
    assert reopen(clean.data).convert("RGB").getpixel((10, 10)) == images.RED


SHAPES = {
    "photo 4:3": images.noise((2400, 1800)),
    "panorama 5:1": images.halves((3000, 600)),
    "very tall 1:4": images.halves((500, 2000)),
    "tiny": images.halves((100, 80)),
    "transparent": Image.new("RGBA", (900, 900), (0, 0, 0, 0)),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_rendition_passes_its_network_checks(shape: str) -> None:
    image = SHAPES[shape]
    for network, network_rules in RULES.items():
        made = pipeline.render(image, network_rules, focal=(0.3, 0.7))
        decoded = reopen(made.data)
        assert decoded.format == "JPEG"
        assert (decoded.width, decoded.height) == (made.width, made.height)
        props = ImageProperties(
            mime=made.mime,
            width=made.width,
            height=made.height,
            bytes=len(made.data),
            alt_text="Une description.",
        )
        assert check_image(network, props) == [], (shape, network)


def test_the_crop_keeps_the_focal_point() -> None:
    # A wide picture with a red mark at its right end: Instagram needs at most 1.91:1.
    wide = Image.new("RGB", (3000, 1000), images.BLUE)
    wide.paste(images.RED, (2800, 400, 2950, 600))
    instagram = RULES[Network.instagram]
    right = reopen(pipeline.render(wide, instagram, focal=(0.95, 0.5)).data)
    left = reopen(pipeline.render(wide, instagram, focal=(0.05, 0.5)).data)
    assert right.width / right.height == pytest.approx(1.91, abs=0.01)
    assert images.has_red(right)
    assert not images.has_red(left)


def test_checks_explain_what_each_network_refuses() -> None:
    huge_png = ImageProperties(
        mime="image/png", width=1000, height=3000, bytes=9_000_000, alt_text=""
    )
    found = {f.code: f for f in check_image(Network.instagram, huge_png)}
    assert set(found) == {"format", "bytes", "ratio", "alt_text"}
    assert all(f.severity is Severity.error for f in found.values())
    assert found["format"].message == (
        "Instagram n'accepte pas les images PNG : formats acceptés : JPEG."
    )
    assert "celle-ci fait 9 Mo" in found["bytes"].message
    assert "0,33:1" in found["ratio"].message
    bluesky = check_image(Network.bluesky, huge_png)
    assert any("1 Mo" in f.message for f in bluesky if f.code == "bytes")

    # Facebook crops rather than refuses: a warning.
    tall = ImageProperties(mime="image/jpeg", width=600, height=1200, bytes=100_000, alt_text="x")
    [warning] = check_image(Network.facebook, tall)
    assert (warning.severity, warning.code) == (Severity.warning, "ratio")
    assert check_image(Network.manual, tall) == []

    assert [f.code for f in check_images(Network.instagram, [])] == ["image_required"]
    five = [tall] * 5
    assert "count" in {f.code for f in check_images(Network.x, five)}
    assert check_images(Network.mastodon, [tall]) == []
    assert rules.human_bytes(20_000_000) == "20 Mo"
    assert rules.human_bytes(1_500_000) == "1,5 Mo"


def test_decoding_errors_are_app_errors() -> None:
    # What the API turns into 4xx answers.
    for error in (UnsupportedFormat, CorruptImage, TooManyPixels):
        assert issubclass(error, AppError)
