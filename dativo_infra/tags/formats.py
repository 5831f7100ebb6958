"""Per-cloud tag formatting, exactly per docs/cloud-limits.md §1.

Each cloud has a key formatter, a value formatter, a collision key (Azure
names are case-insensitive) and a tag limit. Formatting is deterministic and
idempotent: a formatted key or value formats to itself. Text too long for a
cloud is shortened to a prefix plus a short hash of the full text, so two
different values stay different; nothing is dropped.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

CLOUDS = ("aws", "gcp", "azure", "kubernetes")

REPLACEMENT = "-"
HASH_LENGTH = 8


class ReservedKey(ValueError):
    """The key uses a prefix the cloud reserves for itself."""


class EmptyKey(ValueError):
    """Nothing of the key survives the cloud's character rules."""


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    import hashlib  # here, not at the top: loading OpenSSL costs start-up time and most runs shorten nothing

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    return f"{text[: limit - HASH_LENGTH - 1]}-{digest}"


# --- AWS ---------------------------------------------------------------------
# ECS's pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*: the characters safe in every service
_AWS_ASCII_SAFE = re.compile(r"^[A-Za-z0-9 _.:/=+\-@]*\Z")
_AWS_EXTRA = set("_.:/=+-@")


def _aws_chars(text: str) -> str:
    if _AWS_ASCII_SAFE.match(text):
        return text
    return "".join(ch if ch in _AWS_EXTRA or unicodedata.category(ch)[0] in "LZN" else REPLACEMENT for ch in text)


def aws_key(key: str) -> str:
    if key[:4].lower() == "aws:":
        raise ReservedKey(f"tag key {key!r}: the 'aws:' prefix (in any case) is reserved by AWS")
    out = shorten(_aws_chars(key), 128)
    if not out:
        raise EmptyKey(f"tag key {key!r} is empty; AWS tag keys are 1–128 characters")
    return out


def aws_value(value: str) -> str:
    return shorten(_aws_chars(value), 256)


# --- GCP ---------------------------------------------------------------------
_GCP_ASCII_KEY = re.compile(r"^[a-z][a-z0-9-]{0,62}\Z")
_GCP_ASCII_VALUE = re.compile(r"^[a-z0-9_-]{0,63}\Z")
CLOUD_RUN_RESERVED = ("run.googleapis.com", "cloud.googleapis.com", "serving.knative.dev", "autoscaling.knative.dev")


def _gcp_char_ok(ch: str, underscore: bool) -> bool:
    if ch.isascii():
        return ch.islower() or ch.isdigit() or ch == "-" or (underscore and ch == "_")
    return unicodedata.category(ch) in ("Ll", "Lo")  # international lowercase (or caseless) letters


def _gcp_chars(text: str, underscore: bool) -> str:
    return "".join(ch if _gcp_char_ok(ch, underscore) else REPLACEMENT for ch in text.lower())


def gcp_key(key: str) -> str:
    if _GCP_ASCII_KEY.match(key):
        return key
    lowered = key.lower()
    for namespace in CLOUD_RUN_RESERVED:
        if lowered.startswith(namespace):
            raise ReservedKey(f"label key {key!r}: the {namespace!r} namespace is reserved by Cloud Run")
    # the seed's rule: hyphens instead of underscores and colons in keys
    out = _gcp_chars(key, underscore=False)
    if not out:
        raise EmptyKey(f"label key {key!r} is empty; GCP label keys are 1–63 characters")
    if not (out[0].isascii() and out[0].isalpha()) and unicodedata.category(out[0]) not in ("Ll", "Lo"):
        out = "x" + REPLACEMENT + out  # keys must start with a letter
    return shorten(out, 63)


def gcp_value(value: str) -> str:
    if _GCP_ASCII_VALUE.match(value):
        return value
    return shorten(_gcp_chars(value, underscore=True), 63)


