"""The local web page of ``taper serve`` (the ``web`` extra: Starlette, Jinja2, uvicorn).

:func:`taper.web.app.create_app` builds the app; :func:`taper.web.server.serve` runs it on
this machine. Importing this package imports no web library.
"""
