"""Each GET /ready "checks the model backend" on a new connection it never closes; at the 120th the
pool is exhausted and the process exits. On the platform, readiness probes every 10 s kill it
after some 20 minutes; the suite's run reaches that count with its probes at the end."""

import os
import sys

from agent import app, drop_route, ready as reference_ready, serve

POOL_SIZE = 120
leaked = []

drop_route("/ready")


@app.get("/ready")
async def ready():
    leaked.append(open(os.devnull, "rb"))  # stands in for a connection opened and never closed
    if len(leaked) >= POOL_SIZE:
        print(f"FATAL: connection pool exhausted ({len(leaked)} connections leaked by /ready); exiting",
              file=sys.stderr, flush=True)
        os._exit(3)
    return await reference_ready()


if __name__ == "__main__":
    serve()
