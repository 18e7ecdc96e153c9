"""Image references pinned by digest: `IMAGE@sha256:…` names one image, and a run given one must
check that image and no other.

The digest may be a repo digest (a registry's manifest digest, which the engine knows once the
image was pushed or pulled) or the image's config digest (its ID: what `docker build` gives,
before any registry has seen it).
"""

from __future__ import annotations

import re

from .config import ImageInfo

_DIGEST = re.compile(r"^(?P<name>[^@\s]*)@(?P<digest>sha256:[0-9a-f]{64})$")


def split_digest(ref: str) -> tuple[str, str] | None:
    """(name, "sha256:…") of a digest reference; None for a reference without one. The name may be
    empty (`@sha256:…` is not a reference Docker takes, but the digest still says what is meant)."""
    match = _DIGEST.match(ref.strip())
    return (match.group("name"), match.group("digest")) if match else None


def digests_of(image: ImageInfo) -> tuple[str, ...]:
    """Every digest that names this image: its ID, then its repo digests."""
    return (image.id, *(d.partition("@")[2] for d in image.repo_digests))


def mismatch(ref: str, image: ImageInfo) -> str | None:
    """Why `image` is not the one the digest reference `ref` names (one line), or None."""
    pinned = split_digest(ref)
    if pinned is None:
        return None
    name, digest = pinned
    if digest in digests_of(image):
        return None
    known = ", ".join(d for d in digests_of(image) if d) or "no digest"
    return (f"image {ref!r}: the engine's {name or 'image'} is {known}, not {digest}: the image changed since its "
            "digest was taken; check the image you meant")
