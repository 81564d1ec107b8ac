"""The image pipeline: images come from anyone, so each one is decoded under limits, turned
upright, converted to sRGB and re-encoded without any metadata before it is stored; renditions are
then cut from that clean image to each network's rules (core.media.rules).

Pure functions on bytes and Pillow images: no database, no files.

Decisions:
- Accepted: JPEG, PNG, WebP and GIF, identified by their content (Pillow is only allowed those four
  decoders), whatever the file is called.
- The stored image ("master") is JPEG for photos and PNG for PNG or GIF sources and for anything
  with transparency; WebP becomes JPEG (or PNG with transparency), which every network and website
  takes. Its longest side is at most MASTER_MAX_SIDE: networks show far less, and it bounds the
  memory and time of every later rendition.
- Animated GIFs keep their first frame only: Instagram, LinkedIn's and Facebook's image posts and
  Bluesky's image embeds do not animate, a GIF's many frames are a cheap way to exhaust memory,
  and a still picture can carry a text alternative that describes it fully. The upload answer says
  so.
- Renditions are JPEG (the one format every network takes), on white where the source was
  transparent, and with full-resolution colour (4:4:4) when the master is a PNG, so the text of
  branded visuals stays sharp.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import struct
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from core.media import errors
from core.media.rules import GIF, JPEG, PNG, WEBP, NetworkMediaRules

log = logging.getLogger(__name__)

DECODERS = {"JPEG": JPEG, "PNG": PNG, "WEBP": WEBP, "GIF": GIF}
MASTER_MAX_SIDE = 4096
MASTER_JPEG_QUALITY = 90
RENDITION_QUALITIES = (88, 82, 76, 70, 62, 55)
WHITE = (255, 255, 255)

# Truncated files must fail, not decode into half-grey pictures; another library could flip it.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Past MAX_IMAGE_PIXELS Pillow only warns (it raises from twice that): make the warning an error
# too. sanitize() also checks the size itself, so this filter is a second line, not the only one.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

# Exceptions Pillow's decoders raise on malformed input.
_DECODING_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    ZeroDivisionError,
)


@dataclass
class CleanImage:
    """An image that is safe to store: upright, sRGB, without metadata."""

    image: Image.Image  # mode RGB or RGBA
    data: bytes  # the encoded master
    mime: str
    sha256: str
    was_animated: bool

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


@dataclass
class Rendition:
    data: bytes
    mime: str
    width: int
    height: int
    sha256: str


def sanitize(source: IO[bytes], *, max_pixels: int) -> CleanImage:
    """Decode an untrusted image under limits and re-encode it cleanly; raises a 4xx AppError
    (UnsupportedFormat, TooManyPixels, CorruptImage) for anything else."""
    head = source.read(64)
    source.seek(0)
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        image = Image.open(source, formats=list(DECODERS))
    except UnidentifiedImageError:
        raise _unsupported(head) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise errors.TooManyPixels(limit=_megapixels(max_pixels)) from None
    except _DECODING_ERRORS as exc:
        log.info("Unreadable image header: %r", exc)
        raise errors.CorruptImage() from None

    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise errors.TooManyPixels(
                limit=_megapixels(max_pixels), extra={"width": width, "height": height}
            )
        source_format = image.format or ""
        try:
            was_animated = bool(getattr(image, "is_animated", False))
            if was_animated:
                image.seek(0)
            if source_format == "JPEG":
                # Decode big JPEGs at a reduced scale straight away (DCT scaling): faster, and a
                # fraction of the memory.
                image.draft("RGB", _fit((width, height), MASTER_MAX_SIDE))
            image.load()
            clean = _upright_srgb(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise errors.TooManyPixels(limit=_megapixels(max_pixels)) from None
        except _DECODING_ERRORS as exc:
            log.info("Unreadable image data: %r", exc)
            raise errors.CorruptImage() from None

    if max(clean.size) > MASTER_MAX_SIDE:
        clean.thumbnail(
            (MASTER_MAX_SIDE, MASTER_MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0
        )
    lossless = source_format in {"PNG", "GIF"} or clean.mode == "RGBA"
    if lossless:
        data = encode(clean, "PNG")
        mime = PNG
    else:
        data = encode(clean, "JPEG", quality=MASTER_JPEG_QUALITY)
        mime = JPEG
    return CleanImage(
        image=clean,
        data=data,
        mime=mime,
        sha256=hashlib.sha256(data).hexdigest(),
        was_animated=was_animated,
    )


def from_drawing(image: Image.Image) -> CleanImage:
    """A picture Beffroi drew itself (a branded visual): stored as PNG, text stays crisp."""
    clean = image.convert("RGB")
    data = encode(clean, "PNG")
    return CleanImage(
        image=clean,
        data=data,
        mime=PNG,
        sha256=hashlib.sha256(data).hexdigest(),
        was_animated=False,
    )


def open_clean(data: bytes) -> Image.Image:
    """Decode a master that sanitize() wrote (trusted: no limits needed beyond Pillow's own)."""
    with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as image:
        image.load()
        return image.convert("RGBA") if image.mode == "RGBA" else image.convert("RGB")


def render(
    image: Image.Image,
    rules: NetworkMediaRules,
    *,
    focal: tuple[float, float] = (0.5, 0.5),
    graphics: bool = False,
) -> Rendition:
    """A JPEG of `image` that fits `rules`: cropped to the network's ratio band around the focal
    point, scaled into its box, and compressed under its byte limit."""
    box, (width, height) = plan(image.size, rules, focal)
    flat = flatten(image)
    resized = flat.resize((width, height), Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)
    subsampling = 0 if graphics else 2  # 4:4:4 keeps the edges of text free of colour fringes
    while True:
        for quality in RENDITION_QUALITIES:
            data = encode(resized, "JPEG", quality=quality, subsampling=subsampling)
            if len(data) <= rules.max_bytes:
                return Rendition(
                    data=data,
                    mime=JPEG,
                    width=resized.width,
                    height=resized.height,
                    sha256=hashlib.sha256(data).hexdigest(),
                )
        # Still too heavy at the lowest quality we accept: make it smaller, keeping the ratio.
        smaller = (max(1, int(resized.width * 0.85)), max(1, int(resized.height * 0.85)))
        resized = resized.resize(smaller, Image.Resampling.LANCZOS)


def plan(
    size: tuple[int, int], rules: NetworkMediaRules, focal: tuple[float, float]
) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
    """The crop box in the source and the output size of a rendition."""
    width, height = size
    ratio = width / height
    target = ratio
    if rules.min_ratio is not None:
        target = max(target, rules.min_ratio)
    if rules.max_ratio is not None:
        target = min(target, rules.max_ratio)
    crop_w, crop_h = float(width), float(height)
    if target < ratio:  # too wide: keep the full height, cut the sides
        crop_w = height * target
    elif target > ratio:  # too tall: keep the full width, cut top and bottom
        crop_h = width / target
    fx, fy = focal
    left = min(max(fx * width - crop_w / 2, 0.0), width - crop_w)
    top = min(max(fy * height - crop_h / 2, 0.0), height - crop_h)
    box = (left, top, left + crop_w, top + crop_h)

    box_w, box_h = rules.rendition_box
    scale = min(1.0, box_w / crop_w, box_h / crop_h)
    if rules.min_width and crop_w * scale < rules.min_width:
        scale = rules.min_width / crop_w
    out_w = max(1, round(crop_w * scale))
    out_h = max(1, round(crop_h * scale))
    # Rounding must not push the result out of the band the network enforces.
    if rules.min_ratio is not None and out_w / out_h < rules.min_ratio:
        out_h = max(1, math.floor(out_w / rules.min_ratio))
    if rules.max_ratio is not None and out_w / out_h > rules.max_ratio:
        out_h = math.ceil(out_w / rules.max_ratio)
    return box, (out_w, out_h)


def flatten(image: Image.Image, background: tuple[int, int, int] = WHITE) -> Image.Image:
    if image.mode != "RGBA":
        return image if image.mode == "RGB" else image.convert("RGB")
    flat = Image.new("RGB", image.size, background)
    flat.paste(image, mask=image.getchannel("A"))
    return flat


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """Encode without any metadata: Pillow copies `info` (EXIF, ICC, XMP, text chunks) into some
    formats by default, so it is emptied first."""
    image.info = {}
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", optimize=True, **options)
    else:
        image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _upright_srgb(image: ImageFile.ImageFile) -> Image.Image:
    """The decoded image turned upright (EXIF orientation), in sRGB, as RGB or RGBA."""
    upright = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    normalised = _eight_bit(upright)
    alpha = _has_alpha(normalised)
    mode = "RGBA" if alpha else "RGB"
    converted: Image.Image | None = None
    if icc:
        try:
            converted = ImageCms.profileToProfile(
                normalised,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode=mode,
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
            # A broken or exotic profile: keep the pixels as they are rather than refuse.
            log.info("Ignoring an unusable ICC profile: %r", exc)
    if converted is None:
        converted = normalised.convert(mode)
    if mode == "RGBA" and converted.getchannel("A").getextrema()[0] == 255:
        converted = converted.convert("RGB")  # fully opaque: no need for an alpha channel
    return converted


def _eight_bit(image: Image.Image) -> Image.Image:
    if image.mode.startswith("I;16"):
        image = image.convert("I")
    if image.mode in {"I", "F"}:
        return image.point(lambda value: value * (1 / 256)).convert("L")
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.0f}"


_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
_OTHER_SIGNATURES = {
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"BM": "BMP",
    b"%PDF": "PDF",
    b"8BPS": "PSD",
    b"\x00\x00\x01\x00": "ICO",
}


def _unsupported(head: bytes) -> errors.UnsupportedFormat:
    """A refusal that names the format when it is a known one, so the person knows what to do."""
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return errors.UnsupportedFormat(errors.HEIC_DETAIL)
    for signature, name in _OTHER_SIGNATURES.items():
        if head.startswith(signature):
            return errors.UnsupportedFormat(errors.OTHER_IMAGE_DETAIL, format=name)
    if b"<svg" in head.lower():
        return errors.UnsupportedFormat(errors.OTHER_IMAGE_DETAIL, format="SVG")
    return errors.UnsupportedFormat()
