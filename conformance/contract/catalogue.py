"""The contract as data: every requirement ID of `requirements.md`, its level, title, the sentence
of the platform's page (or the platform practice) it comes from, and how to fix a failure; and what
the suite derives from it: when its checks run (`phase`), which start-up failures it owns, and what
its checks need of the session's lifecycle trials.

The IDs are public vocabulary: markers, reports, sample agents' expectations and docs use them verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"


MUST, SHOULD = Level.MUST, Level.SHOULD


class Phase(IntEnum):
    """When a requirement's checks run: those that only read the shared candidate before those
    that may harm it (fuzzing), then the watch over its whole use, then the checks on candidates
    of their own (their trials run in the background from the start: the watch's closing probes
    overlap the last of them instead of following it)."""

    IMAGE = 0  # the image config (or a scanner report) alone: no container
    SERVE = 1  # the shared candidate, read only
    FUZZ = 2  # generated requests: the shared candidate may not survive them
    WATCH = 3  # the shared candidate over its whole use (it must still be up at the end of it)
    LIFECYCLE = 4  # candidates of their own: other constraints, restarts, SIGTERM


@dataclass(frozen=True)
class Requirement:
    id: str
    level: Level
    title: str
    source: str
    fix: str
    phase: Phase
    # Ways the shared candidate's start can fail (`candidate.readiness.StartupState`) that are this
    # requirement's defect: the checks of the others say "(see <this ID>)".
    startup_failures: tuple[str, ...] = ()
    # What its checks need of the session's lifecycle trials (`lifecycle.session.TRIALS`): started
    # together, in the background, as soon as a check of a selected requirement needs them.
    trials: tuple[str, ...] = ()

    @property
    def needs_container(self) -> bool:
        return self.phase != Phase.IMAGE

    def worded(self, values: dict[str, str]) -> "Requirement":
        """The title and fix with the platform's values in place of `{port}`, `{platform}`, `{ready}`,
        `{health}` and `{grace}` (plain replacement: fixes hold JSON braces of their own). The
        source sentences are the platforms' words, quoted as they are."""
        def put(text: str) -> str:
            for key, value in values.items():
                text = text.replace("{" + key + "}", value)
            return text

        return replace(self, title=put(self.title), fix=put(self.fix))


