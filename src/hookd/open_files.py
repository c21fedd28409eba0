"""The process's limit on open files: each connection (client, database, delivery) takes one."""

from __future__ import annotations

import resource


def raise_soft_limit() -> tuple[int, int]:
    """Raise this process's soft limit on open files to its hard limit; return the soft limit
    before and after.

    Each connection is a file descriptor: systemd's default soft limit (1024) is reached by a
    thousand idle clients, after which accept() fails for everyone (and so do the database's
    and the sender's sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft, soft
    return soft, target
