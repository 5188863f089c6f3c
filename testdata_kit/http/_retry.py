"""The retry policy of :class:`~testdata_kit.http.ApiClient`: urllib3's ``Retry`` with a time budget."""

from __future__ import annotations

import time
from typing import Any

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

__all__ = ["IDEMPOTENT", "RETRY_STATUSES", "BoundedRetry", "policy"]

#: Methods retried after a 5xx or a lost connection; a POST retried after a lost answer could create twice.
IDEMPOTENT = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PUT"})
RETRY_STATUSES = (500, 502, 503, 504)


class BoundedRetry(Retry):
    """Same as urllib3's ``Retry``, except that retrying stops once *seconds* have passed since the first failure.

    No sleep goes past that budget, neither a backoff nor a server's ``Retry-After``.

    It also refuses to retry a connection error for a method outside ``allowed_methods``: a create against a
    server that is down should fail at once, and only cleanup needs the patience.

    :param seconds: time budget for the retries of one request, counted from its first failure.
    """

    def __init__(self, *args: Any, seconds: float = 5.0, first_failure: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seconds = seconds
        self.first_failure = first_failure

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("seconds", self.seconds)
        kw.setdefault("first_failure", self.first_failure)
        return super().new(**kw)

    def _elapsed(self) -> float:
        return 0.0 if self.first_failure is None else time.monotonic() - self.first_failure

    def is_exhausted(self) -> bool:
        return super().is_exhausted() or self._elapsed() >= self.seconds

    def get_backoff_time(self) -> float:
        # Never sleep past the budget: the last attempt happens just before it runs out.
        return max(0.0, min(super().get_backoff_time(), self.seconds - self._elapsed()))

    def get_retry_after(self, response: Any) -> float | None:
        # A server's Retry-After (often minutes on a 503) would otherwise sleep past the budget.
        after = super().get_retry_after(response)
        return None if after is None else max(0.0, min(after, self.seconds - self._elapsed()))

    def increment(self, method: str | None = None, url: str | None = None, *args: Any, **kwargs: Any) -> BoundedRetry:
        error = kwargs.get("error")
        if error is not None and method and self._is_connection_error(error) and not self._is_method_retryable(method):
            raise MaxRetryError(kwargs.get("_pool"), url or "", error) from error  # type: ignore[arg-type]
        current = self if self.first_failure is not None else self.new(first_failure=time.monotonic())
        return Retry.increment(current, method, url, *args, **kwargs)


def policy(retries: int, seconds: float, backoff: float) -> BoundedRetry:
    """The retry policy of both clients: idempotent methods after a 5xx or a lost connection, within *seconds*.

    :param retries: most retries of one request; *backoff* is urllib3's factor (sleeps ``backoff * 2 ** n``,
        at most 1 s).
    """
    return BoundedRetry(
        total=retries, connect=retries, read=retries, status=retries, other=0,
        allowed_methods=IDEMPOTENT, status_forcelist=RETRY_STATUSES, backoff_factor=backoff, backoff_max=1.0,
        raise_on_status=False, respect_retry_after_header=True, seconds=seconds,
    )
