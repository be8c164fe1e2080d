"""Reading a config from a file: the cheap paths give what the general ones give.

`read_config` reads the file with plain descriptor reads and asks whether it exists only when
the open fails; it looks up the file's real path (for the include-loop check) only when the
text can hold an `[include]` (`reader._may_include`). Each is checked against the general
way: `open().read()`, and the real path always looked up.
"""

from __future__ import annotations

import os
import random

import pytest

from megatest.config import reader
from megatest.config.reader import read_config
from megatest.errors import ConfigError


def outcome(path, **kw):
    """Everything a read gives a caller: sections, env, diagnostics, or the error."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "INC": "[include self.config]"}
    try:
        cfg = read_config(path, env=env, **kw)
    except ConfigError as exc:
        return ("error", exc.message, exc.path, exc.line)
    if cfg is None:
        return None
    return (cfg.to_json_dict(), dict(cfg.env), [str(d) for d in cfg.diagnostics])


def general_outcome(monkeypatch, path, **kw):
    with monkeypatch.context() as m:
        m.setattr(reader, "_may_include", lambda text: True)
        return outcome(path, **kw)


# Lines that can or cannot make an include, directly, by joining or by expansion.
FRAGMENTS = [
    "[include self.config]",
    "[include other.config]",
    "[inc\\",
    "lude self.config]",
    "#{getenv INC}",
    "#{get a k}",
    "[a]",
    "k [include self.config]",
    "k v",
    "  more",
    "",
    "# [include self.config]",
    "x\\",
    "[include missing.config]",
    "include self.config",
    "[include  self.config]  ",
]


def random_text(rng: random.Random) -> str:
    lines = [rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 6))]
    end = rng.choice(["\n", "\r\n", "\r"])
    return end.join(lines) + (end if rng.random() < 0.8 else "")


@pytest.mark.parametrize("seed", range(4))
def test_skipping_the_real_path_lookup_never_changes_a_read(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    (tmp_path / "other.config").write_text("[o]\nk 1\n")
    target = tmp_path / "self.config"
    loops = 0
    for _ in range(300):
        target.write_bytes(random_text(rng).encode())
        # read by its bare name: an include of itself is then named differently from it
        got = outcome("self.config", cwd=str(tmp_path))
        general = general_outcome(monkeypatch, "self.config", cwd=str(tmp_path))
        assert got == general, target.read_bytes()
        loops += got is not None and got[0] == "error" and "loop" in got[1]
    assert loops > 10  # the inputs did include themselves, by every route


@pytest.mark.parametrize(
    ("text", "loops"),
    [("[inc\\\nlude self.config]\n", True), ("#{getenv INC}\n", True),
     ("[include self.config]\r", True), ("k 1\\\n\n", False)],
)
def test_a_self_include_is_caught_at_the_first_level_however_it_is_written(
    tmp_path, text, loops
):
    (tmp_path / "self.config").write_text(text, newline="")
    got = outcome("self.config", cwd=str(tmp_path))
    if loops:
        # named as the caller named it: the top file, not the included copy of itself
        message = f"include loop: {tmp_path}/self.config is already being read"
        assert got[:3] == ("error", message, "self.config")
    else:
        assert got[0] == {"default": {"k": "1"}}


@pytest.mark.parametrize(
    "data",
    [b"", b"k v\n", b"k v", b"\xff\xfe bad utf-8\n", b"a\r\nb\rc\n",
     b"x" * (1 << 16), b"k " + b"y" * (1 << 16) + b"\n", b"z\n" * 100_000],
)
def test_descriptor_reads_give_the_text_a_buffered_read_gives(tmp_path, data):
    path = tmp_path / "c.config"
    path.write_bytes(data)
    with open(path, "rb") as fh:
        expected = fh.read().decode("utf-8", errors="surrogateescape")
    assert reader._read_text(str(path)) == expected


def test_missing_file_is_none_and_unreadable_one_an_error_after_option_checks(tmp_path):
    assert read_config(tmp_path / "none.config") is None
    assert read_config(str(tmp_path / "a\0b")) is None  # as os.path.exists says
    (tmp_path / "dir.config").mkdir()
    with pytest.raises(ConfigError) as exc:
        read_config(tmp_path / "dir.config")
    assert exc.value.message == f"cannot read {tmp_path}/dir.config: Is a directory"
    with pytest.raises(ConfigError, match="invalid environ pattern"):
        read_config(tmp_path / "dir.config", environ_patt="(")
