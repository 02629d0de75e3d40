"""The short movie of an analysis (``wavekit analyze --movie``): the phase on a cyclic colour map
with arrows along the local direction of travel, one frame per few samples of a stretch of at
most 10 s around the strongest wave event (:func:`wavekit.pipeline.fields.movie_window`).

GIF is written with Pillow (a dependency of matplotlib, so always available); MP4 with
matplotlib's ffmpeg writer when ``ffmpeg`` is on PATH. Both are written under a temporary name
and renamed when complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .outputs import atomic_path

#: playback rate of the movie, frames per second
FPS = 20
#: at most this many arrows along each axis of a grid
ARROWS_PER_AXIS = 12


def _unit(vx: np.ndarray, vy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = np.hypot(vx, vy)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(norm > 0, vx / norm, np.nan), np.where(norm > 0, vy / norm, np.nan)


def _spacing(x: np.ndarray, y: np.ndarray) -> float:
    """Median distance from each arrow to its nearest neighbour (mm)."""
    from scipy.spatial import cKDTree

    pts = np.column_stack([np.ravel(x), np.ravel(y)])
    if len(pts) < 2:
        return 1.0
    d = cKDTree(pts).query(pts, k=2)[0][:, 1]
    d = d[d > 0]
    return float(np.median(d)) if d.size else 1.0


def _arrows(gap_mm: float) -> dict[str, Any]:
    """Unit arrows drawn 0.8 of the gap between arrows long, in data units."""
    return {"angles": "xy", "scale_units": "xy", "scale": 1.0 / (0.8 * gap_mm), "width": 0.005}


def _draw(clip: xr.Dataset, fps: int) -> tuple[Any, Iterator[None], list]:
    """The figure, an iterator that updates it to each frame in turn, and the artists that
    change from frame to frame."""
    from .figures import _plt

    plt = _plt()
    grid = clip.attrs.get("layout", "grid") == "grid" and "y" in clip["phase"].dims
    phase = clip["phase"].values
    u, v = _unit(clip["vx_mm_per_s"].values, clip["vy_mm_per_s"].values)
    t = clip["time"].values
    fs = float(clip.attrs.get("fs_hz", np.nan))
    step = int(clip.attrs.get("frame_step", 1))
    slow = fs / (fps * step) if np.isfinite(fs) else float("nan")  # playback vs real time
    fig, ax = plt.subplots(figsize=(5.4, 4.8), constrained_layout=True)
    x, y = clip["x"].values, clip["y"].values
    kw = {"cmap": "twilight", "vmin": -np.pi, "vmax": np.pi}
    if grid:
        im = ax.pcolormesh(x, y, phase[0], shading="nearest", **kw)
        sy = max(1, int(np.ceil(y.size / ARROWS_PER_AXIS)))
        sx = max(1, int(np.ceil(x.size / ARROWS_PER_AXIS)))
        xx, yy = np.meshgrid(x[::sx], y[::sy])
        pick = (slice(None), slice(None, None, sy), slice(None, None, sx))
        u, v = u[pick], v[pick]
        gap = _spacing(xx.ravel(), yy.ravel())
        qv = ax.quiver(xx, yy, u[0], v[0], color="k", pivot="mid", alpha=0.8, **_arrows(gap))
    else:
        im = ax.scatter(x, y, c=phase[0], s=60, edgecolors="k", linewidths=0.3, **kw)
        gap = _spacing(x, y)
        qv = ax.quiver(x, y, u[0], v[0], color="k", pivot="mid", alpha=0.8, **_arrows(gap))
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    fig.colorbar(im, ax=ax, label="phase (rad)")
    if np.isfinite(slow) and abs(slow - 1) > 0.01:
        pace = f"{slow:.3g}x slower" if slow > 1 else f"{1 / slow:.3g}x faster"
        pace = f", {pace} than real time"
    else:
        pace = ""
    title = ax.set_title("")
    window = clip.attrs.get("window", "")
    fig.suptitle(f"Phase; arrows: local direction of travel\n({window}{pace})", fontsize=9)

    def frames() -> Iterator[None]:
        for i in range(phase.shape[0]):
            im.set_array(phase[i].ravel() if not grid else phase[i])
            qv.set_UVC(np.nan_to_num(u[i]), np.nan_to_num(v[i]))
            title.set_text(f"t = {t[i]:.3f} s")
            yield
            if i == 0:  # the layout of the first frame holds for all: no re-layout per frame
                fig.set_layout_engine("none")

    return fig, frames(), [im, qv, title]


def _rgb_frames(fig: Any, updates: Iterator[None], moving: list) -> Iterator[np.ndarray]:
    """RGB pixels of each frame: the still parts are drawn once, then only the ``moving``
    artists over them (blitting), several times faster than drawing every frame whole."""
    canvas = fig.canvas
    for artist in moving:
        artist.set_animated(True)  # left out of the full draw: the background
    background = None
    for _ in updates:
        if background is None:
            canvas.draw()
            background = canvas.copy_from_bbox(fig.bbox)
        else:
            canvas.restore_region(background)
        for artist in moving:
            artist.axes.draw_artist(artist)
        yield np.asarray(canvas.buffer_rgba())[..., :3]


def _gif_frames(fig: Any, updates: Iterator[None], moving: list) -> Iterator[Any]:
    """Palette images of each frame, all on the palette of the first (which holds the whole
    colour map in its colour bar): consistent colours and a small file."""
    from PIL import Image

    palette = None
    for rgb in _rgb_frames(fig, updates, moving):
        img = Image.fromarray(rgb)
        if palette is None:
            palette = img.quantize(128, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
            yield palette
        else:
            yield img.quantize(palette=palette, dither=Image.Dither.NONE)


def save_movie(clip: xr.Dataset, path: str | Path, fmt: str = "gif", *, fps: int = FPS) -> Path:
    """Draw the movie of ``clip`` (:func:`wavekit.pipeline.fields.movie_clip`) to ``path``.

    Parameters
    ----------
    clip : xarray.Dataset
        ``phase``, ``vx_mm_per_s``, ``vy_mm_per_s`` along ``time`` (grid or channels).
    path : path-like
        Output file (``movie.gif`` or ``movie.mp4``), written atomically.
    fmt : {"gif", "mp4"}
        MP4 needs ``ffmpeg`` on PATH.
    fps : int
        Playback frames per second.

    Returns
    -------
    pathlib.Path
    """
    from .figures import _plt

    plt = _plt()
    path = Path(path)
    fig, updates, moving = _draw(clip, fps)
    fig.set_dpi(90)
    try:
        with atomic_path(path) as tmp:
            if fmt == "gif":
                images = _gif_frames(fig, updates, moving)
                first = next(images)
                first.save(
                    tmp,
                    format="GIF",
                    save_all=True,
                    append_images=images,
                    duration=int(round(1000 / fps)),
                    loop=0,
                    optimize=False,
                )
            elif fmt == "mp4":
                from matplotlib.animation import FFMpegWriter

                writer = FFMpegWriter(fps=fps, extra_args=["-pix_fmt", "yuv420p", "-f", "mp4"])
                with writer.saving(fig, str(tmp), dpi=90):
                    for _ in updates:
                        writer.grab_frame()
            else:
                raise ValueError(f"movie format {fmt!r} is not gif or mp4")
    finally:
        plt.close(fig)
    return path
