"""``wavekit simulate KIND --out FILE.h5``: simulated waves with their ground truth.

Only parses options, calls :func:`wavekit.simulate.simulate` (or :func:`wavekit.networks.simulate`
for recurrent-network kinds) and writes the result with :func:`wavekit.io.save`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import app

WAVES = "Wave and layout (analytic kinds)"
#: keyword of the analytic simulator -> the option that sets it (for error messages)
_FLAGS = {
    "layout": "--layout", "nx": "--nx", "ny": "--ny", "spacing_mm": "--spacing-mm",
    "fs_hz": "--fs", "duration_s": "--duration", "frequency_hz": "--frequency",
    "speed_mm_per_s": "--speed", "direction_deg": "--direction", "snr_db": "--snr-db",
    "noise": "--noise",
}  # fmt: skip


def _parse_value(text: str) -> object:
    """JSON when it parses (numbers, lists, objects, true/false), comma lists, else the string."""
    import json

    try:
        return json.loads(text)
    except ValueError:
        pass
    if "," in text:
        return [_parse_value(part.strip()) for part in text.split(",")]
    return text


def parse_params(items: list[str] | None) -> dict[str, object]:
    """``["key=value", ...]`` -> ``{"key": value}`` (values parsed by :func:`_parse_value`)."""
    from ..errors import UsageError

    out: dict[str, object] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise UsageError(f"--param expects KEY=VALUE, got {item!r}")
        out[key] = _parse_value(value.strip())
    return out


def _network_module(kind: str | None = None):
    """``wavekit.networks`` or None; with ``kind`` given, a UsageError explaining the failure."""
    import importlib

    try:
        mod = importlib.import_module("wavekit.networks")
        getattr(mod, "KINDS")  # noqa: B009 - the attribute may be missing while it is written
        getattr(mod, "simulate")  # noqa: B009
    except (ImportError, AttributeError) as exc:
        if kind is None:
            return None
        from ..errors import UsageError

        raise UsageError(
            f"kind {kind!r} is not an analytic kind and the recurrent-network "
            f"simulations (wavekit.networks) cannot be imported: {exc}"
        ) from None
    return mod


@app.command()
def simulate(
    kind: Annotated[
        str | None,
        typer.Argument(
            help="What to simulate: an analytic kind (plane, target, spiral, ...) or a recurrent "
            "network kind; --list shows them all.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE.h5",
            help="Output file (wavekit HDF5 layout with ground truth).",
            show_default=False,
        ),
    ] = None,
    list_kinds: Annotated[
        bool, typer.Option("--list", help="Print the kinds with a one-line description and exit.")
    ] = False,
    layout: Annotated[
        str | None,
        typer.Option(
            "--layout",
            metavar="grid|random|utah|hex|eeg",
            help="Electrode layout (default: grid).",
            rich_help_panel=WAVES,
        ),
    ] = None,
    nx: Annotated[
        int | None, typer.Option(help="Grid columns [16].", rich_help_panel=WAVES)
    ] = None,
    ny: Annotated[int | None, typer.Option(help="Grid rows [16].", rich_help_panel=WAVES)] = None,
    spacing_mm: Annotated[
        float | None,
        typer.Option(
            "--spacing-mm",
            metavar="MM",
            help="Grid / Utah / hex pitch in mm [0.4].",
            rich_help_panel=WAVES,
        ),
    ] = None,
    fs: Annotated[
        float | None,
        typer.Option(
            "--fs", metavar="HZ", help="Sampling rate in Hz [500].", rich_help_panel=WAVES
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option("--duration", metavar="S", help="Duration in s [2].", rich_help_panel=WAVES),
    ] = None,
    frequency: Annotated[
        float | None,
        typer.Option(
            "--frequency",
            metavar="HZ",
            help="Temporal frequency in Hz [10].",
            rich_help_panel=WAVES,
        ),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed", metavar="MM_PER_S", help="Phase speed in mm/s [300].", rich_help_panel=WAVES
        ),
    ] = None,
    direction: Annotated[
        float | None,
        typer.Option(
            "--direction",
            metavar="DEG",
            help="Direction of travel, degrees CCW from +x [0].",
            rich_help_panel=WAVES,
        ),
    ] = None,
    snr_db: Annotated[
        float | None,
        typer.Option(
            "--snr-db",
            metavar="DB",
            help="Signal-to-noise ratio in dB over the recording (default: no noise).",
            rich_help_panel=WAVES,
        ),
    ] = None,
    noise: Annotated[
        str | None,
        typer.Option(
            "--noise",
            metavar="white|pink|spatial|pink+spatial",
            help="Noise model (default: white).",
            rich_help_panel=WAVES,
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed, recorded in the file [0].")
    ] = None,
    float32: Annotated[
        bool,
        typer.Option(
            "--float32/--float64",
            help="Store the samples as float32 (half the size; the truth is unchanged).",
        ),
    ] = False,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="KEY=VALUE",
            help="Kind-specific parameter (repeatable), e.g. "
            "mode=sink, chirality=cw, patterns=plane,source (docs/simulate.md).",
        ),
    ] = None,
) -> None:
    """Simulate waves with known ground truth and write them to FILE.h5.

    Prints one JSON line describing the written file. Analytic kinds are documented in
    docs/simulate.md, recurrent networks in docs/networks.md.

    Example: wavekit simulate spiral --layout utah --snr-db 10 -p chirality=cw --out spiral.h5
    """
    import json
    import sys

    from ..errors import UsageError

    if list_kinds:
        from ..simulate import KINDS

        width = max(len(k) for k in KINDS)
        lines = [f"{k:<{width}}  {v}" for k, v in KINDS.items()]
        net = _network_module()
        if net is None:
            lines.append(
                "(recurrent-network kinds unavailable: wavekit.networks cannot be imported)"
            )
        else:
            lines += [
                f"{k:<{width}}  [network] {v}" for k, v in net.KINDS.items() if k not in KINDS
            ]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    if kind is None:
        raise UsageError("give the KIND to simulate (wavekit simulate --list shows them)")
    if out is None:
        raise UsageError("give the output file with --out FILE.h5")
    params = parse_params(param)
    common = {
        "layout": layout, "nx": nx, "ny": ny, "spacing_mm": spacing_mm, "fs_hz": fs,
        "duration_s": duration, "frequency_hz": frequency, "speed_mm_per_s": speed,
        "direction_deg": direction, "snr_db": snr_db, "noise": noise,
    }  # fmt: skip
    given = {k: v for k, v in common.items() if v is not None}
    clash = sorted(set(given) & set(params))
    if clash:
        raise UsageError(f"{', '.join(clash)} given both as an option and as --param")

    from ..simulate import KINDS

    if kind in KINDS:
        from ..simulate import simulate as run

        activity, truth = run(kind, seed=0 if seed is None else seed, **given, **params)
    else:
        net = _network_module(kind)
        if kind not in net.KINDS:
            raise UsageError(
                f"unknown simulation kind {kind!r}: choose one of "
                f"{', '.join([*KINDS, *net.KINDS])} (wavekit simulate --list)"
            )
        if given:
            names = ", ".join(sorted(_FLAGS[k] for k in given))
            raise UsageError(
                f"{names} apply to analytic kinds only: pass parameters of network "
                f"kind {kind!r} with --param KEY=VALUE (docs/networks.md)"
            )
        activity, truth = net.simulate(kind, seed=0 if seed is None else seed, **params)

    from ..io import save

    if float32:
        activity = activity.astype("float32", keep_attrs=True)
    path = save(activity, out, ground_truth=truth)
    time = activity["time"].values
    fs_hz = float(activity.attrs["fs_hz"])
    sys.stdout.write(
        json.dumps(
            {
                "output": str(path),
                "kind": kind,
                "dims": list(activity.dims),
                "shape": [int(s) for s in activity.shape],
                "fs_hz": fs_hz,
                "duration_s": float(time.size / fs_hz),
                "layout": truth.attrs.get("layout")
                or ("irregular" if "channel" in activity.dims else "grid"),
                "seed": truth.attrs.get("seed", seed),
                "snr_db": truth.attrs.get("snr_db"),
                "noise": truth.attrs.get("noise"),
            },
            default=lambda v: v.item() if hasattr(v, "item") else str(v),
        )
        + "\n"
    )
