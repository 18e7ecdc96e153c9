"""Waits for "the rest" of a request whose body is empty: the request never gets an answer."""

import asyncio

from fastapi import Request

from agent import app, serve


@app.middleware("http")
async def wait_for_body(request: Request, call_next):
    if request.url.path == "/chat" and request.method == "POST" and not await request.body():
        await asyncio.sleep(3600)  # the bug: waiting for data that will never come
    return await call_next(request)


if __name__ == "__main__":
    serve()
