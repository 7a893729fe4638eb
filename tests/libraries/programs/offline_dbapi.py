"""A DBAPI module for database.py's engine that is never connected: a test venv has no
server's driver, and connecting would be a bug of tbdump's."""
apilevel = "2.0"
paramstyle = "format"
threadsafety = 1
__version__ = "1.31.2"


def connect(*args, **kwargs):
    raise OSError("offline_dbapi: no database server here")
