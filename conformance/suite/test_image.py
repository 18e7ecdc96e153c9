"""Image requirements, read from the image config: no container needed."""

from __future__ import annotations

import pytest

from conformance.check import fail

# A base image's default command that starts an interactive program, not a server
# (python:3.11-slim's CMD is ["python3"]): an image relying on it runs nothing on the platform.
INTERACTIVE_DEFAULTS = {"python", "python3", "sh", "bash", "/bin/sh", "/bin/bash", "node", "irb", "ipython"}


@pytest.mark.requirement("IMAGE-PLATFORM")
def test_image_is_linux_amd64(image_info, platform, evidence):
    evidence.append(f"image config: os={image_info.os!r} architecture={image_info.architecture!r}"
                    + (f" variant={image_info.variant!r}" if image_info.variant else ""))
    if not image_info.runs_on(platform.image_platform):
        fail(f"the image is {image_info.platform}; the platform runs {platform.image_platform} only",
             [f"rebuild: docker buildx build --platform {platform.image_platform} -t IMAGE ."])


@pytest.mark.requirement("IMAGE-ENTRYPOINT")
def test_image_defines_its_start_command(image_info, evidence):
    evidence.append(f"ENTRYPOINT {list(image_info.entrypoint) or 'not set'}, CMD {list(image_info.cmd) or 'not set'}")
    command = image_info.start_command
    if not command:
        fail("the image defines neither CMD nor ENTRYPOINT; the platform accepts no command of its own")
    if len(command) == 1 and command[0] in INTERACTIVE_DEFAULTS:
        fail(f"the start command is {list(command)}, an interactive program with no script: the image "
             "relies on its base image's default command instead of defining its own")


@pytest.mark.requirement("IMAGE-RESERVED-ENV")
def test_image_defines_no_reserved_variable(image_info, platform, evidence):
    reserved = [name for name in image_info.env_names if platform.is_reserved(name)]
    # Names only: a value such as OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM is a secret.
    evidence.append(f"image ENV names: {', '.join(image_info.env_names) or 'none'}")
    if reserved:
        fail(f"the image defines reserved variable(s) {', '.join(reserved)}; the platform sets these itself",
             ["values are not shown: they may be secrets"])


@pytest.mark.requirement("IMAGE-NO-VOLUMES")
def test_image_declares_no_volume(image_info, evidence):
    evidence.append(f"VOLUME: {', '.join(image_info.volumes) or 'none'}")
    if image_info.volumes:
        fail(f"the image declares VOLUME {', '.join(image_info.volumes)}; the platform mounts no volumes and "
             "those paths are read-only there")


@pytest.mark.requirement("IMAGE-EXPOSE-8080")
def test_image_exposes_8080(image_info, platform, evidence):
    evidence.append(f"EXPOSE: {', '.join(image_info.exposed_ports) or 'none'}")
    if f"{platform.port}/tcp" not in image_info.exposed_ports:
        fail(f"the image does not EXPOSE {platform.port}/tcp")
