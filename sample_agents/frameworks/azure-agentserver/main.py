"""A Foundry hosted agent made with Microsoft's own SDK (azure-ai-agentserver-responses 2.3 on
azure-ai-agentserver-core 2.2), as Microsoft's samples write it: a `ResponsesAgentServerHost`, one
`@app.response_handler`, `app.run()`. It answers from local code, no model call: a streaming echo,
the input's words sent back one `response.output_text.delta` at a time, 50 ms apart, as a model's
tokens would come. The SDK serves the Responses API (`POST /responses`, JSON, or SSE with
`"stream": true`), `GET /readiness`, on port 8088 (or `$PORT`), with Hypercorn.
"""

import asyncio

from azure.ai.agentserver.responses import (
    CreateResponse,
    ResponseContext,
    ResponsesAgentServerHost,
    TextResponse,
)

app = ResponsesAgentServerHost()


@app.response_handler
async def handler(request: CreateResponse, context: ResponseContext, cancellation_signal: asyncio.Event):
    text = await context.get_input_text() or "(nothing)"

    async def tokens():
        yield "Echo:"
        for word in text.split():
            if cancellation_signal.is_set():
                return
            await asyncio.sleep(0.05)
            yield " " + word

    return TextResponse(context, request, text=tokens())


if __name__ == "__main__":
    app.run()
