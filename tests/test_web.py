"""`taper serve`: the pages over HTTP (Starlette's TestClient), their files against the
command line's, and every safety rule of the page (issue 27)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("starlette", reason="the web extra is not installed (pip install '.[web]')")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

with warnings.catch_warnings():  # Starlette 1.x would rather have httpx2 (not yet on PyPI)
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from taper.options import ScheduleOptions
from taper.presets import PACES
from taper.table import EquivalenceTable
from taper.values import Value
from taper.web import app as web_app
from taper.web import server
from taper.web.form import option_fields
from taper.web.security import CONTENT_SECURITY_POLICY

BASE = "http://127.0.0.1:8000"
DIRECT = {"drug": "clonazepam", "dose": "1.5mg", "opt-times": "3", "opt-start": "2027-01-04"}
DIRECT_ARGS = ("clonazepam", "1.5mg", "--times", "3", "--start", "2027-01-04")
SWITCH = {
    "drug": "lorazepam",
    "dose": "",
    "dose-morning": "0.5mg",
    "dose-night": "1mg",
    "opt-switch-to": "diazepam",
    "opt-start": "2027-01-04",
    "opt-region": "uk",
}
SWITCH_ARGS = (
    "lorazepam",
    "morning=0.5mg,night=1mg",
    "--switch-to",
    "diazepam",
    "--start",
    "2027-01-04",
    "--region",
    "uk",
)


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(
        web_app.create_app("127.0.0.1"), base_url=BASE, raise_server_exceptions=False
    ) as test_client:
        yield test_client


def token(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def post(client: TestClient, path: str, data: dict[str, str], **kwargs: Any) -> Any:
    return client.post(path, data={"csrf_token": token(client, "/"), **data}, **kwargs)


def error_of(page: str) -> str:
    match = re.search(
        r'role="alert"[^>]*>\s*<p><span class="label">Error:</span> (.*?)</p>', page, re.S
    )
    assert match, page[:2000]
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


def cli_error(run: Any, *args: str) -> str:
    result = run(*args)
    assert result.exit_status != 0
    return result.stderr.strip().removeprefix("taper: error: ")


class Elements(HTMLParser):
    """The page's elements, each as (tag, attributes)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


# ------------------------------------------------------------------ the form


def test_every_schedule_option_is_a_field_of_the_plan_form(
    client: TestClient, table: EquivalenceTable
) -> None:
    page = client.get("/").text
    for option in dataclasses.fields(ScheduleOptions):
        assert f'name="opt-{option.name.replace("_", "-")}"' in page, option.name
    assert [field.name for field in option_fields(table)] == [
        option.name for option in dataclasses.fields(ScheduleOptions)
    ]


def test_an_option_added_to_the_options_appears_on_the_form_by_itself(
    table: EquivalenceTable,
) -> None:
    """A ``pace`` preset (issue 19) or any new field: no change to the form module needed;
    what a field declares (its help, flag, panel) wins over the page's own tables."""

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Extended(ScheduleOptions):
        pace: Annotated[str | None, Value.TEXT] = dataclasses.field(
            default=None, metadata={"help": "A published pace by name.", "flag": "--pace"}
        )
        gentle: Annotated[bool, Value.BOOL] = False

    fields = {field.name: field for field in option_fields(table, Extended)}
    assert fields["pace"].panel == "Pace"
    assert fields["pace"].help == "A published pace by name."
    assert fields["pace"].flag == "--pace"
    assert fields["gentle"].widget == "checkbox"
    assert fields["gentle"].flag == "--gentle"


def test_form_fields_follow_the_kind_of_each_option(table: EquivalenceTable) -> None:
    fields = {field.name: field for field in option_fields(table)}
    assert fields["method"].widget == "select"
    assert [value for value, _ in fields["method"].choices] == [
        "",  # the default: the pace's method, else percent
        "percent",
        "linear",
        "bands",
        "steps",
        "occupancy",
    ]
    assert fields["pace"].widget == "select"
    assert [value for value, _ in fields["pace"].choices][1:] == list(PACES)
    assert fields["start"].widget == "date"
    assert fields["seizures"].widget == "checkbox"
    assert fields["holds"].widget == "lines"
    assert fields["switch_to"].widget == "select"
    assert ("clonazepam", "clonazepam (Klonopin, Rivotril)") in fields["switch_to"].choices
    assert fields["liver_impairment"].flag == "--liver"
    assert all(field.help for field in fields.values())


@pytest.mark.parametrize("path", ["/", "/convert", "/check", "/revise"])
def test_every_field_has_a_label(client: TestClient, path: str) -> None:
    elements = Elements(client.get(path).text).found
    labelled = {attrs.get("for") for tag, attrs in elements if tag == "label"}
    inputs = [
        attrs
        for tag, attrs in elements
        if tag in {"input", "select", "textarea"} and attrs.get("type") != "hidden"
    ]
    assert inputs
    for attrs in inputs:
        assert attrs.get("id") in labelled, attrs


def test_the_drug_list_carries_brand_names(client: TestClient) -> None:
    page = client.get("/").text
    assert "clonazepam (Klonopin, Rivotril)" in page


# ------------------------------------------------------------------ plans


def test_a_direct_plan_shows_summary_steps_warnings_and_dispensing(
    client: TestClient, run: Any
) -> None:
    response = post(client, "/", DIRECT)
    assert response.status_code == 200
    page = response.text
    assert "Now: clonazepam 1.5 mg a day: 0.5 mg morning, 0.5 mg midday, 0.5 mg night." in page
    assert '<table class="steps" id="steps"' in page
    assert '<th scope="col">Morning</th>' in page
    assert '<th scope="row">1</th>' in page
    assert "To dispense for the whole plan" in page
    document = run("schedule", *DIRECT_ARGS, "-f", "json").json
    assert page.count('<th scope="row">') >= len(document["steps"])
    for warning in document["warnings"]:
        assert f'<span class="kind">[{warning["kind"]}]</span>' in page
    assert "taper schedule clonazepam 1.5mg --times 3 --start 2027-01-04" in page