CATALOGUE: tuple[Requirement, ...] = (
    # -- Image: read from the image config, no container needed.
    Requirement(
        "IMAGE-PLATFORM", MUST, "The image is {platform}.",
        "For images, the Generative AI service supports 64-bit x86 architecture, code name amd64.",
        "Build with `docker buildx build --platform {platform} …`.",
        phase=Phase.IMAGE,
    ),
    Requirement(
        "IMAGE-ENTRYPOINT", MUST, "The image defines its start command with CMD or ENTRYPOINT.",
        "Custom entry point commands are not supported. Define the entry command in the Dockerfile by "
        "using CMD or ENTRYPOINT.",
        'Add an exec-form start command to the Dockerfile, e.g. `CMD ["python", "agent.py"]`.',
        phase=Phase.IMAGE,
    ),
    Requirement(
        "IMAGE-RESERVED-ENV", MUST, "The image defines none of the platform's reserved variables.",
        "The following environment variables are reserved for system use. Don't define them in the "
        "container code: PORT, K_SERVICE, K_CONFIGURATION, K_REVISION, OCI_RESOURCE_PRINCIPAL_VERSION, "
        "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM, OCI_RESOURCE_PRINCIPAL_RPST, KUBERNETES_*",
        "Remove these `ENV` lines from the Dockerfile (and its base image); read your own settings "
        "from variables with other names.",
        phase=Phase.IMAGE,
    ),
    Requirement(
        "IMAGE-NO-VOLUMES", MUST, "The image declares no VOLUME.",
        "Volume mapping is not supported. Containers must be stateless, because local file data is not "
        "preserved during redeployment or node replacement.",
        "Remove `VOLUME` from the Dockerfile (and check the base image's); write scratch data under /tmp.",
        phase=Phase.IMAGE,
    ),
    Requirement(
        "IMAGE-EXPOSE-8080", SHOULD, "The image EXPOSEs {port}/tcp.",
        "The container must listen on port 8080.",
        "Add `EXPOSE {port}` to the Dockerfile.",
        phase=Phase.IMAGE,
    ),
    # -- Network and probes: the container started as the platform starts it.
    Requirement(
        "LISTEN-ALL-INTERFACES", MUST, "The server accepts connections on the container's non-loopback address (listens on 0.0.0.0).",
        "The container must listen on host 0.0.0.0.",
        "Bind the server to 0.0.0.0, e.g. `uvicorn app:app --host 0.0.0.0 --port {port}`.",
        phase=Phase.SERVE,
        startup_failures=("loopback-only",),
    ),
    Requirement(
        "LISTEN-PORT-8080", MUST, "HTTP is served on TCP port {port}.",
        "The container must listen on port 8080.",
        "Serve on port {port}, e.g. `uvicorn app:app --host 0.0.0.0 --port {port}` (uvicorn's default is 8000).",
        phase=Phase.SERVE,
        startup_failures=("wrong-port", "timeout-other-port"),
    ),
    Requirement(
        "READY-200", MUST, "GET {ready} returns 200 once the application is initialised.",
        "Path: /ready … Success Status Code: 200 OK (application is ready)",
        "Serve `GET {ready}` at exactly that path (no redirect to {ready}/) with status 200 once initialised.",
        phase=Phase.SERVE,
        startup_failures=("serving",),
    ),
    Requirement(
        "READY-JSON", MUST, "{ready} answers with Content-Type: application/json.",
        "Readiness Endpoint … Content Type: application/json",
        'Return a JSON body from {ready}, e.g. `{"status": "ready"}` with `Content-Type: application/json`.',
        phase=Phase.SERVE,
    ),
    Requirement(
        "HEALTH-200", MUST, "GET {health} returns 200.",
        "Path: /health … Success Status Code: 200 OK (application is healthy)",
        "Serve `GET {health}` at exactly that path with status 200 (not 204, not a redirect).",
        phase=Phase.SERVE,
    ),
    Requirement(
        "HEALTH-JSON", MUST, "{health} answers with Content-Type: application/json.",
        "Liveness Endpoint … Content Type: application/json",
        'Return a JSON body from {health}, e.g. `{"status": "ok"}` with `Content-Type: application/json`.',
        phase=Phase.SERVE,
    ),
    Requirement(
        "STARTUP-TIME", SHOULD, "Ready within the startup budget (default 30 s).",
        "The Docker container must expose a readiness endpoint to verify that the application is fully "
        "initialized and ready to handle requests.",
        "Load models and clients lazily or in the background, answer {ready} 503 until done, and keep the "
        "start command direct (no dependency sync at start-up).",
        phase=Phase.SERVE,
        startup_failures=("exited", "timeout"),
    ),
    Requirement(
        "READY-TRUTHFUL", SHOULD, "Once {ready} first returns 200, declared endpoints answer without 5xx.",
        "Indicates whether the container is ready to receive traffic.",
        "Answer {ready} 200 only after everything the endpoints need is initialised.",
        phase=Phase.SERVE,
    ),
    Requirement(
        "PROBES-RESPONSIVE", SHOULD, "{health} and {ready} answer within 1 s, also while an SSE stream is in flight.",
        "Kubernetes' default probe timeout is 1 s (the reserved K_* variables show the platform runs Knative).",
        "Never block the event loop while streaming (use async I/O or a thread pool) and run more than one "
        "synchronous worker.",
        phase=Phase.SERVE,
    ),
    # -- HTTP contract on the agent's own endpoints.
    Requirement(
        "ENDPOINT-SERVES", MUST, "Each declared endpoint answers its own example request with a 2xx, in both modes "
        "(JSON and SSE).",
        "The container must expose an HTTP-based service that implements REST-style request and response endpoints "
        "using methods such as GET, PUT, POST, DELETE, and PATCH with user-defined paths.",
        "Make each declared endpoint answer its example request (the agent config's `json`) with a 2xx. An agent that "
        "needs a model or credentials to answer gets them with `--env NAME=VALUE` or `--env-file FILE` (or runs in "
        "its own mock mode); an example body the endpoint refuses (4xx) is corrected in the agent config.",
        phase=Phase.SERVE,
    ),
    Requirement(
        "NEGOTIATE-JSON", MUST, "Without text/event-stream in Accept, the endpoint answers application/json that parses.",
        "Otherwise, the endpoint must return a standard JSON response with content type application/json.",
        "Choose the response by the Accept header; when it does not include text/event-stream return a "
        "JSON body with `Content-Type: application/json`.",
        phase=Phase.SERVE,
    ),
    Requirement(
        "NEGOTIATE-SSE", MUST, "With text/event-stream in Accept, the endpoint answers text/event-stream.",
        "If the Accept header includes text/event-stream, the endpoint must return a Server-Sent Events "
        "(SSE) response with content type text/event-stream.",
        "Test whether `text/event-stream` appears anywhere in Accept (not equality) and stream with "
        "`Content-Type: text/event-stream`.",
        phase=Phase.SERVE,
    ),
    Requirement(
        "SSE-FRAMING", MUST, "The event stream is well formed (WHATWG server-sent events).",
        "the endpoint must return a Server-Sent Events (SSE) response",
        "Frame each event as `data: …` lines ended by a blank line, UTF-8 encoded; use a library such as "
        "sse-starlette rather than hand-written framing.",
        phase=Phase.SERVE,
    ),
    Requirement(
        "SSE-INCREMENTAL", SHOULD, "Events are delivered as they are produced.",
        "This setup supports an endpoint for both streaming and non-streaming interactions.",
        "Stream with a generator (no Content-Length, no buffering middleware such as GZip on SSE responses).",
        phase=Phase.SERVE,
    ),
    Requirement(
        "ERRORS-JSON", SHOULD, "Error answers (4xx/5xx) to non-streaming requests are application/json.",
        "Otherwise, the endpoint must return a standard JSON response with content type application/json.",
        "Install JSON exception handlers for validation errors, 404s and unhandled exceptions.",
        phase=Phase.SERVE,
    ),
    Requirement(
        "ROBUST-INPUT", SHOULD, "Generated headers, paths, methods and bodies never cause a 5xx, a hang or a dropped connection.",
        "The container must expose an HTTP-based service that implements REST-style request and response "
        "endpoints using methods such as GET, PUT, POST, DELETE, and PATCH with user-defined paths.",
        "Validate input and answer 4xx with a JSON error; never let a request crash or block the server.",
        phase=Phase.FUZZ,
    ),
    # -- Filesystem, environment and lifecycle.
    Requirement(
        "READONLY-ROOTFS", MUST, "With a read-only root and a writable /tmp, the container starts and serves.",
        "The container file system is read-only, except for the /tmp directory, which is writable.",
        "Write nothing outside /tmp at run time: no `uv run`/`pip install` at start-up, logs to stdout, "
        "caches under /tmp (e.g. `ENV HOME=/tmp` or `XDG_CACHE_HOME=/tmp/.cache`).",
        phase=Phase.LIFECYCLE,
        trials=("exercise", "diagnosis"),
    ),
    Requirement(
        "WRITES-ONLY-TMP", SHOULD, "Exercised on a writable root, the container changes nothing outside /tmp.",
        "If your application needs to write files locally, write them to /tmp.",
        "Point every file the agent writes (logs, caches, databases) at /tmp or stdout.",
        phase=Phase.LIFECYCLE,
        trials=("exercise", "writable"),
    ),
    Requirement(
        "PLATFORM-ENV", MUST, "With the platform's reserved variables injected, the container starts and serves.",
        "The following environment variables are reserved for system use.",
        "Do not change behaviour on PORT, K_* or KUBERNETES_* being set; read your own configuration from "
        "your own variable names.",
        phase=Phase.LIFECYCLE,
        # Without the reserved variables only for the diagnosis: on an agent that serves with them
        # that trial decides nothing, and its boot cost every run about a core-second.
        trials=("exercise", "diagnosis"),
    ),
    Requirement(
        "STATELESS-RESTART", MUST, "A restarted container and a fresh one become ready and answer as the first did.",
        "Containers must be stateless, because local file data is not preserved during redeployment or "
        "node replacement.",
        "Keep no state on local disk between runs; recreate what the agent needs at start-up under /tmp.",
        phase=Phase.LIFECYCLE,
        trials=("exercise", "restart"),
    ),
    Requirement(
        "STAYS-UP", MUST, "The container does not exit or restart during the run, and {health} answers at the end as at the start.",
        "The Docker container must expose a liveness endpoint to verify that the application is running "
        "correctly and does not require a restart.",
        "Find the crash in the log tail; never exit the server process on a bad request.",
        phase=Phase.WATCH,
        trials=("exercise", "baseline"),
    ),
    Requirement(
        "GRACEFUL-SHUTDOWN", SHOULD, "On SIGTERM the container exits within {grace} s.",
        "Kubernetes sends SIGTERM and kills the container after the grace period.",
        'Use exec-form `CMD ["python", "agent.py"]` (not shell form) and let the server handle SIGTERM '
        "(uvicorn does); or add `--init` style reaping with tini.",
        phase=Phase.LIFECYCLE,
        trials=("exercise", "restart"),
    ),
    Requirement(
        "NO-CRITICAL-VULNS", MUST, "The image has no vulnerability of CRITICAL severity.",
        "Before deployment, the image is scanned using OCI Vulnerability Scanning Service. Deployment fails "
        "if any critical vulnerabilities are detected.",
        "Rebuild on a patched base image (Oracle Container Registry images pass scanning) and upgrade the "
        "listed packages to their fixed versions.",
        phase=Phase.IMAGE,
    ),
)

