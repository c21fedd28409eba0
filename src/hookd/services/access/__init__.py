"""Access: API keys with scopes, app portal tokens, and finding the principal of a token."""
