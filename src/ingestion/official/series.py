"""Which official series an indicator's figure comes from, and how.

An ``OfficialSeries`` is one entry of ``series.yaml`` (and, later, of the indicator
catalogue), e.g.::

    {agency: bls, series: CES0000000001, frequency: M, transform: difference,
     decimals: 0, unit: K, evidence: seen}

``series.yaml`` maps a proposed indicator slug to a list of them: the first is the
preferred source, the others are fallbacks (FRED copies of BLS series).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from ingestion.official.observations import Observation
from ingestion.official.transforms import TRANSFORMS, Figures

CATALOGUE = Path(__file__).with_name("series.yaml")
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
        if not isinstance(self.note, str):
            raise SeriesSpecError(f"note: {self.note!r} is not text")

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
        required = [f.name for f in fields(cls) if f.name not in {"evidence", "note"}]
        for key in required:
            if key not in data:
                raise SeriesSpecError(f"missing key {key!r}")
        return cls(**data)

    @property
    def flow(self) -> str:
        """The ECB dataflow ("ICP" of "ICP.M.U2.N.000000.4.ANR"); "" otherwise."""
        return self.series.split(".", 1)[0] if self.agency == "ecb" else ""

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


def load_catalogue(path: Path = CATALOGUE) -> dict[str, tuple[OfficialSeries, ...]]:
    """``series.yaml`` -> {indicator slug: (preferred series, fallbacks...)}.

    SeriesSpecError names the file, the slug and the entry at fault.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SeriesSpecError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise SeriesSpecError(f"{path.name}: expected a mapping of indicator slugs")
    catalogue: dict[str, tuple[OfficialSeries, ...]] = {}
    for slug, entries in data.items():
        if not isinstance(slug, str) or not _SLUG.match(slug):
            raise SeriesSpecError(
                f"{path.name}: {slug!r} is not a slug like us-cpi-mom"
            )
        if not isinstance(entries, list) or not entries:
            raise SeriesSpecError(f"{path.name}: {slug}: expected a list of series")
        specs = []
        for index, entry in enumerate(entries):
            try:
                specs.append(OfficialSeries.from_dict(entry))
            except (SeriesSpecError, TypeError) as exc:
                raise SeriesSpecError(f"{path.name}: {slug}[{index}]: {exc}") from None
        catalogue[slug] = tuple(specs)
    return catalogue


def _check_choice(key: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SeriesSpecError(f"{key}: {value!r} is not one of {', '.join(choices)}")
