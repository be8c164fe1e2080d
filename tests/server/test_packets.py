"""Server packets in .meta/: format, integrity, staleness, order of preference."""

import hashlib
import os
import stat

from megatest.server import packets
from megatest.server.packets import Packet, read_packets, write_packet

NOW = 1_800_000_000.0


def _packet(itype="runner", started=NOW - 100, refreshed=NOW, pid=4242, machine="farm7", port=4000):
    return Packet("127.0.0.1", port, itype, pid, machine, started, NOW - 5, refreshed)


def _always(_pid):
    return True


def test_round_trip_keeps_every_card_and_names_the_file_by_its_sha1(tmp_path):
    written = write_packet(tmp_path, _packet())
    text = open(written.path).read()
    body, zline = text.rstrip("\n").rsplit("\n", 1)
    assert zline == f"Z {hashlib.sha1((body + chr(10)).encode()).hexdigest()}"
    assert os.path.basename(written.path) == written.sha1 + ".pkt"
    assert all(len(line.split(" ", 1)[0]) == 1 for line in text.splitlines())
    live, stale = read_packets(tmp_path, NOW, machine="here", alive=_always)
    assert stale == []
    [back] = live
    assert (back.host, back.port, back.itype, back.pid, back.machine) == (
        "127.0.0.1", 4000, "runner", 4242, "farm7")
    assert (back.started, back.created, back.refreshed) == (NOW - 100, NOW - 5, NOW)
    assert back.sha1 == written.sha1


def test_packet_is_never_group_or_world_writable_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        written = write_packet(tmp_path, _packet())
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(written.path).st_mode) == 0o644
    assert [n for n in os.listdir(tmp_path / ".meta") if n.endswith(".tmp")] == []


def test_damaged_packet_is_ignored_and_removed_once_old(tmp_path):
    written = write_packet(tmp_path, _packet())
    text = open(written.path).read().replace("P 4000", "P 4001")
    with open(written.path, "w") as f:
        f.write(text)
    os.utime(written.path, (NOW - 1, NOW - 1))
    # fresh: ignored but kept (it may be a writer's half-done file on a slow disk)
    assert read_packets(tmp_path, NOW, machine="here", alive=_always) == ([], [])
    assert os.path.exists(written.path)
    os.utime(written.path, (NOW - 60, NOW - 60))
    assert read_packets(tmp_path, NOW, machine="here", alive=_always) == ([], [])
    assert not os.path.exists(written.path)


def test_packet_renamed_away_from_its_sha1_is_damaged(tmp_path):
    written = write_packet(tmp_path, _packet())
    os.rename(written.path, tmp_path / ".meta" / ("0" * 40 + ".pkt"))
    assert read_packets(tmp_path, NOW, machine="here", alive=_always) == ([], [])


def test_no_refresh_for_three_intervals_is_stale_and_cleaned(tmp_path):
    fresh = write_packet(tmp_path, _packet(refreshed=NOW - 3 * packets.REFRESH_INTERVAL, port=1))
    old = write_packet(tmp_path, _packet(refreshed=NOW - 3 * packets.REFRESH_INTERVAL - 1, port=2))
    live, stale = read_packets(tmp_path, NOW, machine="here", alive=_always)
    assert [p.port for p in live] == [1] and [p.port for p in stale] == [2]
    assert os.path.exists(fresh.path) and not os.path.exists(old.path)


def test_dead_pid_is_stale_only_on_its_own_machine(tmp_path):
    write_packet(tmp_path, _packet(machine="here", port=1))
    write_packet(tmp_path, _packet(machine="elsewhere", port=2))
    live, stale = read_packets(tmp_path, NOW, machine="here", alive=lambda pid: False)
    assert [p.port for p in live] == [2] and [p.port for p in stale] == [1]


def test_listing_without_clean_leaves_stale_packets(tmp_path):
    old = write_packet(tmp_path, _packet(refreshed=NOW - 100))
    _live, stale = read_packets(tmp_path, NOW, clean=False, machine="here", alive=_always)
    assert len(stale) == 1 and os.path.exists(old.path)


def test_pid_alive_knows_this_process_and_a_reaped_one():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert packets.pid_alive(os.getpid())
    assert not packets.pid_alive(proc.pid)


def test_order_is_type_then_shortest_run_then_sha1():
    def p(itype, started, sha1):
        packet = _packet(itype=itype, started=started)
        packet.sha1 = sha1
        return packet

    found = [p("exec", NOW - 1, "a"), p("runner", NOW - 50, "b"), p("other", NOW - 1, "c"),
             p("runner", NOW - 10, "d"), p("dboard", NOW - 500, "e"), p("runner", NOW - 10, "c")]
    assert [x.sha1 for x in packets.ordered(found, NOW)] == ["e", "c", "d", "b", "c", "a"]
