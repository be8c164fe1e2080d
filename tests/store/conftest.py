import pytest

from megatest.store import open_store

FIELDS = ["SYSTEM", "RELEASE"]
TARGET = {"SYSTEM": "ubuntu", "RELEASE": "v1"}


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path, fields=FIELDS)
    yield s
    s.close()


@pytest.fixture
def run_id(store):
    return store.get_or_create_run(TARGET, "nightly")
