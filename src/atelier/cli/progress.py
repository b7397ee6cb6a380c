"""Live progress of a job in the terminal: one bar per step, current agent, tokens so far."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from atelier.domain.events import Event
from atelier.domain.job import STEPS


class TerminalProgress:
    """An EventSink that renders pipeline events with Rich (to stderr)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.fields[step]:<8}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.tokens = 0

    def __enter__(self) -> TerminalProgress:
        self.progress.__enter__()
        for step in STEPS:
            self.tasks[step] = self.progress.add_task(
                step, total=1, step=step, status="pending", start=False
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def _update(self, step: str | None, **fields: object) -> None:
        if step in self.tasks:
            self.progress.update(self.tasks[step], **fields)  # type: ignore[arg-type]

    async def __call__(self, event: Event) -> None:
        data = event.data
        if event.type == "step_started":
            if event.step in self.tasks:
                self.progress.start_task(self.tasks[event.step])
            self._update(event.step, status="running")
        elif event.type == "step_finished":
            self._update(event.step, completed=1, status=f"done ({data.get('duration_s', 0)}s)")
        elif event.type == "agent_call":
            usage = data.get("usage", {})
            self.tokens = int(usage.get("prompt_tokens", 0)) + int(
                usage.get("completion_tokens", 0)
            )
            self._update(event.step, status=f"{data.get('agent')} · {self.tokens} tokens")
        elif event.type == "test_run":
            self._update(
                event.step,
                status=f"round {data['round']}: {data['passed']} passed, "
                f"{data['failed']} failed, {data['errors']} errors",
            )
        elif event.type == "budget_exhausted":
            self.console.print(f"[yellow]budget exhausted:[/] {data.get('detail')}")
