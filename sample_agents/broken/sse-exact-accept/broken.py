"""Streams only when Accept *equals* text/event-stream; "application/json, text/event-stream"
(what many SSE clients send) gets JSON. The contract says "includes"."""

import asyncio

from fastapi import Request
from sse_starlette.sse import EventSourceResponse

from agent import TOKEN_DELAY_S, ChatRequest, app, drop_route, reply_tokens, serve

drop_route("/chat")


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    tokens = reply_tokens(body.message)
    if request.headers.get("accept") == "text/event-stream":

        async def events():
            for token in tokens:
                await asyncio.sleep(TOKEN_DELAY_S)
                yield {"data": token}

        return EventSourceResponse(events())
    return {"reply": " ".join(tokens), "thread_id": body.thread_id}


if __name__ == "__main__":
    serve()
