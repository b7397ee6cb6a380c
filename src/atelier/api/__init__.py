"""The HTTP and WebSocket face of Atelier. Nothing imports this package."""
