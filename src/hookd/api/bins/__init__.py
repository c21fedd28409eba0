"""``/api/v1/bin``: request bins (docs/bins.md), a thin layer over sources of type ``bin``."""
