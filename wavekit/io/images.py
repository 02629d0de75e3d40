"""Image stacks: multi-page TIFF files (format ``tiff``) and folders of numbered PNG frames
(format ``frames``). Both give grid activity ``(time, y, x)``: one frame per time step, image rows
along y, columns along x, pixel values kept in their own type (uint16 stays uint16).

Multi-page TIFF (read with ``tifffile``)
    The image series of the file (all pages stacked when the file holds several 2-D series of one
    shape). Its axes come from the file (``TYX``, ``ZYX``, ``IYX``: the non-spatial axis is time);
    colour (RGB) or multi-channel stacks are refused. The sampling rate comes from ImageJ
    metadata (``finterval`` in s, with ``tunit``; or ``fps``), or from the JSON description that
    ``tifffile`` writes (``fs_hz``, ``spacing_mm``); the pixel size from the resolution tags when
    calibrated in a length unit (ImageJ ``unit`` of mm, um or nm, or a centimetre/millimetre/
    micrometre resolution unit). Anything missing must come from ``--fs`` / ``--spacing-mm``.

Folder of PNG frames (read with Pillow)
    Every ``*.png`` in the folder, ordered by the number in its name (the last run of digits:
    ``frame_9.png`` before ``frame_10.png``), not lexically. The numbers must be consecutive:
    a gap, a repeated number, a name without a number, a frame of another size or pixel mode, or
    an unreadable frame is an error naming the first offending file. PNG holds no sampling rate
    or pixel size, so ``--fs`` and ``--spacing-mm`` are required. Colour frames (RGB, palette)
    are converted to luminance (noted).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import (
    LAZY_BYTES,
    LENGTH_MM,
    Found,
    Overrides,
    assemble,
    fs_from_attrs,
    spacing_from_attrs,
)

TIME_S = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "ms": 1e-3,
    "msec": 1e-3,
    "millisecond": 1e-3,
    "milliseconds": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "min": 60.0,
}


def read(path: Path, ov: Overrides) -> Found:
    """Read a TIFF stack, or a folder of numbered PNG frames."""
    if path.is_dir():
        return _read_frames(path, ov)
    return _read_tiff(path, ov)


# ----------------------------------------------------------------------------- TIFF


def _tiff_fs(ij: dict, shaped: dict) -> tuple[float, str] | None:
    if ij:
        tunit = str(ij.get("tunit", "s")).strip().lower()
        scale = TIME_S.get(tunit, 1.0)
        fi = ij.get("finterval")
        if fi is not None and float(fi) > 0:
            return 1.0 / (float(fi) * scale), f"ImageJ frame interval {fi} {tunit}"
        fps = ij.get("fps")
        if fps is not None and float(fps) > 0:
            return float(fps), "ImageJ fps"
    if shaped:
        return fs_from_attrs(shaped)
    return None


def _tiff_spacing(tf: Any, ij: dict, shaped: dict) -> tuple[tuple[float, float], str] | None:
    if shaped:
        sp = spacing_from_attrs(shaped)
        if sp is not None:
            return sp[0], f"the TIFF description's {sp[1]}"
    page = tf.pages[0]
    try:
        xres, yres = (float(r) for r in page.resolution)
    except (TypeError, ValueError, AttributeError):
        return None
    if not (xres > 0 and yres > 0):
        return None
    unit_name = None
    if ij and ij.get("unit"):
        unit_name = str(ij["unit"]).strip().lower()
    else:
        ru = int(getattr(page, "resolutionunit", 1))
        unit_name = {3: "cm", 4: "mm", 5: "um"}.get(ru)
    if unit_name is None or unit_name not in LENGTH_MM:
        return None
    if xres == 1.0 and yres == 1.0 and unit_name not in ("mm", "um", "micron"):
        return None  # uncalibrated default
    scale = LENGTH_MM[unit_name]
    return (
        scale / yres,
        scale / xres,
    ), f"TIFF resolution tags ({xres:g} x {yres:g} px per {unit_name})"


def _read_tiff(path: Path, ov: Overrides) -> Found:
    import tifffile

    notes: list[str] = []
    try:
        tf = tifffile.TiffFile(path)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a damaged user file
        raise InputError(
            path, f"damaged or truncated TIFF file ({type(exc).__name__}: {exc})"
        ) from None
    with tf:
        ij = tf.imagej_metadata or {}
        shaped = {}
        if tf.shaped_metadata:
            shaped = {k: v for k, v in dict(tf.shaped_metadata[0]).items() if k != "shape"}
        series = tf.series
        if not series:
            raise InputError(path, "the TIFF file holds no images")
        s0 = series[0]
        stack_pages = len(series) > 1 and all(
            s.ndim == 2 and s.shape == s0.shape and s.dtype == s0.dtype for s in series
        )
        if stack_pages:
            shape = (len(series), *s0.shape)
            axes = "I" + s0.axes
            dtype = s0.dtype
        else:
            shape, axes, dtype = tuple(s0.shape), str(s0.axes), s0.dtype
            if len(series) > 1:
                notes.append(
                    f"{len(series)} image series of different shapes: using the first ({shape})"
                )
        notes.append(
            f"TIFF image {'x'.join(map(str, shape))} {dtype}, axes {axes}"
            + (" (ImageJ)" if ij else "")
        )
        if np.dtype(dtype).kind not in "iufb":
            raise InputError(path, f"TIFF pixels have non-numeric type {dtype}")
        kw: dict[str, Any] = {}
        if ov.dims is None:
            kw.update(_tiff_dims(path, axes, shape))
        fs = _tiff_fs(ij, shaped)
        if fs is not None:
            kw.update(fs_hz=fs[0], fs_reason=fs[1])
        sp = _tiff_spacing(tf, ij, shaped)
        if sp is not None:
            kw.update(spacing_mm=sp[0], spacing_reason=sp[1])
        units = shaped.get("units") if shaped else None
        if isinstance(units, str):
            kw["units"] = units
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        lazy = ov.lazy if ov.lazy is not None else nbytes > LAZY_BYTES
        data = None
        if lazy and not stack_pages:
            data = _lazy_tiff(path, notes, nbytes)
        if data is None:
            try:
                data = tf.asarray(key=slice(None)) if stack_pages else s0.asarray()
            except Exception as exc:  # noqa: BLE001 - truncated image data
                raise InputError(
                    path, f"damaged or truncated TIFF image data ({type(exc).__name__}: {exc})"
                ) from None
            data = np.asarray(data).reshape(shape)
    new_shape = kw.pop("reshape", None)
    if new_shape is not None:
        data = data.reshape(new_shape)
    da = assemble(data, path=path, ov=ov, notes=notes, **kw)
    return Found(activity=da, format="tiff", dataset=None, notes=notes)


def _tiff_dims(path: Path, axes: str, shape: tuple[int, ...]) -> dict[str, Any]:
    """Map tifffile's axes letters to wavekit dims (the one non-spatial axis is time)."""
    if len(shape) == 2:
        raise InputError(
            path,
            f"a single {shape[0]} x {shape[1]} image: activity needs a "
            "stack of frames over time (a multi-page TIFF)",
        )
    letters = list(axes)
    if "S" in letters and shape[letters.index("S")] > 1:
        raise InputError(
            path,
            "colour (RGB) TIFF: wavekit needs one value per pixel; save "
            "the stack as grayscale, or name the axes with --dims",
        )
    if "C" in letters and shape[letters.index("C")] > 1:
        raise InputError(
            path,
            f"TIFF with {shape[letters.index('C')]} channels (axes {axes}):"
            " save one channel per file, or name the axes with --dims",
        )
    if letters[-2:] != ["Y", "X"]:
        return {}
    lead = [i for i in range(len(letters) - 2) if shape[i] > 1]
    if len(lead) > 1:
        return {}  # several non-spatial axes: --dims (e.g. trial,time,y,x) decides
    t = lead[0] if lead else 0
    name = _AXIS_NAMES.get(letters[t], letters[t])
    out: dict[str, Any] = {
        "dims": ("time", "y", "x"),
        "dims_reason": f"TIFF axes {axes}: the {name} axis taken as time",
    }
    if len(shape) > 3:
        out["reshape"] = (shape[t], shape[-2], shape[-1])
    return out


