"""The one place the price refresher touches the network: a fetch function that tests replace.

A fetch takes a URL and returns the response body as bytes, or raises :class:`RefreshError`
naming the URL (with any API key removed) and what went wrong. :func:`http_fetch` is the real
one: standard-library ``urllib`` only, a per-operation socket timeout, a whole-request deadline
that also bounds the name lookup (which ``urllib``'s timeout does not cover), and a size cap, so
an offline machine or a stalled server fails within seconds instead of hanging.
"""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Optional

from ...errors import DativoError, Problem

__all__ = ["Fetch", "RefreshError", "get_json", "http_fetch", "redact"]

Fetch = Callable[[str], bytes]

DEFAULT_TIMEOUT = 10.0  # seconds per connect or read; the whole request gets a deadline of its own
MAX_BYTES = 256 << 20  # the AWS ECS offer file for one region is a few MB; anything far larger is not a price list


class RefreshError(DativoError):
    """Prices could not be fetched or read: offline, an HTTP error, or a response that is not the documented shape."""


_SECRET = re.compile(r"(?i)([?&]key=)[^&#]*")


def redact(url: str) -> str:
    """The URL as it may be shown: an API key in the query (``key=...``) is replaced by ``***``."""
    return _SECRET.sub(r"\1***", url)


def fail(url: str, message: str) -> RefreshError:
    return RefreshError([Problem(redact(url), message)])


def _read(url: str, timeout: float, max_bytes: int, total: float) -> bytes:
    deadline = time.monotonic() + total
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "dativo-infra-price-refresh"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https URLs built by this package)
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise fail(url, f"no complete response within {total:g} s: giving up")
                chunk = response.read(1 << 16)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > max_bytes:
                    raise fail(url, f"response larger than {max_bytes:,} bytes: not a price list this refresher reads")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        raise fail(url, f"HTTP {exc.code} {exc.reason}" + _hint(exc.code)) from None
    except urllib.error.URLError as exc:
        raise fail(url, f"cannot reach the price API (no network, or the host is blocked): {exc.reason}") from None
    except TimeoutError:
        raise fail(url, f"no answer within {timeout:g} s (offline, or the API is slow): giving up") from None
    except OSError as exc:
        raise fail(url, f"cannot read the response: {exc.strerror or exc}") from None


def _hint(code: int) -> str:
    if code in (400, 401, 403):
        return " (the Cloud Billing Catalog API needs a valid API key with the Cloud Billing API enabled)"
    return ""


def http_fetch(url: str, *, timeout: float = DEFAULT_TIMEOUT, total: Optional[float] = None, max_bytes: int = MAX_BYTES) -> bytes:
    """GET ``url`` and return its body. Raises :class:`RefreshError`; never waits more than ``total`` seconds (default 6 x ``timeout``).

    The request runs in a daemon thread so that the deadline also covers the DNS lookup: a machine
    without a resolver can otherwise block in ``getaddrinfo`` well past any socket timeout.
    """
    total = timeout * 6 if total is None else total
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["body"] = _read(url, timeout, max_bytes, total)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="dativo-price-fetch", daemon=True)
    worker.start()
    worker.join(total + timeout)  # a read blocked at the deadline still ends within one socket timeout
    if worker.is_alive():
        raise fail(url, f"no answer within {total:g} s (offline, a DNS lookup that hangs, or the API is slow): giving up")
    error = outcome.get("error")
    if isinstance(error, BaseException):
        raise error
    body = outcome["body"]
    assert isinstance(body, bytes)
    return body


def get_json(fetch: Fetch, url: str) -> Any:
    """``fetch(url)`` parsed as JSON, numbers with a fraction as :class:`~decimal.Decimal` (prices stay exact)."""
    body = fetch(url)
    try:
        return json.loads(body, parse_float=Decimal)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise fail(url, f"the response is not JSON ({exc}): not a price list") from None
