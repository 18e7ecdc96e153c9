"""A LangServe app as `langchain app new` writes server.py (FastAPI, `add_routes`, uvicorn), serving
a runnable that answers from local code, no model: an async-generator `RunnableLambda` that echoes
its input word by word (50 ms apart, as a model's tokens would come), so that `/echo/stream`
streams. (LangServe calls `astream`: a plain generator function cannot be streamed that way.)

For the OCI contract, two probes are added: `GET /ready` and `GET /health`, JSON 200. LangServe
itself answers JSON at `/echo/invoke` and an event stream at `/echo/stream`, whatever Accept says.
"""

import asyncio
from typing import AsyncIterator

import uvicorn
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from langchain_core.runnables import RunnableLambda
from langserve import add_routes

app = FastAPI(title="LangServe echo", version="1.0", description="Echoes its input, word by word")


async def echo(text: str) -> AsyncIterator[str]:
    for index, word in enumerate(str(text).split() or ["(nothing)"]):
        if index:
            await asyncio.sleep(0.05)
        yield word + " "


@app.get("/")
async def redirect_root_to_docs():
    return RedirectResponse("/docs")


@app.get("/ready")
async def ready():
    return {"status": "ready"}


@app.get("/health")
async def health():
    return {"status": "ok"}


add_routes(app, RunnableLambda(echo).with_types(input_type=str, output_type=str), path="/echo")

if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=8080)
