"""The original's server flags, translated onto `megatest server ...`."""

from megatest.cli.legacy import translate


def test_server_dash_stays_attached_on_the_default_address():
    assert translate(["-server", "-"]) == ["server", "start", "--foreground", "--bind", "-"]


def test_daemonize_detaches():
    assert translate(["-server", "-", "-daemonize"])[-1] == "--detach"


def test_list_kill_and_ping():
    assert translate(["-list-servers"]) == ["server", "list"]
    assert translate(["-kill-servers"]) == ["server", "kill-all"]
    assert translate(["-ping", "h:1"]) == ["server", "ping", "--address", "h:1"]