def test_no_information_by_colour_alone(client: TestClient) -> None:
    """Each warning, problem and error also says what it is in words."""
    pages = [
        post(client, "/", DIRECT).text,
        post(client, "/", {**DIRECT, "dose": "2,5mg"}).text,
        post(
            client,
            "/check",
            {"drug": "clonazepam"},
            files={"plan": ("p.csv", b"day,dose_mg\n1,1\n3,0.3\n", "text/csv")},
        ).text,
    ]
    counts = {"warning": 0, "problem": 0, "error": 0}
    for page in pages:
        for kind, word in (("warning", "Warning"), ("problem", "Problem"), ("error", "Error:")):
            items = re.findall(
                rf'<(?:li|p|div) class="{kind}"[^>]*>(.*?)</(?:li|p|div)>', page, re.S
            )
            counts[kind] += len(items)
            for item in items:
                assert f'<span class="label">{word}</span>' in item, item
    assert all(counts.values()), counts


def test_the_curve_is_inline_svg_that_a_strict_policy_allows(client: TestClient) -> None:
    pytest.importorskip("matplotlib")
    page = post(client, "/", DIRECT).text
    assert '<svg role="img" aria-labelledby="curve-title"' in page
    assert " style=" not in page
    assert "<style" not in page
    assert "<script>" not in page
    assert "<script " not in page.replace('<script src="/static/taper.js" defer>', "")


def _downloads(client: TestClient, form: dict[str, str], **extra: str) -> dict[str, bytes]:
    files = {}
    for kind in ("csv", "json", "pdf", "ics"):
        response = post(client, "/plan/download", {**form, "format": kind, **extra})
        assert response.status_code == 200, response.text[:500]
        assert "attachment" in response.headers["content-disposition"]
        files[kind] = response.content
    return files


@pytest.mark.parametrize(
    ("form", "args"), [(DIRECT, DIRECT_ARGS), (SWITCH, SWITCH_ARGS)], ids=["direct", "switch"]
)
def test_downloads_are_the_bytes_the_command_line_writes(
    client: TestClient, run: Any, tmp_path: Path, form: dict[str, str], args: tuple[str, ...]
) -> None:
    pytest.importorskip("fpdf")
    pytest.importorskip("icalendar")
    files = _downloads(client, form)
    written = run(
        "schedule",
        *args,
        "-o",
        str(tmp_path / "plan.csv"),
        "--handout",
        str(tmp_path / "plan.pdf"),
        "--ics",
        str(tmp_path / "plan.ics"),
    )
    assert written.exit_status == 0, written.stderr
    assert run("schedule", *args, "-o", str(tmp_path / "plan.json")).exit_status == 0
    for kind in ("csv", "json", "pdf", "ics"):
        assert files[kind] == (tmp_path / f"plan.{kind}").read_bytes(), kind


def test_the_handout_and_calendar_take_the_patient_and_paper_as_the_command_line(
    client: TestClient, run: Any, tmp_path: Path
) -> None:
    pytest.importorskip("fpdf")
    files = _downloads(client, DIRECT, patient="Łukasz Wróbel", paper="letter")
    args = ("--patient", "Łukasz Wróbel", "--paper", "letter")
    run(
        "schedule",
        *DIRECT_ARGS,
        *args,
        "--handout",
        str(tmp_path / "p.pdf"),
        "--ics",
        str(tmp_path / "p.ics"),
    )
    assert files["pdf"] == (tmp_path / "p.pdf").read_bytes()
    assert files["ics"] == (tmp_path / "p.ics").read_bytes()


def download_form(page: str) -> dict[str, str]:
    """What a browser sends with the download form untouched: its hidden fields, its empty
    text fields and each list's selected choice."""
    form = page.split('<section class="downloads"')[1].split("</form>")[0]
    sent = hidden_values(page)
    sent.update(
        dict.fromkeys(re.findall(r'<input type="text" id="[^"]+" name="([^"]+)"', form), "")
    )
    for name, options in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S
    ):
        sent[name] = re.search(r'<option value="([^"]*)" selected>', options).group(1)
    return sent


def test_the_handout_paper_was_a4_for_a_us_plan_unlike_the_command_line(
    client: TestClient, run: Any, tmp_path: Path
) -> None:
    """The download form chose A4 whatever the region; the command line's handout of a US
    plan is on US Letter."""
    pytest.importorskip("fpdf")
    sent = download_form(post(client, "/", DIRECT).text)
    response = post(client, "/plan/download", {**sent, "format": "pdf"})
    assert run("schedule", *DIRECT_ARGS, "--handout", str(tmp_path / "p.pdf")).exit_status == 0
    assert response.content == (tmp_path / "p.pdf").read_bytes()


def test_a_plan_from_today_says_so(client: TestClient) -> None:
    page = post(client, "/", {**DIRECT, "opt-start": ""}).text
    assert "The first day is today: set <em>First day</em> to fix it." in page
    assert "--start" not in page.split("The same plan on the command line")[1].split("</code>")[0]


def test_the_command_line_shown_gives_the_same_plan(client: TestClient, run: Any) -> None:
    import html
    import shlex

    page = post(client, "/", SWITCH).text
    command = html.unescape(re.search(r'<code class="command">(.*?)</code>', page).group(1))
    words = shlex.split(command)
    assert words[:2] == ["taper", "schedule"]
    downloaded = post(client, "/plan/download", {**SWITCH, "format": "json"}).content
    assert run(*words[1:], "-f", "json").stdout.encode() == downloaded


def test_a_switch_plan_shows_every_drug(client: TestClient) -> None:
    page = post(client, "/", SWITCH).text
    assert "Switch lorazepam 1.5 mg a day to diazepam" in page
    assert "crossover" in page


