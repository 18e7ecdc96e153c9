"""/ready is declared as "/ready/": Starlette answers GET /ready with 307 → /ready/, and probes do
not follow redirects."""

from agent import app, drop_route, serve

drop_route("/ready")


@app.get("/ready/")
async def ready():
    return {"status": "ready"}


if __name__ == "__main__":
    serve()
