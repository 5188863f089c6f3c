"""The refusal policy: which errors and answers of a deleter mean "refused for now, try again later"."""

from __future__ import annotations

from testdata_kit.errors import DeleterAnswerError, RetryLater

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["REFUSED_STATUSES", "check_answer", "refused_statuses", "retry_later"]

# Documented where users import it: testdata_kit.resources.REFUSED_STATUSES.
REFUSED_STATUSES = frozenset((400, 409, 412, 422))
_configured_statuses: frozenset[int] | None = None


def retry_later(error: BaseException, refused: tuple[int | type[BaseException], ...] | None = None) -> bool:
    """Whether *error*, raised by a deleter, means "refused for now: try again after the other deletions".

    In order: a :class:`~testdata_kit.RetryLater` is; so is an instance of a type in *refused*; an error with a
    boolean ``retry_later`` attribute says for itself; then an error with a ``status`` attribute is, when the
    status is a refused one, a 5xx, or ``None`` (no answer within the client's retry budget); nothing else is.

    :param refused: statuses and exception types given as ``refused=`` to the kind or collection. Its ints
        replace the configured refused statuses; its types add to :class:`~testdata_kit.RetryLater`.
    """
    if isinstance(error, RetryLater):
        return True
    statuses = None
    if refused:
        if isinstance(error, tuple(item for item in refused if isinstance(item, type))):
            return True
        ints = frozenset(item for item in refused if isinstance(item, int))
        statuses = ints or None
    flag = getattr(error, "retry_later", None)
    if isinstance(flag, bool):  # the error knows (an HTTP error for an id never read: no later pass can help)
        return flag
    if not hasattr(error, "status"):
        return False
    status = error.status
    if status is None:  # no answer at all within the client's retry budget: the server may answer later
        return True
    if not isinstance(status, int):
        return False
    return status >= 500 or status in (statuses if statuses is not None else refused_statuses())


def refused_statuses() -> frozenset[int]:
    """The statuses that mean "refused for now": ``refused-statuses`` in setup.cfg, else :data:`REFUSED_STATUSES`.

    Read once per process, at the first failed deletion.

    :raises ConfigError: an item of ``refused-statuses`` is not a number from 100 to 599.
    """
    global _configured_statuses
    if _configured_statuses is None:
        from testdata_kit import config

        loaded = config.load()
        items = loaded.get_list("refused-statuses", [str(status) for status in sorted(REFUSED_STATUSES)])
        bad = [item for item in items if not (item.isdigit() and 100 <= int(item) <= 599)]
        if bad:
            raise config.ConfigError(loaded.path, "refused-statuses", bad[0],
                                     "HTTP statuses that mean 'refused for now', e.g. 400, 409, 412, 422",
                                     loaded.section_name)
        _configured_statuses = frozenset(int(item) for item in items)
    return _configured_statuses


def check_answer(result: Any, deleter: Any) -> None:
    """Raise :class:`DeleterAnswerError` when a deleter returned an HTTP response with a 4xx or 5xx status.

    Any object with an integer ``status_code`` counts as a response (requests', httpx's). Other results, and
    2xx and 3xx answers, pass: the deleter is trusted to have checked what it could.
    """
    status = getattr(result, "status_code", None)
    if type(status) is int and status >= 400:
        name = getattr(deleter, "__qualname__", None) or getattr(getattr(deleter, "func", None), "__qualname__", None)
        raise DeleterAnswerError(f"the deleter {name or repr(deleter)}", status,
                                 str(getattr(result, "reason", None) or getattr(result, "reason_phrase", "") or ""))
