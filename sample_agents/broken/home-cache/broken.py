"""Prepares a "tokenizer" in ~/.cache/agent at start-up (a stand-in for a library's download
cache), then serves."""

import json
from pathlib import Path

from agent import serve

CACHE = Path.home() / ".cache" / "agent"

if __name__ == "__main__":
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "tokenizer.json").write_text(json.dumps({"vocab": ["hello", "world"]}))
    serve()
