"""Request bins (docs/bins.md): capture URLs that store every request and answer as told.

A bin is a source of the built-in type ``bin`` (``core.providers.request_bin``): its row is a
source's, its captures are inbound request records, and the source routes (list, inspect) see
them too. ``bins`` makes and changes bins, ``capture`` stores what the ingest door receives,
``tail`` follows a bin live, ``replay`` sends a capture to any URL, ``expiry`` forgets
captures past a bin's TTL.
"""
