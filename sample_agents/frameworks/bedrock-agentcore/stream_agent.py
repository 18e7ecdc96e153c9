"""The streaming form of AWS's samples: the entrypoint is an async generator, and the SDK answers
every invocation with `text/event-stream`, one `data: <JSON>` event per value yielded. Each word of
the prompt comes back as an event, 50 ms apart, as a model's tokens would.

An exception inside the generator becomes an error event of the SDK's (the status is already 200);
a payload that is not a JSON object with a string "prompt" gets an error event of ours.
"""

import asyncio

from bedrock_agentcore import BedrockAgentCoreApp

app = BedrockAgentCoreApp()


@app.entrypoint
async def invoke(payload):
    prompt = payload.get("prompt", "Hello") if isinstance(payload, dict) else None
    if not isinstance(prompt, str):
        yield {"error": 'expected a JSON object with a string "prompt"'}
        return
    for index, word in enumerate(prompt.split() or ["(nothing)"]):
        if index:
            await asyncio.sleep(0.05)
        yield {"index": index, "text": word}
    yield {"done": True}


if __name__ == "__main__":
    app.run()
