"""Hand-rolled Accept parsing that chokes on q-values: `text/event-stream;q=0.9` splits into a
media type and a parameter it then indexes wrongly — an unhandled exception, a 500."""

from fastapi import Request

from agent import app, serve


@app.middleware("http")
async def parse_accept(request: Request, call_next):
    for item in request.headers.get("accept", "").split(","):
        media, *params = item.split(";")
        for param in params:
            name, value = param.split("=")  # ValueError on "q" or "a=b=c"
            if name.strip() == "q":
                request.state.preference = {media.strip(): 1 / float(value)}  # ZeroDivisionError on q=0
    return await call_next(request)


if __name__ == "__main__":
    serve()
