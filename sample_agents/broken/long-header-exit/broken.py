"""Copies header values into a fixed 256-byte buffer (as a native extension might) and the whole
process dies on a longer one: the container exits and the platform restarts it."""

import os

from fastapi import Request

from agent import app, serve


@app.middleware("http")
async def fixed_buffer(request: Request, call_next):
    if any(len(value) > 256 for value in request.headers.values()):
        os._exit(139)  # as a segmentation fault would
    return await call_next(request)


if __name__ == "__main__":
    serve()
