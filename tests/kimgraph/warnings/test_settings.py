"""The early-warning settings: off by default, a feed URL checked for shape."""

from __future__ import annotations

import pytest

from kimgraph.setting_values import SettingsError
from kimgraph.settings import Settings


def test_the_poller_is_off_by_default() -> None:
    settings = Settings.from_env({})
    assert (
        settings.warnings_feed_url,
        settings.warnings_poll_seconds,
        settings.warnings_kabupaten,
        settings.warnings_aliases,
    ) == (None, 60.0, None, None)


def test_the_warning_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "KIMGRAPH_WARNINGS_FEED_URL": "https://www.bmkg.go.id/alerts/nowcast/id/rss.xml",
            "KIMGRAPH_WARNINGS_POLL_SECONDS": "30",
            "KIMGRAPH_WARNINGS_KABUPATEN": "61.04",
            "KIMGRAPH_WARNINGS_ALIASES": "/etc/kimgraph/aliases.csv",
        }
    )
    assert (
        settings.warnings_feed_url,
        settings.warnings_poll_seconds,
        settings.warnings_kabupaten,
        settings.warnings_aliases,
    ) == (
        "https://www.bmkg.go.id/alerts/nowcast/id/rss.xml",
        30.0,
        "61.04",
        "/etc/kimgraph/aliases.csv",
    )


def test_a_feed_that_is_no_http_url_is_refused() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"KIMGRAPH_WARNINGS_FEED_URL": "file:///etc/passwd"})
    assert str(refused.value) == (
        "KIMGRAPH_WARNINGS_FEED_URL must be an http:// or https:// URL, "
        "got 'file:///etc/passwd'"
    )
