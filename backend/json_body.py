"""Every JSON request body is read and checked before its view runs, whatever the endpoint.

Refused here, in the one error shape: a body that is not JSON (400 ``invalid_json``), one
nested deeper than ``MAX_DEPTH`` (400 ``json_too_deep``; Python's parser would otherwise
exhaust its stack), and text no database stores — a NUL or an unpaired surrogate, which
JSON's ``\\u0000`` and ``\\ud800`` escapes can carry (422 ``invalid_text``, naming where).

The check wraps the views rather than running as a ``before_request`` hook: application
hooks run before a blueprint's, and reading the body there would bypass a blueprint's
tighter ``max_content_length`` (the sync push's 1 MiB).

The document checked here is the one the view's arguments are loaded from
(``CheckedBodyParser``, every blueprint's webargs parser): a body is parsed once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from backend.errors import BadRequest, InvalidInput

# Deeper than any body of ours (a sync push goes six levels down) and far below the parser's stack.
MAX_DEPTH = 64

# Endpoints that check text item by item themselves. The sync push rejects one mutation and
# applies the rest (backend/records/writes.py, _check_storable): refusing the whole body
# would refuse it again on every retry, and the phone's queue would never move on.
TEXT_CHECKED_PER_ITEM = frozenset({"sync.push"})

TEXT_REFUSED = "Holds a NUL or an unpaired surrogate character."
# Both can only arrive as escapes: raw control characters are not JSON, and UTF-8 cannot
# encode a surrogate. Bodies without such an escape skip the walk over their strings.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
# Where the checked document waits for the view's arguments, in the request's own environ:
# ``flask.g`` can outlive a request (a test holding an app context open shares one).
PARSED = "zoufang.json_body"


def init_app(app: Flask) -> None:
    """Put the check in front of every view registered so far (call it after the blueprints)."""
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = _checked(view, check_text=endpoint not in TEXT_CHECKED_PER_ITEM)


def _checked(view: Callable[..., Any], *, check_text: bool) -> Callable[..., Any]:
    @functools.wraps(view)
    def checked_view(*args: Any, **kwargs: Any) -> Any:
        check_body(check_text=check_text)
        return view(*args, **kwargs)

    return checked_view


def check_body(*, check_text: bool) -> None:
    """Refuse the request's JSON body if it is malformed, too deep, or (with ``check_text``) unstorable."""
    if not request.is_json:
        return
    data = request.get_data(cache=True)
    if not data:
        return  # no body: the view's schema says whether one was needed
    try:
        text = data.decode()
        document = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a number over 4300 digits
        raise BadRequest(f"The body is not valid JSON: {exc}.", reason="invalid_json",
                         errors={"json": ["Invalid JSON body."]}) from None
    if _depth(document) > MAX_DEPTH:
        raise _too_deep()
    request.environ[PARSED] = document
    if check_text and _SUSPECT_ESCAPE.search(text):
        where = _unstorable_text_at(document)
        if where is not None:
            raise InvalidInput(f"The body holds a NUL or an unpaired surrogate character at {where}; "
                               "send text without them.", reason="invalid_text",
                               errors={"json": {where: [TEXT_REFUSED]}})


class CheckedBodyParser(FlaskParser):
    """webargs' Flask parser, loading the JSON body ``check_body`` already parsed and checked.

    A view reached without the check (no body, or one registered after ``init_app``) parses
    it as webargs always does.
    """

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return core.missing
        if PARSED in req.environ:
            return req.environ[PARSED]
        return super()._raw_load_json(req)


def _too_deep() -> BadRequest:
    return BadRequest(f"The body is nested more than {MAX_DEPTH} levels deep.", reason="json_too_deep",
                      errors={"json": [f"Nested more than {MAX_DEPTH} levels deep."]})


def _depth(document: Any) -> int:
    """How many arrays and objects deep ``document`` goes, without recursion."""
    deepest = 0
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((item, depth + 1) for item in value if isinstance(item, (dict, list)))
    return deepest


def _unstorable_text_at(document: Any) -> str | None:
    """The dotted path of the first key or string holding a NUL or a lone surrogate, else None."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if not _storable(value):
                return path or "(body)"
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                child = f"{path}.{_printable(key)}" if path else _printable(key)
                if not _storable(key):
                    return child
                children.append((item, child))
            stack.extend(reversed(children))  # popped in the body's own order
        elif isinstance(value, list):
            stack.extend(reversed([(item, f"{path}.{index}" if path else str(index))
                                   for index, item in enumerate(value)]))
    return None


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")