# --- Azure -------------------------------------------------------------------
_AZURE_FORBIDDEN = set("<>%&\\?/")
AZURE_NAME_LIMIT = 128  # 512 in general, 128 on storage accounts: the safe choice for every resource


def azure_key(key: str) -> str:
    out = shorten("".join(REPLACEMENT if ch in _AZURE_FORBIDDEN else ch for ch in key), AZURE_NAME_LIMIT)
    if not out:
        raise EmptyKey(f"tag name {key!r} is empty")
    return out


def azure_value(value: str) -> str:
    return shorten(value, 256)


# --- Kubernetes --------------------------------------------------------------
_K8S_NAME_OK = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
_K8S_BAD = re.compile(r"[^-A-Za-z0-9_.]")
_K8S_PREFIX_BAD = re.compile(r"[^a-z0-9.-]")
_K8S_LABEL_ENDS = re.compile(r"^-+|-+\Z")
DATIVO_NAMESPACE, DATIVO_LABEL_PREFIX = "dativo:", "dativo.io/"
K8S_RESERVED = ("kubernetes.io", "k8s.io")
K8S_ALLOWED_RESERVED = ("app.kubernetes.io",)  # the recommended labels


def _k8s_segment(text: str) -> str:
    """A label name or value: [A-Za-z0-9] at both ends, [-A-Za-z0-9_.] inside, ≤ 63."""
    if len(text) <= 63 and (not text or _K8S_NAME_OK.match(text)):
        return text
    cleaned = _K8S_BAD.sub(REPLACEMENT, text)
    cleaned = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", cleaned)
    return shorten(cleaned, 63)


def _k8s_prefix(prefix: str) -> str:
    # each DNS label: [a-z0-9-], ≤ 63, no hyphen at either end (trimmed after cutting, so a cut never ends in '-')
    labels = [_K8S_LABEL_ENDS.sub("", _K8S_PREFIX_BAD.sub(REPLACEMENT, part.lower())[:63]) for part in prefix.split(".")]
    return ".".join(label for label in labels if label)[:253].strip(".-")


def kubernetes_key(key: str) -> str:
    if key.startswith(DATIVO_NAMESPACE):
        key = DATIVO_LABEL_PREFIX + key[len(DATIVO_NAMESPACE):]
    prefix, slash, name = key.partition("/")
    if not slash:
        prefix, name = "", key
    prefix = _k8s_prefix(prefix) if prefix else ""
    if prefix and prefix not in K8S_ALLOWED_RESERVED and any(prefix == r or prefix.endswith("." + r) for r in K8S_RESERVED):
        raise ReservedKey(f"label key {key!r}: the {prefix + '/'!r} prefix is reserved for Kubernetes core components")
    name = _k8s_segment(name)
    if not name:
        raise EmptyKey(f"label key {key!r} has no valid name characters; names are [A-Za-z0-9][-A-Za-z0-9_.]* up to 63")
    return f"{prefix}/{name}" if prefix else name


def kubernetes_value(value: str) -> str:
    return _k8s_segment(value)


@dataclass(frozen=True)
class CloudFormat:
    name: str
    key: Callable[[str], str]
    value: Callable[[str], str]
    limit: Optional[int]
    fold: Callable[[str], str]  # the identity of a key in that cloud
    noun: str


def _cached(func: Callable[[str], str]) -> Callable[[str], str]:
    # a fleet repeats the same keys and values thousands of times; formatting is pure
    return lru_cache(maxsize=65536)(func)


FORMATS = {
    "aws": CloudFormat("aws", _cached(aws_key), _cached(aws_value), 50, str, "tags"),
    "gcp": CloudFormat("gcp", _cached(gcp_key), _cached(gcp_value), 64, str, "labels"),
    "azure": CloudFormat("azure", _cached(azure_key), _cached(azure_value), 50, str.lower, "tags"),
    "kubernetes": CloudFormat("kubernetes", _cached(kubernetes_key), _cached(kubernetes_value), None, str, "labels"),
}
