"""The Automation API layer, tested at its seam with ``pulumi.automation``.

The Pulumi CLI is not on these machines and must never be called: the stack
functions of ``pulumi.automation`` are replaced by fakes that record what
dativo_infra asks for and answer with pulumi.automation's own result and error
classes. What a real ``pulumi up`` does with those calls is not verified here.
"""
from __future__ import annotations

import contextvars
import datetime
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto
from pulumi.automation.events import OpType

from dativo_infra import automation
from dativo_infra.automation import StackOptions, StackSettings

from .conftest import JOBS, ROOT

FAKE_CLI = "/opt/fake-pulumi/bin/pulumi"


class FakeCommand:
    """Stands in for pulumi.automation.PulumiCommand (which would run `pulumi version`)."""

    instances: list = []

    def __init__(self, root=None, version=None, skip_version_check=False):
        self.root = root
        FakeCommand.instances.append(self)


def _summary(kind: str, changes: dict) -> auto.UpdateSummary:
    now = datetime.datetime.now()
    return auto.UpdateSummary(kind=kind, start_time=now, end_time=now, message="", environment={}, config={},
                              result="succeeded", resource_changes=changes)


class FakeStack:
    """Answers like pulumi.automation.Stack; ``behaviour`` picks a failure to simulate."""

    def __init__(self, name: str, program, opts, behaviour: str):
        self.name, self.program, self.opts, self.behaviour = name, program, opts, behaviour
        self.config: dict[str, str] = {}
        self.calls: list[tuple[str, dict]] = []
        self.removed: list[str] = []

    # config
    def get_all_config(self):
        return {k: auto.ConfigValue(v) for k, v in self.config.items()}

    def set_all_config(self, config, *, path=False):
        assert all(isinstance(v, auto.ConfigValue) for v in config.values())
        self.config.update({k: v.value for k, v in config.items()})

    def remove_all_config(self, keys, *, path=False):
        self.removed.extend(keys)
        for key in keys:
            self.config.pop(key)

    # operations
    def _operate(self, name: str, kwargs: dict) -> None:
        self.calls.append((name, kwargs))
        if kwargs.get("on_output"):
            kwargs["on_output"](f"{name} line from pulumi\n")
        if kwargs.get("on_event"):
            kwargs["on_event"](auto.EngineEvent(sequence=1, timestamp=0, summary_event=auto.SummaryEvent(False, 1, {OpType.CREATE: 1}, {})))
        if self.behaviour == "locked":
            raise auto.ConcurrentUpdateError(auto.CommandResult("", "error: the stack is currently locked by 1 lock(s)", 255))
        if self.behaviour == "program":
            self._run_program()
        if self.behaviour == "failed":
            raise auto.CommandError(auto.CommandResult("", "error: AccessDenied: not authorized to perform ecs:RegisterTaskDefinition", 255))

    def _run_program(self) -> None:
        """What the CLI does with an inline program: run it with the stack's config; report a failure as text."""
        def run():
            pulumi.runtime.set_all_config(dict(self.config))
            self.program()

        try:
            contextvars.copy_context().run(run)
        except pulumi.RunError as exc:
            raise auto.CommandError(auto.CommandResult(f"error: {exc}", "", 255)) from None

    def preview(self, parallel=None, on_output=None, on_event=None, **rest):
        self._operate("preview", {"parallel": parallel, "on_output": on_output, "on_event": on_event, **rest})
        return auto.PreviewResult("preview stdout", "", {OpType.CREATE: 3, OpType.SAME: 1})

    def up(self, parallel=None, on_output=None, on_event=None, **rest):
        self._operate("up", {"parallel": parallel, "on_output": on_output, "on_event": on_event, **rest})
        outputs = {"stripe-customers-aws": auto.OutputValue({"task_definition": "td"}, False),
                   "token": auto.OutputValue("s3cr3t", True)}
        return auto.UpResult("up stdout", "", _summary("update", {OpType.CREATE: 3, OpType.SAME: 1}), outputs)

    def refresh(self, parallel=None, on_output=None, on_event=None, **rest):
        self._operate("refresh", {"parallel": parallel, "on_output": on_output, "on_event": on_event, **rest})
        return auto.RefreshResult("refresh stdout", "", _summary("refresh", {OpType.SAME: 4}))

    def destroy(self, parallel=None, on_output=None, on_event=None, exclude_protected=None, **rest):
        self._operate("destroy", {"parallel": parallel, "on_output": on_output, "on_event": on_event,
                                  "exclude_protected": exclude_protected, **rest})
        return auto.DestroyResult("destroy stdout", "", _summary("destroy", {OpType.DELETE: 14}))

    def export_stack(self):
        return auto.Deployment(version=3, deployment={"resources": [
            {"urn": "urn:pulumi:acme-prod::dativo-infra::pulumi:pulumi:Stack::dativo-infra-acme-prod", "type": "pulumi:pulumi:Stack"},
            {"urn": "urn:pulumi:acme-prod::dativo-infra::dativo:aws:EcsJob$aws:s3/bucket:Bucket::orders-bucket",
             "type": "aws:s3/bucket:Bucket", "protect": True},
        ]})

    def outputs(self):
        return {"job": auto.OutputValue({"arn": "arn:x"}, False), "token": auto.OutputValue("s3cr3t", True)}


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """Replace pulumi.automation's entry points; return a recorder of what was asked."""
    calls = {"options": [], "create_or_select": [], "select": [], "stacks": []}
    state = {"behaviour": "ok", "missing": False}
    real_options = auto.LocalWorkspaceOptions
    real_which = shutil.which

    def options(**kwargs):
        calls["options"].append(kwargs)
        return real_options(**kwargs)

    def make(kind):
        def open_stack(stack_name, project_name=None, program=None, work_dir=None, opts=None):
            calls[kind].append({"stack_name": stack_name, "project_name": project_name, "program": program, "opts": opts})
            if kind == "select" and state["missing"]:
                raise auto.StackNotFoundError(auto.CommandResult("", f"error: no stack named '{stack_name}' found", 255))
            stack = FakeStack(stack_name, program, opts, state["behaviour"])
            calls["stacks"].append(stack)
            return stack
        return open_stack

    FakeCommand.instances = []
    monkeypatch.setattr(auto, "LocalWorkspaceOptions", options)
    monkeypatch.setattr(auto, "create_or_select_stack", make("create_or_select"))
    monkeypatch.setattr(auto, "select_stack", make("select"))
    monkeypatch.setattr(auto, "PulumiCommand", FakeCommand)
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: FAKE_CLI if cmd == "pulumi" else real_which(cmd, *a, **k))
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "correct horse")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    calls["state"] = state
    return calls


