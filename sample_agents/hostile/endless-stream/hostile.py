"""Streams tokens forever when asked for an event stream: a generation loop with no end (a model
that never emits its stop token, a retry loop that re-streams). Every event is well formed; the
stream simply never ends, so a client waits forever. JSON answers are the reference's."""

import asyncio
import itertools

from fastapi import Request
from sse_starlette.sse import EventSourceResponse

from agent import ChatRequest, app, chat as reference_chat, drop_route, serve

drop_route("/chat")


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    if "text/event-stream" in request.headers.get("accept", "").lower():

        async def events():
            for i in itertools.count():
                await asyncio.sleep(0.01)
                yield {"event": "token", "data": f"token {i}"}

        return EventSourceResponse(events())
    return await reference_chat(body, request)


if __name__ == "__main__":
    serve()
