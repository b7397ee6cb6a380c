"""The event loop `atelier serve` runs on."""

from __future__ import annotations

import asyncio
import importlib

import pytest
import typer

# `atelier.cli.serve` the attribute is the command function; the module is wanted here.
serve_module = importlib.import_module("atelier.cli.serve")


def test_auto_and_uvloop_pick_uvloop_when_installed() -> None:
    uvloop = pytest.importorskip("uvloop", reason="uvloop comes with the server extra")
    assert serve_module.loop_factory("auto") is uvloop.new_event_loop
    assert serve_module.loop_factory("uvloop") is uvloop.new_event_loop
    assert serve_module.loop_factory("asyncio") is None


def test_run_on_loop_runs_the_coroutine_on_that_loop() -> None:
    async def loop_type() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert serve_module.run_on_loop(loop_type(), "uvloop").startswith("uvloop")
    assert serve_module.run_on_loop(loop_type(), "asyncio").startswith("asyncio")


def test_uvloop_asked_for_but_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_uvloop(name: str, *args: object, **kwargs: object) -> object:
        if name == "uvloop":
            raise ImportError("no uvloop here")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_uvloop)
    assert serve_module.loop_factory("auto") is None
    with pytest.raises(typer.BadParameter, match="uvloop is not installed"):
        serve_module.loop_factory("uvloop")
