"""Error handlers that render HTML pages (copied from a web app): a malformed body, an unknown
path or a wrong method gets text/html that API clients cannot parse."""

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from agent import app, serve

PAGE = "<!doctype html><html><body><h1>{code}</h1><p>{detail}</p></body></html>"


@app.exception_handler(HTTPException)
async def http_error(request: Request, exc: HTTPException):
    return HTMLResponse(PAGE.format(code=exc.status_code, detail=exc.detail), status_code=exc.status_code)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError):
    return HTMLResponse(PAGE.format(code=422, detail="Invalid request"), status_code=422)


if __name__ == "__main__":
    serve()
