"""Conversations by text, independent of the channel that carries them."""
