"""ADK's FastAPI server for the agents beside this file, as Google's "Deploy to Cloud Run (gcloud)"
guide writes main.py: `get_fast_api_app(agents_dir=…)`, served by uvicorn on the port in `$PORT`.

Two choices of ours, both the function's own parameters: sessions are kept in memory (the guide's
example keeps them in SQLite under the working directory; Cloud Run keeps nothing between
instances either way), and `auto_create_session=True`, so that `/run` and `/run_sse` answer a
session ID they have not seen instead of 404 "Session not found" (without it, a client first
creates the session: `POST /apps/echo_agent/users/USER/sessions/SESSION`).
"""

import os

import uvicorn
from fastapi import FastAPI
from google.adk.cli.fast_api import get_fast_api_app

AGENT_DIR = os.path.dirname(os.path.abspath(__file__))

app: FastAPI = get_fast_api_app(
    agents_dir=AGENT_DIR,
    session_service_uri="memory://",
    allow_origins=["*"],
    web=False,
    auto_create_session=True,
)

if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", 8080)))