# Rules of other platforms' profiles (contract/profiles/*.toml) that the OCI page does not have.
OTHER_PLATFORMS: tuple[Requirement, ...] = (
    Requirement(
        "PING-STATUS-JSON", MUST, 'The health probe answers a JSON object whose "status" is one of the platform\'s values.',
        '{"status": "<status_value>"} … Healthy … HealthyBusy',
        'Answer `GET /ping` with `Content-Type: application/json` and a body such as `{"status": "Healthy"}` '
        '(`"HealthyBusy"` while a task runs).',
        phase=Phase.SERVE,
    ),
    Requirement(
        "PORT-FROM-ENV", SHOULD, "Started with another port in $PORT, the server listens there.",
        "The platform injects the PORT environment variable into the container.",
        "Read the port from $PORT, e.g. `uvicorn app:app --host 0.0.0.0 --port ${PORT:-{port}}` "
        "(a shell-form or `sh -c` start command; or read `os.environ['PORT']` in code).",
        phase=Phase.LIFECYCLE,
    ),
    Requirement(
        "SESSION-HEADER-ACCEPTED", MUST, "A call with the platform's session header answers as one without.",
        "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id … (sent with each invocation)",
        "Accept the platform's session header on every call (use it as a thread or session key if you like); "
        "never fail a request for carrying it.",
        phase=Phase.SERVE,
    ),
    Requirement(
        "ANSWER-JSON-OR-SSE", MUST, "The endpoint answers application/json that parses, or text/event-stream, as the "
        "agent chooses.",
        "Your agent can respond using either of the following formats depending on the use case … JSON response … "
        "Server-sent events (SSE)",
        "Answer `Content-Type: application/json` with a JSON body, or stream `Content-Type: text/event-stream` "
        "(a generator entrypoint does).",
        phase=Phase.SERVE,
    ),
    Requirement(
        "RESPONSES-EVENTS", MUST, 'Asked to stream ("stream": true), the endpoint answers the Responses API\'s '
        "event stream: each event named as its JSON type, response.created first, one terminal event last.",
        "response.created … response.output_text.delta … response.completed",
        'Stream `event: <type>` with `data: {"type": "<type>", …}`: `response.created` first, then deltas, then '
        "exactly one of `response.completed`, `response.failed` or `response.incomplete`.",
        phase=Phase.SERVE,
    ),
)

