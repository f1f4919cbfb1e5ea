"""People who use the app: sellers, success managers, PMs, admins, the system user."""
