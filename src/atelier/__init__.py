"""Atelier: a self-hosted multi-agent code-generation service."""

__version__ = "0.1.0"
