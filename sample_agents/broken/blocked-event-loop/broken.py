"""Calls a synchronous model client (`time.sleep` stands in for it) inside an async generator:
for 2 s the event loop runs nothing else, so /health and /ready time out while a stream is in
flight and Kubernetes restarts a healthy container."""

import asyncio
import time

from fastapi import Request
from sse_starlette.sse import EventSourceResponse

from agent import ChatRequest, app, drop_route, reply_tokens, serve

drop_route("/chat")


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    tokens = reply_tokens(body.message)
    if "text/event-stream" in request.headers.get("accept", ""):

        async def events():
            time.sleep(2.0)  # the bug: a blocking call in async code
            for token in tokens:
                await asyncio.sleep(0.1)  # then tokens arrive at the model's pace
                yield {"data": token}

        return EventSourceResponse(events())
    return {"reply": " ".join(tokens), "thread_id": body.thread_id}


if __name__ == "__main__":
    serve()
