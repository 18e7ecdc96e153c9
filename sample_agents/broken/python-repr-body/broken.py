"""Answers `str(reply)` — `{'reply': '…'}` with single quotes, a Python repr — declared as
application/json. It looks like JSON and does not parse."""

from fastapi import Request, Response
from sse_starlette.sse import EventSourceResponse

from agent import ChatRequest, app, drop_route, reply_tokens, serve

drop_route("/chat")


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    tokens = reply_tokens(body.message)
    if "text/event-stream" in request.headers.get("accept", ""):
        return EventSourceResponse({"data": t} for t in tokens)
    reply = {"reply": " ".join(tokens), "thread_id": body.thread_id}
    return Response(str(reply), media_type="application/json")


if __name__ == "__main__":
    serve()
