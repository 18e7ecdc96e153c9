"""/ready answers 200 with a plain-text body: the probe's Content-Type must be application/json."""

from fastapi.responses import PlainTextResponse

from agent import app, drop_route, serve

drop_route("/ready")


@app.get("/ready", response_class=PlainTextResponse)
async def ready():
    return "ready"


if __name__ == "__main__":
    serve()
