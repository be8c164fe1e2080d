"""`[env-override]` values as a test sees them: megatest.config read again in the test's
environment, once per run when nothing per-test can reach the values, else per test."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from megatest.config.area import open_area
from megatest.config.env_override import SectionText, scan_env_override
from megatest.executor.environment import EnvOverrideResolver, TestEnvInputs, reread_env
from megatest.executor.prepare import RunPreparer


def config_at(tmp_path, text: str, **files: str) -> str:
    (tmp_path / "megatest.config").write_text(text)
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    return str(tmp_path / "megatest.config")


def test_a_section_without_variables_or_commands_is_never_read_again(tmp_path):
    path = config_at(tmp_path, "[env-override]\nA plain value\nB\n[setup]\nx #{getenv MT_TEST_NAME}\n")
    assert scan_env_override(path) == SectionText(False, frozenset())


def test_the_names_a_section_mentions_are_found_without_running_anything(tmp_path):
    path = config_at(
        tmp_path,
        "[env-override]\nRN rn=#{getenv MT_RUNNAME}\nP $HOME/x \\\n  $SYSTEM\n"
        "S [system touch RAN]\n[include more.config]\n",
        **{"more.config": "[env-override]\nW #{getenv MT_TEST_NAME}\n"},
    )
    text = scan_env_override(path)
    assert text.dynamic
    assert {"MT_RUNNAME", "HOME", "SYSTEM", "MT_TEST_NAME", "touch", "RAN"} <= text.names
    assert not (tmp_path / "RAN").exists()


def test_a_get_reads_the_names_of_the_whole_config(tmp_path):
    path = config_at(tmp_path, "[setup]\nx #{getenv MT_ITEMPATH}\n[env-override]\nX #{get setup x}\n")
    assert "MT_ITEMPATH" in scan_env_override(path).names


def test_text_that_cannot_be_known_without_running_it_counts_as_everything(tmp_path):
    for extra in ("[include #{getenv USER}.config]\n", "[scriptinc ./gen.sh]\n"):
        path = config_at(tmp_path, "[env-override]\nA 1\n" + extra)
        assert scan_env_override(path) == SectionText(True, None)


@dataclass
class CountingSource:
    """An EnvOverrideSource whose read returns the env's MT_RUNNAME and MT_TEST_NAME."""

    names: frozenset[str] | None
    dynamic: bool = True
    start_env: Mapping[str, str] = field(default_factory=lambda: {"PATH": "/bin"})
    runner_env: Mapping[str, str] = field(default_factory=lambda: {"PATH": "/bin"})
    reads: list[dict[str, str]] = field(default_factory=list)

    def depends_on(self, names: Iterable[str]) -> bool:
        return self.names is None or not self.names.isdisjoint(names)

    def read(self, env: dict[str, str]) -> list[tuple[str, str]]:
        self.reads.append(env)
        return [("V", f"{env.get('MT_RUNNAME')}/{env.get('MT_TEST_NAME')}")]


def inputs(source: CountingSource, test: str, base_env: Mapping[str, str] | None = None,
           item_vars: list[tuple[str, str]] | None = None) -> TestEnvInputs:
    return TestEnvInputs(
        base_env=source.runner_env if base_env is None else base_env, toppath="/area",
        area_name="area", keyvals=[("SYS", "u")], runname="r1", test_name=test,
        run_dir=f"/runs/{test}", linktree="/lt", megatest="/bin/megatest",
        item_vars=item_vars or [], env_override=[("V", "runner")], env_override_source=source,
    )


def test_run_level_values_are_read_once_for_all_the_tests_of_a_run():
    source = CountingSource(frozenset({"MT_RUNNAME"}))
    resolver = EnvOverrideResolver()
    results = [resolver.resolve(inputs(source, t)) for t in ("a", "b", "c")]
    assert [(r.env_override, own) for r, own in results] == [([("V", "r1/None")], False)] * 3
    assert len(source.reads) == 1


