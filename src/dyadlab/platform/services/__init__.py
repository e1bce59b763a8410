"""The platform's operations as plain functions taking a SQLAlchemy ``Session``.

Routes and CLI commands are thin edges over these. A service flushes but never commits;
the caller owns the transaction (``db.session_scope`` or the request's session).
"""
