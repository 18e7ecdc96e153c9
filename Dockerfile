# The suite in a container, beside the engine's socket (GitLab's docker executor, dev containers):
#   docker build -t agent-conformance .
#   docker run --rm -v /var/run/docker.sock:/var/run/docker.sock -v "$PWD:/out" agent-conformance \
#       myagent:v1 --report-json /out/report.json
# It reaches the candidates at their own addresses on the engine's network (docs/ci.md). Offline,
# `python -m samplekit suite-image` builds it FROM a local base with a wheelhouse.
ARG BASE=python:3.11-slim
FROM ${BASE}
COPY pyproject.toml README.md /src/
COPY conformance /src/conformance
RUN pip install --no-cache-dir /src && rm -rf /src
ENTRYPOINT ["agent-conformance"]
