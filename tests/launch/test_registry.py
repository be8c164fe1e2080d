"""Launcher lines to implementations."""

from __future__ import annotations

import pytest

from megatest.errors import UsageError
from megatest.launch import registry
from megatest.launch.base import LauncherContext, Selector
from megatest.launch.local import LocalLauncher


@pytest.mark.parametrize("line", [None, "", "local", "nbfake", "nbfind", "nohup"])
def test_no_launcher_and_the_originals_background_launchers_are_the_local_one(line):
    assert registry.parse(line)[0] == "local"


def test_the_other_words_go_to_the_launcher_as_the_shell_splits_them():
    registry.register("lsfish", lambda context: context)
    try:
        name, words = registry.parse("lsfish -q 'long queue' -o $MT_TEST_RUN_DIR/x.log")
        assert (name, words) == ("lsfish", ("-q", "long queue", "-o", "$MT_TEST_RUN_DIR/x.log"))
        context = LauncherContext(reporter=None, selector=Selector())  # type: ignore[arg-type]
        assert registry.create("lsfish -q x", context).words == ("-q", "x")
    finally:
        registry.unregister("lsfish")
    with pytest.raises(UsageError):
        registry.parse("lsfish")


def test_an_unknown_or_unreadable_line_is_a_usage_error_naming_it():
    with pytest.raises(UsageError, match=r"unknown launcher 'sleeprunner'; known launchers: "
                                         r"bsub, local \(also nbfake, nbfind, nohup\), qsub, "
                                         r"slurm, srun, template"):
        registry.parse("sleeprunner")
    with pytest.raises(UsageError, match=r"\[host-types\] remote 'bsub \"-q': "):
        registry.parse('bsub "-q', where="[host-types] remote")


def test_create_builds_the_local_launcher_on_the_runners_selector():
    selector = Selector()
    launcher = registry.create("nbfake", LauncherContext(reporter=None, selector=selector))  # type: ignore[arg-type]
    assert isinstance(launcher, LocalLauncher) and launcher.selector is selector
