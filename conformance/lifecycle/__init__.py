"""What the platform does to a container over its life, done to candidates: variants of its
constraints (`variants`), which constraint breaks a candidate (`diagnosis`), restarts and SIGTERM
(`scenarios`), the session's shared candidate and the trials around it (`session`), and the pure
readings the lifecycle checks make of them (file changes, log lines, slow stops)."""
