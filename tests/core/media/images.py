"""Real image files made with Pillow for the media tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageCms

RED = (220, 20, 20)
BLUE = (20, 40, 220)
GREEN = (20, 180, 60)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def halves(size: tuple[int, int] = (400, 200), left=RED, right=BLUE) -> Image.Image:  # type: ignore[no-untyped-def]
    """Left half one colour, right half another: enough to see rotations and crops."""
    image = Image.new("RGB", size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    return image


def phone_photo(*, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: stored sideways with an EXIF orientation, a GPS position,
    the camera's make, an sRGB ICC profile and XMP."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "Téléphone de l'agent"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (45.0, 9.0, 36.0), 3: "E", 4: (1.0, 32.0, 2.0)})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return encode(halves(), "JPEG", exif=exif.tobytes(), icc_profile=icc, xmp=xmp, quality=95)


def animated_gif() -> bytes:
    frames = [Image.new("P", (120, 80), i) for i in range(3)]
    for frame, color in zip(frames, (RED, GREEN, BLUE), strict=True):
        frame.putpalette([*color] * 256)
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG that claims huge dimensions: decoding it would need gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def noise(size: tuple[int, int]) -> Image.Image:
    """A picture that compresses badly, like a detailed photo."""
    channels = [Image.effect_noise(size, 80 + 10 * i) for i in range(3)]
    return Image.merge("RGB", channels)


def metadata_left(data: bytes) -> list[str]:
    """The metadata a file still carries (empty when it is clean)."""
    found = []
    with Image.open(io.BytesIO(data)) as image:
        if image.getexif():
            found.append("exif")
        found += [
            key
            for key in ("icc_profile", "xmp", "exif", "XML:com.adobe.xmp", "comment")
            if image.info.get(key)
        ]
    for marker in (b"Exif\x00", b"GPS", b"http://ns.adobe.com/xap", b"xmpmeta", b"Apple"):
        if marker in data:
            found.append(marker.decode(errors="replace"))
    return found


def is_red(pixel: object) -> bool:
    r, _g, b = pixel[:3]  # type: ignore[index]
    return bool(r > 150 and b < 100)


def is_blue(pixel: object) -> bool:
    r, _g, b = pixel[:3]  # type: ignore[index]
    return bool(b > 150 and r < 100)


def has_red(image: Image.Image) -> bool:
    pixels = image.convert("RGB").resize((64, 32)).tobytes()
    return any(r > 180 and b < 90 for r, b in zip(pixels[0::3], pixels[2::3], strict=True))
