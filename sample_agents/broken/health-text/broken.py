"""/health answers 200 "OK" as text/plain: the Content-Type must be application/json."""

from fastapi.responses import PlainTextResponse

from agent import app, drop_route, serve

drop_route("/health")


@app.get("/health", response_class=PlainTextResponse)
async def health():
    return "OK"


if __name__ == "__main__":
    serve()
