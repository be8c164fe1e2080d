"""Differential test: the reader against a literal transcription of the reference pseudo-code.

The reference (section 1.14 and 1.6) gives pseudo-code verified against the real parser on
random inputs. `oracle_read` below transcribes it as directly as possible (no fast paths, a
list of pairs per section, every regex applied in clause order) for the shell-free subset:
getenv/gv, get/g, rget and mtrah directives, settings, pattern sections, sections filter,
allow modes and backslash joining. Random inputs must give identical sections, keys, values,
key order, environment exports and fatal errors.
"""

from __future__ import annotations

import random
import re

import pytest

from megatest.config.reader import read_config_text
from megatest.errors import ConfigError

WS, NWS = r"[ \t\n]", r"[^ \t\n]"
COMMENT = re.compile(rf"{WS}*#.*")
BLANK = re.compile(rf"{WS}*")
SETTINGS = re.compile(rf"\[configf:settings{WS}+({NWS}+){WS}+({NWS}+)\]{WS}*")
INCLUDE = re.compile(rf"\[include{WS}+(.*)\]{WS}*")
SCRIPT = re.compile(rf"\[scriptinc{WS}+({NWS}+)([^\]]*)\]{WS}*")
SECTION = re.compile(rf"\[(.*)\]{WS}*")
KEY_SYS = re.compile(rf"({NWS}+){WS}+\[system{WS}+({NWS}.*)\]{WS}*")
KEY_NOV = re.compile(rf"({NWS}+)({WS}*)")
KEY_VAL = re.compile(rf"({NWS}+){WS}+(.*)")
CONT = re.compile(rf"({WS}+)({NWS}.*)")
DIRECTIVE = re.compile(
    r"(.*)#\{(scheme|system|shell|getenv|get|runconfigs-get|rget|scm|sh|rp|gv|g|mtrah)"
    r"[ \t\n]+([^{}]*)\}(.*)"
)


class Fatal(Exception):
    pass


def disp(v):
    return "#f" if v is None else v


def ws_split(s):
    return [w for w in re.split(r"[ \t\n]", s) if w]


def lookup(res, sec, key):
    for k, v in res.get(sec, []):
        if k == key:
            return v
    return None


def assoc_set(res, sec, key, val):
    lst = [kv for kv in res.setdefault(sec, []) if kv[0] != key]
    lst.append((key, val))
    res[sec] = lst


def oracle_read(text, env, allow=True, sections=None, target=None, precreate=()):
    res = {name: [] for name in precreate}
    settings = {}
    phys = re.split(r"\r\n|\r|\n", text)
    if phys[-1] == "":
        phys.pop()
    it = iter(phys)

    def expand(line, rights):
        s = line
        steps = 0
        while True:
            m = DIRECTIVE.match(s)
            if not m:
                return s
            steps += 1
            if steps > 1000:
                raise Fatal()  # the original loops forever; we stop with an error
            pre, typ, arg, post = m.groups()
            if typ in ("system", "shell", "sh") and not rights:
                result = "#{(" + typ + ") " + arg + "}"
            else:
                if typ in ("get", "g"):
                    w = ws_split(arg)
                    if len(w) < 2:
                        raise Fatal()
                    result = lookup(res, w[0], w[1])  # generator never emits escapes or quotes
                elif typ in ("getenv", "gv"):
                    result = env.get(arg)
                elif typ in ("rget", "runconfigs-get"):
                    t = target if target is not None else env.get("MT_TARGET")
                    result = lookup(res, t, arg) if t is not None else None
                    if result is None:
                        result = lookup(res, "default", arg)
                elif typ == "mtrah":
                    result = disp(env.get("MT_RUN_AREA_HOME")) + ("/" + arg if arg else "")
                else:
                    raise AssertionError(typ)
            s = pre + disp(result) + post

    def perm(sec):
        if sections is None:
            return allow
        return allow if (sec == "default" or sec in sections) else False

    def next_line(sec):
        line = next(it, None)
        if line is None:
            return None
        while line != "" and line.endswith("\\"):
            n = next(it, None)
            if n is None:
                raise Fatal()
            line = line[:-1] + n
        rights = perm(sec)
        out = line if rights == "return-string" else expand(line, rights)
        if settings.get("trim-trailing-spaces", "no") != "no":
            out = re.sub(r"[ \t\n]+$", "", out, count=1)
        return out

    def wild(name):
        if name not in res:
            return
        if "%" in name:
            rx = name.replace("%", ".*", 1)
        elif re.fullmatch(r"/.*/", name):
            rx = name[1:-1]
        else:
            return
        try:
            crx = re.compile(rx)
        except re.error:
            raise Fatal() from None
        for other in list(res):
            if other != name and crx.fullmatch(other):
                for k, v in res[name]:
                    assoc_set(res, other, k, v)
        del res[name]

    def setenv(k, v):
        if ":" in k or v is None or "=" in k:
            return
        env[k] = v

    section, var_flag, lead = "default", None, None
    line = next_line(None)
    while line is not None:
        if COMMENT.fullmatch(line) or BLANK.fullmatch(line):
            var_flag = lead = None
        elif m := SETTINGS.fullmatch(line):
            settings[m[1]] = m[2]
            var_flag = lead = None
        elif INCLUDE.fullmatch(line) or SCRIPT.fullmatch(line):
            raise AssertionError("generator does not emit includes")
        elif m := SECTION.fullmatch(line):
            new = m[1]
            wild(section)
            res.setdefault(new, [])
            line = next_line(section)
            section, var_flag, lead = new, None, None
            continue
        elif m := KEY_SYS.fullmatch(line):
            p = perm(section)
            if p:
                assert p == "return-string", "generator only uses [system] without running it"
                assoc_set(res, section, m[1], m[2])
            var_flag = lead = None
        elif m := KEY_NOV.fullmatch(line):
            if m[1].startswith("[") and "]" not in line:
                raise Fatal()  # our deliberate deviation: unterminated header
            setenv(m[1], m[2])
            assoc_set(res, section, m[1], m[2])
            var_flag, lead = m[1], None
        elif m := KEY_VAL.fullmatch(line):
            if m[1].startswith("[") and "]" not in line:
                raise Fatal()
            assoc_set(res, section, m[1], m[2])
            var_flag, lead = m[1], None
        elif m := CONT.fullmatch(line):
            if var_flag is not None:
                prefix = "" if lead is None else m[1].replace(lead, "", 1)
                old = disp(lookup(res, section, var_flag))
                assoc_set(res, section, var_flag, old + "\n" + prefix + m[2])
                if lead is None:
                    lead = m[1]
            else:
                var_flag = lead = None
        else:
            var_flag = lead = None
        line = next_line(section)
    wild(section)
    if sections is not None:
        for s in list(res):
            if s not in sections:
                del res[s]
    return {s: {k: disp(v) for k, v in kv} for s, kv in res.items()}


