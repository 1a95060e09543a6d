"""The pages of ``taper serve``: Starlette routes over the same library calls as the command
line, rendered by Jinja2 templates on the server (they work without JavaScript).

- ``/``: the plan form (generated from ``ScheduleOptions`` by :mod:`taper.web.form`); posted,
  the plan: summary, step table, curve, warnings, what to dispense, and downloads of the
  CSV, JSON, PDF handout and calendar, each the bytes ``taper schedule`` writes.
- ``/convert``: a dose under every source, with the spread.
- ``/check``: upload a plan file and read the report.
- ``/revise``: upload a plan file taper wrote, give the date and the change, and read the
  revised plan as the plan page shows a plan, with its downloads (the bytes ``taper revise``
  writes).

The pages use the bundled equivalence table, always: no parameter names a file on the server.
A library error is shown as the command line's one line; anything else as one line too
(the traceback goes to the server's log only).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from taper import __version__
from taper.errors import InvalidRequestError, TaperError
from taper.options import ReviseOptions, flag_spelling
from taper.plan import Plan
from taper.table import EquivalenceTable, load_table
from taper.web import views
from taper.web.form import (
    Field,
    drug_choices,
    option_fields,
    panels,
    read_plan_form,
    read_revise_form,
)
from taper.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    BodyLimit,
    BodyTooLarge,
    CsrfTokens,
    HostCheck,
    SecurityHeaders,
    allowed_hosts,
    too_large,
)

HERE = Path(__file__).resolve().parent
#: The most an uploaded plan may weigh, and any other form.
MAX_UPLOAD_BYTES = 2 * 2**20
MAX_FORM_BYTES = 64 * 1024
#: A download of a revision sends the uploaded plan back, in base64 (a third larger).
MAX_SENT_BACK_BYTES = -(-MAX_UPLOAD_BYTES // 3) * 4
#: The pages in the navigation: (path, title).
PAGES = (("/", "Plan"), ("/convert", "Convert"), ("/check", "Check"), ("/revise", "Revise"))
DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "pdf": ("application/pdf", "pdf"),
    "ics": ("text/calendar; charset=utf-8", "ics"),
}
DATE_FORMATS = ("dd/mm/yyyy", "mm/dd/yyyy")


class FormRefused(InvalidRequestError):
    """A post without this page's token: from another site, or a page from an earlier run."""

    status = 403


