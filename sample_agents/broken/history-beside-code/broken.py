"""Appends each message to `history.jsonl` in the working directory (/app); a failed write is only
a warning, so on a read-only root the agent works and the history is silently lost."""

import json
import sys

from fastapi import Request

from agent import ChatRequest, app, chat, drop_route, serve

drop_route("/chat")


@app.post("/chat")
async def chat_with_history(body: ChatRequest, request: Request):
    try:
        with open("history.jsonl", "a", encoding="utf-8") as history:
            history.write(json.dumps({"thread_id": body.thread_id, "message": body.message}) + "\n")
    except OSError as exc:
        print(f"warning: history not saved: {exc}", file=sys.stderr, flush=True)
    return await chat(body, request)


if __name__ == "__main__":
    serve()
