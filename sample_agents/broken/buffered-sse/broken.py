"""Collects every token first, then sends the finished event stream in one response with a
Content-Length: the client sees nothing until the model is done."""

import asyncio

from fastapi import Request, Response

from agent import TOKEN_DELAY_S, ChatRequest, app, drop_route, reply_tokens, serve

drop_route("/chat")


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    tokens = reply_tokens(body.message)
    if "text/event-stream" in request.headers.get("accept", ""):
        frames = []
        for token in tokens:
            await asyncio.sleep(TOKEN_DELAY_S)  # the model produces tokens over time…
            frames.append(f"data: {token}\n\n")
        return Response("".join(frames), media_type="text/event-stream")  # …sent all at once
    return {"reply": " ".join(tokens), "thread_id": body.thread_id}


if __name__ == "__main__":
    serve()
