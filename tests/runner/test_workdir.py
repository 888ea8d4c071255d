"""Isolated working directories: sync, generated backend and var files, init digest."""

from __future__ import annotations

import json
import os

import pytest

from harness.runner import Command, reserve_run_stamp
from harness.workdir import BACKEND_FILE, WorkdirError, backend_config, prepare, sync_tree
from tests.graph.helpers import instance


def app(tmp_path, stack="dev", **fields):
    folder = tmp_path / "components" / "app"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text('resource "terraform_data" "x" {}\n')
    values = {"component_path": str(folder), "backend": {"bucket": "tfstate", "key": "terraform.tfstate",
                                                         "region": "us-east-1", "workspace_key_prefix": "app"},
              "vars": {"stage": stack, "size": 2}, "workspace": f"{stack}-app"}
    values.update(fields)
    return instance(f"app@{stack}", **values)


def test_two_instances_of_one_component_get_separate_directories_backends_and_vars(tmp_path):
    dev = prepare(app(tmp_path, "dev"), tmp_path / "work")
    prod = prepare(app(tmp_path, "prod"), tmp_path / "work")
    assert dev.path != prod.path and dev.path.name == "app@dev"
    assert (dev.path / "main.tf").read_text() == (prod.path / "main.tf").read_text()
    assert json.loads(dev.vars_file.read_text()) == {"stage": "dev", "size": 2}
    assert dev.vars_file.name == "dev-app.terraform.tfvars.json"
    backend = json.loads((prod.path / BACKEND_FILE).read_text())
    assert backend == {"terraform": {"backend": {"s3": {"bucket": "tfstate", "key": "terraform.tfstate",
                                                        "region": "us-east-1", "workspace_key_prefix": "app"}}}}


def test_an_endpoint_points_the_s3_backend_at_it_only():
    settings = backend_config(app_like(), "http://127.0.0.1:5000")["terraform"]["backend"]["s3"]
    assert settings["endpoints"] == {"s3": "http://127.0.0.1:5000", "dynamodb": "http://127.0.0.1:5000"}
    assert settings["use_path_style"] and settings["skip_credentials_validation"]
    assert settings["skip_requesting_account_id"] and settings["bucket"] == "b"
    assert backend_config(instance("x@s", backend_type="", backend={})) is None


def app_like():
    return instance("app@dev", backend={"bucket": "b", "key": "k"})


def test_sync_copies_changes_removes_stale_files_and_keeps_terraform_state(tmp_path):
    source, target = tmp_path / "src", tmp_path / "dst"
    (source / "modules" / "m").mkdir(parents=True)
    (source / "main.tf").write_text("a")
    (source / "modules" / "m" / "x.tf").write_text("x")
    sync_tree(source, target, keep={"backend.tf.json"})
    (target / ".terraform").mkdir()
    (target / ".terraform" / "environment").write_text("dev")
    (target / "terraform.tfstate").write_text("{}")
    (target / "backend.tf.json").write_text("{}")
    (source / "main.tf").write_text("b")
    (source / "modules" / "m" / "x.tf").unlink()
    (source / "new.tf").write_text("n")
    sync_tree(source, target, keep={"backend.tf.json"})
    assert (target / "main.tf").read_text() == "b" and (target / "new.tf").read_text() == "n"
    assert not (target / "modules" / "m" / "x.tf").exists()
    assert (target / ".terraform" / "environment").read_text() == "dev"
    assert (target / "terraform.tfstate").exists() and (target / "backend.tf.json").exists()


def test_init_is_needed_again_only_when_the_configuration_changes(tmp_path):
    work = prepare(app(tmp_path), tmp_path / "work")
    assert work.needs_init()
    work.mark_initialised()
    again = prepare(app(tmp_path), tmp_path / "work")
    assert not again.needs_init()
    os.utime(again.path / "main.tf")                 # touching is no change
    assert not again.needs_init()
    changed = prepare(app(tmp_path, backend={"bucket": "other", "key": "k"}), tmp_path / "work")
    assert changed.needs_init()


