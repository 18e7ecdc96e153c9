"""/ready answers 200 from the first moment, while the model loads in the background for 2 s;
meanwhile /chat answers 503. The platform sends traffic as soon as /ready says 200."""

import asyncio

from fastapi.responses import JSONResponse

from agent import app, drop_route, serve, state

drop_route("/ready")
model = {"loaded": False}


@app.get("/ready")
async def ready():
    return {"status": "ready"}  # the bug: not tied to the model


@app.middleware("http")
async def model_gate(request, call_next):
    if request.url.path == "/chat" and not model["loaded"]:
        return JSONResponse({"error": "model is loading"}, status_code=503)
    return await call_next(request)


def lifespan_with_background_load(application):
    async def load():
        await asyncio.sleep(2.0)
        model["loaded"] = True

    class Context:
        async def __aenter__(self):
            state["ready"] = True
            self.task = asyncio.create_task(load())

        async def __aexit__(self, *exc):
            self.task.cancel()

    return Context()


app.router.lifespan_context = lifespan_with_background_load

if __name__ == "__main__":
    serve()
