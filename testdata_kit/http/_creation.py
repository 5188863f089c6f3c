"""Reading a create's answer: the new item and its deleter, or a stand-in when the item may exist unseen."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from testdata_kit import _redact
from testdata_kit.http._addressing import ItemTemplate, read_created
from testdata_kit.http._exchange import Answer
from testdata_kit.http.errors import ApiError, MissingIdError, UnknownIdError, UnreadableCreateError

__all__ = ["CreateAnswers", "refused"]


class CreateAnswers:
    """How :class:`~testdata_kit.http.Collection` reads the answer to its POST, sync or async alike.

    A base class: the collection sets the attributes below in its ``__init__`` and has the methods declared
    here for the type checker.
    """

    # Set by Collection.__init__; see there.
    name: str
    id_field: str
    delete_at: ItemTemplate | None

    if TYPE_CHECKING:
        def _address(self, item: dict[str, Any], sent: Mapping[str, Any], path_params: Mapping[str, Any],
                     ident: Any, template: ItemTemplate | None = None) -> str: ...

        def _delete_at(self, address: str, headers: Mapping[str, str], params: Mapping[str, Any], ident: Any,
                       removal: str | None = None) -> Any: ...

    def possibly_created(self, sent: dict[str, Any], shown: str, status: int | None, error: Exception,
                         learned: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """Stand for the item of a create whose answer was lost or a 5xx: it may exist, and its id is unknown.

        The create is tracked as this placeholder, whose deletion fails with :class:`UnknownIdError`, so the
        account counts it as leaked instead of forgetting it; *error* is raised once it is on record.
        """
        learned["error"] = error
        unknown = UnknownIdError(self.name, shown, status)
        return {"id": None, **sent}, functools.partial(_raise, unknown)

    def _made(self, answer: Answer, sent: dict[str, Any], extra: Mapping[str, Any], sent_headers: dict[str, str],
              sent_params: dict[str, Any], learned: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """Read a create's *answer*: return the item and its deleter, and note in *learned* what comes next."""
        try:
            item, ident = self._created(answer)
        except (ApiError, MissingIdError) as error:
            if not answer.ok:
                if answer.status >= 500:
                    # A 5xx may come from a proxy after the backend committed: the row may exist.
                    return self.possibly_created(sent, _redact.url(answer.url), answer.status, error, learned)
                raise
            # Accepted but unreadable: the row may exist. Track what is known, so the account reports it.
            shown = _redact.url(answer.url)
            if isinstance(error, MissingIdError):
                keys = ", ".join(map(repr, error.present)) or "none"
                problem = (f"its answer has no field {error.field!r} (keys present: {keys}) and no Location "
                           f"header naming the id")
            else:
                problem = f"it {error.problem}"
            unreadable = UnreadableCreateError(self.name, shown, answer.status,
                                               _redact.body_excerpt(answer.content), problem)
            unreadable.__cause__ = error
            learned["error"] = unreadable
            unknown = UnknownIdError(self.name, shown, answer.status)
            return {"id": None, **sent}, functools.partial(_raise, unknown)
        address = self._address(item, sent, extra, ident)
        removal = address if self.delete_at is None else self._address(item, sent, extra, ident, self.delete_at)
        learned["confirm"] = (address, ident, sent_headers, sent_params)
        learned["removal"] = removal
        return item, functools.partial(self._delete_at, address, sent_headers, sent_params, ident, removal)

    def _created(self, answer: Answer) -> tuple[dict[str, Any], Any]:
        return read_created(answer, self.name, self.id_field)


def _raise(error: BaseException) -> None:
    raise error


def refused(error: Exception) -> bool:
    """Whether a create's *error* proves nothing was created: a 4xx refused it (a 5xx may come after a commit)."""
    return isinstance(error, ApiError) and 400 <= error.status < 500
