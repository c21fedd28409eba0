"""Access: API keys, app portal access (Svix's authentication API), and the route rules."""