EVERY_REQUIREMENT: tuple[Requirement, ...] = CATALOGUE + OTHER_PLATFORMS
BY_ID: dict[str, Requirement] = {r.id: r for r in EVERY_REQUIREMENT}
IDS: tuple[str, ...] = tuple(r.id for r in CATALOGUE)  # the OCI contract's, the default profile's
RUNTIME_IDS: tuple[str, ...] = tuple(r.id for r in EVERY_REQUIREMENT if r.needs_container)
LIFECYCLE_IDS: frozenset[str] = frozenset(r.id for r in EVERY_REQUIREMENT if r.trials)
STARTUP_OWNERS: dict[str, str] = {state: r.id for r in EVERY_REQUIREMENT for state in r.startup_failures}


def get(requirement_id: str) -> Requirement:
    try:
        return BY_ID[requirement_id]
    except KeyError:
        raise KeyError(f"unknown requirement ID {requirement_id!r}; known: {', '.join(IDS)}") from None


def startup_owner(state: str) -> str:
    """The ID whose defect a failed start in this state is ("" for a start that did not fail)."""
    return STARTUP_OWNERS.get(state, "")


def trials_for(requirement_ids) -> set[str]:
    """Every lifecycle trial the checks of these requirements need."""
    return {trial for rid in requirement_ids if rid in BY_ID for trial in BY_ID[rid].trials}
