"""Loads "a model" that is bigger than the memory it gets: allocates and fills 16 MiB at a time,
without end, before it serves. The kernel kills it at the container's memory limit."""

import sys

held = []
while True:
    held.append(b"w" * (16 << 20))  # filled, so the pages are really used
    print(f"loaded {len(held) * 16} MiB", file=sys.stderr, flush=True)
