"""HTTP as the suite speaks it to a candidate: media types and Accept, header lookups, bounded
reading, one exchange kept as evidence (with its curl line), stream capture and the WHATWG
event-stream validator, the raw HTTP/1.1 client of the fuzzer, and the agent's endpoints called in
JSON and SSE mode. No Docker, no pytest, no Hypothesis here.

One name per idea:
- `bounded.Client` (made by `bounded.make_client`): the httpx client whose every answer is read
  within the budgets; `bounded.read` reads one answer and gives a `bounded.Reading` (status,
  headers, how much body came and why reading stopped), which the types below are built from.
- `exchange.Exchange`: one request and its answer as evidence (the curl line, the status, the
  headers, the first bytes): what every check judges.
- `streaming.StreamCapture`: an `Exchange` of an event stream, with when its chunks and events
  arrived and how it ended.
- `rawhttp.RawResponse`: what the fuzzer's raw socket client read, byte for byte (headers httpx
  would refuse, a head cut short): no httpx in it.
- `headers.first` / `headers.every`: the one case-insensitive header lookup.
"""
