"""The JSON answer goes out with `response_class=HTMLResponse` (copied from a page-serving route):
Content-Type text/html, so clients do not parse it as JSON."""

import json

from fastapi import Request
from fastapi.responses import HTMLResponse
from sse_starlette.sse import EventSourceResponse

from agent import ChatRequest, app, drop_route, reply_tokens, serve

drop_route("/chat")


@app.post("/chat", response_class=HTMLResponse)
async def chat(body: ChatRequest, request: Request):
    tokens = reply_tokens(body.message)
    if "text/event-stream" in request.headers.get("accept", ""):
        return EventSourceResponse({"data": t} for t in tokens)
    return json.dumps({"reply": " ".join(tokens), "thread_id": body.thread_id})


if __name__ == "__main__":
    serve()
