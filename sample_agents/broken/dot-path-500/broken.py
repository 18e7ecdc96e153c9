"""A "static file" shortcut looks up the extension of any path with a dot in it and fails with a
500 and a Python traceback in the body (e.g. `GET /chat.json`, `GET /a/../b`)."""

import os
import traceback

from fastapi import Request
from fastapi.responses import PlainTextResponse

from agent import app, serve

STATIC_TYPES = {".html": "text/html", ".css": "text/css"}


@app.middleware("http")
async def static_shortcut(request: Request, call_next):
    if "." in request.url.path:
        try:
            kind = STATIC_TYPES[os.path.splitext(request.url.path)[1]]  # KeyError for anything else
            return PlainTextResponse("", media_type=kind)
        except Exception:
            return PlainTextResponse(traceback.format_exc(), status_code=500)
    return await call_next(request)


if __name__ == "__main__":
    serve()
