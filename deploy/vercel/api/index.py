"""The serverless entry of the API tier (Vercel's Python runtime serves the ASGI `app`
of `api/index.py`; any ASGI host can import it the same way).

Only with the Celery runner: the function then holds no job state — it enqueues jobs
(waiting until the broker has each one before answering 202) and reads the shared
database; `atelier worker` processes on ordinary hosts run the jobs. The host must run
the ASGI lifespan (startup connects the database, Redis and the broker).
WebSockets (`/ws`) do not work on such hosts: poll `GET /api/jobs/{id}/events?since=SEQ`
instead (see the README, "Scale-out").
"""

from atelier.api.app import create_app
from atelier.settings import get_settings

settings = get_settings()
if settings.runner != "celery" or settings.event_bus != "redis":
    raise RuntimeError(
        "the serverless API needs ATELIER_RUNNER=celery and ATELIER_EVENT_BUS=redis: "
        "a function instance cannot run jobs or keep state between requests"
    )

app = create_app(settings)
