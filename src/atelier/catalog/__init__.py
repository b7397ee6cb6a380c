"""Built-in project templates, kept as JSON data files beside this module."""

from atelier.catalog.templates_data import ProjectTemplate, builtin_template, builtin_templates

__all__ = ["ProjectTemplate", "builtin_template", "builtin_templates"]
