"""Answers JSON requests with a 1 GiB document (say, a conversation history returned whole),
streamed 1 MiB at a time: the agent never holds it, the client must not either. Event streams
are the reference's."""

from fastapi import Request
from fastapi.responses import StreamingResponse

from agent import ChatRequest, app, chat as reference_chat, drop_route, serve

CHUNK = b"a" * (1 << 20)
CHUNKS = 1024  # 1 GiB of text in one JSON string
HEAD, TAIL = b'{"reply": "', b'"}'

drop_route("/chat")


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    if "text/event-stream" in request.headers.get("accept", "").lower():
        return await reference_chat(body, request)

    async def document():
        yield HEAD
        for _ in range(CHUNKS):
            yield CHUNK
        yield TAIL

    size = len(HEAD) + CHUNKS * len(CHUNK) + len(TAIL)
    return StreamingResponse(document(), media_type="application/json", headers={"Content-Length": str(size)})


if __name__ == "__main__":
    serve()
