"""Modules a run needs later, imported in a thread while its candidates boot (the main thread then
mostly waits on them) instead of before the first one starts: Hypothesis and the fuzz campaign
(`fuzz.generation.warm_up`), securesystemslib for a bundle (`report.attestation.warm_up`)."""

from __future__ import annotations

import importlib
import threading


def in_background(module: str, thread_name: str) -> threading.Thread:
    """Import `module` in a daemon thread, started now."""
    thread = threading.Thread(target=importlib.import_module, args=(module,), daemon=True, name=thread_name)
    thread.start()
    return thread
