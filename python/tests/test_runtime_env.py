"""Runtime envs from Python: the job's env at init, working_dir as the workers' cwd and first
import path, and a task's env merged over the job's."""

import os

import pytest

import moray


@pytest.fixture(scope="module")
def job_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("working_dir")
    (root / "shipped_helper.py").write_text("def answer():\n    return 42\n")
    (root / "data.txt").write_text("shipped data\n")
    info = moray.init(num_cpus=2, runtime_env={"working_dir": str(root),
                                               "env_vars": {"JOB_LEVEL": "job"}})
    yield root
    moray.shutdown()


def test_workers_import_and_read_from_the_working_dir(job_dir):
    @moray.remote
    def use_it():
        import shipped_helper

        with open("data.txt") as f:
            return shipped_helper.answer(), f.read().strip(), os.getcwd() != str(job_dir)

    answer, data, elsewhere = moray.get(use_it.remote(), timeout=60)
    assert answer == 42 and data == "shipped data"
    assert elsewhere  # a copy unpacked by the raylet, not the driver's directory


def test_a_task_env_merges_over_the_job_env(job_dir):
    @moray.remote
    def read():
        return os.environ.get("JOB_LEVEL"), os.environ.get("TASK_LEVEL")

    assert moray.get(read.remote(), timeout=60) == ("job", None)
    merged = read.options(runtime_env={"env_vars": {"TASK_LEVEL": "task"}}).remote()
    assert moray.get(merged, timeout=60) == ("job", "task")


def test_a_missing_working_dir_is_an_error_at_the_call(job_dir):
    @moray.remote
    def noop():
        return None

    with pytest.raises(Exception, match="does-not-exist"):
        noop.options(runtime_env={"working_dir": "/does-not-exist"}).remote()
