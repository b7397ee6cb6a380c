"""Runs untrusted generated code: isolation backends, resource limits, result parsing.

Knows nothing of agents or models. See :mod:`atelier.sandbox.backends` for what
each backend guarantees.
"""

from atelier.sandbox.backends import detect_backend, guarantees, process_containment
from atelier.sandbox.junit import parse_junit
from atelier.sandbox.limits import SandboxLimits
from atelier.sandbox.process import SandboxResult, run_command
from atelier.sandbox.runner import run_tests
from atelier.sandbox.tap import parse_tap

__all__ = [
    "SandboxLimits",
    "SandboxResult",
    "detect_backend",
    "guarantees",
    "parse_junit",
    "parse_tap",
    "process_containment",
    "run_command",
    "run_tests",
]
