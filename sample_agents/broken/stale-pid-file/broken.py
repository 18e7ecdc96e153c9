"""Keeps a PID file beside the code (/app/agent.pid) and refuses to start while one exists, the way
many daemons guard against a second copy. The file outlives the process: after a restart of the
same container the agent finds its own stale PID file and exits. On the platform's read-only root it
cannot write the file at all."""

import os
import sys
from pathlib import Path

from agent import serve

PID_FILE = Path("agent.pid")

if __name__ == "__main__":
    if PID_FILE.exists():
        print(f"error: {PID_FILE.resolve()} exists (pid {PID_FILE.read_text().strip()}): already running?",
              file=sys.stderr, flush=True)
        sys.exit(1)
    PID_FILE.write_text(str(os.getpid()))  # never removed: a restart finds it
    serve()