@pytest.mark.parametrize(
    ("form", "args"),
    [
        ({**DIRECT, "dose": "2,5mg"}, ("schedule", "clonazepam", "2,5mg")),
        ({**DIRECT, "drug": "clonazepan"}, ("schedule", "clonazepan", "1.5mg")),
        ({**DIRECT, "opt-every": "2x"}, ("schedule", "clonazepam", "1.5mg", "--every", "2x")),
        (
            {**DIRECT, "opt-steps": "0.5mg"},
            ("schedule", "clonazepam", "1.5mg", "--steps", "0.5mg"),
        ),
        (
            {**DIRECT, "opt-start": "2027-02-30"},
            ("schedule", "clonazepam", "1.5mg", "--start", "2027-02-30"),
        ),
    ],
    ids=["decimal-comma", "unknown-drug", "interval", "unused-option", "date"],
)
def test_errors_are_the_command_line_s_one_line(
    client: TestClient, run: Any, form: dict[str, str], args: tuple[str, ...]
) -> None:
    response = post(client, "/", form)
    assert response.status_code in {400, 422}
    assert error_of(response.text) == cli_error(run, *args)
    assert "Traceback" not in response.text
    assert 'value="2,5mg"' in response.text or form["dose"] != "2,5mg"  # the form is kept


def test_a_dose_at_each_time_and_a_daily_total_together_is_refused(client: TestClient) -> None:
    response = post(client, "/", {**DIRECT, "dose-night": "1mg"})
    assert response.status_code == 400
    assert error_of(response.text) == "give the daily total or the dose at each dose time, not both"


def test_an_unknown_download_is_refused(client: TestClient) -> None:
    response = post(client, "/plan/download", {**DIRECT, "format": "exe"})
    assert response.status_code == 400
    assert error_of(response.text).startswith("unknown download 'exe'")


# ------------------------------------------------------------------ convert and check


def test_convert_shows_every_source_and_the_spread(client: TestClient, run: Any) -> None:
    response = post(client, "/convert", {"drug": "Xanax", "dose": "1mg", "to": "diazepam"})
    assert response.status_code == 200
    document = run(
        "convert", "Xanax", "1mg", "--to", "diazepam", "--all-sources", "-f", "json"
    ).json
    table = response.text.split('id="conversion"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    rows = re.findall(
        r'<tr><th scope="row">([^<]+).*?<td>([^<]*)</td><td class="num">([^<]+)</td>', body
    )
    assert [(source.strip(), grade, text) for source, grade, text in rows] == [
        (result["source"], result["grade"], result["text"]) for result in document["results"]
    ]
    spread = document["spread"]
    assert f"All {spread['sources']} sources with a value" in table
    for warning in document["warnings"]:
        assert f'<span class="kind">[{warning["kind"]}]</span>' in response.text
    assert any(w["kind"] == "source-spread" for w in document["warnings"])


def test_convert_errors_are_the_command_line_s(client: TestClient, run: Any) -> None:
    response = post(client, "/convert", {"drug": "clonazepam", "dose": "1.5", "to": "diazepam"})
    assert error_of(response.text) == cli_error(
        run, "convert", "clonazepam", "1.5", "--to", "diazepam"
    )


def _plan_csv(run: Any, tmp_path: Path, *args: str) -> Path:
    path = tmp_path / "written.csv"
    assert run("schedule", *args, "-o", str(path)).exit_status == 0
    return path


def test_check_reads_an_uploaded_plan_as_the_command_line(
    client: TestClient, run: Any, tmp_path: Path
) -> None:
    path = _plan_csv(run, tmp_path, *DIRECT_ARGS)
    response = post(
        client,
        "/check",
        {"region": "us"},
        files={"plan": ("written.csv", path.read_bytes(), "text/csv")},
    )
    assert response.status_code == 200, response.text[:1000]
    document = run("check", str(path), "-f", "json").json
    page = response.text
    assert "Checked written.csv: clonazepam" in page
    assert page.count('<tr><th scope="row"') == len(document["steps"])
    assert ("No problems found." in page) == (not document["problems"])


