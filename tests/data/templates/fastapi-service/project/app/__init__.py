"""A notes API built with FastAPI (the app is `app.main.app`)."""
