"""/chat answers JSON whatever Accept says — exactly what the platform's own example does. A
client asking for text/event-stream gets no stream."""

from agent import ChatRequest, app, drop_route, reply_tokens, serve

drop_route("/chat")


@app.post("/chat")
async def chat(body: ChatRequest):
    return {"reply": " ".join(reply_tokens(body.message)), "thread_id": body.thread_id}


if __name__ == "__main__":
    serve()