_AXIS_NAMES = {"T": "time", "Z": "depth (page)", "I": "page", "Q": "page", "C": "channel"}


def _lazy_tiff(path: Path, notes: list[str], nbytes: int) -> Any:
    try:
        import dask.array as dsa
        import tifffile

        store = tifffile.imread(path, aszarr=True)
        data = dsa.from_zarr(store)
    except Exception:  # noqa: BLE001 - fall back to reading the whole stack
        return None
    notes.append(f"opened lazily ({nbytes / 2**20:.0f} MiB): read chunk by chunk when used")
    return data


# ----------------------------------------------------------------------------- PNG frames

_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def _numbered_frames(folder: Path) -> list[Path]:
    pngs = [
        p for p in folder.iterdir() if p.suffix.lower() == ".png" and not p.name.startswith(".")
    ]
    if not pngs:
        others = sorted(p.name for p in folder.iterdir())[:5]
        listing = ", ".join(others) if others else "the folder is empty"
        raise InputError(
            folder,
            f"no PNG frames in this folder ({listing}): wavekit reads "
            "folders of numbered PNG frames or Zarr stores",
        )
    numbered: list[tuple[int, Path]] = []
    for p in pngs:
        m = _NUMBER.search(p.stem)
        if m is None:
            raise InputError(
                p,
                "frame file name has no number: name frames 0.png, 1.png, ... "
                "(or frame_0001.png, ...)",
            )
        numbered.append((int(m.group(1)), p))
    numbered.sort(key=lambda t: (t[0], t[1].name))
    for (n0, p0), (n1, p1) in zip(numbered, numbered[1:], strict=False):
        if n1 == n0:
            raise InputError(
                p1, f"frame number {n1} repeats {p0.name}: each frame needs its own number"
            )
        if n1 != n0 + 1:
            missing = f"{n0 + 1}" if n1 == n0 + 2 else f"{n0 + 1} to {n1 - 1}"
            raise InputError(
                p1,
                f"gap in the frame numbers: frame {missing} missing before "
                "this one (frames must be numbered consecutively)",
            )
    return [p for _, p in numbered]


