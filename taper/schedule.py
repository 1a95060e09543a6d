"""Plans from the options people give: the library's entry point for schedules.

:func:`plan_taper` takes the current drugs and doses and the options of
:class:`~taper.options.ScheduleOptions` (as the command line takes them), resolves them into a
:class:`~taper.options.TaperRequest` and builds the plan with the engine
(:mod:`taper.engine`). The plan comes back as a :class:`TaperPlan`: the plain data of
:class:`~taper.plan.Plan`, with its outputs one call away.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from taper.engine import make_plan
from taper.errors import InvalidRequestError, ParameterError
from taper.options import TaperRequest, resolve_request, schedule_options
from taper.plan import Plan, Revision
from taper.regimen import check_products_belong, current_regimen
from taper.table import EquivalenceTable, table_of
from taper.values import date_value, path_value, regimen_text

if TYPE_CHECKING:
    from taper.records import Record


@dataclass(frozen=True)
class TaperPlan(Plan):
    """A plan as the library returns it: its data, and its outputs one call away.

    Its ``repr`` is one line (what, how fast, when, how long); a notebook shows it as HTML:
    the steps and, with the ``plot`` extra, the curve (see :mod:`taper.notebook`)."""

    def __repr__(self) -> str:
        from taper.notebook import plan_repr

        return plan_repr(self)

    def _repr_html_(self) -> str:
        from taper.notebook import plan_html

        return plan_html(self)

    @property
    def summary(self) -> Record:
        """One flat record of the plan: what a researcher compares across scenarios."""
        from taper.records import plan_summary

        return plan_summary(self)

    def to_dict(self) -> Record:
        """The whole plan as plain data: the JSON document of ``taper schedule -f json``."""
        from taper.records import plan_document

        return plan_document(self, self.table)

    def to_csv(self, path: str | os.PathLike[str] | None = None, *, force: bool = False) -> str:
        """The tidy day-level CSV (as ``taper schedule -f csv``); written to ``path`` if given."""
        from taper.csvout import plan_csv

        text = plan_csv(self, self.table)
        if not isinstance(force, bool):
            raise ParameterError("force", force, "True or False")
        if path is not None:
            from taper.files import write_atomic

            path = path_value(path, "path")
            write_atomic(path, text, force=force)
        return text

    def revise(
        self,
        *,
        on: dt.date | str,
        hold: dt.timedelta | int | str | None = None,
        back: bool = False,
        taken: Any = None,
        rate: Any = None,
        every: dt.timedelta | int | str | None = None,
        reason: str | None = None,
        allow_high_dose: bool = False,
    ) -> TaperPlan:
        """The plan's next revision from the date ``on``: every day before it kept, the rest
        changed by one action (see :func:`taper.revise.revise_plan` and ``docs/revise.md``)::

            plan.revise(on=date(2027, 2, 10), hold=timedelta(weeks=2), reason="poor sleep")
            plan.revise(on="2027-02-10", back=True)
            plan.revise(on="2027-02-10", taken="morning=0.25mg,night=0.5mg")
            plan.revise(on="2027-02-10", rate="5%", every="4w")
        """
        from taper.revise import revise_plan

        return as_taper_plan(
            revise_plan(
                self,
                on=on,
                hold=hold,
                back=back,
                taken=taken,
                rate=rate,
                every=every,
                reason=reason,
                allow_high_dose=allow_high_dose,
            )
        )

    @property
    def history(self) -> tuple[Revision, ...]:
        """The revisions that made this plan from its first draft, oldest first (each with
        its number, date, action, reason and the checksum of the plan it replaced)."""
        return self.revisions

    @property
    def sha256(self) -> str:
        """The plan's checksum, as its outputs record it (``plan_sha256``)."""
        return self.content_sha256()

    @property
    def day_count(self) -> int:
        """The number of days the plan covers, from day 1 to the first day without any drug."""
        return self.steps[-1].end_day

    def to_dataframe(self) -> Any:
        """The day-level rows as a pandas DataFrame, typed: numbers numeric, dates as dates,
        categories for phase, drug and dose time, the provenance in ``df.attrs`` (see
        :mod:`taper.frames`; pandas is not a dependency of taper)."""
        from taper.frames import plan_frame

        return plan_frame(self)


def as_taper_plan(plan: Plan) -> TaperPlan:
    """A plan as the library returns it (its outputs one call away)."""
    if isinstance(plan, TaperPlan):
        return plan
    return TaperPlan(**{f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)})


