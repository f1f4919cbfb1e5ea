"""Database plumbing: declarative base, engines and sessions, column types, migrations."""
