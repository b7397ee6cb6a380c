"""Pure data and rules of Atelier. Imports nothing else of the package, does no I/O."""
