"""A program's dashboard tables about satisfaction: check-in pulse, reflections and surveys,
overall and per group (small groups hidden)."""

from __future__ import annotations

from typing import Any

from peermentor.insights.selectors import surveys
from peermentor.insights.selectors.metrics import Sources, program_metric
from peermentor.insights.selectors.program.queries import NO_SURVEY_DATA, ProgramQueries
from peermentor.insights.tables import SUPPRESSED, ChartSpec, Table


class SatisfactionTables(ProgramQueries):
    """The satisfaction tables; ProgramFigures combines them with the others."""

    def satisfaction(self) -> Table:
        pulse, reflections = self.pulse, self.reflection_ratings
        rows: list[list[Any]] = [
            ["Check-in pulse (1 to 5)", pulse["respondents"], self._rating(pulse)],
            [
                "Closing reflection rating (1 to 5)",
                reflections["respondents"],
                self._rating(reflections),
            ],
        ]
        # The two survey figures are the program's success measures, defined once.
        sources = Sources(self)
        for key, label in (
            ("satisfaction", "Satisfaction, from surveys (1 to 5)"),
            ("likelihood_to_recommend", "Likelihood to recommend (NPS, -100 to 100)"),
        ):
            metric = program_metric(key, sources)
            rows.append(
                [label, metric.people, NO_SURVEY_DATA if metric.value is None else metric.value]
            )
        return Table(
            key="satisfaction",
            title="Satisfaction and likelihood to recommend",
            description=(
                "Average ratings and the net promoter score; a figure from fewer people than "
                f"the program's anonymity threshold ({self.threshold}) is hidden."
            ),
            columns=["Measure", "Respondents", "Result"],
            rows=rows,
        )

    def satisfaction_by(self, group_by: str) -> Table:
        rows = surveys.satisfaction_by_group(
            viewer=self.viewer, scope=self.scope, group_by=group_by
        )
        return Table(
            key=f"satisfaction_by_{group_by}",
            title=f"Survey satisfaction by {group_by}",
            description=(
                "Average survey satisfaction and net promoter score per group; a group too "
                "small to show is hidden."
            ),
            columns=[group_by.capitalize(), "People", "Satisfaction (1 to 5)", "NPS"],
            rows=[
                [
                    row["name"],
                    SUPPRESSED if row["satisfaction_hidden"] else row["satisfaction_people"],
                    SUPPRESSED if row["satisfaction_hidden"] else row["average_rating"],
                    SUPPRESSED if row["nps_hidden"] else row["nps"],
                ]
                for row in rows or []
            ],
            chart=ChartSpec(kind="bar", value_columns=(2,), max_value=5.0),
            empty_message=NO_SURVEY_DATA if rows is None else "No survey answers yet.",
        )

    def satisfaction_by_track(self) -> Table:
        return self.satisfaction_by("track")

    def satisfaction_by_department(self) -> Table:
        return self.satisfaction_by("department")

    def satisfaction_by_site(self) -> Table:
        return self.satisfaction_by("site")