def settings(tenant="acme", environment="prod", **kw) -> StackSettings:
    from .plans import stack_settings

    return stack_settings(tenant, environment, jobs_dir=str(JOBS), **kw)


def test_up_selects_the_tenant_stack_in_its_own_workspace_with_the_inline_program(fake, tmp_path):
    outputs, events = [], []
    result = automation.up(settings(), StackOptions(root=str(tmp_path), config={"aws:region": "eu-west-1"}),
                           on_output=outputs.append, on_event=events.append, parallel=4)

    (call,) = fake["create_or_select"]
    assert call["stack_name"] == "acme-prod" and call["project_name"] == "dativo-infra"
    opts = call["opts"]
    assert opts.work_dir == str(tmp_path / ".pulumi-workspaces" / "acme-prod") and Path(opts.work_dir).is_dir()
    assert opts.project_settings.name == "dativo-infra" and opts.project_settings.runtime == "python"
    assert opts.project_settings.backend.url == (tmp_path / ".pulumi-state").as_uri()
    assert (tmp_path / ".pulumi-state").is_dir()
    assert opts.env_vars["PULUMI_CONFIG_PASSPHRASE"] == "correct horse"
    assert opts.env_vars["PULUMI_BACKEND_URL"] == opts.project_settings.backend.url
    assert opts.pulumi_command is FakeCommand.instances[-1] and FakeCommand.instances[-1].root is None  # pulumi on PATH
    assert call["program"] is opts.program and callable(call["program"])
    assert fake["options"] == [{"work_dir": opts.work_dir, "program": call["program"], "env_vars": opts.env_vars,
                                "secrets_provider": None, "project_settings": opts.project_settings,
                                "pulumi_command": opts.pulumi_command}]

    stack = fake["stacks"][0]
    # Pulumi.acme-prod.yaml passed through (its image, gcp project and regions), options.config over it
    assert stack.config == {"dativo-infra:tenant": "acme", "dativo-infra:environment": "prod",
                            "dativo-infra:jobsDir": str(JOBS.resolve()), "aws:region": "eu-west-1",
                            "dativo-infra:image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/dativo-ingest:1.4.0",
                            "dativo-infra:sharedJobs": "all", "dativo-infra:tenantPrefix": "{tenant}/",
                            "gcp:project": "acme-project", "gcp:region": "us-central1", "dativo-infra:budgetSeverity": "warn",
                            "dativo-infra:nodePrices": '{"vcpuHour": "0.0445", "gibHour": "0.0049225"}'}
    (name, kwargs), = stack.calls
    assert name == "up" and kwargs["parallel"] == 4
    assert outputs == ["up line from pulumi\n"] and len(events) == 1 and isinstance(events[0], auto.EngineEvent)

    assert result.operation == "up" and result.stack == "acme-prod" and result.tenant == "acme"
    assert result.changes == {"create": 3, "same": 1} and result.summary == "3 created, 1 unchanged"
    assert result.outputs == {"stripe-customers-aws": {"task_definition": "td"}, "token": "[secret]"}
    assert result.seconds >= 0 and result.backend == opts.project_settings.backend.url
    assert result.as_dict()["ok"] is True and result.as_dict()["stack"] == "acme-prod"


