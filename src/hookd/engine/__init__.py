"""Asyncio side: the delivery worker and the senders it drives."""