def test_values_that_name_a_per_test_variable_are_read_for_each_test():
    source = CountingSource(frozenset({"MT_TEST_NAME"}))
    resolver = EnvOverrideResolver()
    results = [resolver.resolve(inputs(source, t)) for t in ("a", "b")]
    assert [(r.env_override, own) for r, own in results] == [
        ([("V", "r1/a")], True), ([("V", "r1/b")], True)]
    assert source.reads[0]["MT_TEST_RUN_DIR"] == "/runs/a"


def test_an_item_variable_or_a_pre_launch_override_makes_the_read_per_test():
    resolver = EnvOverrideResolver()
    source = CountingSource(frozenset({"COLOR", "OVR"}))
    assert resolver.resolve(inputs(source, "a"))[1] is False
    assert resolver.resolve(inputs(source, "a", item_vars=[("COLOR", "red")]))[1] is True
    assert source.reads[-1]["COLOR"] == "red"
    own = inputs(source, "a", base_env={"PATH": "/bin", "OVR": "1"})
    assert resolver.resolve(own)[1] is True and source.reads[-1]["OVR"] == "1"


def test_a_static_section_is_never_read_again():
    source = CountingSource(frozenset(), dynamic=False)
    resolved, own = EnvOverrideResolver().resolve(inputs(source, "a"))
    assert resolved.env_override == [("V", "runner")] and not own and source.reads == []


def test_the_reread_environment_is_the_original_execute_one():
    source = CountingSource(None, start_env={"PATH": "/bin", "HOME": "/h"})
    test = inputs(source, "t", item_vars=[("COLOR", "red")])
    run_level = reread_env(source, test, per_test=False)
    assert {k: run_level[k] for k in ("MT_RUNNAME", "MT_TARGET", "SYS", "MT_LINKTREE",
                                      "MT_RUN_AREA_HOME", "MT_TESTSUITENAME")} == {
        "MT_RUNNAME": "r1", "MT_TARGET": "u", "SYS": "u", "MT_LINKTREE": "/lt",
        "MT_RUN_AREA_HOME": "/area", "MT_TESTSUITENAME": "area"}
    assert "MT_TEST_NAME" not in run_level
    per_test = reread_env(source, test, per_test=True)
    assert (per_test["MT_TEST_NAME"], per_test["MT_ITEMPATH"], per_test["COLOR"],
            per_test["MT_ITEM_INFO"]) == ("t", "red", "red", "((COLOR red))")


def test_a_prepared_test_gets_values_read_with_its_run_name_and_self_references_once(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "tests" / "t").mkdir(parents=True)
    (tmp_path / "tests" / "t" / "testconfig").write_text("[ezsteps]\ns true\n")
    (tmp_path / "megatest.config").write_text(
        "[fields]\nSYS TEXT\n[disks]\nd0 #{getenv MT_RUN_AREA_HOME}/runs\n"
        "[env-override]\nRN rn=#{getenv MT_RUNNAME}\nXPATH #{getenv XPATH}:/extra\n"
    )
    (tmp_path / "runconfigs.config").write_text("[default]\n[u]\n")
    env = {"PATH": os.environ["PATH"], "XPATH": "/start"}
    area = open_area(tmp_path, target="u", env=env)
    assert area.config.env_override["RN"] == "rn=#f"  # the runner's read: no run name yet
    test = TestEnvInputs(
        base_env=area.env, toppath=str(area.toppath), area_name="a", keyvals=[("SYS", "u")],
        runname="r1", test_name="t", run_dir="", linktree=str(tmp_path / "lt"), megatest="/bin/megatest",
        env_override=list(area.config.env_override.items()),
        env_override_source=area.env_override_source(),
    )
    prepared = RunPreparer().prepare(test, disks=area.config.disks,
                                     test_src_dir=str(tmp_path / "tests" / "t"))
    assert prepared.env["RN"] == "rn=r1"
    assert prepared.env["XPATH"] == "/start:/extra"