def load_plan(
    path: str | os.PathLike[str], *, table: EquivalenceTable | str | os.PathLike[str] | None = None
) -> TaperPlan:
    """Read back a plan ``taper`` wrote (its JSON, or its CSV with the ``#`` lines), with its
    revisions: rebuilt from its recorded parameters and refused in one line if the file does
    not match its checksum (edited by hand) or was made with another table."""
    from taper.revise import load_plan as load

    return as_taper_plan(load(path_value(path, "path"), table))


def build_plan(
    request: TaperRequest, table: EquivalenceTable | None = None, *, today: dt.date | None = None
) -> TaperPlan:
    """Build the plan a request describes (see :mod:`taper.direct` for how)."""
    if not isinstance(request, TaperRequest):
        raise ParameterError("request", request, "a TaperRequest")
    table = table_of(table)
    return as_taper_plan(make_plan(request, table, today=today))


def plan_taper(
    drug: str | Sequence[tuple[str, Any]],
    dose: Any = None,
    *,
    table: EquivalenceTable | str | os.PathLike[str] | None = None,
    today: dt.date | None = None,
    **options: Any,
) -> TaperPlan:
    """Plan a taper from options given as text (as the command line takes them) or as Python
    values.

    ``drug`` and ``dose`` name the current drug and its dose: a daily total (``"1.5mg"`` or a
    number of mg, ``1.5`` or ``Decimal("1.5")``, split over ``times`` dose times) or doses per
    dose time (``"morning=0.5mg,night=1mg"`` or ``{"morning": 0.5, "night": 1}``). Several
    current drugs are given as ``[("lorazepam", "1mg"), ("alprazolam", 0.5)]`` (``dose`` left
    out) and need ``switch_to``, the drug to cross over to before the taper. ``options`` are
    the fields of :class:`~taper.options.ScheduleOptions`, as text or Python values
    (``rate=10``, ``every=timedelta(weeks=2)``, ``start=date(2027, 1, 4)``, ``holds=[...]``):
    ``rate`` and ``every`` default to 10% every 2 weeks, or with ``cautious`` to 5% every 2
    weeks with a 2-week hold after every third reduction (unless holds are given). ``table``
    is a loaded table or the path of one. A value of the wrong kind raises
    :class:`~taper.errors.ParameterError` naming the parameter.
    """
    table = table_of(table)
    if today is not None:
        today = date_value(today, "today")
    current = _current(drug, dose)
    given = schedule_options(options)
    if len(current) > 1 and given.switch_to is None:
        raise InvalidRequestError(
            "several current drugs are tapered by crossing them over to one: add {switch_to}",
            parameters={"switch_to": None},
        )
    drugs = [table.drug(name) for name, _ in current]
    names = [d.name for d in drugs]
    if len(set(names)) != len(names):
        raise InvalidRequestError("a current drug is given twice; give its doses once")
    switch_to = table.drug(given.switch_to).name if given.switch_to else None
    finish_on = table.drug(given.finish_on).name if given.finish_on else None
    target = switch_to or finish_on
    accumulates = bool(target and table.drug(target).metabolite_half_life_hours)
    request = resolve_request(given, names[0], switch_to, finish_on, accumulates=accumulates)
    used = [*names, *([switch_to] if switch_to else []), *([finish_on] if finish_on else [])]
    check_products_belong(table, request.products, used)
    regimens = [
        current_regimen(table, the_drug, text, given.times, request)
        for the_drug, (_, text) in zip(drugs, current, strict=True)
    ]
    request = replace(
        request, regimen=regimens[0], also=tuple(zip(names[1:], regimens[1:], strict=True))
    )
    if request.switch_to == request.drug and not request.also:
        request = replace(request, switch_to=None)  # to itself: a direct taper
    return build_plan(request, table, today=today)


def _current(drug: object, dose: object) -> list[tuple[str, str]]:
    """The current drugs and their doses as text: ``[(drug, dose text), ...]``."""
    if isinstance(drug, str):
        if dose is None:
            raise InvalidRequestError("give the current dose")
        return [(drug, regimen_text(dose, "dose"))]
    if dose is not None:
        raise ParameterError("drug", drug, "a drug name when a dose is given")
    if not isinstance(drug, Sequence) or not all(
        isinstance(pair, tuple | list) and len(pair) == 2 and isinstance(pair[0], str)
        for pair in drug
    ):
        raise ParameterError("drug", drug, "a drug name or a list of (drug, dose) pairs")
    if not drug:
        raise InvalidRequestError("give the current drug and dose")
    return [(name, regimen_text(value, f"dose of {name}")) for name, value in drug]