_RARE = ["[a(%]", "[x", "#{get s}", "\\"]  # fatal when they survive: keep them rare
_PIECES = [
    "[s]", "[t/1]", "[t/%]", "[%]", "[/t.*/]", "[default]", "[]", "[s] x", "s]",
    "k", "key", "K2", "A:B", "X=Y", "v", "val ue", "#", "# c", "[system echo x]",
    " ", "  ", "\t", "\r", "#{getenv E1}", "#{getenv NL}", "#{gv E2}", "#{get s k}",
    "#{g t/1 key}", "#{rget key}", "#{mtrah x}", "#{shell echo x}", "#{getenv HASHY}",
    "[configf:settings trim-trailing-spaces yes]", "[configf:settings trim-trailing-spaces no]",
]


def random_text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(1, 14)):
        n = rng.randint(0, 4)
        parts = [rng.choice(_RARE if rng.random() < 0.004 else _PIECES) for _ in range(n)]
        sep = rng.choice(["", " ", "  ", "\t"])
        line = sep.join(parts) if rng.random() < 0.7 else "".join(parts)
        lines.append(line + "\\" if rng.random() < 0.03 else line)
    return rng.choice(["\n", "\r\n", "\n"]).join(lines) + rng.choice(["", "\n"])


def base_env():
    return {"E1": "one", "E2": "two words ", "NL": "\nnext", "HASHY": "#{getenv E1}",
            "MT_RUN_AREA_HOME": "/area", "MT_TARGET": "t/1"}


def run_ours(text, env, **kw):
    try:
        cfg = read_config_text(text, "r.config", env=env, **kw)
    except ConfigError:
        return "FATAL"
    return cfg.to_json_dict()


def run_oracle(text, env, **kw):
    try:
        return oracle_read(text, env, **kw)
    except Fatal:
        return "FATAL"


@pytest.mark.parametrize("seed", range(8))
def test_reader_matches_reference_pseudo_code_on_random_inputs(seed):
    rng = random.Random(seed)
    modes = [
        {},
        {"allow": False},
        {"allow": "return-string"},
        {"sections": ["default", "t/1"]},
        {"sections": ["t/1"], "precreate": ["t/1"]},
        {"allow": "return-string", "sections": ["s"]},
        {"allow": False, "sections": ["s", "default"]},
    ]
    for _ in range(600):
        text = random_text(rng)
        kw = dict(rng.choice(modes))
        if "[system" in text and kw.get("allow", True) not in (False, "return-string"):
            kw["allow"] = "return-string"  # never run commands in this test
        if "#{shell" in text and kw.get("allow", True) is True:
            kw["allow"] = False
        env_a, env_b = base_env(), base_env()
        ours = run_ours(text, env_a, **kw)
        expected = run_oracle(text, env_b, **kw)
        assert ours == expected, (text, kw)
        if expected != "FATAL":
            assert list(ours) == list(expected)
            for sec in expected:
                assert list(ours[sec]) == list(expected[sec]), (text, kw, sec)
            assert env_a == env_b, (text, kw)
