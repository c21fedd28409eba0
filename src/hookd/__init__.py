"""hookd: a self-hosted webhooks platform: send, receive and fulfill webhooks."""

__version__ = "0.1.0"
