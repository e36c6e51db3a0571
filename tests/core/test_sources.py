"""The one source registry and the facts derived from it (core.sources)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import sources


def source_type(name: str, schedule: str = "0 6 * * *") -> type:
    attributes = {
        "name": name,
        "label": name.title(),
        "homepage": f"https://{name}.invalid/",
        "description": "",
        "supports_range": True,
        "schedule": schedule,
    }
    return type(name.title().replace("-", ""), (), attributes)


@pytest.fixture
def registry(source_registry):
    return source_registry


def test_the_ingestion_sources_are_registered_here():
    assert [source.name for source in sources.all_sources()] == [
        "bls",
        "ecb",
        "forexfactory",
        "fred",
        "investing",
        "tradingeconomics",
    ]


def test_the_agencies_take_the_figures_and_the_calendars_the_times():
    assert [sources.figure_precedence(name) for name in ("bls", "ecb", "fred")] == [
        1,
        1,
        5,
    ]
    # A calendar's figure precedence is its precedence.
    assert sources.figure_precedence("forexfactory") == sources.precedence(
        "forexfactory"
    )
    assert sources.precedence("bls") > sources.precedence("investing")
    assert [sources.keeps_first_print(n) for n in ("bls", "fred", "investing")] == [
        True,
        True,
        False,
    ]


def test_two_sources_of_one_name_are_refused(registry):
    registry.register_source(source_type("alpha"))
    with pytest.raises(ValueError, match="two sources are named 'alpha'"):
        registry.register_source(source_type("alpha"))


def test_an_unknown_name_lists_the_known_ones(registry):
    registry.register_source(source_type("beta"))
    registry.register_source(source_type("alpha"))
    with pytest.raises(
        KeyError, match=r"unknown source 'gamma' \(known: alpha, beta\)"
    ):
        registry.source_class("gamma")


def test_a_hyphenated_slug_has_one_cron_variable():
    assert sources.cron_variable("ecb-data") == "SCHEDULER_CRON_ECB_DATA"


def test_refresh_cron_is_the_default_until_overridden(monkeypatch, settings):
    source = source_type("ecb-data", schedule="0 6 * * *")
    assert sources.refresh_cron(source) == ("0 6 * * *", None)
    monkeypatch.setenv("SCHEDULER_CRON_ECB_DATA", "0 7 * * *")
    assert sources.refresh_cron(source) == ("0 7 * * *", "SCHEDULER_CRON_ECB_DATA")
    settings.SCHEDULER_CRON_ECB_DATA = "0 8 * * *"  # a setting wins over the env
    assert sources.refresh_cron(source) == ("0 8 * * *", "SCHEDULER_CRON_ECB_DATA")


def test_enabled_means_listed_in_ingestion_sources(settings):
    settings.INGESTION_SOURCES = ["fred"]
    assert (sources.is_enabled("fred"), sources.is_enabled("investing")) == (
        True,
        False,
    )


def test_enabled_sources_follow_the_setting_and_name_unknown_slugs(registry, settings):
    alpha, beta = source_type("alpha"), source_type("beta")
    registry.register_source(alpha)
    registry.register_source(beta)
    settings.INGESTION_SOURCES = ["beta", "alpha"]
    assert registry.enabled_sources() == [beta, alpha]
    settings.INGESTION_SOURCES = ["alpha", "gamma"]
    with pytest.raises(
        ImproperlyConfigured,
        match=r"^INGESTION_SOURCES names unknown source\(s\) gamma \(known: alpha, beta\)$",
    ):
        registry.enabled_sources()
