"""An AgentCore Runtime agent made with AWS's own SDK, as AWS's starter samples write it
(`BedrockAgentCoreApp`, an `@app.entrypoint`, `app.run()`), answering from local code: no model
call, no network. The SDK serves `POST /invocations` and `GET /ping` on 8080.

The payload reaches the entrypoint unchanged ("Applications should validate input"): anything but
a JSON object with a string "prompt" is answered 400 here, so that the only defects the suite can
find are the SDK's own.
"""

from bedrock_agentcore import BedrockAgentCoreApp
from starlette.responses import JSONResponse

app = BedrockAgentCoreApp()


@app.entrypoint
def invoke(payload):
    prompt = payload.get("prompt", "Hello") if isinstance(payload, dict) else None
    if not isinstance(prompt, str):
        return JSONResponse({"error": 'expected a JSON object with a string "prompt"'}, status_code=400)
    return {"result": f"You said: {prompt}", "words": len(prompt.split())}


if __name__ == "__main__":
    app.run()
