"""Host statistics for the stats endpoint (CPU, memory, disk) via psutil."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psutil


def system_stats(data_dir: Path) -> dict[str, Any]:
    """CPU, memory and disk usage of the host; disk is measured where the data lives."""
    where = data_dir if data_dir.exists() else Path("/")
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(where))
    try:
        load: list[float] | None = [round(x, 2) for x in psutil.getloadavg()]
    except (OSError, AttributeError):
        load = None
    return {
        "cpu": {
            "count": psutil.cpu_count() or 1,
            "percent": psutil.cpu_percent(interval=None),
            "load_avg": load,
        },
        "memory": {
            "total_bytes": memory.total,
            "available_bytes": memory.available,
            "used_bytes": memory.total - memory.available,
            "percent": memory.percent,
        },
        "disk": {
            "path": str(where),
            "total_bytes": disk.total,
            "used_bytes": disk.used,
            "free_bytes": disk.free,
            "percent": disk.percent,
        },
        "process": {"rss_bytes": psutil.Process().memory_info().rss},
    }
