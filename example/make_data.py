"""Generate synthetic star-field images for the Parallel Run example.

Each image is a small FITS file (16-bit CCD counts, like a real camera frame): a sky background,
Gaussian read noise and a few dozen stars with a Gaussian point-spread function and random fluxes.
Seeds are deterministic (image i always looks the same) and existing files are skipped, so running
this again is instant.

    python make_data.py                 # 300 images into ./data
    python make_data.py --count 20 --out /tmp/fields
    python make_data.py --count 1 --stars 12 --bright --prefix known --out /tmp/t
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SKY = 1000.0  # background level in ADU
READ_NOISE = 10.0  # ADU, standard deviation of the Gaussian noise
PSF_SIGMA = 1.6  # pixels
STAMP = 8  # half-size of the square each star is painted into (5 sigma of the PSF)


def fits_header(cards: list[tuple[str, object, str]]) -> bytes:
    """Build a FITS primary header: 80-character cards padded to a multiple of 2880 bytes."""
    lines = []
    for key, value, comment in cards:
        if isinstance(value, bool):
            text = "T" if value else "F"
        elif isinstance(value, str):
            text = f"'{value:<8}'"
        else:
            text = str(value)
        lines.append(f"{key:<8}= {text:>20} / {comment}"[:80].ljust(80))
    lines.append("END".ljust(80))
    raw = "".join(lines).encode("ascii")
    return raw + b" " * (-len(raw) % 2880)


def write_fits(path: Path, image: np.ndarray, extra: list[tuple[str, object, str]]) -> None:
    """Write a 2-D uint16 image as FITS BITPIX=16 with BZERO=32768 (the standard unsigned trick)."""
    counts = np.clip(np.rint(image), 0, 65535).astype(np.uint16)
    stored = (counts.astype(np.int32) - 32768).astype(">i2")
    header = fits_header([
        ("SIMPLE", True, "conforms to FITS standard"),
        ("BITPIX", 16, "16-bit integers"),
        ("NAXIS", 2, "image"),
        ("NAXIS1", image.shape[1], "columns"),
        ("NAXIS2", image.shape[0], "rows"),
        ("BZERO", 32768, "unsigned 16-bit counts"),
        ("BSCALE", 1, ""),
        *extra,
    ])
    data = stored.tobytes()
    tmp = path.with_suffix(path.suffix + ".part")
    # write then rename: an interrupted generator never leaves a truncated image behind
    tmp.write_bytes(header + data + b"\0" * (-len(data) % 2880))
    tmp.replace(path)


def make_image(seed: int, size: int, n_stars: int, bright: bool, separation: float) -> tuple[np.ndarray, int]:
    """Render one star field; returns (image, number of stars injected)."""
    rng = np.random.default_rng(seed)
    image = SKY + rng.normal(0.0, READ_NOISE, (size, size))
    # positions: keep stars away from the edges; optionally well separated from each other
    positions: list[tuple[float, float]] = []
    attempts = 0
    while len(positions) < n_stars and attempts < 100 * n_stars:
        attempts += 1
        y, x = rng.uniform(STAMP, size - STAMP - 1, 2)
        if separation > 0 and any((y - py) ** 2 + (x - px) ** 2 < separation**2 for py, px in positions):
            continue
        positions.append((y, x))
    if bright:
        # peak 20-200 sigma: every one of these is unambiguously a 5-sigma detection
        fluxes = rng.uniform(20, 200, len(positions)) * READ_NOISE * 2 * np.pi * PSF_SIGMA**2
    else:
        # a power law like real star counts: many faint stars (some below the detection limit), few bright
        # capped so the brightest peaks stay below the 16-bit ceiling (no saturated plateaus)
        fluxes = np.minimum(rng.pareto(1.5, len(positions)) + 0.3, 60) * 40 * READ_NOISE * 2 * np.pi * PSF_SIGMA**2
    offsets = np.arange(-STAMP, STAMP + 1)
    for (y, x), flux in zip(positions, fluxes):
        iy, ix = int(round(y)), int(round(x))
        gy = np.exp(-((iy + offsets - y) ** 2) / (2 * PSF_SIGMA**2))
        gx = np.exp(-((ix + offsets - x) ** 2) / (2 * PSF_SIGMA**2))
        image[iy - STAMP : iy + STAMP + 1, ix - STAMP : ix + STAMP + 1] += flux / (2 * np.pi * PSF_SIGMA**2) * np.outer(gy, gx)
    return image, len(positions)


def generate(out: Path, count: int, size: int, stars: int | None, bright: bool, prefix: str, seed: int) -> int:
    """Create the missing images in `out`; returns how many were written."""
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for i in range(count):
        path = out / f"{prefix}_{i:04d}.fits"
        if path.exists():
            continue
        rng = np.random.default_rng(seed + i)
        n = stars if stars is not None else int(rng.integers(20, 120))
        image, injected = make_image(seed + 1_000_003 * (i + 1), size, n, bright, 12.0 if bright else 0.0)
        write_fits(path, image, [
            ("OBJECT", f"field {i}", "synthetic star field"),
            ("NSTARS", injected, "stars injected (some may be below 5 sigma)"),
            ("SKYLEVEL", SKY, "true background, ADU"),
            ("RDNOISE", READ_NOISE, "true noise, ADU"),
        ])
        written += 1
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Generate synthetic star-field FITS images (idempotent).")
    parser.add_argument("--count", type=int, default=300, help="number of images (default 300)")
    parser.add_argument("--out", type=Path, default=HERE / "data", help="output folder (default: data/ next to this script)")
    parser.add_argument("--size", type=int, default=256, help="image width and height in pixels (default 256)")
    parser.add_argument("--stars", type=int, default=None, help="exact number of stars per image (default: random 20-120)")
    parser.add_argument("--bright", action="store_true", help="only bright, well-separated stars (for tests)")
    parser.add_argument("--prefix", default="field", help="file name prefix (default 'field')")
    parser.add_argument("--seed", type=int, default=2024, help="base random seed (default 2024)")
    args = parser.parse_args(argv)
    if args.count < 0 or args.size < 4 * STAMP:
        parser.error(f"--count must be >= 0 and --size >= {4 * STAMP}")
    started = time.perf_counter()
    written = generate(args.out, args.count, args.size, args.stars, args.bright, args.prefix, args.seed)
    print(f"{written} new image(s), {args.count - written} already present in {args.out} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
