"""The candidate: the image's container started as the platform starts it. Engine access (guarded
and bounded), the sandbox, the container itself, readiness, labels and reaping, and what the suite
reads of a running container (listening sockets, changed files, PID 1 and signals, logs). No pytest
here."""
