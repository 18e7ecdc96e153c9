"""What the image config says: platform, command, environment, volumes, ports, digests. A plain
record (the engine's inspect document is read into it by `candidate.engine.inspect_image`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageInfo:
    ref: str
    id: str
    os: str
    architecture: str
    variant: str
    cmd: tuple[str, ...]
    entrypoint: tuple[str, ...]
    env: tuple[tuple[str, str], ...]  # (name, value); values never leave this object into evidence
    volumes: tuple[str, ...]
    exposed_ports: tuple[str, ...]  # "8080/tcp", …
    repo_digests: tuple[str, ...]
    repo_tags: tuple[str, ...]
    user: str
    workdir: str
    labels: tuple[tuple[str, str], ...] = ()  # the image's LABELs, sorted

    def label(self, name: str) -> str:
        """The value of the image's LABEL `name` ("" when it has none)."""
        return next((value for key, value in self.labels if key == name), "")

    @property
    def platform(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")

    def runs_on(self, image_platform: str) -> bool:
        """Whether the platform that runs `image_platform` images (`linux/amd64`) can start it."""
        return f"{self.os}/{self.architecture}" == image_platform

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.env)

    @property
    def start_command(self) -> tuple[str, ...]:
        return self.entrypoint + self.cmd


def _split_env(entries: list[str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, _, value in (e.partition("=") for e in entries or []))


def from_attrs(ref: str, attrs: dict) -> ImageInfo:
    """ImageInfo from the Engine API's image inspect document."""
    config = attrs.get("Config") or {}
    return ImageInfo(
        ref=ref,
        id=attrs.get("Id", ""),
        os=attrs.get("Os", ""),
        architecture=attrs.get("Architecture", ""),
        variant=attrs.get("Variant", "") or "",
        cmd=tuple(config.get("Cmd") or ()),
        entrypoint=tuple(config.get("Entrypoint") or ()),
        env=_split_env(config.get("Env")),
        volumes=tuple(sorted(config.get("Volumes") or {})),
        exposed_ports=tuple(sorted(config.get("ExposedPorts") or {})),
        repo_digests=tuple(attrs.get("RepoDigests") or ()),
        repo_tags=tuple(attrs.get("RepoTags") or ()),
        user=config.get("User", "") or "",
        workdir=config.get("WorkingDir", "") or "",
        labels=tuple(sorted((str(k), str(v)) for k, v in (config.get("Labels") or {}).items())),
    )
