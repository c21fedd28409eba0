"""Tests of the fulfillment SDK (hookd.fulfillment)."""
