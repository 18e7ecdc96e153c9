"""Hand-written SSE framing whose final `data: [DONE]` has no terminating blank line: every
client discards that last event."""

import asyncio

from fastapi import Request
from fastapi.responses import StreamingResponse

from agent import TOKEN_DELAY_S, ChatRequest, app, drop_route, reply_tokens, serve

drop_route("/chat")


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    tokens = reply_tokens(body.message)
    if "text/event-stream" in request.headers.get("accept", ""):

        async def events():
            for token in tokens:
                await asyncio.sleep(TOKEN_DELAY_S)
                yield f"data: {token}\n\n"
            yield "data: [DONE]\n"  # the bug: one newline, not two

        return StreamingResponse(events(), media_type="text/event-stream")
    return {"reply": " ".join(tokens), "thread_id": body.thread_id}


if __name__ == "__main__":
    serve()