def test_check_page_said_no_problems_of_a_take_column_it_did_not_read(
    client: TestClient, run: Any, tmp_path: Path
) -> None:
    """A 'take' cell in words of its own is not checked: the page says so, as the CLI."""
    text = "day,dose_mg,take\n" + "".join(f"{day},1,one tablet\n" for day in range(1, 15))
    response = post(
        client,
        "/check",
        {"region": "us", "drug": "diazepam"},
        files={"plan": ("own.csv", (text + "15,0,nothing\n").encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text[:1000]
    assert "No problems found." not in response.text
    assert "not checked: &#39;take&#39; (see the notes)" in response.text


def test_check_reports_problems_of_a_hand_written_plan(
    client: TestClient, run: Any, tmp_path: Path
) -> None:
    text = "day,dose_mg\n1,1\n2,1\n3,0.3\n4,0.3\n"
    (tmp_path / "hand.csv").write_text(text)
    response = post(
        client,
        "/check",
        {"drug": "clonazepam"},
        files={"plan": ("hand.csv", text.encode(), "text/csv")},
    )
    assert response.status_code == 200
    problems = run("check", str(tmp_path / "hand.csv"), "--drug", "clonazepam", "-f", "json").json[
        "problems"
    ]
    assert problems
    for problem in problems:
        assert problem["message"] in response.text.replace("&#39;", "'")


def test_check_errors_name_the_file_as_uploaded_never_a_server_path(client: TestClient) -> None:
    response = post(
        client, "/check", {}, files={"plan": ("../../etc/plan.csv", b"day\n1\n", "text/csv")}
    )
    message = error_of(response.text)
    assert message.startswith("plan.csv"), message
    assert "/tmp" not in message
    assert "taper-check" not in message


def test_check_takes_one_file(client: TestClient) -> None:
    files = [("plan", ("a.csv", b"day,dose_mg\n1,1\n", "text/csv"))] * 2
    response = post(client, "/check", {"drug": "clonazepam"}, files=files)
    assert response.status_code == 400
    assert error_of(response.text).startswith("the request cannot be read: Too many files")


def test_check_without_a_file_is_one_line(client: TestClient) -> None:
    response = post(client, "/check", {})
    assert error_of(response.text) == "choose the plan file to check (a CSV)"


# ------------------------------------------------------------------ revise

PLAN_ARGS = ("diazepam", "20mg", "--times", "2", "--start", "2027-01-04")
#: Each action of the revise page, as the form gives it and as the command line does.
REVISIONS = {
    "hold": (
        {"opt-on": "2027-02-10", "opt-hold": "2w", "opt-reason": "poor sleep"},
        ("--on", "2027-02-10", "--hold", "2w", "--reason", "poor sleep"),
    ),
    "back": (
        {"opt-on": "2027-02-10", "opt-back": "on", "opt-reason": "anxiety after the cut"},
        ("--on", "2027-02-10", "--back", "--reason", "anxiety after the cut"),
    ),
    "taken": (
        {"opt-on": "2027-03-01", "opt-taken": "morning=4mg,night=10mg"},
        ("--on", "2027-03-01", "--taken", "morning=4mg,night=10mg"),
    ),
    "pace": (
        {"opt-on": "2027-02-10", "opt-every": "3w", "opt-rate": "5%"},
        ("--on", "2027-02-10", "--rate", "5%", "--every", "3w"),
    ),
}


@pytest.fixture(scope="module")
def plan_files(tmp_path_factory: pytest.TempPathFactory, cli_app: Any) -> Path:
    """A folder with the plan the command line writes, as plan.csv and plan.json."""
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("plans")
    for suffix in ("csv", "json"):
        result = CliRunner().invoke(
            cli_app, ["schedule", *PLAN_ARGS, "-o", str(folder / f"plan.{suffix}")]
        )
        assert result.exit_code == 0, result.stderr
    return folder


def revise(
    client: TestClient, data: dict[str, str], name: str, content: bytes, **kwargs: Any
) -> Any:
    return client.post(
        "/revise",
        data={"csrf_token": token(client, "/revise"), **data},
        files={"plan": (name, content, "text/csv")},
        **kwargs,
    )


def hidden_values(page: str) -> dict[str, str]:
    """The hidden fields of the page's download form, as a browser sends them back."""
    import html

    form = page.split('<section class="downloads"')[1].split("</form>")[0]
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    }


def test_every_revise_option_is_a_field_of_the_revise_form(
    client: TestClient, table: EquivalenceTable
) -> None:
    """The form is built from ReviseOptions, its labels and help from their declarations."""
    from taper.options import ReviseOptions
    from taper.values import option_specs

    page = client.get("/revise").text
    specs = option_specs(ReviseOptions)
    fields = option_fields(table, ReviseOptions)
    assert [field.name for field in fields] == list(specs)
    for field in fields:
        spec = specs[field.name]
        assert f'name="{field.id}"' in page, field.name
        assert (field.flag, field.help) == (spec.flag, spec.help)
        assert field.label == (spec.label or field.name.capitalize())
    widgets = {field.name: field.widget for field in fields}
    assert widgets["on"] == "date"
    assert widgets["back"] == widgets["allow_high_dose"] == "checkbox"
    assert [field.name for field in fields if field.required] == ["on"]
    assert 'type="date" id="opt-on" name="opt-on" value="" required' in page


def test_the_navigation_has_the_revise_page(client: TestClient) -> None:
    for path in ("/", "/check", "/revise"):
        assert '<a href="/revise"' in client.get(path).text
    assert '<a href="/revise" aria-current="page">Revise</a>' in client.get("/revise").text


@pytest.mark.parametrize("action", list(REVISIONS))
def test_a_revision_shows_the_revised_plan_as_the_command_line(
    client: TestClient, run: Any, plan_files: Path, action: str
) -> None:
    form, args = REVISIONS[action]
    content = (plan_files / "plan.csv").read_bytes()
    response = revise(client, form, "plan.csv", content)
    assert response.status_code == 200, error_of(response.text)
    page = response.text
    document = run("revise", str(plan_files / "plan.csv"), *args, "-f", "json").json
    (revision,) = document["meta"]["revisions"]
    assert revision["action"] == action
    line = (
        f"Revision 1 from {revision['on']}: {revision['description']}; replaces the plan with "
        f"sha256 {revision['replaces_sha256'][:12]}..."
    )
    import html

    shown = [html.unescape(text) for text in re.findall(r"<strong>(Revision .*?)</strong>", page)]
    assert shown == [line]
    assert '<h1 id="result-title">Revision 1: diazepam:' in page
    steps = page.split('id="steps"')[1].split("</table>")[0]
    assert steps.count('<th scope="row">') == len(document["steps"])
    reviews = page.split('id="reviews"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="row" class="nowrap">([0-9-]+)</th>', reviews) == [
        review["date"] for review in document["reviews"]
    ]
    for warning in document["warnings"]:
        assert f'<span class="kind">[{warning["kind"]}]</span>' in page
    if action == "back":
        assert '<td class="nowrap">up 5.9%</td>' in page  # a rise, as the terminal says it
    command = html.unescape(re.search(r'<code class="command">(.*?)</code>', page).group(1))
    import shlex

    assert shlex.split(command) == ["taper", "revise", "plan.csv", *args]


@pytest.mark.parametrize(
    ("action", "uploaded"),
    [(action, "plan.csv") for action in REVISIONS] + [("back", "plan.json")],
)
def test_revision_downloads_are_the_bytes_taper_revise_writes(
    client: TestClient,
    run: Any,
    plan_files: Path,
    tmp_path: Path,
    action: str,
    uploaded: str,
) -> None:
    pytest.importorskip("fpdf")
    pytest.importorskip("icalendar")
    form, args = REVISIONS[action]
    page = revise(client, form, uploaded, (plan_files / uploaded).read_bytes()).text
    sent_back = download_form(page)  # as a browser sends it
    assert sent_back["plan_name"] == uploaded
    source = str(plan_files / uploaded)
    written = run(
        "revise", source, *args, "-o", str(tmp_path / "x.csv"),
        "--handout", str(tmp_path / "x.pdf"), "--ics", str(tmp_path / "x.ics"),
    )  # fmt: skip
    assert written.exit_status == 0, written.stderr
    assert run("revise", source, *args, "-o", str(tmp_path / "x.json")).exit_status == 0
    for kind in ("csv", "json", "pdf", "ics"):
        response = client.post("/revise/download", data={**sent_back, "format": kind})
        assert response.status_code == 200, response.text[:500]
        assert response.content == (tmp_path / f"x.{kind}").read_bytes(), kind
        disposition = response.headers["content-disposition"]
        assert disposition == f'attachment; filename="diazepam-taper-2027-01-04-revision-1.{kind}"'


def test_the_revision_handout_and_calendar_take_the_patient_and_paper(
    client: TestClient, run: Any, plan_files: Path, tmp_path: Path
) -> None:
    pytest.importorskip("fpdf")
    form, args = REVISIONS["hold"]
    sent_back = hidden_values(
        revise(client, form, "plan.csv", (plan_files / "plan.csv").read_bytes()).text
    )
    extra = {"patient": "Łukasz Wróbel", "paper": "a4"}
    run(
        "revise", str(plan_files / "plan.csv"), *args, "--patient", "Łukasz Wróbel", "--paper",
        "a4", "--handout", str(tmp_path / "p.pdf"), "--ics", str(tmp_path / "p.ics"),
    )  # fmt: skip
    for kind in ("pdf", "ics"):
        response = client.post("/revise/download", data={**sent_back, **extra, "format": kind})
        assert response.content == (tmp_path / f"p.{kind}").read_bytes(), kind


def test_a_revision_of_a_revision_keeps_the_history(client: TestClient, plan_files: Path) -> None:
    form, _ = REVISIONS["hold"]
    first = revise(client, form, "plan.csv", (plan_files / "plan.csv").read_bytes()).text
    revised = client.post("/revise/download", data={**hidden_values(first), "format": "json"})
    page = revise(
        client, {"opt-on": "2027-03-15", "opt-back": "on"}, "plan-1.json", revised.content
    ).text
    assert '<h1 id="result-title">Revision 2: diazepam:' in page
    lines = re.findall(r"<strong>(Revision \d from [0-9-]+):", page)
    assert lines == ["Revision 1 from 2027-02-10", "Revision 2 from 2027-03-15"]


def _edited(plan_files: Path, tmp_path: Path) -> Path:
    text = (plan_files / "plan.csv").read_text(encoding="utf-8")
    edited = text.replace(",morning,10,10,10,10,", ",morning,9,9,9,9,", 1)
    assert edited != text
    path = tmp_path / "edited.csv"
    path.write_text(edited, encoding="utf-8")
    return path


def test_an_edited_plan_file_is_refused_in_the_command_line_s_one_line(
    client: TestClient, run: Any, plan_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _edited(plan_files, tmp_path)
    form, args = REVISIONS["back"]
    response = revise(client, form, "edited.csv", path.read_bytes())
    assert response.status_code == 422
    monkeypatch.chdir(tmp_path)  # the command line names the file as given
    said = cli_error(run, "revise", "edited.csv", *args)
    assert said.startswith("edited.csv: does not match its checksum")
    assert error_of(response.text) == said
    assert "taper-upload" not in response.text
    assert 'id="steps"' not in response.text


def test_a_plan_file_edited_in_the_download_form_is_refused(
    client: TestClient, plan_files: Path, tmp_path: Path
) -> None:
    """The download sends the file back: an edit there is refused as an edited upload."""
    import base64

    form, _ = REVISIONS["hold"]
    sent_back = hidden_values(
        revise(client, form, "plan.csv", (plan_files / "plan.csv").read_bytes()).text
    )
    edited = base64.b64encode(_edited(plan_files, tmp_path).read_bytes()).decode()
    for plan_file, said in (
        (edited, "plan.csv: does not match its checksum"),
        ("not base64!", "the plan file sent back is not the one this page sent"),
    ):
        response = client.post(
            "/revise/download", data={**sent_back, "plan_file": plan_file, "format": "csv"}
        )
        assert response.status_code in {400, 422}
        assert error_of(response.text).startswith(said)
        assert "attachment" not in response.headers.get("content-disposition", "")


@pytest.mark.parametrize(
    ("form", "args"),
    [
        ({"opt-on": "2027-02-10"}, ("--on", "2027-02-10")),
        ({"opt-on": "2027-02-31", "opt-hold": "2w"}, ("--on", "2027-02-31", "--hold", "2w")),
        ({"opt-on": "2030-01-01", "opt-hold": "2w"}, ("--on", "2030-01-01", "--hold", "2w")),
        (
            {"opt-on": "2027-02-10", "opt-hold": "2w", "opt-taken": "5mg"},
            ("--on", "2027-02-10", "--hold", "2w", "--taken", "5mg"),
        ),
        ({"opt-on": "2027-02-10", "opt-hold": "2x"}, ("--on", "2027-02-10", "--hold", "2x")),
        (
            {"opt-on": "2027-02-10", "opt-taken": "25mg"},
            ("--on", "2027-02-10", "--taken", "25mg"),
        ),
        ({"opt-hold": "2w"}, ("--hold", "2w")),
    ],
    ids=["no-action", "date", "outside", "two-actions", "interval", "high-dose", "no-date"],
)
def test_revise_errors_are_the_command_line_s_one_line(
    client: TestClient,
    run: Any,
    plan_files: Path,
    form: dict[str, str],
    args: tuple[str, ...],
) -> None:
    response = revise(client, form, "plan.csv", (plan_files / "plan.csv").read_bytes())
    assert response.status_code in {400, 422}
    said = cli_error(run, "revise", str(plan_files / "plan.csv"), *args)
    # the command line adds where to find its help to a missing option
    assert error_of(response.text) == said.removesuffix("; try 'taper revise -h' for help")
    assert "Traceback" not in response.text
    assert f'value="{form.get("opt-on", "")}"' in response.text  # the form is kept


def test_revise_without_a_file_is_one_line(client: TestClient) -> None:
    response = client.post(
        "/revise",
        data={"csrf_token": token(client, "/revise"), "opt-on": "2027-02-10", "opt-hold": "2w"},
        files={"other": ("x.csv", b"", "text/csv")},
    )
    assert response.status_code == 400
    assert error_of(response.text) == "choose the plan file to revise (taper's CSV or JSON)"


def test_a_revision_without_this_page_s_token_is_refused_csrf(
    client: TestClient, plan_files: Path
) -> None:
    content = (plan_files / "plan.csv").read_bytes()
    form, _ = REVISIONS["hold"]
    for data in (form, {**form, "csrf_token": "0" * 64}):
        response = client.post("/revise", data=data, files={"plan": ("plan.csv", content)})
        assert response.status_code == 403
        assert "did not come from this page" in error_of(response.text)
    sent_back = hidden_values(revise(client, form, "plan.csv", content).text)
    del sent_back["csrf_token"]
    response = client.post("/revise/download", data={**sent_back, "format": "csv"})
    assert response.status_code == 403


def test_a_revision_upload_over_the_limit_is_refused(client: TestClient) -> None:
    big = b"# taper\n" + b"x" * web_app.MAX_UPLOAD_BYTES
    response = revise(client, REVISIONS["hold"][0], "big.csv", big)
    assert response.status_code == 413
    assert (
        response.text
        == "taper: error: the request is larger than 2 MiB, the most this page reads\n"
    )


def test_the_largest_plan_file_can_be_sent_back_for_its_downloads() -> None:
    """The download form carries the upload in base64: its limit leaves room for it."""
    app = web_app.create_app()
    length = web_app.MAX_SENT_BACK_BYTES + web_app.MAX_FORM_BYTES
    assert len(base64_of(web_app.MAX_UPLOAD_BYTES)) <= web_app.MAX_SENT_BACK_BYTES
    headers = [(b"content-length", str(length + 1).encode())]
    assert _call(app, _scope("/revise/download", headers), [b"x"]) == (413, 0)


def base64_of(size: int) -> bytes:
    import base64

    return base64.b64encode(b"x" * size)


# ------------------------------------------------------------------ safe by default


def _every_kind_of_response(client: TestClient) -> list[Any]:
    return [
        client.get("/"),
        client.get("/convert"),
        client.get("/check"),
        client.get("/revise"),
        client.post("/revise", data={"opt-on": "2027-02-10"}),  # no token
        client.post("/revise/download", data={"format": "csv"}),  # no token
        client.get("/static/taper.css"),
        client.get("/no-such-page"),
        client.put("/"),
        post(client, "/", DIRECT),
        post(client, "/", {**DIRECT, "dose": "2,5mg"}),
        post(client, "/plan/download", {**DIRECT, "format": "csv"}),
        client.post("/", data=DIRECT),  # no token
        client.get("/", headers={"host": "evil.example"}),
        client.post("/", content=b"x" * (web_app.MAX_FORM_BYTES + 1)),
    ]


def test_every_response_has_a_strict_content_security_policy(
    client: TestClient, plan_files: Path
) -> None:
    revised = revise(
        client, REVISIONS["back"][0], "plan.csv", (plan_files / "plan.csv").read_bytes()
    )
    assert revised.status_code == 200
    revision_responses = [
        revised,
        client.post("/revise/download", data={**hidden_values(revised.text), "format": "pdf"}),
        revise(client, {"opt-on": "2027-02-10"}, "plan.csv", b"day,dose_mg\n1,1\n"),
    ]
    for tag, attrs in Elements(revised.text).found:  # the result, its curve and downloads
        for name in ("src", "href", "action"):
            assert not re.match(r"[a-z]+:|//", attrs.get(name) or ""), (tag, attrs)
    assert " style=" not in revised.text
    for response in [*_every_kind_of_response(client), *revision_responses]:
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, response.url
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
    policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_no_asset_comes_from_elsewhere(client: TestClient) -> None:
    for path in ("/", "/convert", "/check", "/revise"):
        for tag, attrs in Elements(client.get(path).text).found:
            for name in ("src", "href", "action"):
                value = attrs.get(name) or ""
                assert not re.match(r"[a-z]+:|//", value), (tag, value)


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", ""]
)
def test_a_foreign_host_header_is_refused_dns_rebinding(client: TestClient, host: str) -> None:
    response = client.get("/", headers={"host": host})
    assert response.status_code == 400
    assert "this page is served for" in response.text


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST:8000", "[0:0::1]:8000"]
)
def test_loopback_names_are_served(client: TestClient, host: str) -> None:
    assert client.get("/", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:9999",
        "localhost:8001",
        "[::1]:80",
        "localhost",  # no port: 80, not the 8000 served
        "127.0.0.1:08000x",
        "127.0.0.1:99999999",
        "::1:8000",  # an IPv6 address without its brackets
        "[::1",
    ],
)
def test_the_host_check_ignored_the_port(client: TestClient, host: str) -> None:
    """A Host header naming another port of this machine was served (a site on another
    loopback port, or a rebinding name with any port, reached the page)."""
    response = client.get("/", headers={"host": host})
    assert response.status_code == 400, host
    assert response.text.startswith(
        "taper: error: this page is served for 127.0.0.1:8000, [::1]:8000, localhost:8000 only"
    )
    assert len(response.text.splitlines()) == 1


