"""The conformance checks: one module per contract area, each check marked with the requirement ID it decides."""
