"""Keyset pages, shared by every list: `PageInfo` and the opaque cursors (the last row's id)."""

from __future__ import annotations

import base64
import binascii

import strawberry

from api.errors import ClientError


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def encode_cursor(db_id: int) -> str:
    return base64.b64encode(f"c:{db_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    tag, _, num = raw.partition(":")
    if tag != "c" or not num.isdigit() or len(num) > 18:
        raise ClientError("`after` is not a cursor this API handed out", "INVALID_CURSOR")
    return int(num)
