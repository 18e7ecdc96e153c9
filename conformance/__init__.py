"""Conformance test suite for agent container images (OCI Generative AI, Hosted Deployments)."""

__version__ = "0.1.0"
SUITE_NAME = "agent-conformance"
