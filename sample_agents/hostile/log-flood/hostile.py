"""Writes to its log as fast as it can, from a second process, while it serves like the
reference: lines of 64 KiB and lines of 4 MiB without a break (debug logging of whole payloads).
The log must never be read whole, nor fill the host's disk."""

import subprocess
import sys

from agent import serve

FLOOD = """
import sys
short = b"flood " * 10922 + b"\\n"
long = b"x" * (4 << 20) + b"\\n"
out = sys.stdout.buffer
n = 0
while True:
    n += 1
    out.write(long if n % 50 == 0 else short)
"""

if __name__ == "__main__":
    subprocess.Popen([sys.executable, "-c", FLOOD])  # inherits stdout: the container's log
    serve()
