"""Loads a "model" for 5 s before /ready answers 200: over the startup budget of its agent.toml
(2 s, to keep the test short; the default budget is 30 s). /ready answers 503 meanwhile, as it
should: only the time is wrong."""

import asyncio

from agent import app, serve, state


def slow_lifespan(application):
    async def load():
        await asyncio.sleep(5)
        state["ready"] = True

    class Context:
        async def __aenter__(self):
            self.task = asyncio.create_task(load())

        async def __aexit__(self, *exc):
            self.task.cancel()

    return Context()


app.router.lifespan_context = slow_lifespan

if __name__ == "__main__":
    serve()
