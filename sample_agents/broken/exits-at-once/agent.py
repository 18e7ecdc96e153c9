"""Exits at once with an error, as an agent does whose configuration is missing: it never serves,
whatever the platform relaxes, so the run blames its start-up and has nothing else to wait for."""

import sys

sys.exit("agent: no model configured (set MODEL_NAME); exiting")
