"""Reading the user's request without a model: its examples (doctest, inline,
Input/Output), the cases it states in words, its per-file sections, the files and
names it asks for. Imports neither ``llm`` nor ``agents`` (an import-linter contract).
"""
