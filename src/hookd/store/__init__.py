"""Storage: SQL through SQLAlchemy Core, one module per aggregate."""