def test_the_config_namespace_is_the_programs_and_importing_the_module_loads_no_pulumi_sdk():
    from dativo_infra import program

    assert automation.NAMESPACE == program.NAMESPACE and automation.StackSettings is program.StackSettings
    code = "import sys, dativo_infra.automation; print(sorted(m for m in sys.modules if m.split('.')[0] == 'pulumi'))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_every_stack_gets_its_own_workspace_directory(fake, tmp_path):
    options = StackOptions(root=str(tmp_path))
    for tenant, environment in (("acme", "prod"), ("globex", "staging"), ("globex", "prod")):
        automation.preview(settings(tenant, environment), options)
    dirs = [c["opts"].work_dir for c in fake["create_or_select"]]
    assert [c["stack_name"] for c in fake["create_or_select"]] == ["acme-prod", "globex-staging", "globex-prod"]
    assert len(set(dirs)) == 3 and all(Path(d).parent == tmp_path / ".pulumi-workspaces" for d in dirs)
    assert {Path(d).name for d in dirs} == {"acme-prod", "globex-staging", "globex-prod"}


def test_preview_reports_the_change_summary(fake, tmp_path):
    result = automation.preview(settings(), StackOptions(root=str(tmp_path)))
    assert result.changes == {"create": 3, "same": 1} and result.summary == "3 to create, 1 unchanged"
    assert fake["stacks"][0].calls[0][0] == "preview" and result.stdout == "preview stdout"


def test_backend_url_default_environment_and_explicit(fake, tmp_path, monkeypatch):
    options = StackOptions(root=str(tmp_path))
    assert automation.backend_url(options) == (tmp_path / ".pulumi-state").as_uri()
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://acme-pulumi-state")
    assert automation.backend_url(options) == "s3://acme-pulumi-state"
    assert automation.backend_url(StackOptions(root=str(tmp_path), backend_url="gs://other")) == "gs://other"

    automation.up(settings(), options)
    automation.up(settings(), StackOptions(root=str(tmp_path), backend_url="azblob://state"))
    urls = [c["opts"].project_settings.backend.url for c in fake["create_or_select"]]
    assert urls == ["s3://acme-pulumi-state", "azblob://state"]
    assert not (tmp_path / ".pulumi-state").exists()  # a remote backend leaves no local state folder

    with pytest.raises(automation.BackendError, match="not supported"):
        automation.backend_url(StackOptions(backend_url="ftp://nope"))


