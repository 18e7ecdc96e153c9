"""Tools for this repository's sample agents (sample_agents/): building them offline (a local base
image from debootstrap, a wheelhouse), their expected verdicts, and the sample matrix. For the
suite's own tests and CI; not part of what a user installs (the wheel ships `conformance` only).

    python -m samplekit build [NAME …]   # base image, wheelhouse, then the samples
    python -m samplekit list
"""
