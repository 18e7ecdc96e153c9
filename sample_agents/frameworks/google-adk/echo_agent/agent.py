"""An ADK agent that never calls a model: a `BaseAgent` subclass whose `_run_async_impl` yields the
events itself (ADK's documented way to write an agent with custom logic). It echoes the user's
message back: each word as a partial event, 50 ms apart, as a model's streamed tokens would come,
then the whole answer as the final event. Nothing here needs a key, a network or a model.
"""

import asyncio
from typing import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event
from google.genai import types


class EchoAgent(BaseAgent):
    """Echoes the user's message, word by word."""

    async def _run_async_impl(self, ctx: InvocationContext) -> AsyncGenerator[Event, None]:
        parts = ctx.user_content.parts if ctx.user_content and ctx.user_content.parts else []
        text = " ".join(part.text for part in parts if part.text) or "(nothing)"
        words = text.split()
        for index, word in enumerate(words):
            if index:
                await asyncio.sleep(0.05)
            yield Event(author=self.name, invocation_id=ctx.invocation_id, partial=True,
                        content=types.Content(role="model", parts=[types.Part(text=word + " ")]))
        yield Event(author=self.name, invocation_id=ctx.invocation_id,
                    content=types.Content(role="model", parts=[types.Part(text="Echo: " + " ".join(words))]))


root_agent = EchoAgent(name="echo_agent", description="Echoes the user's message back, word by word.")
