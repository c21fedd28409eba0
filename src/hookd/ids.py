"""Prefixed, time-sortable ids (``app_``, ``ep_``, ``msg_``, ``atmpt_``, ...).

Shape: prefix + 27 base62 characters encoding 48 bits of Unix milliseconds and 112 random bits,
so ids sort by creation time (to the millisecond) and list queries can paginate on them.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import overload

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 27  # ceil(160 bits / log2(62))

APPLICATION = "app_"
ENDPOINT = "ep_"
MESSAGE = "msg_"
ATTEMPT = "atmpt_"
DELIVERY = "dlv_"
SOURCE = "src_"
TASK = "qtask_"
REQUEST = "req_"  # an inbound request to /in/{source}
API_KEY = "key_"
PORTAL_TOKEN = "ptok_"  # noqa: S105 - the id prefix of an app portal token
ALERT_CHANNEL = "achan_"  # where alert notices go (services.alerts)
ALERT_RULE = "alrt_"
ALERT_ISSUE = "iss_"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def unix_ms(moment: datetime) -> int:
    """Whole Unix milliseconds, in integer arithmetic (floats merge neighbouring milliseconds)."""
    return (moment - EPOCH) // _MILLISECOND


def from_unix_ms(millis: int) -> datetime:
    """The UTC moment ``millis`` Unix milliseconds stand for."""
    return EPOCH + millis * _MILLISECOND


# Two digits per division: half the big-integer divisions of one digit at a time (ids are made
# for every message and inbound request, on the hot paths).
_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]
_PAIR_BASE = 62 * 62


def _encode(value: int) -> str:
    chars = []
    for _ in range(BODY_LENGTH // 2):
        value, pair = divmod(value, _PAIR_BASE)
        chars.append(_PAIRS[pair])
    chars.append(ALPHABET[value % 62])  # BODY_LENGTH is odd: the leading digit alone
    chars.reverse()
    return "".join(chars)


def new_id(prefix: str, now: datetime) -> str:
    """A new id for ``prefix`` created at ``now``."""
    return prefix + _encode((unix_ms(now) << 112) | int.from_bytes(os.urandom(14), "big"))


@overload
def floor_id(prefix: str, moment: datetime) -> str: ...
@overload
def floor_id(prefix: str, moment: datetime | None) -> str | None: ...
def floor_id(prefix: str, moment: datetime | None) -> str | None:
    """The smallest id that ``new_id(prefix, moment)`` could return: for time-range queries.

    None for no moment (a range's open end)."""
    return None if moment is None else prefix + _encode(unix_ms(moment) << 112)


def id_time(value: str) -> datetime:
    """When an id was made."""
    body = value.split("_", 1)[-1]
    number = 0
    for char in body:
        number = number * 62 + ALPHABET.index(char)
    return from_unix_ms(number >> 112)
