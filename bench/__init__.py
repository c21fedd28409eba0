"""Delivery benchmarks for hookd: ``python -m bench`` (see bench/README.md)."""
