"""Campaign files: schema, loader with file:line errors, templates, time expressions, planner."""
