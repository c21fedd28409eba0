"""The status quo: a Celery task that signs a webhook with HMAC and POSTs it with ``requests``.

The worker runs as ``celery -A bench.celery_app worker --concurrency 2`` (prefork). Broker,
queue, signing secret and the ready-file path come from ``BENCH_CELERY_*`` variables.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from pathlib import Path
from typing import Any

import requests
from celery import Celery
from celery.signals import worker_ready

BROKER = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/15")
QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "bench-deliveries")
SECRET = base64.b64decode(os.environ.get("BENCH_CELERY_SECRET", base64.b64encode(b"k" * 24)))
REQUEST_TIMEOUT = 15.0

app = Celery("bench", broker=BROKER)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)

# One keep-alive session per worker process (the best case for requests).
_session: requests.Session | None = None


def session() -> requests.Session:
    global _session
    if _session is None:
        _session = requests.Session()
    return _session


@app.task(name="bench.deliver", acks_late=False)
def deliver(url: str, msg_id: str, body: str) -> int:
    """Sign ``body`` (Standard Webhooks ``v1``) and POST it to ``url``."""
    data = body.encode()
    timestamp = int(time.time())
    content = f"{msg_id}.{timestamp}.".encode() + data
    signature = base64.b64encode(hmac.new(SECRET, content, hashlib.sha256).digest()).decode()
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
    }
    response = session().post(url, data=data, headers=headers, timeout=REQUEST_TIMEOUT)
    return response.status_code


@worker_ready.connect
def _announce_ready(**_: Any) -> None:
    ready_file = os.environ.get("BENCH_CELERY_READY")
    if ready_file:
        Path(ready_file).touch()
