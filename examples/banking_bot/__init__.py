"""A banking-balance bot for Dialogflow ES and CX, built on ``hookd.fulfillment``."""
