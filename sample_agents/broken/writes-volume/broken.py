"""Creates its session store in the declared volume /app/data at start-up."""

import json
from pathlib import Path

from agent import serve

SESSIONS = Path("/app/data/sessions.json")

if __name__ == "__main__":
    if not SESSIONS.exists():
        SESSIONS.write_text(json.dumps({"sessions": {}}))
    serve()
