"""Business operations that combine the store and the core; the API and the CLI call these."""
