"""pytest, for the whole checkout: the modules of the web page (``taper/web/``) need the
``web`` extra; without it they are not collected for doctests (tests/test_web*.py skip,
saying why)."""

import importlib.util

WEB_EXTRA = ("starlette", "jinja2", "uvicorn", "multipart")
collect_ignore_glob = (
    [] if all(importlib.util.find_spec(name) for name in WEB_EXTRA) else ["taper/web/*"]
)
