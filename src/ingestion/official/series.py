"""Which official series an indicator's figure comes from, and how.

An ``OfficialSeries`` is one entry of an indicator's ``official:`` list in the
indicator catalogue (``ingestion/catalogue/<country>.yaml``), e.g.::

    {agency: bls, series: CES0000000001, release: Employment Situation, frequency: M,
     transform: difference, decimals: 0, unit: K, evidence: seen}

The first entry is the preferred source, the others are fallbacks (FRED copies of BLS
series, the ECB's discontinued ICP dataset for history). ``official_series()`` reads
them all, checked.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from functools import cache

from ingestion.catalogue import Catalogue, load_catalogue
from ingestion.official.observations import Observation
from ingestion.official.transforms import TRANSFORMS, Figures

AGENCIES = ("bls", "fred", "ecb")
FREQUENCIES = ("M", "Q", "D")
UNITS = ("%", "K")
# Where the series id was checked (research/official-series.md's legend):
# seen in a recorded response, read in public code, or not checked.
EVIDENCE = ("seen", "code", "unverified")
_SERIES_ID = {
    "bls": re.compile(r"^[A-Z0-9]{5,30}$"),
    "fred": re.compile(r"^[A-Z0-9_]{2,40}$"),
    # flow.key: "ICP.M.U2.N.000000.4.ANR", "FM.D.U2.EUR.4F.KR.DFR.LEV"
    "ecb": re.compile(r"^[A-Z0-9_]+(\.[A-Za-z0-9_]+){2,}$"),
}
_SLUG = re.compile(r"^[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*$")
_OPTIONAL = {"evidence", "note", "release", "dated_by"}


class SeriesSpecError(ValueError):
    """A series specification is invalid; the message names the key at fault."""


@dataclass(frozen=True)
class OfficialSeries:
    agency: str
    series: str
    frequency: str
    transform: str
    decimals: int
    unit: str
    evidence: str = "unverified"
    note: str = ""
    # The agency's name of the release that publishes it, as its schedule spells it
    # (BLS: "Employment Situation"): dates history when no calendar lists a release.
    release: str = ""
    # An indicator whose occurrences are this one's releases, when the calendars do not
    # list this one (the ECB's three key rates are decided together).
    dated_by: str = ""

    def __post_init__(self) -> None:
        _check_choice("agency", self.agency, AGENCIES)
        _check_choice("frequency", self.frequency, FREQUENCIES)
        _check_choice("transform", self.transform, tuple(TRANSFORMS))
        _check_choice("unit", self.unit, UNITS)
        _check_choice("evidence", self.evidence, EVIDENCE)
        if not isinstance(self.series, str) or not _SERIES_ID[self.agency].match(
            self.series
        ):
            raise SeriesSpecError(
                f"series: {self.series!r} is not a {self.agency} series id"
            )
        if not isinstance(self.decimals, int) or isinstance(self.decimals, bool):
            raise SeriesSpecError(f"decimals: {self.decimals!r} is not an integer")
        if not 0 <= self.decimals <= 4:
            raise SeriesSpecError(f"decimals: {self.decimals} is not between 0 and 4")
        if self.transform.startswith("bls_") and self.agency != "bls":
            raise SeriesSpecError(
                f"transform: {self.transform} needs agency bls, not {self.agency}"
            )
        if self.frequency == "D" and self.transform != "level":
            raise SeriesSpecError(
                f"transform: a daily series takes 'level', not {self.transform!r}"
            )
        for name in ("note", "release"):
            if not isinstance(getattr(self, name), str):
                raise SeriesSpecError(f"{name}: {getattr(self, name)!r} is not text")
        if self.dated_by and not (
            isinstance(self.dated_by, str) and _SLUG.match(self.dated_by)
        ):
            raise SeriesSpecError(f"dated_by: {self.dated_by!r} is not an indicator id")

    @classmethod
    def from_dict(cls, data: Mapping) -> "OfficialSeries":
        """Build from a mapping; SeriesSpecError naming an unknown or missing key."""
        if not isinstance(data, Mapping):
            raise SeriesSpecError(f"a series specification is a mapping, not {data!r}")
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise SeriesSpecError(
                    f"unknown key {key!r} (known: {', '.join(known)})"
                )
        required = [f.name for f in fields(cls) if f.name not in _OPTIONAL]
        for key in required:
            if key not in data:
                raise SeriesSpecError(f"missing key {key!r}")
        return cls(**data)

    @property
    def flow(self) -> str:
        """The ECB dataflow ("ICP" of "ICP.M.U2.N.000000.4.ANR"); "" otherwise."""
        return self.series.split(".", 1)[0] if self.agency == "ecb" else ""

    @property
    def page(self) -> str:
        """The agency's public page of the series (a row's ``source_url``)."""
        if self.agency == "bls":
            return f"https://data.bls.gov/timeseries/{self.series}"
        if self.agency == "fred":
            return f"https://fred.stlouisfed.org/series/{self.series}"
        return f"https://data.ecb.europa.eu/data/datasets/{self.flow}/{self.series}"

    @property
    def key(self) -> str:
        """The ECB series key without its flow; the series id otherwise."""
        return self.series.split(".", 1)[1] if self.agency == "ecb" else self.series

    def figures(self, observations: Iterable[Observation]) -> Figures:
        """The calendar figures of one vintage of this series, by period.

        Observations of another frequency (BLS annual averages, M13) are ignored.
        """
        mine = [o for o in observations if o.period.frequency == self.frequency]
        return TRANSFORMS[self.transform](mine, self.decimals)


@cache
def official_series() -> dict[str, tuple[OfficialSeries, ...]]:
    """{indicator id: (preferred series, fallbacks...)} of the shipped catalogue."""
    return read_official(load_catalogue())


def read_official(catalogue: Catalogue) -> dict[str, tuple[OfficialSeries, ...]]:
    """The ``official:`` lists of ``catalogue``, checked.

    SeriesSpecError names the file, the indicator and the entry at fault
    (``us.yaml: us-cpi-mom: official[0]: missing key 'series'``).
    """
    ids = {entry.id for entry in catalogue.indicators}
    found: dict[str, tuple[OfficialSeries, ...]] = {}
    for entry in catalogue.indicators:
        where = f"{entry.country.lower()}.yaml: {entry.id}"
        specs = []
        for index, raw in enumerate(entry.official):
            try:
                spec = OfficialSeries.from_dict(raw)
            except (SeriesSpecError, TypeError) as exc:
                raise SeriesSpecError(f"{where}: official[{index}]: {exc}") from None
            if spec.dated_by and spec.dated_by not in ids:
                raise SeriesSpecError(
                    f"{where}: official[{index}]: dated_by {spec.dated_by} is not "
                    "a catalogued indicator"
                )
            specs.append(spec)
        if specs:
            found[entry.id] = tuple(specs)
    return found


def indicators_of(agency: str, series_id: str) -> list[tuple[str, OfficialSeries]]:
    """The (indicator id, specification) pairs that read ``series_id`` of ``agency``."""
    return _by_series().get((agency, series_id), [])


@cache
def _by_series() -> dict[tuple[str, str], list[tuple[str, OfficialSeries]]]:
    index: dict[tuple[str, str], list[tuple[str, OfficialSeries]]] = defaultdict(list)
    for slug, specs in official_series().items():
        for spec in specs:
            index[(spec.agency, spec.series)].append((slug, spec))
    return dict(index)


def _check_choice(key: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SeriesSpecError(f"{key}: {value!r} is not one of {', '.join(choices)}")