@dataclass(frozen=True)
class Site:
    """What every page needs: the table, the form's fields and the token maker."""

    table: EquivalenceTable
    fields: tuple[Field, ...]
    #: The revision form's fields, from ``ReviseOptions``.
    revise_fields: tuple[Field, ...]
    tokens: CsrfTokens
    templates: Jinja2Templates

    def page(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any],
        status: int = 200,
    ) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        # A cookie this page did not make (empty, long, or not the URL-safe text it makes: any
        # page on localhost can set one) is replaced, never signed (it was a 500 for 'é').
        fresh = not cookie or len(cookie) > 100 or not _TOKEN_TEXT.fullmatch(cookie)
        if fresh:
            cookie = self.tokens.new_cookie()
        response = self.templates.TemplateResponse(
            request,
            name,
            {
                "pages": PAGES,
                "path": request.url.path,
                "version": __version__,
                "table": self.table,
                "csrf_field": CSRF_FIELD,
                "csrf_token": self.tokens.token(cookie),
                "drugs": drug_choices(self.table),
                **dict.fromkeys(("error", "plan", "curve", "conversion", "check")),
                **context,
            },
            status_code=status,
        )
        if fresh:
            response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="strict")
        return response

    async def form(
        self, request: Request, *, files: int = 0, part_bytes: int = MAX_FORM_BYTES
    ) -> FormData:
        """The posted form, refused unless it carries this page's token (``part_bytes``: the
        most a field other than a file may hold)."""
        form = await request.form(max_files=files, max_fields=200, max_part_size=part_bytes)
        if not self.tokens.valid(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
            raise FormRefused(
                "this form did not come from this page, or the page is from an earlier run of "
                "taper serve; reload the page and submit it again"
            )
        return form


def _texts(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _status(error: TaperError) -> int:
    return getattr(error, "status", 400 if error.is_usage else 422)


async def plan_page(request: Request) -> Response:
    site: Site = request.app.state.site
    context: dict[str, Any] = {"panels": panels(site.fields), "values": {}, "error": None}
    if request.method == "GET":
        return site.page(request, "plan.html", context)
    try:
        form = await site.form(request)
        context["values"] = _texts(form)
        asked = read_plan_form(form, site.fields)  # type: ignore[arg-type]
        context["values"] = asked.values
        plan = views.make_plan(asked, site.table)
    except TaperError as exc:
        context["error"] = _said(exc)
        return site.page(request, "plan.html", context, _status(exc))
    context.update(
        plan=views.plan_view(plan),
        curve=views.curve_svg(plan, site.table),
        command=asked.command(site.fields),
        downloads=asked.values,
    )
    return site.page(request, "plan.html", context)


async def plan_download(request: Request) -> Response:
    site: Site = request.app.state.site
    try:
        form = await site.form(request)
        asked = read_plan_form(form, site.fields)  # type: ignore[arg-type]
        kind = _download_kind(form)
        plan = views.make_plan(asked, site.table)
        content = _download(plan, site, form, kind)
    except TaperError as exc:
        return error_page(request, _said(exc), _status(exc))
    return _attachment(plan, str(kind), content)


def _download_kind(form: FormData) -> str:
    kind = form.get("format")
    if kind not in DOWNLOADS:
        raise InvalidRequestError(f"unknown download {kind!r}; use {', '.join(DOWNLOADS)}")
    return str(kind)


def _download(plan: Plan, site: Site, form: FormData, kind: str) -> bytes:
    """The file of ``kind`` for the plan, with the patient's name and the paper asked."""
    patient = str(form.get("patient") or "").strip() or None
    paper = str(form.get("paper") or "") or None  # the plan's region's by default
    return views.download(plan, site.table, kind, patient=patient, paper=paper)


def _attachment(plan: Plan, kind: str, content: bytes) -> Response:
    """The file as a download named after the plan (and its revision, if any)."""
    media_type, suffix = DOWNLOADS[kind]
    revision = f"-revision-{plan.revision}" if plan.revision else ""
    name = f"{plan.drug.name}-taper-{plan.start_date.isoformat()}{revision}.{suffix}"
    return Response(
        content,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def convert_page(request: Request) -> Response:
    site: Site = request.app.state.site
    context: dict[str, Any] = {
        "values": {},
        "error": None,
        "sources": [("", "(the table's default)"), *views.source_choices(site.table)],
    }
    if request.method == "GET":
        return site.page(request, "convert.html", context)
    try:
        form = await site.form(request)
        values = _texts(form)
        context["values"] = values
        context["conversion"] = views.conversion_view(values, site.table)
    except TaperError as exc:
        context["error"] = _said(exc)
        return site.page(request, "convert.html", context, _status(exc))
    return site.page(request, "convert.html", context)


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def upload_name(filename: str | None) -> str:
    """A name for the uploaded file that names nothing on the server: the last part of what
    the browser sent, in safe characters."""
    name = _SAFE_NAME.sub("_", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = name.lstrip(".")[:80]
    return name or "plan.csv"


async def check_page(request: Request) -> Response:
    site: Site = request.app.state.site
    context: dict[str, Any] = {
        "values": {},
        "error": None,
        "sources": [
            ("", "(the file's, else the default)"),
            *views.source_choices(site.table),
        ],
        "date_formats": [(name, name) for name in DATE_FORMATS],
        "max_upload": f"{MAX_UPLOAD_BYTES // 2**20} MiB",
    }
    if request.method == "GET":
        return site.page(request, "check.html", context)
    try:
        form = await site.form(request, files=1)
        values = _texts(form)
        context["values"] = values
        name, content = await _upload(form, "choose the plan file to check (a CSV)")
        with uploaded_file(name, content) as path:
            context["check"] = views.check_view(path, name, values, site.table)
    except TaperError as exc:
        context["error"] = _said(exc)
        return site.page(request, "check.html", context, _status(exc))
    return site.page(request, "check.html", context)


async def _upload(form: FormData, missing: str) -> tuple[str, bytes]:
    """The uploaded plan file's cleaned name and its content (``missing``: the error without
    one)."""
    upload = form.get("plan")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidRequestError(missing)
    return upload_name(upload.filename), await upload.read(MAX_UPLOAD_BYTES + 1)


@contextlib.contextmanager
def uploaded_file(name: str, content: bytes) -> Iterator[Path]:
    """The uploaded file as ``name`` in a private temporary folder, for the library to read
    as the command line reads a file; an error naming it names it as uploaded, never by its
    path on the server."""
    with tempfile.TemporaryDirectory(prefix="taper-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            yield path
        except TaperError as exc:
            exc.args = (_said(exc).replace(f"{folder}{os.sep}", ""),)
            exc.template, exc.parameters, exc.context = exc.args[0], {}, ""
            raise


async def revise_page(request: Request) -> Response:
    """Upload a plan file taper wrote and revise it: ``taper revise FILE --on ...``."""
    site: Site = request.app.state.site
    context: dict[str, Any] = {
        "panels": panels(site.revise_fields),
        "values": {},
        "error": None,
        "max_upload": f"{MAX_UPLOAD_BYTES // 2**20} MiB",
    }
    if request.method == "GET":
        return site.page(request, "revise.html", context)
    try:
        form = await site.form(request, files=1)
        context["values"] = _texts(form)
        asked = read_revise_form(form, site.revise_fields)  # type: ignore[arg-type]
        context["values"] = asked.values
        name, content = await _upload(form, "choose the plan file to revise (taper's CSV or JSON)")
        with uploaded_file(name, content) as path:
            plan = views.revised_plan(path, asked, site.table)
    except TaperError as exc:
        context["error"] = _said(exc)
        return site.page(request, "revise.html", context, _status(exc))
    context.update(
        plan=views.plan_view(plan),
        curve=views.curve_svg(plan, site.table),
        command=asked.command(name, site.revise_fields),
        downloads={
            **asked.values,
            "plan_name": name,
            "plan_file": base64.b64encode(content).decode("ascii"),
        },
    )
    return site.page(request, "revise.html", context)


async def revise_download(request: Request) -> Response:
    """A file of the revision: the plan file the revise page sent back, revised again."""
    site: Site = request.app.state.site
    try:
        form = await site.form(request, part_bytes=MAX_SENT_BACK_BYTES)
        asked = read_revise_form(form, site.revise_fields)  # type: ignore[arg-type]
        kind = _download_kind(form)
        name = upload_name(str(form.get("plan_name") or ""))
        try:
            content = base64.b64decode(str(form.get("plan_file") or ""), validate=True)
        except binascii.Error:
            raise InvalidRequestError(
                "the plan file sent back is not the one this page sent: revise the plan again"
            ) from None
        with uploaded_file(name, content) as path:
            plan = views.revised_plan(path, asked, site.table)
        file = _download(plan, site, form, kind)
    except TaperError as exc:
        return error_page(request, _said(exc), _status(exc))
    return _attachment(plan, kind, file)


def error_page(request: Request, message: str, status: int) -> Response:
    site: Site = request.app.state.site
    return site.page(request, "error.html", {"error": message}, status)


async def http_error(request: Request, exc: Exception) -> Response:
    """A request the pages do not take (no such page, another method, a malformed form), as
    one line."""
    status = getattr(exc, "status_code", 400)
    if status == 404:
        message = f"there is no page {request.url.path!r}"
    elif status == 405:
        message = f"{request.method} is not used on {request.url.path!r}"
    else:
        message = f"the request cannot be read: {getattr(exc, 'detail', exc)}"
    return error_page(request, message, status)


async def internal_error(request: Request, exc: Exception) -> Response:
    """One line, as the command line says it; the traceback goes to the server's log (Starlette
    raises the error again for uvicorn to log it)."""
    message = (
        f"internal error ({type(exc).__name__}: {exc}); run the same with the command line "
        "and --debug, and report it"
    )
    try:
        return error_page(request, message, 500)
    except Exception:  # the page itself failed: plain text
        return Response(f"taper: error: {message}\n", 500, media_type="text/plain")


_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def flags(text: str) -> markupsafe.Markup:
    """Text with each command-line flag kept on one line (``--finish-on`` never breaks at a
    hyphen), escaped."""
    escaped = str(markupsafe.escape(text))
    return markupsafe.Markup(_FLAG.sub(r'<span class="nowrap">\1</span>', escaped))


def create_app(host: str = "127.0.0.1", *, port: int = 8000, secret: bytes | None = None) -> Any:
    """The ASGI app for a server listening on ``host`` and ``port`` (requests naming another
    are refused): the pages wrapped in the security layers (see :mod:`taper.web.security`).
    ``secret`` signs the forms' tokens (default: made now, for this process only)."""
    table = load_table()
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["flags"] = flags
    app = Starlette(
        routes=[
            Route("/", plan_page, methods=["GET", "POST"]),
            Route("/plan/download", plan_download, methods=["POST"]),
            Route("/convert", convert_page, methods=["GET", "POST"]),
            Route("/check", check_page, methods=["GET", "POST"]),
            Route("/revise", revise_page, methods=["GET", "POST"]),
            Route("/revise/download", revise_download, methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        exception_handlers={
            HTTPException: http_error,
            BodyTooLarge: too_large,
            Exception: internal_error,
        },
    )
    app.state.site = Site(
        table=table,
        fields=option_fields(table),
        revise_fields=option_fields(table, ReviseOptions),
        tokens=CsrfTokens(secret),
        templates=Jinja2Templates(env=environment),
    )
    limits = {
        "/check": MAX_UPLOAD_BYTES,
        "/revise/download": MAX_SENT_BACK_BYTES + MAX_FORM_BYTES,
        "/revise": MAX_UPLOAD_BYTES,
    }
    limited = BodyLimit(app, limits, MAX_FORM_BYTES)
    return SecurityHeaders(HostCheck(limited, allowed_hosts(host, port)))


#: The text of a cookie :meth:`CsrfTokens.new_cookie` makes (URL-safe base64).
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]+")


def _said(error: TaperError) -> str:
    """An error as the command line says it (its parameters spelled as flags), so the page and
    ``taper schedule`` give the same one line."""
    return error.render(flag_spelling)
