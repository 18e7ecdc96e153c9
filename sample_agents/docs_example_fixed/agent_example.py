"""The platform docs' LangGraph agent wrapped in FastAPI, corrected to meet the hosted-deployment
contract. Every change from the docs' version is marked `# FIX:` and explained in
../docs_example/README.md."""

from contextlib import asynccontextmanager
import asyncio
import json
import os
import sys
from typing import Any, Dict

import uvicorn  # FIX: the docs' module defines `app` but never starts a server
from dotenv import load_dotenv
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from langchain_core.messages import HumanMessage
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import MemorySaver
from langgraph.prebuilt import create_react_agent
from pydantic import BaseModel, field_validator

load_dotenv()

OPENAI_API_KEY = os.getenv("OPENAI_API_KEY")
OPENAI_MODEL = os.getenv("OPENAI_MODEL", "gpt-4o-mini")
TEMPERATURE = float(os.getenv("OPENAI_TEMPERATURE", "0.7"))

OPENAI_MOCK_MODE_ENV = os.getenv("OPENAI_MOCK_MODE")
if OPENAI_MOCK_MODE_ENV is None:
    OPENAI_MOCK_MODE = not bool(OPENAI_API_KEY)
else:
    OPENAI_MOCK_MODE = OPENAI_MOCK_MODE_ENV.strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
MOCK_TOKEN_DELAY_S = 0.05  # FIX: mock replies stream word by word, as a model's tokens would

app_graph = None


@asynccontextmanager
async def lifespan(app: FastAPI):
    global app_graph
    if OPENAI_MOCK_MODE and not OPENAI_API_KEY:
        print(
            "OPENAI_API_KEY is not set; running in OPENAI_MOCK_MODE.",
            file=sys.stderr,
        )
        yield
        return

    if not OPENAI_API_KEY:
        raise RuntimeError("OPENAI_API_KEY is not set in environment.")

    model = ChatOpenAI(
        model=OPENAI_MODEL,
        temperature=TEMPERATURE,
        api_key=OPENAI_API_KEY,
        streaming=True,
    )
    app_graph = create_react_agent(
        model=model,
        tools=[],
        checkpointer=MemorySaver(),
    )
    yield


app = FastAPI(lifespan=lifespan)


# FIX: an unexpected error answers JSON, not Starlette's plain-text "Internal Server Error".
@app.exception_handler(Exception)
async def internal_error(request: Request, exc: Exception):
    return JSONResponse({"error": "internal error"}, status_code=500)


# FIX: FastAPI's default 422 handler echoes the body back with `bytes.decode()` and itself fails
# (500) on a body that is not UTF-8: answer the errors without the input.
@app.exception_handler(RequestValidationError)
async def invalid_request(request: Request, exc: RequestValidationError):
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    return JSONResponse({"error": "invalid request body", "detail": errors}, status_code=422)


# FIX: a typed body: a request without "thread_id" or "message" gets a JSON 422, not a KeyError (500).
class ChatRequest(BaseModel):
    thread_id: str
    message: str

    # FIX: JSON allows a lone surrogate ("\ud800", or its bytes \xed\xa0\x80, which Python's json
    # decodes); echoed into the reply, it makes the UTF-8 answer fail to encode (500). A 422 instead.
    @field_validator("thread_id", "message")
    @classmethod
    def encodable(cls, value: str) -> str:
        value.encode("utf-8")
        return value


def wants_event_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "").lower()


def sse(data: Dict[str, Any], event: str | None = None) -> str:
    # JSON in `data:` keeps newlines in a reply from breaking the event framing.
    return (f"event: {event}\n" if event else "") + f"data: {json.dumps(data)}\n\n"


async def reply_tokens(msg: str, thread_id: str):
    if OPENAI_MOCK_MODE and not OPENAI_API_KEY:
        for word in f"[MOCK] OPENAI_API_KEY missing. Echo: {msg}".split():
            await asyncio.sleep(MOCK_TOKEN_DELAY_S)
            yield word + " "
        return
    async for chunk, _metadata in app_graph.astream(
        {"messages": [HumanMessage(content=msg)]},
        config={"configurable": {"thread_id": thread_id}},
        stream_mode="messages",
    ):
        if isinstance(chunk.content, str) and chunk.content:
            yield chunk.content


@app.post("/chat")
async def chat(body: ChatRequest, request: Request):
    thread_id = body.thread_id
    msg = body.message

    # FIX: the platform asks for a stream with `Accept: text/event-stream`; answer Server-Sent Events.
    if wants_event_stream(request):

        async def events():
            async for token in reply_tokens(msg, thread_id):
                yield sse({"token": token})
            yield sse({"thread_id": thread_id}, event="done")

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    if OPENAI_MOCK_MODE and not OPENAI_API_KEY:
        return {
            "reply": f"[MOCK] OPENAI_API_KEY missing. Echo: {msg}",
            "thread_id": thread_id,
        }

    response = await app_graph.ainvoke(
        {"messages": [HumanMessage(content=msg)]},
        config={"configurable": {"thread_id": thread_id}},
    )
    if "messages" in response and response["messages"]:
        last_message = response["messages"][-1]
        ai_content = getattr(last_message, "content", str(last_message))
    else:
        ai_content = "I'm not sure how to respond to that."
    return {"reply": ai_content}


@app.get("/health")
async def health():
    return {
        "status": "Healthy",
        "mode": "mock" if (OPENAI_MOCK_MODE and not OPENAI_API_KEY) else "normal",
    }


@app.get("/ready")
async def ready():
    if OPENAI_MOCK_MODE and not OPENAI_API_KEY:
        return {"status": "Ready", "mode": "mock"}
    return {"status": "Ready"}


# FIX: start the server, on 0.0.0.0:8080 whatever PORT holds; python is PID 1 and uvicorn exits
# on SIGTERM (bounded, so an open stream cannot hold the shutdown past the platform's deadline).
if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=8080, timeout_graceful_shutdown=5)
