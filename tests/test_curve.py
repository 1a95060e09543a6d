"""The curve as drawn (issue 22): forced cuts marked, legends in plain words, and no legend
over the data, the titles or the tick labels, measured on the SVG itself."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from taper.curve import curve_data, image_plot
from taper.plan import Plan
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

START = "2027-01-04"

#: Plans of every shape the curve draws: short, long, a switch (three panels, crossover
#: and stabilisation hatched), asked-for holds, and cuts the products force.
PLANS: dict[str, dict[str, Any]] = {
    "short": {"drug": "lorazepam", "current": "1mg"},
    "long": {"drug": "diazepam", "current": "40mg", "rate": "5%"},
    "switch": {
        "drug": "clonazepam",
        "current": "morning=0.5mg,night=1mg",
        "switch_to": "diazepam",
        "holds": ["at:10mg:2w"],
    },
    "holds": {"drug": "diazepam", "current": "20mg", "holds": ["every:3:2w"]},
    "forced": {"drug": "clonazepam", "current": "1mg", "region": "us"},
    "forced-short": {"drug": "alprazolam", "current": "1mg"},
}


def _plan(name: str, table: EquivalenceTable) -> Plan:
    given = dict(PLANS[name])
    return plan_taper(given.pop("drug"), given.pop("current"), start=START, table=table, **given)


# A small reader of the SVG matplotlib writes: every path's points and every <use> of a
# marker or glyph, through the transforms of the groups around them, in SVG points.

Box = tuple[float, float, float, float]  # left, top, right, bottom
Matrix = tuple[float, float, float, float, float, float]  # a b c d e f, as in SVG
IDENTITY: Matrix = (1, 0, 0, 1, 0, 0)
XLINK = "{http://www.w3.org/1999/xlink}href"


def _times(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + c * q, b * p + d * q, a * r + c * s, b * r + d * s, a * t + c * u + e,
            b * t + d * u + f)  # fmt: skip


def _transform(text: str | None) -> Matrix:
    matrix = IDENTITY
    for name, args in re.findall(r"(\w+)\(([^)]*)\)", text or ""):
        v = [float(x) for x in re.split(r"[\s,]+", args.strip())]
        if name == "translate":
            step: Matrix = (1, 0, 0, 1, v[0], v[1] if len(v) > 1 else 0)
        elif name == "scale":
            step = (v[0], 0, 0, v[1] if len(v) > 1 else v[0], 0, 0)
        elif name == "rotate":
            cos, sin = math.cos(math.radians(v[0])), math.sin(math.radians(v[0]))
            step = (cos, sin, -sin, cos, 0, 0)
        elif name == "matrix":
            step = (v[0], v[1], v[2], v[3], v[4], v[5])
        else:
            raise AssertionError(f"transform {name} not read")
        matrix = _times(matrix, step)
    return matrix


def _subpaths(d: str) -> list[list[tuple[float, float]]]:
    """The points of each subpath (curve control points included: a box around them holds
    the curve)."""
    tokens = re.findall(r"[MLQCZmlqcz]|-?[0-9.]+(?:e-?[0-9]+)?", d)
    paths: list[list[tuple[float, float]]] = []
    numbers: list[float] = []
    for token in tokens:
        if token in "MLQCZmlqcz":
            assert token in "MLQCz", f"relative path command {token} not read"
            if token == "M":
                paths.append([])
            elif token == "z":
                paths[-1].append(paths[-1][0])
        else:
            numbers.append(float(token))
            if len(numbers) == 2:
                paths[-1].append((numbers[0], numbers[1]))
                numbers = []
    return paths


def _box(points: list[tuple[float, float]], m: Matrix) -> Box:
    moved = [(m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]) for x, y in points]
    xs, ys = [x for x, _ in moved], [y for _, y in moved]
    return min(xs), min(ys), max(xs), max(ys)


def _pieces(element: ET.Element, shapes: dict[str, ET.Element], m: Matrix = IDENTITY) -> list[Box]:
    """Boxes of what ``element`` draws: a filled path as a whole, a stroked path segment by
    segment (a line's box would be the whole axes), each marker and each glyph."""
    m = _times(m, _transform(element.get("transform")))
    if not isinstance(element.tag, str):
        return []
    tag = element.tag.rpartition("}")[2]
    if tag == "defs":
        return []
    if tag == "path":
        subpaths = _subpaths(element.get("d", ""))
        if "fill: none" not in element.get("style", ""):
            return [_box([p for path in subpaths for p in path], m)]
        return [_box(path[i : i + 2], m) for path in subpaths for i in range(len(path) - 1)]
    if tag == "use":
        shape = shapes[element.get(XLINK, "")[1:]]
        moved = _times(m, (1, 0, 0, 1, float(element.get("x", 0)), float(element.get("y", 0))))
        moved = _times(moved, _transform(shape.get("transform")))
        points = [p for path in _subpaths(shape.get("d", "")) for p in path]
        return [_box(points, moved)] if points else []
    return [box for child in element for box in _pieces(child, shapes, m)]


def _overlap(one: Box, other: Box, margin: float = 0.5) -> bool:
    return (
        one[0] < other[2] - margin
        and other[0] < one[2] - margin
        and one[1] < other[3] - margin
        and other[1] < one[3] - margin
    )


def _layout(svg: bytes) -> tuple[Box, list[Box], dict[str, list[Box]]]:
    """The picture's bounds, each legend's frame, and the boxes of everything else drawn
    (the data of each panel, clipped to it, and every text), by what they are."""
    root = ET.fromstring(svg, ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    shapes = {e.get("id", ""): e for e in root.iter() if str(e.tag).endswith("path")}
    view = tuple(float(v) for v in root.get("viewBox", "").split())
    frames: list[Box] = []
    drawn: dict[str, list[Box]] = {}
    figure = next(e for e in root.iter() if e.get("id") == "figure_1")

    def walk(element: ET.Element, m: Matrix, in_axis: bool = False) -> None:
        """``in_axis``: inside an axis's ticks, whose grid lines the legend may cover."""
        m = _times(m, _transform(element.get("transform")))
        ident = element.get("id", "")
        if ident.startswith("legend_"):
            frame = next(g for g in element if g.get("id", "").startswith("patch_"))
            boxes = _pieces(frame, shapes, m)
            frames.append(_box([p for b in boxes for p in _corners(b)], IDENTITY))
            return
        if ident.startswith("text_"):
            said = [e.text or "" for e in element.iter() if e.tag is ET.Comment]
            name = "text: " + (" ".join(" ".join(said).split()) or ident)
            drawn.setdefault(name, []).extend(_pieces(element, shapes, m))
            return
        if (
            not in_axis
            and ident.startswith(("line2d_", "patch_"))
            and any(e.get("clip-path") for e in element.iter())
        ):
            drawn.setdefault(f"data {ident}", []).extend(_pieces(element, shapes, m))
            return
        for child in element:
            walk(child, m, in_axis or ident.startswith("matplotlib.axis"))

    walk(figure, IDENTITY)
    return (view[0], view[1], view[0] + view[2], view[1] + view[3]), frames, drawn


def _corners(box: Box) -> list[tuple[float, float]]:
    return [(box[0], box[1]), (box[2], box[3])]


@pytest.mark.parametrize("name", sorted(PLANS))
def test_the_legend_covers_no_data_and_no_text(name: str, table: EquivalenceTable) -> None:
    """Regression (issue 22): the top legend sat over the last hatched stretch and the line
    (a US clonazepam plan's held and forced cuts end under it)."""
    plan = _plan(name, table)
    bounds, frames, drawn = _layout(image_plot(plan, table, ".svg"))
    assert frames, "no legend found"
    for frame in frames:
        inside = [bounds[i] <= frame[i] for i in (0, 1)] + [frame[i] <= bounds[i] for i in (2, 3)]
        assert all(inside), f"the legend at {frame} is outside the picture"
        covered = {what for what, boxes in drawn.items() if any(_overlap(frame, b) for b in boxes)}
        assert not covered, f"the legend at {frame} covers {sorted(covered)}"
        for other in frames:
            assert other is frame or not _overlap(frame, other), "two legends overlap"


def test_the_box_reader_sees_an_overlap(table: EquivalenceTable) -> None:
    """The measure above is not blind: a legend put on the line is found over it."""
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    figure, axis = plt.subplots()
    axis.plot([0, 1], [0, 1], label="line")
    axis.axvspan(0.8, 0.9, hatch="//", label="span")
    axis.legend(loc="center")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    _, frames, drawn = _layout(buffer.getvalue())
    covered = {what for what, boxes in drawn.items() if any(_overlap(frames[0], b) for b in boxes)}
    assert len(covered) == 1
    assert next(iter(covered)).startswith("data line2d_")


def _texts(svg: bytes) -> list[str]:
    """The text matplotlib draws, which it writes as a comment before each text's glyphs."""
    return [" ".join(t.split()) for t in re.findall(r"<!-- (.*?) -->", svg.decode(), re.DOTALL)]


def test_forced_cuts_are_marked_and_named_in_plain_words(table: EquivalenceTable) -> None:
    """Regression (issue 22): the curve did not show where the products forced a larger cut
    than the method asked (US clonazepam 1 mg: steps 7, 8 and 9 are "forced")."""
    plan = _plan("forced", table)
    forced = [step.start_day for step in plan.steps if step.forced]
    assert len(forced) == 3
    assert curve_data(plan, table).forced_days == tuple(forced)
    svg = image_plot(plan, table, ".svg")
    assert "larger cut forced by the products" in _texts(svg)
    # One hollow triangle per forced cut, and one in the legend.
    root = ET.fromstring(svg)
    triangles = {
        e.get("id")
        for e in root.iter("{http://www.w3.org/2000/svg}path")
        if e.get("id", "").startswith("m") and len(_subpaths(e.get("d", ""))[0]) == 4
    }
    assert triangles
    marks = sum(1 for e in root.iter() if e.get(XLINK, "")[1:] in triangles)
    assert marks == len(forced) + 1


def test_a_plan_without_forced_cuts_has_no_such_mark(table: EquivalenceTable) -> None:
    plan = _plan("switch", table)
    assert not any(step.forced for step in plan.steps)
    assert curve_data(plan, table).forced_days == ()
    assert "larger cut forced by the products" not in _texts(image_plot(plan, table, ".svg"))


def test_legends_name_each_source_in_plain_words(table: EquivalenceTable) -> None:
    """Regression (issue 22): the comparison line read "same doses by va-dod-2021" and the
    plan's line only "ashton"."""
    texts = _texts(image_plot(_plan("forced", table), table, ".svg"))
    assert "the plan under ashton (its equivalents)" in texts
    assert "same doses under va-dod-2021 (its equivalents)" in texts
    assert "ashton" not in texts


def test_a_switch_curve_is_titled_by_both_drugs(table: EquivalenceTable) -> None:
    """A reviewer: a clonazepam -> diazepam curve was titled "diazepam: draft taper"."""
    plan = plan_taper("clonazepam", "1mg", switch_to="diazepam", start="2027-01-04", table=table)
    texts = _texts(image_plot(plan, table, ".svg"))
    assert "clonazepam to diazepam: draft taper for clinical review" in texts


def test_the_terminal_curve_keeps_its_key_off_the_line(table: EquivalenceTable) -> None:
    """Regression (issue 22): plotext's legend sat over the top left of the plot, hiding the
    first weeks of the line; forced cuts were not named."""
    from taper.curve import terminal_plot

    text = terminal_plot(_plan("forced", table), table, width=80)
    lines = text.splitlines()
    box = lines[lines.index(next(x for x in lines if "┌" in x)) + 1 :]
    box = box[: box.index(next(x for x in box if "└" in x))]
    assert not any(re.search(r"[a-z]", line) for line in box)  # no words over the data
    assert box[0].startswith("20.0┤⠉")  # the first weeks of the line are drawn
    words = " ".join(text.split())
    assert "the plan under ashton (its equivalents)" in words
    assert "same doses under va-dod-2021 (its equivalents)" in words
    assert "larger cuts forced by the products: 2027-06-21, 2027-08-02, 2027-09-13" in words
    assert max(len(line) for line in lines) <= 80