@given(
    served=st.integers(min_value=1, max_value=65535),
    asked=st.integers(min_value=0, max_value=99999),
    name=st.sampled_from(["localhost", "LocalHost", "127.0.0.1", "[::1]", "[0:0:0:0:0:0:0:1]"]),
)
def test_a_loopback_host_is_served_on_the_port_served_and_no_other(
    served: int, asked: int, name: str
) -> None:
    from taper.web.security import allowed_hosts, host_header

    allowed = allowed_hosts("127.0.0.1", served)
    assert (host_header(f"{name}:{asked}") in allowed) == (asked == served)
    assert (host_header(name) in allowed) == (served == 80)
    assert host_header(f"evil.example:{asked}") not in allowed


@pytest.mark.parametrize(
    ("served", "port", "base", "accepted", "refused"),
    [
        (
            "127.0.0.1",
            8123,
            "http://localhost:8123",
            ["127.0.0.1:8123", "[::1]:8123"],
            ["localhost", "localhost:8000", "localhost:80"],
        ),
        (
            "127.0.0.1",
            80,
            "http://localhost",
            ["localhost", "127.0.0.1:80", "[::1]"],
            ["localhost:8000", "evil.example"],
        ),
        (
            "::1",
            8123,
            "http://[::1]:8123",
            ["localhost:8123", "127.0.0.1:8123"],
            ["[::1]", "[::1]:8124"],
        ),
        ("192.0.2.10", 8123, "http://192.0.2.10:8123", [], ["localhost:8123", "192.0.2.10"]),
    ],
    ids=["port-8123", "port-80", "ipv6", "address"],
)
def test_the_host_check_takes_the_host_and_the_port_served(
    served: str, port: int, base: str, accepted: list[str], refused: list[str]
) -> None:
    with TestClient(web_app.create_app(served, port=port), base_url=base) as other:
        assert other.get("/").status_code == 200
        for host in accepted:
            assert other.get("/", headers={"host": host}).status_code == 200, host
        for host in refused:
            assert other.get("/", headers={"host": host}).status_code == 400, host


