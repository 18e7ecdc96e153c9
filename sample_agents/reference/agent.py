"""Reference agent: conforms to every requirement of the hosted-deployment contract.

FastAPI + uvicorn + sse-starlette. `POST /chat` answers JSON, or Server-Sent Events when the
Accept header includes text/event-stream; `/ready` and `/health` answer JSON 200.
"""

import asyncio
import os
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, field_validator
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException

TOKEN_DELAY_S = 0.02  # a model emits tokens over time; the stream shows it
state = {"ready": False}


class ChatRequest(BaseModel):
    message: str
    thread_id: str = "default"

    @field_validator("message", "thread_id")
    @classmethod
    def encodable(cls, value: str) -> str:
        value.encode("utf-8")  # JSON allows lone surrogates ("\ud800"); UTF-8 output does not
        return value


@asynccontextmanager
async def lifespan(app: FastAPI):
    await asyncio.sleep(0.2)  # stands in for loading a model or connecting clients
    state["ready"] = True
    yield


app = FastAPI(lifespan=lifespan)


@app.exception_handler(HTTPException)
async def http_error(request: Request, exc: HTTPException):
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError):
    # Location and message only: the offending input may be bytes or text that JSON cannot carry.
    detail = [{"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
    return JSONResponse({"error": "invalid request body", "detail": detail}, status_code=422)


@app.exception_handler(UnicodeError)
async def undecodable(request: Request, exc: UnicodeError):
    return JSONResponse({"error": "the request body is not valid UTF-8 JSON"}, status_code=400)


@app.exception_handler(Exception)
async def unexpected_error(request: Request, exc: Exception):
    return JSONResponse({"error": "internal error"}, status_code=500)


def reply_tokens(message: str) -> list[str]:
    return ["Echo:"] + message.split()[:20] + ["(done)"]


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    tokens = reply_tokens(body.message)
    if "text/event-stream" in request.headers.get("accept", "").lower():

        async def events():
            for token in tokens:
                await asyncio.sleep(TOKEN_DELAY_S)
                yield {"event": "token", "data": token}
            yield {"event": "done", "data": '{"thread_id": "%s"}' % body.thread_id.replace('"', "")}

        return EventSourceResponse(events())
    return {"reply": " ".join(tokens), "thread_id": body.thread_id}


@app.get("/ready")
async def ready():
    if not state["ready"]:
        return JSONResponse({"status": "starting"}, status_code=503)
    return {"status": "ready"}


@app.get("/health")
async def health():
    return {"status": "ok"}


def drop_route(path: str) -> None:
    """For the broken samples built on this agent: remove one route to redefine it."""
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != path]


def serve() -> None:
    # The platform sets PORT=8080; the contract says 8080 whatever it holds.
    uvicorn.run(app, host="0.0.0.0", port=8080, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    serve()