def test_pulumi_cloud_needs_no_passphrase_file_backends_do(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    result = automation.up(settings(), StackOptions(root=str(tmp_path), backend_url="https://api.pulumi.com"))
    assert result.backend == "https://api.pulumi.com"
    assert "PULUMI_CONFIG_PASSPHRASE" not in fake["create_or_select"][0]["opts"].env_vars

    for url in (None, "s3://bucket", "gs://bucket", "azblob://container"):
        with pytest.raises(automation.PassphraseMissingError, match="PULUMI_CONFIG_PASSPHRASE") as err:
            automation.up(settings(), StackOptions(root=str(tmp_path), backend_url=url))
        assert err.value.stack == "acme-prod"
    assert len(fake["create_or_select"]) == 1  # refused before any stack was touched

    automation.up(settings(), StackOptions(root=str(tmp_path), secrets_provider="awskms://alias/dativo"))
    assert fake["create_or_select"][-1]["opts"].secrets_provider == "awskms://alias/dativo"
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(tmp_path / "passphrase"))
    automation.up(settings(), StackOptions(root=str(tmp_path)))
    assert fake["create_or_select"][-1]["opts"].env_vars["PULUMI_CONFIG_PASSPHRASE_FILE"] == str(tmp_path / "passphrase")


def test_cli_missing_is_the_first_check_and_touches_nothing(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pulumi/bin either
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")  # would also fail, but later
    for operation in (automation.preview, automation.up, automation.refresh, automation.destroy, automation.outputs):
        started = time.perf_counter()
        with pytest.raises(automation.CliMissingError) as err:
            operation(settings(), StackOptions(root=str(tmp_path)))
        assert time.perf_counter() - started < 0.5
        message = str(err.value)
        assert "get.pulumi.com" in message and "dativo-infra plan" in message and "offline" in message
    assert isinstance(err.value, automation.AutomationError)
    assert fake["create_or_select"] == fake["select"] == [] and FakeCommand.instances == []
    assert not (tmp_path / ".pulumi-workspaces").exists() and not (tmp_path / ".pulumi-state").exists()

    with pytest.raises(automation.CliMissingError, match="nowhere/bin/pulumi"):
        automation.preflight(StackOptions(pulumi_root=str(tmp_path / "nowhere")))


def test_a_cli_outside_path_is_used_through_pulumi_command_root(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    cli = tmp_path / "pulumi-install" / "bin" / "pulumi"
    cli.parent.mkdir(parents=True)
    cli.write_text("#!/bin/sh\nexit 99\n")  # never run: PulumiCommand is the fake
    cli.chmod(0o755)
    automation.up(settings(), StackOptions(root=str(tmp_path), pulumi_root=str(tmp_path / "pulumi-install")))
    assert FakeCommand.instances[-1].root == str(tmp_path / "pulumi-install")


def test_stack_locked(fake, tmp_path):
    fake["state"]["behaviour"] = "locked"
    with pytest.raises(automation.StackLockedError, match="lock") as err:
        automation.up(settings(), StackOptions(root=str(tmp_path)))
    assert err.value.stack == "acme-prod" and err.value.problems[0].file == "stack acme-prod"


def test_program_failure_carries_the_job_files_problems(fake, tmp_path, write):
    broken = write("jobs/acme/orders.yaml", (JOBS / "globex" / "postgres_orders_aws.yaml").read_text()
                   .replace("tenant_id: globex", "tenant_id: acme").replace('cpu: "0.5"', 'cpu: "0.3"'))
    fake["state"]["behaviour"] = "program"
    stack_settings = StackSettings("acme", "staging", jobs_dir=str(tmp_path / "jobs"), assets_dir=str(JOBS / "assets"))
    with pytest.raises(automation.ProgramFailedError) as err:
        automation.up(stack_settings, StackOptions(root=str(tmp_path)))
    (problem,) = err.value.problems
    cpu_line = next(i for i, line in enumerate(broken.read_text().splitlines(), 1) if line.strip() == 'cpu: "0.3"')
    assert problem.file == str(broken) and problem.field == "infrastructure.compute.cpu" and problem.line == cpu_line
    assert "Fargate" in problem.message


def test_other_pulumi_failures_keep_pulumis_words(fake, tmp_path):
    fake["state"]["behaviour"] = "failed"
    with pytest.raises(automation.OperationFailedError, match="AccessDenied") as err:
        automation.up(settings(), StackOptions(root=str(tmp_path)))
    assert "RegisterTaskDefinition" in err.value.output


def test_refresh_destroy_and_outputs_select_an_existing_stack(fake, tmp_path):
    options = StackOptions(root=str(tmp_path))
    assert automation.refresh(settings(), options).changes == {"same": 4}
    assert automation.outputs(settings(), options) == {"job": {"arn": "arn:x"}, "token": "[secret]"}
    assert automation.outputs(settings(), options, show_secrets=True)["token"] == "s3cr3t"
    assert [c["stack_name"] for c in fake["select"]] == ["acme-prod"] * 3 and fake["create_or_select"] == []
    assert fake["stacks"][0].config["dativo-infra:tenant"] == "acme" and fake["stacks"][1].config == {}  # outputs only reads

    fake["state"]["missing"] = True
    with pytest.raises(automation.StackMissingError, match="run `up` first"):
        automation.destroy(settings(), options)


def test_destroy_excludes_protected_storage_and_says_so(fake, tmp_path):
    result = automation.destroy(settings(), StackOptions(root=str(tmp_path)))
    (name, kwargs), = fake["stacks"][0].calls
    assert name == "destroy" and kwargs["exclude_protected"] is True
    assert result.kept == ("aws:s3/bucket:Bucket::orders-bucket",)
    assert result.changes == {"delete": 14} and result.summary == "14 deleted"
    assert any("protected" in note and "kept" in note for note in result.notes)


def test_config_of_ours_no_longer_given_is_removed_and_vars_are_json(fake, tmp_path, monkeypatch):
    options = StackOptions(root=str(tmp_path))
    automation.up(settings(image="runner:1", assets_dir=str(JOBS / "assets"), variables={"NESSIE_URI": "http://n"}), options)
    first = fake["stacks"][0]
    assert first.config["dativo-infra:image"] == "runner:1"
    assert first.config["dativo-infra:vars"] == '{"NESSIE_URI": "http://n"}'
    assert first.config["dativo-infra:assetsDir"] == str((JOBS / "assets").resolve())

    # the next run of the same stack (the fake keeps no state between opens: seed it as the CLI would have it)
    stack_config = dict(first.config)
    original = auto.create_or_select_stack

    def reopen(*args, **kwargs):
        stack = original(*args, **kwargs)
        stack.config = dict(stack_config)
        return stack

    monkeypatch.setattr(auto, "create_or_select_stack", reopen)
    automation.up(settings(), options)
    second = fake["stacks"][1]
    assert sorted(second.removed) == ["dativo-infra:assetsDir", "dativo-infra:vars"]
    # no --image this time: the stack file's image (Pulumi.acme-prod.yaml), not the earlier flag's
    assert second.config["dativo-infra:image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/dativo-ingest:1.4.0"

    with pytest.raises(automation.AutomationError, match="needs a namespace"):
        automation.up(settings(), StackOptions(root=str(tmp_path), config={"region": "x"}))


def test_cli_up_in_process_with_the_fake_prints_the_result(fake, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("up", "--tenant", "acme", "--environment", "prod", "--jobs-dir", JOBS, "--config", "aws:region=us-east-1")
    assert code == 0, err
    assert "up acme-prod: 3 created, 1 unchanged" in out and "up line from pulumi" in err
    assert fake["stacks"][0].config["aws:region"] == "us-east-1"
    assert (tmp_path / ".pulumi-workspaces" / "acme-prod").is_dir()

    import json
    code, out, _ = cli("destroy", "--tenant", "acme", "--environment", "prod", "--jobs-dir", JOBS, "--yes", "--json")
    data = json.loads(out)
    assert code == 0 and data["operation"] == "destroy" and data["kept"] == ["aws:s3/bucket:Bucket::orders-bucket"]

    fake["state"]["behaviour"] = "locked"
    code, out, err = cli("preview", "--tenant", "acme", "--environment", "prod", "--jobs-dir", JOBS)
    assert code == 1 and "stack acme-prod:" in err and "lock" in err


def _timed(command, **kwargs) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run a command; return it with its wall-clock and CPU seconds."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=20, **kwargs)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return proc, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _startup(tmp_path) -> float:
    """Wall-clock seconds of the bare command line starting (`--version`) on this machine, right now."""
    return _timed([str(Path(sys.executable).parent / "dativo-infra"), "--version"], cwd=tmp_path)[1]


def _without_pulumi_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    path_dirs = [d for d in env.get("PATH", "").split(os.pathsep) if not Path(d, "pulumi").exists()]
    return {**env, "PATH": os.pathsep.join(path_dirs), "HOME": str(tmp_path)}


@pytest.mark.parametrize("args", [
    ["up", "--tenant", "acme", "--environment", "prod"],
    ["destroy", "--all", "--yes", "--parallel", "2"],
])
def test_without_the_pulumi_cli_the_command_fails_within_a_second(tmp_path, args):
    command = [str(Path(sys.executable).parent / "dativo-infra"), *args, "--jobs-dir", str(JOBS)]
    startup = _startup(tmp_path)
    proc, wall, cpu = _timed(command, cwd=tmp_path, env=_without_pulumi_env(tmp_path))
    assert proc.returncode == 1, proc.stderr
    # about 0.25 s on an idle machine; on a loaded CI machine interpreter start-up alone can take longer,
    # so the bound is a second of CPU and a second of wall clock beyond the bare start-up measured just before
    assert cpu < 1.0 and wall < startup + 1.0, f"took {wall:.2f} s wall, {cpu:.2f} s CPU (start-up {startup:.2f} s)"
    assert "Pulumi CLI was not found" in proc.stderr and "get.pulumi.com" in proc.stderr and "dativo-infra plan" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / ".pulumi-workspaces").exists() and not (tmp_path / ".pulumi-state").exists()


def test_a_fleet_worker_runs_an_operation_and_keeps_pulumis_output_in_a_log(fake, tmp_path):
    """The function each fleet worker process runs, called here so the fakes apply (a spawned worker has none)."""
    from dativo_infra.fleet import StackRef, _run_task, _Task

    options = StackOptions(root=str(tmp_path), config={"aws:region": "us-east-1"})
    record = _run_task(_Task("destroy", StackRef("acme", "prod"), str(JOBS), None, None, (), options, None))
    assert record.ok and record.errors == [] and record.changes == {"delete": 14} and record.summary == "14 deleted"
    assert record.kept == ["aws:s3/bucket:Bucket::orders-bucket"] and any("protected" in n for n in record.notes)
    assert record.log == str(tmp_path / ".pulumi-workspaces" / "acme-prod" / "destroy.log")
    assert Path(record.log).read_text() == "destroy line from pulumi\n"

    fake["state"]["behaviour"] = "locked"
    record = _run_task(_Task("up", StackRef("globex", "staging"), str(JOBS), None, None, (), options, None))
    assert not record.ok and record.errors[0]["file"] == "stack globex-staging" and "lock" in record.errors[0]["message"]
    assert record.as_dict()["ok"] is False and record.started_at <= record.finished_at


EXAMPLE = ROOT / "examples" / "automation" / "deploy_all.py"


def test_deploy_all_example_help_and_ci_event_choice():
    proc = subprocess.run([sys.executable, str(EXAMPLE), "--help"], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0 and "preview" in proc.stdout and "--parallel" in proc.stdout

    import importlib.util
    spec = importlib.util.spec_from_file_location("deploy_all", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.mode_from_ci({"GITHUB_EVENT_NAME": "pull_request"}) == "preview"
    assert module.mode_from_ci({"GITHUB_EVENT_NAME": "push"}) == "up"
    assert module.mode_from_ci({"CI_PIPELINE_SOURCE": "merge_request_event"}) == "preview"
    assert module.mode_from_ci({}) is None


def test_deploy_all_example_without_the_pulumi_cli_stops_at_once(tmp_path):
    env = _without_pulumi_env(tmp_path)
    startup = _startup(tmp_path)
    proc, wall, cpu = _timed([sys.executable, str(EXAMPLE), "--jobs-dir", str(JOBS)], cwd=tmp_path,
                             env={**env, "GITHUB_EVENT_NAME": "push"})
    assert proc.returncode == 1 and cpu < 1.0 and wall < startup + 1.0, (wall, cpu, startup)
    assert "Pulumi CLI was not found" in proc.stderr and "get.pulumi.com" in proc.stderr and "Traceback" not in proc.stderr

    proc = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=20)
    assert proc.returncode == 2 and "no mode given" in proc.stderr
