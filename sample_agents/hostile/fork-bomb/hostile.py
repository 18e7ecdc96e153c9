"""Once serving, starts a process that forks until fork fails (the container's PID limit), and
every process holds on: a worker pool that respawns without bound. The server keeps answering
from the threads it already has; the host must not feel it."""

import subprocess
import sys
from contextlib import asynccontextmanager

from agent import app, lifespan, serve

BOMB = """
import os, sys, time
forks = 0
while True:
    try:
        pid = os.fork()
    except OSError as exc:
        print(f"fork bomb: fork failed after {forks} forks: {exc}", flush=True)
        break
    if pid:
        break  # the parent holds its PID; the child forks on
    forks += 1
while True:
    time.sleep(60)
"""


@asynccontextmanager
async def bombing(application):
    async with lifespan(application):
        subprocess.Popen([sys.executable, "-c", BOMB], start_new_session=True)
        yield


app.router.lifespan_context = bombing

if __name__ == "__main__":
    serve()
