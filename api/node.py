"""Relay global ids: base64("<Type>:<database id>"), the `Node` interface, and decoding."""

from __future__ import annotations

import base64
import binascii

import strawberry

NODE_TYPES = ("Contract", "Party", "Vehicle", "Agency", "Window", "Claim", "Fleet", "WebhookSubscription",
              "WebhookDelivery")


def to_global_id(type_name: str, db_id: int) -> strawberry.ID:
    return strawberry.ID(base64.b64encode(f"{type_name}:{db_id}".encode()).decode())


def from_global_id(gid: str) -> tuple[str, int] | None:
    """(type, id) of a well-formed global id of a known type; None for anything else."""
    try:
        raw = base64.b64decode(gid.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, num = raw.partition(":")
    if not sep or type_name not in NODE_TYPES or not num.isdigit() or len(num) > 18:
        return None
    return type_name, int(num)


def db_id_of(gid: str, type_name: str) -> int | None:
    decoded = from_global_id(gid)
    return decoded[1] if decoded is not None and decoded[0] == type_name else None


@strawberry.interface(description="An object with a global id (Relay).")
class Node:
    id: strawberry.ID = strawberry.field(description="Global id: pass it to `node(id:)`.")
