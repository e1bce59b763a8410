"""The JSON API under ``/api/v1``: participant routes (``/me``) and researcher routes."""
