"""Shared web plumbing: dependencies, error handlers, templates and static files."""