_COLOUR_MODES = ("RGB", "RGBA", "P", "LA", "PA", "CMYK", "YCbCr", "HSV", "RGBX", "La")


def _load_png(p: Path, convert: bool) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(p) as im:
            im.load()
            if convert:
                im = im.convert("L")
            return np.asarray(im)
    except Exception as exc:  # noqa: BLE001 - any unreadable frame is the user's file
        raise InputError(p, f"unreadable PNG frame ({type(exc).__name__}: {exc})") from None


def _read_frames(folder: Path, ov: Overrides) -> Found:
    from PIL import Image

    notes: list[str] = []
    files = _numbered_frames(folder)
    first = files[0]
    mode = size = None
    for p in files:
        try:
            with Image.open(p) as im:
                m, s = im.mode, im.size
        except Exception as exc:  # noqa: BLE001 - any unreadable frame is the user's file
            raise InputError(p, f"unreadable PNG frame ({type(exc).__name__}: {exc})") from None
        if mode is None:
            mode, size = m, s
        elif m != mode:
            raise InputError(
                p,
                f"pixel mode {m} differs from {mode} of {first.name}: all "
                "frames must have one mode",
            )
        elif s != size:
            raise InputError(
                p,
                f"frame size {s[0]} x {s[1]} px differs from {size[0]} x "
                f"{size[1]} of {first.name}: all frames must have one size",
            )
    if ov.fs_hz is None:
        raise InputError(
            folder,
            "no sampling rate: PNG frames carry no frame rate, pass --fs HZ (frames per second)",
        )
    if ov.spacing_mm is None:
        raise InputError(
            folder,
            "no grid spacing: PNG frames carry no pixel size, pass "
            "--spacing-mm MM (field of view / pixels)",
        )
    convert = mode in _COLOUR_MODES
    sample = _load_png(first, convert)
    nbytes = sample.nbytes * len(files)
    notes.append(
        f"{len(files)} PNG frames {first.name} ... {files[-1].name} in numeric order, "
        f"{size[0]} x {size[1]} px, mode {mode} ({sample.dtype})"
    )
    if convert:
        notes.append(f"colour frames (mode {mode}) converted to luminance")
    lazy = ov.lazy if ov.lazy is not None else nbytes > LAZY_BYTES
    if lazy:
        import dask
        import dask.array as dsa

        parts = [
            dsa.from_delayed(
                dask.delayed(_load_png)(p, convert), shape=sample.shape, dtype=sample.dtype
            )
            for p in files
        ]
        data = dsa.stack(parts)
        notes.append(f"opened lazily ({nbytes / 2**20:.0f} MiB): frames read when used")
    else:
        data = np.empty((len(files), *sample.shape), dtype=sample.dtype)
        data[0] = sample
        for i, p in enumerate(files[1:], start=1):
            frame = _load_png(p, convert)
            if frame.shape != sample.shape or frame.dtype != sample.dtype:
                raise InputError(
                    p,
                    f"frame decodes as {frame.shape} {frame.dtype}, unlike "
                    f"{sample.shape} {sample.dtype} of {first.name}",
                )
            data[i] = frame
    if data.ndim != 3:
        raise InputError(
            folder, f"frames decode as shape {sample.shape}: expected one value per pixel"
        )
    da = assemble(
        data,
        path=folder,
        ov=ov,
        notes=notes,
        dims=("time", "y", "x"),
        dims_reason="one frame per time step (rows y, columns x)",
    )
    return Found(activity=da, format="frames", dataset=None, notes=notes)
