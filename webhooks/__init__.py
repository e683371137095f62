"""The aiohttp application: the admin REST API and the channel webhooks."""
