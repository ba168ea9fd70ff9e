"""Measure one star-field image: background, sigma-clipped noise and sources above 5 sigma.

    python analyze.py data/field_0000.fits [--out DIR]

Reads a FITS image (or a .npy array), writes `<stem>.json` into DIR (default: results/ next to this
script) and prints one summary line. Uses numpy only. The shape `def main(path)` +
`if __name__ == "__main__":` lets Parallel Run call main() in a warm worker instead of starting
Python (and importing numpy) once per file.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DETECT_SIGMA = 5.0
CLIP_SIGMA = 3.0
APERTURE = 3  # half-size of the square photometry aperture (7x7 pixels)


def read_image(path: Path) -> tuple[np.ndarray, dict[str, object]]:
    """Return (image as float64, header cards) from a FITS primary HDU or a .npy file."""
    if path.suffix == ".npy":
        return np.load(path).astype(np.float64), {}
    raw = path.read_bytes()
    header: dict[str, object] = {}
    offset = 0
    while True:
        if offset + 2880 > len(raw):
            raise ValueError("no END card: not a FITS file (expected .fits or .npy)")
        block = raw[offset : offset + 2880].decode("ascii", errors="replace")
        offset += 2880
        done = False
        for i in range(0, 2880, 80):
            card = block[i : i + 80]
            key = card[:8].strip()
            if key == "END":
                done = True
                break
            if card[8:10] == "= ":
                value = card[10:].split("/", 1)[0].strip() if "'" not in card[10:] else card[10:].split("'")[1].strip()
                header[key] = value
        if done:
            break
    if header.get("SIMPLE") != "T":
        raise ValueError("not a FITS file (SIMPLE = T missing)")
    bitpix, width, height = int(header["BITPIX"]), int(header["NAXIS1"]), int(header["NAXIS2"])
    dtype = {8: ">u1", 16: ">i2", 32: ">i4", -32: ">f4", -64: ">f8"}[bitpix]
    count = width * height
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(height, width)
    image = data.astype(np.float64) * float(header.get("BSCALE", 1)) + float(header.get("BZERO", 0))
    return image, header


def sigma_clip(values: np.ndarray, nsigma: float = CLIP_SIGMA, max_iter: int = 10) -> tuple[float, float, int]:
    """Iterative n-sigma clipping around the median; returns (median, std, iterations)."""
    kept = values.ravel()
    for iteration in range(1, max_iter + 1):
        median, std = float(np.median(kept)), float(np.std(kept))
        inside = kept[np.abs(kept - median) < nsigma * std]
        if inside.size == kept.size:
            return median, std, iteration
        kept = inside
    return float(np.median(kept)), float(np.std(kept)), max_iter


def local_maxima(image: np.ndarray, half: int = 2) -> np.ndarray:
    """Mask of pixels that are the maximum of their (2*half+1)^2 neighbourhood (separable max filter)."""
    padded = np.pad(image, half, mode="constant", constant_values=-np.inf)
    rows = padded[:, : image.shape[1]].copy()
    for dx in range(1, 2 * half + 1):
        np.maximum(rows, padded[:, dx : dx + image.shape[1]], out=rows)
    full = rows[: image.shape[0]].copy()
    for dy in range(1, 2 * half + 1):
        np.maximum(full, rows[dy : dy + image.shape[0]], out=full)
    return image >= full


def measure(image: np.ndarray) -> dict[str, object]:
    """All measurements for one image (pure function of the pixels)."""
    background, noise, iterations = sigma_clip(image)
    threshold = background + DETECT_SIGMA * noise
    # a tiny position-dependent offset breaks ties on flat (e.g. saturated) peaks so each counts once
    tie_break = np.arange(image.size, dtype=np.float64).reshape(image.shape) * 1e-9
    peaks = local_maxima(image + tie_break) & (image > threshold)
    ys, xs = np.nonzero(peaks)
    # aperture photometry and second-moment size for each source, all at once on stacked stamps
    padded = np.pad(image - background, APERTURE, mode="constant")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (2 * APERTURE + 1, 2 * APERTURE + 1))
    stamps = windows[ys, xs]
    fluxes = stamps.sum(axis=(1, 2))
    offsets = np.arange(-APERTURE, APERTURE + 1)
    r2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    weights = np.clip(stamps, 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = (weights * r2).sum(axis=(1, 2)) / weights.sum(axis=(1, 2)) / 2
    snr = image[ys, xs] - background
    good = snr > 20 * noise
    fwhm = float(np.median(2.3548 * np.sqrt(sigma2[good]))) if good.any() else None
    return {
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "background": round(background, 3),
        "noise": round(noise, 4),
        "clip_iterations": iterations,
        "threshold": round(threshold, 3),
        "sources": int(ys.size),
        "brightest_flux": round(float(fluxes.max()), 1) if fluxes.size else None,
        "median_fwhm_px": round(fwhm, 3) if fwhm is not None else None,
    }


def main(path: str, out: str | None = None) -> dict[str, object]:
    """Analyse one image file, write <stem>.json into `out` (default results/), return the result."""
    started = time.perf_counter()
    source = Path(path)
    image, header = read_image(source)
    result: dict[str, object] = {"file": source.name, **measure(image)}
    if "NSTARS" in header:
        result["injected"] = int(str(header["NSTARS"]))
    result["seconds"] = round(time.perf_counter() - started, 4)
    out_dir = Path(out) if out else HERE / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{source.stem}.json"
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{source.name}: background {result['background']:.1f}  noise {result['noise']:.2f}  "
          f"sources {result['sources']}  -> {target}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Measure background, noise and 5-sigma sources in one image.")
    parser.add_argument("path", help="image file (.fits or .npy)")
    parser.add_argument("--out", help="folder for the JSON result (default: results/ next to this script)")
    args = parser.parse_args()
    try:
        main(args.path, args.out)
    except FileNotFoundError:
        sys.exit(f"analyze.py: {args.path}: no such file. Generate images with: python make_data.py")
    except (ValueError, KeyError) as err:
        sys.exit(f"analyze.py: {args.path}: cannot read the image ({err}). Pass a .fits or .npy image.")
