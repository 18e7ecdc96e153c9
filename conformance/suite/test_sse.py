"""The event stream itself: well formed by the WHATWG rules (validated from the raw bytes), and
delivered as it is produced rather than buffered."""

from __future__ import annotations

import pytest

from conformance.check import SSE_MODE, NotChecked, fail, see
from conformance.check import capture as streaming_capture
from conformance.wire import mediatype

# A stream that took this long yet arrived in one burst at its end was buffered.
BUFFERED_AFTER_S = 0.5
BURST_S = 0.02  # one write split by TCP arrives within microseconds; tokens do not


def _streamed(capture, endpoint, platform, require_served, evidence):
    """The stream to judge, or None where the agent chooses the form and answered JSON (then there is
    no stream, and nothing of a stream fails). An endpoint that does not serve is ENDPOINT-SERVES'."""
    require_served(endpoint, SSE_MODE)
    if capture.is_event_stream:
        return capture
    if platform.agent_chooses_the_form:
        evidence.append(f"{endpoint.label} answers {mediatype.describe(capture.answer.content_type)} when asked for a "
                        f"stream ({capture.answer.summary()}): on this platform the agent chooses its answer's form, "
                        "and this endpoint chose no stream, so there is none to judge")
        return None
    raise NotChecked(f"{endpoint.label} did not answer an event stream to Accept: text/event-stream "
                     f"({capture.answer.summary()}) {see('NEGOTIATE-SSE')}")


@pytest.mark.requirement("SSE-FRAMING")
def test_event_stream_is_well_formed(endpoint, sse_captures, platform, require_served, evidence):
    capture = _streamed(sse_captures(endpoint), endpoint, platform, require_served, evidence)
    if capture is None:
        return
    evidence.append(f"{capture.total_bytes} bytes, {capture.events} events ({capture.data_events} with data), "
                    f"ended by {capture.ended} after {capture.duration_s:.2f} s")
    if capture.ended != "eof":
        why = capture.answer.cut or f"the connection was dropped after {capture.total_bytes} bytes"
        fail(f"{endpoint.label} with Accept: text/event-stream: {why}", capture.answer.evidence() + [capture.timeline()])
    if capture.errors():
        fail(f"the event stream of {endpoint.label} breaks the WHATWG framing rules ({len(capture.errors())} error(s))",
             capture.violation_lines() + capture.answer.evidence())
    warnings = [v for v in capture.violations if v.severity == "warning"]
    evidence += [f"warning: {v.message}" for v in warnings[:5]]


def _lumped(capture) -> bool:
    """Every event arrived in one burst at the end of a stream that took time."""
    return bool(capture.chunks and capture.duration_s > BUFFERED_AFTER_S and capture.data_events > 1
                and capture.duration_s - capture.chunks[0][0] < BURST_S)


@pytest.mark.requirement("SSE-INCREMENTAL")
def test_events_arrive_as_produced(endpoint, sse_captures, http, platform, require_served, evidence):
    capture = _streamed(sse_captures(endpoint), endpoint, platform, require_served, evidence)
    if capture is None:
        return
    evidence.append(capture.timeline())
    length = capture.answer.header("content-length")
    if length is not None:
        fail(f"the event stream of {endpoint.label} carries Content-Length: {length}: it was built whole before "
             "sending", capture.answer.evidence() + [capture.timeline()])
    if _lumped(capture):
        # Captured beside other streams: a starved agent can look buffered once. A buffering one
        # lumps every stream, so a second look, alone, decides.
        again = streaming_capture(http, endpoint, SSE_MODE)
        if _lumped(again) or not again.chunks:
            first_byte = capture.chunks[0][0]
            fail(f"all {capture.data_events} events of {endpoint.label} arrived together after {first_byte:.2f} s, "
                 "at the end of the stream: they were buffered", [capture.timeline(), f"again, alone: {again.timeline()}"])
        evidence.append(f"arrived together once, beside other streams; alone: {again.timeline()}")
    if capture.data_events <= 1:
        evidence.append("one event only: delivery over time cannot be judged")
