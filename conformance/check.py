"""What a check may import: the public face for check authors (see docs/DEVELOPING.md).

A check is a plain function in `conformance/suite/test_<area>.py`, marked with the one requirement
ID it decides, taking fixtures (`candidate`, `http`, `endpoint`, `evidence`, `agent_config`,
`budgets`, `platform`, `image_info`, `sse_captures`, `lifecycle_trials`, …; see `suite/conftest.py`).
The platform's values (port, probe paths, reserved variables, grace) come from the `platform`
fixture, the run's profile: a check never spells them out. It ends
with `fail(summary, evidence)` when the requirement is not met, or raises `NotChecked("… " +
see("OTHER-ID"))` when another defect keeps it from deciding. It talks to the candidate through
the helpers below, every exchange bounded by the budgets and kept as evidence (curl, status,
headers, first bytes).
"""

from __future__ import annotations

from .contract.platform import Platform
from .errors import NotChecked, RequirementFailed, fail, see
from .wire import mediatype
from .wire.exchange import Exchange, request
from .wire.modes import (JSON_ACCEPTS, JSON_MODE, SSE_ACCEPTS, SSE_MODE, Observation, call, json_mode, json_problem,
                         sse_problem, unserved)
from .wire.streaming import StreamCapture, capture

__all__ = [
    # deciding
    "fail", "NotChecked", "see", "RequirementFailed",
    # talking to the candidate
    "request", "Exchange", "call", "json_mode", "json_problem", "sse_problem", "unserved", "Observation",
    "capture", "StreamCapture",
    "JSON_ACCEPTS", "SSE_ACCEPTS", "JSON_MODE", "SSE_MODE",
    # the platform's values (the `platform` fixture's type) and media types
    "Platform", "mediatype",
]
