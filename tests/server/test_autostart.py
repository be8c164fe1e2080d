"""Whether and where `runs start` brings a server up."""

from __future__ import annotations

import os

import pytest

from megatest.server import autostart, packets


@pytest.mark.parametrize(("configured", "given", "env", "expected"), [
    (True, None, {}, True),
    (False, None, {}, False),
    (True, None, {autostart.ENV: "no"}, False),
    (False, None, {autostart.ENV: "yes"}, True),
    (True, None, {autostart.ENV: " "}, True),  # blank: as if unset
    (True, False, {autostart.ENV: "yes"}, False),  # the command line wins
    (False, True, {autostart.ENV: "no"}, True),
])
def test_the_command_line_then_the_environment_then_the_config_decide(configured, given, env,
                                                                      expected):
    assert autostart.wanted(configured, given, env) is expected


def test_this_machine_by_name_short_name_or_loopback():
    name = packets.this_machine()
    assert autostart.is_this_machine(name)
    assert autostart.is_this_machine(name.split(".")[0] + ".some.domain")
    assert autostart.is_this_machine("localhost") and autostart.is_this_machine("127.0.0.1")
    assert not autostart.is_this_machine("farmhead-that-is-not-" + name)


def test_homehost_from_the_config_else_the_dot_homehost_file(tmp_path):
    assert autostart.homehost(tmp_path, None) is None
    (tmp_path / ".homehost").write_text("farmhead\nignored\n")
    assert autostart.homehost(tmp_path, None) == "farmhead"
    assert autostart.homehost(tmp_path, "other-head") == "other-head"
    (tmp_path / ".homehost").write_text(packets.this_machine() + "\n")
    assert autostart.homehost(tmp_path, None) is None


def test_a_remote_start_quotes_every_value_for_the_remote_shell(tmp_path):
    area = tmp_path / "my area; rm -rf ~"
    command = autostart.server_command(area, "runner", "farmhead")
    assert command[:5] == ["ssh", "-n", "-o", "BatchMode=yes", "farmhead"]
    assert f"'{area}'" in command[5]
    local = autostart.server_command(area, "runner", None)
    assert local[-1] == "--foreground" and str(area) in local and os.path.isabs(local[0])
