"""``report.json``: the keys of SPEC.md, built from :class:`~wavekit.pipeline.analyze.Results`.

Documented key by key in ``docs/report.md`` and validated against the JSON Schema shipped as
``wavekit/pipeline/report.schema.json`` (:func:`validate_report`).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .outputs import json_safe

SCHEMA_VERSION = "1.0"


def build_report(res: Any) -> dict[str, Any]:
    """The report of one analysis as a JSON-ready dict (NaN -> null)."""
    from .._version import __version__

    params = res.config.to_dict()
    params["requested_sha256"] = res.config.digest()
    params["band_hz_used"] = list(res.band_hz)
    params["band_reason"] = res.band_reason
    report = {
        "schema_version": SCHEMA_VERSION,
        "wavekit_version": __version__,
        "input": res.activity_info,
        "parameters": params,
        "flow_structure": res.flow_structure,
        "events": event_records(res.events),
        "activation_waves": records(res.activation, "wave"),
        "event_null": res.event_null,
        "timings_s": res.timings_s,
    }
    return json_safe(report)


def records(ds: Any, dim: str) -> list[dict[str, Any]]:
    """One dict per index of ``dim`` (data variables and ``dim``'s coordinate), with ``id``."""
    if ds is None or ds.sizes.get(dim, 0) == 0:
        return []
    cols = {k: ds[k].values for k in ds.data_vars if ds[k].dims == (dim,)}
    if dim in ds.coords and ds[dim].dtype.kind == "f":
        cols = {f"{dim}_s": ds[dim].values, **cols}
    return [
        json_safe({"id": int(i)} | {k: v[i] for k, v in cols.items()}) for i in range(ds.sizes[dim])
    ]


def event_records(events: Any) -> list[dict[str, Any]]:
    """One dict per detected wave event, or [] when there are none."""
    return records(events, "event")


def schema() -> dict[str, Any]:
    """The JSON Schema of ``report.json``."""
    text = resources.files("wavekit.pipeline").joinpath("report.schema.json").read_text()
    return json.loads(text)


def validate_report(report: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``report`` does not follow the schema."""
    import jsonschema

    jsonschema.validate(report, schema())


def summary_row(report: dict[str, Any] | None) -> dict[str, Any]:
    """The summary.csv / batch JSON-line fields of a report (empty when there is none)."""
    if not report:
        return {}
    fs = report.get("flow_structure", {})
    inp = report.get("input", {})

    def med(key: str) -> Any:
        v = fs.get(key)
        return v.get("median") if isinstance(v, dict) else v

    return {
        "duration_s": inp.get("duration_s"),
        "layout": inp.get("layout"),
        "n_channels": inp.get("n_channels"),
        "frequency_hz": med("frequency_hz"),
        "direction_deg": fs.get("dominant_direction_deg"),
        "speed_mm_per_s": med("speed_mm_per_s"),
        "wavelength_mm": med("wavelength_mm"),
        "motion_type": fs.get("motion_type"),
        "n_events": len(report.get("events", [])),
        # the opt-in stages: trigger-based waves and critical points of the phase flow
        "n_significant_activation_waves": fs.get("n_significant_activation_waves"),
        "front_speed_mm_per_s": med("front_speed_mm_per_s"),
        "front_direction_deg": fs.get("front_direction_deg"),
        "n_critical_point_tracks": (fs.get("phase_flow") or {}).get("n_tracks"),
    }
