"""Logs, metrics and system statistics. Imports nothing of ours above `settings`."""
