"""Writes every conversation to `conversations.log` in the working directory (/app), the way many
prototypes keep a transcript: fine on a laptop, a 500 on each request on a read-only root."""

import json
import time

from fastapi import Request

from agent import ChatRequest, app, chat, drop_route, serve

drop_route("/chat")


@app.post("/chat")
async def chat_with_transcript(body: ChatRequest, request: Request):
    with open("conversations.log", "a", encoding="utf-8") as log:
        log.write(json.dumps({"at": time.time(), "thread_id": body.thread_id, "message": body.message}) + "\n")
    return await chat(body, request)


if __name__ == "__main__":
    serve()
