"""The reference agent whose model needs MODEL_API_KEY (see the Dockerfile)."""

import os
import sys

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse

import agent
from agent import ChatRequest, app, drop_route

KEY = os.environ.get("MODEL_API_KEY", "")
print(f"model client: key {KEY or '(none)'}", file=sys.stderr, flush=True)  # careless, as many are

drop_route("/chat")


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    if not KEY:
        return JSONResponse({"error": "the model refused the call: MODEL_API_KEY is not set"}, status_code=500)
    return await agent.chat(body, request)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError):
    # Careless too: a plain-text error page that names the key (ERRORS-JSON, a SHOULD, fails).
    return PlainTextResponse(f"invalid request (model key {KEY or 'unset'})", status_code=422)


if __name__ == "__main__":
    agent.serve()
