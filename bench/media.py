"""Benchmark: the media pipeline on a 12-megapixel phone photo.

    .venv/bin/python bench/media.py [--runs 7]

For each run: sanitize (decode, turn upright, strip metadata, re-encode the master) then the six
network renditions, as an upload does; and, as a baseline in the same process, a plain Pillow
loop (open, resize to 2048 px, save as JPEG) six times. Prints the median time per image and the
peak memory (tracemalloc for Python allocations; ru_maxrss for the whole process, which includes
Pillow's own buffers). Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import platform
import resource
import statistics
import sys
import tracemalloc
from collections.abc import Callable

import harness
from PIL import Image, ImageFilter

from core.media import pipeline
from core.media.rules import RULES

SIZE = (4032, 3024)  # 12.2 megapixels, a common phone sensor


def phone_photo() -> bytes:
    """A 12 MP JPEG with photo-like detail (noise, blurred a little) and an EXIF orientation."""
    channels = [Image.effect_noise(SIZE, 40 + 15 * i) for i in range(3)]
    image = Image.merge("RGB", channels).filter(ImageFilter.GaussianBlur(1.2))
    exif = Image.Exif()
    exif[0x0112] = 6  # taken in portrait: stored sideways
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def sanitize_only(data: bytes) -> None:
    pipeline.sanitize(io.BytesIO(data), max_pixels=50_000_000)


def beffroi(data: bytes) -> None:
    clean = pipeline.sanitize(io.BytesIO(data), max_pixels=50_000_000)
    for rules in RULES.values():
        pipeline.render(clean.image, rules, focal=(0.5, 0.4))


def baseline(data: bytes) -> None:
    """What any image service does at least once: open, resize to 2048 px, save as JPEG."""
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((2048, 2048), Image.Resampling.LANCZOS)
        image.save(io.BytesIO(), "JPEG", quality=85)


def measure(work: Callable[[bytes], None], data: bytes, runs: int) -> tuple[float, float]:
    """Median in milliseconds, peak of Python allocations in MB."""
    work(data)  # warm up: imports, caches
    tracemalloc.start()
    times = harness.durations(lambda: work(data), runs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    data = phone_photo()
    python = sys.version.split()[0]
    print(f"Machine: {platform.machine()}, {platform.processor() or '?'}, Python {python}")
    print(f"Pillow {Image.__version__}; photo {SIZE[0]}×{SIZE[1]} JPEG, {len(data) / 1e6:.1f} MB")
    print(f"{'per photo':40} {'median':>9} {'peak (tracemalloc)':>19}")
    for label, work in [
        ("baseline: Pillow open+resize+save, once", baseline),
        ("Beffroi: sanitize only (stored image)", sanitize_only),
        ("Beffroi: sanitize + 6 renditions", beffroi),
    ]:
        median, peak = measure(work, data, args.runs)
        print(f"{label:40} {median:6.0f} ms {peak:16.1f} MB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000
    print(f"process peak resident memory (ru_maxrss): {rss:.0f} MB")


if __name__ == "__main__":
    main()