def test_a_form_without_this_page_s_token_is_refused_csrf(client: TestClient) -> None:
    for data in (DIRECT, {**DIRECT, "csrf_token": "0" * 64}):
        response = client.post("/", data=data)
        assert response.status_code == 403
        assert "did not come from this page" in error_of(response.text)
    for path in ("/plan/download", "/convert", "/check"):
        assert client.post(path, data={**DIRECT, "format": "csv"}).status_code == 403


def test_a_token_from_another_process_is_refused(client: TestClient) -> None:
    with TestClient(web_app.create_app(), base_url=BASE) as other:
        foreign = token(other)
        cookie = other.cookies["taper_csrf"]
    client.cookies.set("taper_csrf", cookie)
    response = client.post("/", data={**DIRECT, "csrf_token": foreign})
    assert response.status_code == 403
    client.cookies.clear()


def test_every_form_carries_a_token(client: TestClient) -> None:
    pages = [client.get(path).text for path in ("/", "/convert", "/check", "/revise")]
    pages.append(post(client, "/", DIRECT).text)
    for page in pages:
        forms = page.count("<form ")
        assert forms
        assert page.count('name="csrf_token"') == forms


def test_an_upload_over_the_limit_is_refused(client: TestClient) -> None:
    big = b"day,dose_mg\n" + b"1,1\n" * (web_app.MAX_UPLOAD_BYTES // 4 + 1)
    response = post(
        client, "/check", {"drug": "clonazepam"}, files={"plan": ("big.csv", big, "text/csv")}
    )
    assert response.status_code == 413
    assert "larger than 2 MiB" in response.text


def _call(app: Any, scope: dict[str, Any], chunks: list[bytes]) -> tuple[int, int]:
    """Call the ASGI app; returns the status and how many body chunks it read."""
    read = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        if read > len(chunks):
            raise AssertionError("read past the end of the body")
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    asyncio.run(app(scope, receive, send))
    return status, read


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    app = web_app.create_app()
    length = str(web_app.MAX_UPLOAD_BYTES + 1).encode()
    status, read = _call(app, _scope("/check", [(b"content-length", length)]), [b"x"])
    assert (status, read) == (413, 0)


def test_an_undeclared_body_is_refused_once_it_passes_the_limit() -> None:
    app = web_app.create_app()
    chunk = b"x" * 16384
    chunks = [chunk] * (web_app.MAX_FORM_BYTES // len(chunk) + 10)
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    status, read = _call(app, _scope("/", headers), chunks)
    assert status == 413
    assert read == web_app.MAX_FORM_BYTES // len(chunk) + 1  # not one chunk more


def test_no_parameter_names_a_file_on_the_server(client: TestClient, tmp_path: Path) -> None:
    """The page always uses the bundled table: a 'table' field (or the CLI's variable) is
    not read, and says so on the page."""
    planted = tmp_path / "planted.toml"
    planted.write_text("not a table")
    for name in ("table", "table_file", "opt-table", "opt-table-file", "path"):
        response = post(client, "/", {**DIRECT, name: str(planted)})
        assert response.status_code == 200, name
        assert "planted" not in response.text
    csv = post(client, "/plan/download", {**DIRECT, "format": "csv", "table": str(planted)}).text
    assert csv.startswith("# taper ")
    assert "table equivalences.toml (bundled)" in csv.splitlines()[0]
    assert "the page never reads a table or any other" in client.get("/").text


def test_an_internal_error_is_one_line_never_a_traceback(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(web_app.views, "make_plan", broken)
    response = post(client, "/", DIRECT)
    assert response.status_code == 500
    assert error_of(response.text).startswith("internal error (ZeroDivisionError: a bug)")
    assert "Traceback" not in response.text
    assert "File " not in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_unknown_pages_and_methods_are_one_line(client: TestClient) -> None:
    assert error_of(client.get("/etc/passwd").text) == "there is no page '/etc/passwd'"
    assert client.get("/static/../../pyproject.toml").status_code == 404
    response = client.delete("/convert")
    assert response.status_code == 405


# ------------------------------------------------------------------ the server


def test_serve_listens_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    bound: list[str] = []
    said: list[str] = []
    warned: list[str] = []

    def fake_bind(host: str, port: int) -> socket.socket:
        bound.append(host)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        return listener

    monkeypatch.setattr(server, "bind", fake_bind)
    monkeypatch.setattr("uvicorn.Server.run", lambda self, sockets=None: None)
    server.serve(None, 0, say=said.append, warn=warned.append)
    assert bound == ["127.0.0.1"]
    assert warned == []
    server.serve("192.0.2.10", 0, say=said.append, warn=warned.append)
    assert bound[-1] == "192.0.2.10"
    assert warned
    assert warned[0].startswith("taper: warning: serving on 192.0.2.10")


def test_open_opens_the_address_once_the_server_has_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []
    said: list[str] = []

    def started(self: Any, sockets: Any = None) -> None:
        self.started = True
        for _ in range(200):
            if opened:
                break
            threading.Event().wait(0.05)

    monkeypatch.setattr("uvicorn.Server.run", started)
    monkeypatch.setattr("webbrowser.open", opened.append)
    server.serve(None, 0, open_browser=True, say=said.append, warn=said.append)
    assert len(opened) == 1
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", opened[0])
    assert said == [f"taper: serving {opened[0]} (Ctrl-C stops it)"]


def test_a_wildcard_host_is_refused_in_one_line(run: Any) -> None:
    result = run("serve", "--host", "0.0.0.0")
    assert result.exit_status == 2
    assert result.stderr.startswith("taper: error: --host 0.0.0.0 would serve every interface")


def test_a_port_in_use_is_one_line(run: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.exit_status == 2
    assert result.stderr.startswith(f"taper: error: cannot listen on 127.0.0.1:{port}")
    assert len(result.stderr.splitlines()) == 1


def test_serve_prints_its_address_and_stops_cleanly_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "taper", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        with urllib.request.urlopen(url.group(0), timeout=30) as page:
            assert page.status == 200
            assert "Plan a taper" in page.read().decode()
        # --port 0: the port checked in the Host header is the one picked, not 0 or 8000
        for wrong in ("127.0.0.1:8000", "127.0.0.1:0", "127.0.0.1"):
            request = urllib.request.Request(url.group(0), headers={"Host": wrong})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=30)
            assert refused.value.code == 400, wrong
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert err == "taper: stopped\n"


# ------------------------------------------------------------------ documentation

ROOT = Path(__file__).resolve().parent.parent


def test_the_docs_console_examples_run(run: Any) -> None:
    import shlex

    text = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    examples = [
        shlex.split(line[2:])[1:]
        for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL)
        for line in block.splitlines()
        if line.startswith("$ taper ")
    ]
    assert examples
    for args in examples:
        result = run(*args)
        assert result.exit_status == 0, result.stderr
    assert "Example: taper serve --open" in run("serve", "--help").stdout


def test_the_readme_quick_start_mentions_the_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "taper serve" in quick_start
    assert "docs/web.md" in quick_start


def test_the_check_page_shows_supply_periods_and_the_plan_s_region(
    client: TestClient, run: Any, tmp_path: Path
) -> None:
    """The check page took a supply period but never showed the periods; and it checked a UK
    plan against US products (a pharmacist's review)."""
    path = tmp_path / "uk.csv"
    args = ("clonazepam", "1mg", "--times", "2", "--region", "uk", "--start", "2027-01-04")
    assert run("schedule", *args, "-f", "csv", "-o", str(path)).exit_status == 0
    response = post(
        client,
        "/check",
        {"supply": "28d"},
        files={"plan": ("uk.csv", path.read_bytes(), "text/csv")},
    )
    assert response.status_code == 200, response.text[:1000]
    page = response.text.replace("&#39;", "'")
    assert "Per supply period" in page
    # by date, as the file has dates (issue 22: "Days 1-28")
    assert '<th scope="col">Dates</th>' in page
    assert "2027-01-04 to 2027-01-31" in page
    assert "Days 1-28" not in page
    assert "products of the UK (the region named in the file's first lines)" in page
    assert "orally disintegrating" not in page


def test_the_check_page_keeps_day_numbers_for_a_file_without_dates(client: TestClient) -> None:
    """A file of day numbers has no date to give its supply periods (issue 22)."""
    text = "day,dose_mg\n" + "".join(f"{day},0.5\n" for day in range(1, 8)) + "8,0\n"
    response = post(
        client,
        "/check",
        {"supply": "4d", "drug": "clonazepam"},
        files={"plan": ("days.csv", text.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text[:1000]
    assert '<th scope="col">Days</th>' in response.text
    assert "Days 1-4" in response.text


@pytest.mark.parametrize("cookie", ["é", "a b", "x" * 101])
def test_a_cookie_this_page_did_not_make_is_replaced_never_a_500(
    client: TestClient, cookie: str
) -> None:
    """A non-ASCII taper_csrf cookie (which any page on localhost can set) gave an internal
    error on every page (an attacker's review)."""
    raw = f"taper_csrf={cookie}".encode()  # as a browser sends it (UTF-8 bytes)
    for path in ("/", "/convert", "/check", "/revise"):
        response = client.get(path, headers={"Cookie": raw})  # type: ignore[dict-item]
        assert response.status_code == 200, response.text[:300]


def test_the_plan_page_says_what_is_known_about_cutting_a_tablet(client: TestClient) -> None:
    """As the command line does: a UK switch onto diazepam halves its 2 mg tablet."""
    page = post(client, "/", SWITCH).text
    assert "halving 2 mg tablets is common; off-licence in the UK." in page


def test_a_flag_in_a_field_s_help_never_breaks_at_its_hyphens(client: TestClient) -> None:
    """A reviewer: the Revise form's help read "-/-on" where a line broke inside "--on"."""
    for path in ("/", "/revise", "/check"):
        helps = re.findall(r'<p class="help"[^>]*>(.*?)</p>', client.get(path).text, re.S)
        assert helps, path
        for help_text in helps:  # every flag inside its unbreakable span
            bare = re.sub(r'<span class="nowrap">--[a-z0-9-]+</span>', "", help_text)
            assert "--" not in bare, (path, help_text)
    assert 'from <span class="nowrap">--on</span>' in client.get("/revise").text
