"""HTTP as the suite speaks it to a candidate: media types and Accept, bounded reading, one
exchange kept as evidence (with its curl line), stream capture and the WHATWG event-stream
validator, the raw HTTP/1.1 client of the fuzzer, and the agent's endpoints called in JSON and SSE
mode. No Docker, no pytest, no Hypothesis here."""
