"""Removing credentials from text before it is shown, raised or stored.

A base URL may carry a user name and password (``http://user:secret@host/v1``); the HTTP stack
repeats the URL in its error messages, and error messages end up in abstentions, the explain store
and reports. Every message that can hold a URL passes :func:`redact_secrets` first.
"""

from __future__ import annotations

import re

__all__ = ["redact_secrets"]

# scheme://userinfo@ : the userinfo part (up to the last '@' before a slash or whitespace, so a
# password holding '@' goes too) is replaced; scheme and host stay, so the message says where.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s'\"<>]+@")


def redact_secrets(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***``.

    Examples:
        >>> redact_secrets("Cannot connect to http://user:s3cret@10.0.0.1:8080/v1 (refused)")
        'Cannot connect to http://***@10.0.0.1:8080/v1 (refused)'
        >>> redact_secrets("no url here")
        'no url here'
    """
    return _USERINFO.sub(r"\1***@", text)
