"""Atelier's benchmarks: each prints its numbers and a ratio to a baseline measured in
the same run, and writes them as JSON under bench/results/. Nothing is asserted.

Run one with ``python -m bench.<name>``; ``python -m bench.run_all`` runs the quick set.
"""