def test_files_terraform_init_writes_never_make_the_next_run_initialise_again(tmp_path):
    work = prepare(app(tmp_path), tmp_path / "work")
    (work.path / ".terraform.lock.hcl").write_text('provider "x" {}\n')     # init writes the lock file
    work.mark_initialised()
    again = prepare(app(tmp_path), tmp_path / "work")
    assert (again.path / ".terraform.lock.hcl").is_file()                   # kept: no lock file in the component
    assert not again.needs_init()
    (again.path / ".terraform.lock.hcl").write_text('provider "x" { hashes = [] }\n')   # init updates it
    assert not prepare(app(tmp_path), tmp_path / "work").needs_init()


def test_a_lock_file_of_the_component_is_configuration(tmp_path):
    component = app(tmp_path)
    lock = tmp_path / "components" / "app" / ".terraform.lock.hcl"
    lock.write_text('provider "x" { version = "1.0.0" }\n')
    work = prepare(component, tmp_path / "work")
    assert work.needs_init()
    work.mark_initialised()
    (work.path / ".terraform.lock.hcl").write_text("init added hashes\n")      # the component's copy wins again
    again = prepare(component, tmp_path / "work")
    assert not again.needs_init() and (again.path / ".terraform.lock.hcl").read_text() == lock.read_text()
    lock.write_text('provider "x" { version = "2.0.0" }\n')
    assert prepare(component, tmp_path / "work").needs_init()


def test_a_same_size_edit_is_synced_whatever_the_mtimes(tmp_path):
    source, target = tmp_path / "src", tmp_path / "dst"
    source.mkdir()
    (source / "main.tf").write_text("a = 1")
    sync_tree(source, target)
    sync_tree(source, target)           # compared equal once (filecmp would cache that by size and mtime)
    stat = (source / "main.tf").stat()
    (source / "main.tf").write_text("a = 2")
    os.utime(source / "main.tf", ns=(stat.st_atime_ns, stat.st_mtime_ns))   # same size, same mtime
    sync_tree(source, target)
    assert (target / "main.tf").read_text() == "a = 2"


def test_two_runs_in_the_same_second_get_their_own_log_folders(tmp_path):
    now, sleeps = [1_700_000_000.25], []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    first = reserve_run_stamp(tmp_path, clock=lambda: now[0], sleep=sleep)
    now[0] += 0.5
    second = reserve_run_stamp(tmp_path, clock=lambda: now[0], sleep=sleep)
    assert first != second and second > first and len(sleeps) == 1
    assert (tmp_path / f"run-{first}").is_dir() and (tmp_path / f"run-{second}").is_dir()


def test_a_missing_component_folder_is_an_error_naming_the_instance(tmp_path):
    with pytest.raises(WorkdirError, match=r"app@dev: component folder .* does not exist"):
        prepare(app(tmp_path, component_path=str(tmp_path / "nowhere")), tmp_path / "work")


@pytest.mark.parametrize(("argv", "yes", "expected"), [
    (["--", "terraform", "plan"], False, ("terraform", ("plan",))),
    (["plan", "-out=p"], False, ("terraform", ("plan", "-out=p"))),
    (["/usr/local/bin/terraform", "apply"], True, ("/usr/local/bin/terraform", ("apply", "-auto-approve"))),
    (["terraform", "state", "list"], False, ("terraform", ("state", "list"))),
])
def test_commands_parse(argv, yes, expected):
    command = Command.parse(argv, yes=yes)
    assert (command.binary, command.terraform) == expected


@pytest.mark.parametrize("argv", [["terraform", "apply"], ["destroy"], ["terraform", "state", "rm", "x"],
                                  ["terraform", "import", "a", "b"], ["terraform", "workspace", "delete", "w"]])
def test_write_commands_need_yes(argv):
    with pytest.raises(Exception, match="runs only with --yes"):
        Command.parse(argv)


@pytest.mark.parametrize(("argv", "shell"), [([], None), (["plan"], "echo"), (["terraform"], None),
                                              (["terraform", "-chdir=x"], None)])
def test_bad_commands_are_usage_errors(argv, shell):
    with pytest.raises(Exception) as info:
        Command.parse(argv, shell)
    assert type(info.value).__name__ == "UsageError"
