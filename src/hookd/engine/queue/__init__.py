"""The optional Redis queue index (``HOOKD_QUEUE_URL``): which endpoints have due work, pushed
to workers at once; the database stays the record of everything (see docs/architecture.md)."""
