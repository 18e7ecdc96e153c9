"""Results → the report document: the dict of the documented JSON schema, exactly, and its JSON
file. Written in every case, also when the image could not be inspected. Markdown, the terminal
table and the reproductions are rendered from this document (`markdown`, `terminal`, `repro`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import SUITE_NAME, __version__
from ..contract.profile import DEFAULT, Profile, load
from ..image.config import ImageInfo
from ..measurements import endpoint_calls
from .results import RequirementResult, verdict


def build(image_ref: str, image: ImageInfo | None, results: list[RequirementResult], duration_s: float,
          measurements: dict[str, list] | None = None, endpoints: list[str] = (),
          engine: dict | None = None, profile: Profile | None = None, probes: list[str] = (),
          setup: list[str] = ()) -> dict[str, Any]:
    """`measurements`: what the run measured (`conformance.measurements.merge`), for the plots of
    the HTML report; an empty section when the run measured nothing. `endpoints`: the declared
    endpoints' labels, whose calls the report counts. `engine`: the container engine the run used
    and how it reached the candidates (`candidate.engine.describe`); empty when none answered.
    `profile`: the contract the run checked against (the default one's when not given). `probes`:
    the platform's probe paths, whose request latency the report shows beside the endpoints'. `setup`:
    the agent config's [[setup]] requests as `curl` commands, which the reproductions run first. Every
    form of the report renders from this document alone: it holds each requirement's fix."""
    measurements = dict(measurements or {})
    if "latency" in measurements:
        measurements["latency"] = latency_of(measurements["latency"], [f"GET {p}" for p in probes], list(endpoints))
    return {
        "suite": {"name": SUITE_NAME, "version": __version__},
        "image": {
            "ref": image_ref,
            "id": image.id if image else "",
            "os": image.os if image else "",
            "architecture": image.architecture if image else "",
        },
        "profile": _profile(profile or load(DEFAULT)),
        "engine": dict(engine or {}),
        "verdict": verdict(results),
        "duration_s": round(duration_s, 3),
        "requirements": [
            {
                "id": r.id,
                "level": r.requirement.level,
                "title": r.requirement.title,
                "fix": r.requirement.fix,
                "status": r.status,
                "cause": r.cause,
                "evidence": list(r.evidence),
            }
            for r in results
        ],
        "setup": list(setup),
        "endpoint_calls": {label: dict(zip(("checks", "fuzz"), endpoint_calls(measurements, label)))
                           for label in endpoints},
        "measurements": measurements,
    }


def latency_of(summaries: list[dict[str, Any]], probes: list[str], endpoints: list[str]) -> list[dict[str, Any]]:
    """The latency summaries the report shows: the probes', then each declared endpoint's (the
    checks also send odd targets: those stay out), each marked with its `role`."""
    by_route = {s["route"]: s for s in summaries}
    return [{**by_route[route], "role": role} for role, routes in (("probe", probes), ("endpoint", endpoints))
            for route in routes if route in by_route]


def _profile(contract: Profile) -> dict[str, Any]:
    """The contract the run checked against: a verdict means nothing without it."""
    return {"name": contract.name, "title": contract.title, "version": contract.version, "url": contract.url,
            "port": contract.port}


def write_json(path: str | Path, report: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
