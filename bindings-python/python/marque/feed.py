"""A revocation feed: keep a verifier's signed revocation list current from a URL.

``RevocationFeed(verifier, url)`` polls the URL where the operator publishes its signed list
(``marque revoke publish`` writes it where any static server or object store serves it), with
``If-None-Match``. Every decision is the core's (``RevocationFeedState``): a new list is loaded
with every list check (operator key, issue time; an older list is refused as a rollback), a
``304`` keeps the list in force, anything else keeps it too and backs off. When the publisher stays
away the verifier's staleness rule (``Verifier(max_revocation_staleness=…)``) fails every call
closed, and the next good answer recovers. ``state_file=`` keeps the last list across restarts
(loaded before the first poll, so an older list served after a restart is refused)::

    verifier = marque.Verifier(root, operator_keys=[operator], max_revocation_staleness=300)
    feed = marque.RevocationFeed(verifier, "https://ops.example.com/revocations.json",
                                 interval=30, state_file="/var/lib/app/revocations.json")
    feed.start()            # a daemon thread; feed.stop() ends it
    feed.freshness()        # seconds since the list in force was issued (health checks)

``poll_once()`` makes one poll in the calling thread (tests, or a scheduler of your own). Only
``http``/``https`` URLs without user info are accepted; pass credentials in ``headers=``.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from marque._native import RevocationFeedState, Verifier

__all__ = ["RevocationFeed"]

# The largest body read (the core refuses a larger list too).
_MAX_BODY = 16 * 1024 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-200: the feed polls the URL it was given."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class RevocationFeed:
    """Polls ``url`` for the operator's signed revocation list and loads it into ``verifier``."""

    def __init__(
        self,
        verifier: Verifier,
        url: str,
        *,
        interval: int | float = 30,
        max_backoff: int | float = 300,
        timeout: int | float = 5,
        state_file: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(verifier, Verifier):
            raise TypeError(f"verifier must be a marque.Verifier, got {type(verifier).__name__}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 60:
            raise ValueError("timeout is seconds in (0, 60]")
        self.verifier = verifier
        self.state = RevocationFeedState(url, interval=interval, max_backoff=max_backoff)
        self.timeout = float(timeout)
        self.headers = dict(headers or {})
        self.restored = self.state.use_state_file(state_file, verifier) if state_file is not None else None
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.polls = 0

    @property
    def url(self) -> str:
        """The URL polled."""
        return self.state.url

    def freshness(self) -> int | None:
        """Seconds since the list in force was issued (``None``: none loaded)."""
        return self.state.freshness(self.verifier)

    def poll_once(self) -> dict[str, Any]:
        """One poll: ``{"loaded": sequence | None, "error": str | None, "next_poll_in": seconds}``."""
        self.polls += 1
        request = urllib.request.Request(self.state.url, headers=self.headers)
        etag = self.state.etag
        if etag is not None:
            request.add_header("If-None-Match", etag)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read(_MAX_BODY + 1)
                return self.state.apply(self.verifier, response.status, response.headers.get("ETag"), body)
        except urllib.error.HTTPError as e:  # 304 and every other status
            with e:
                return self.state.apply(self.verifier, e.code, e.headers.get("ETag"), b"")
        except (OSError, ValueError) as e:  # refused, reset, timed out, bad response
            return self.state.failed(f"{type(e).__name__}: {e}")

    def _run(self) -> None:
        while not self._stop.is_set():
            outcome = self.poll_once()
            self._stop.wait(outcome["next_poll_in"])

    def start(self) -> RevocationFeed:
        """Polls now and then every ``interval`` seconds in a daemon thread, until ``stop()``."""
        if self._thread is not None:
            raise RuntimeError("the feed is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="marque-revocation-feed", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops the polling thread (the list in force stays loaded)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> RevocationFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RevocationFeed(url={self.state.url!r}, failures={self.state.failures})"
