from megatest.executor.hooks import run_logged


def test_hook_output_is_appended_to_its_log_and_status_returned(tmp_path):
    log = tmp_path / "logs" / "pre-hook.log"
    env = {"PATH": "/usr/bin:/bin", "WHO": "hook"}
    assert run_logged("echo $WHO; pwd", cwd=tmp_path, env=env, log_path=log) == 0
    assert run_logged("echo again >&2; exit 3", cwd=tmp_path, env=env, log_path=log) == 3
    assert log.read_text() == f"hook\n{tmp_path}\nagain\n"
