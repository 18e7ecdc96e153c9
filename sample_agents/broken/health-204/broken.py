"""/health answers 204 No Content: healthy in spirit, but the contract says 200."""

from fastapi import Response

from agent import app, drop_route, serve

drop_route("/health")


@app.get("/health", status_code=204)
async def health():
    return Response(status_code=204)


if __name__ == "__main__":
    serve()
