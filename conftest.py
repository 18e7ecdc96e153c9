"""Project-wide test settings. The conformance plugin itself is loaded through its pytest11 entry
point (`pip install -e .`), never from here, so it is registered once."""

import os

# testcontainers' reaper (Ryuk) cannot be pulled without a registry; the suite cleans up by label.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
