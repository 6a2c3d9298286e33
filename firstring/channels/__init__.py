"""Channels: the base model and the registry; each concrete channel is a plug-in package below."""
