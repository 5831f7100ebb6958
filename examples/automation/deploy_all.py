#!/usr/bin/env python3
"""Preview every tenant stack on a pull request, deploy them all on merge.

A CI step for platform teams, built on ``dativo_infra.automation`` and
``dativo_infra.fleet``::

    python examples/automation/deploy_all.py preview --parallel 4   # on a pull request
    python examples/automation/deploy_all.py up --parallel 4        # on merge to main
    python examples/automation/deploy_all.py                        # chosen from the CI event (see below)

Without a mode, the CI event decides: ``GITHUB_EVENT_NAME`` (``pull_request`` →
preview, ``push``/``workflow_dispatch`` → up) or GitLab's ``CI_PIPELINE_SOURCE``
(``merge_request_event`` → preview, ``push``/``web`` → up).

Every stack found in the jobs folder runs in its own process, ``--parallel``
at a time; a failing tenant never stops the others. The exit code is 1 if any
stack failed (2 for bad arguments); ``--results FILE`` keeps the JSON records
as a CI artifact, and on GitHub the summary table goes to the job summary.

On a pull request the summary also shows the estimated monthly cost change
against the base branch, job by job, tenant by tenant and in total
(``dativo-infra cost --all --compare-to BASE --json``; docs/cost-refresh.md). The
base comes from ``--cost-base`` or the CI (``GITHUB_BASE_REF`` → ``origin/<branch>``,
GitLab's ``CI_MERGE_REQUEST_DIFF_BASE_SHA``); the diff is information, so a diff
that cannot be computed is a line in the summary, never a failed run.

Needs the Pulumi CLI, cloud credentials and ``PULUMI_CONFIG_PASSPHRASE`` (or a
Pulumi Cloud backend); without the CLI it stops at once with what to install.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

MODES = ("preview", "up")
EVENTS = {
    "GITHUB_EVENT_NAME": {"pull_request": "preview", "pull_request_target": "preview", "push": "up", "workflow_dispatch": "up"},
    "CI_PIPELINE_SOURCE": {"merge_request_event": "preview", "push": "up", "web": "up"},
}


def mode_from_ci(environ=os.environ) -> str | None:
    for variable, modes in EVENTS.items():
        if environ.get(variable) in modes:
            return modes[environ[variable]]
    return None


def base_from_ci(environ=os.environ) -> str | None:
    """The revision a pull request is compared with: GitHub's base branch (as fetched from origin), GitLab's base commit."""
    if environ.get("GITHUB_BASE_REF"):
        return f"origin/{environ['GITHUB_BASE_REF']}"
    return environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or None


COST_TIMEOUT = 600  # seconds: estimating is offline and quick; a hung run must not hold the pipeline


def cost_diff(base: str, project_dir: str, jobs_dir: str, prices: str | None, assets_dir: str | None = None, run=subprocess.run) -> dict:
    """``dativo-infra cost --all --compare-to BASE --json`` (an argument list, no shell): the parsed diff, or {"ok": false, "errors"}."""
    command = shutil.which("dativo-infra") or os.path.join(os.path.dirname(sys.executable), "dativo-infra")
    args = [command, "cost", "--all", jobs_dir, "--project-dir", project_dir, f"--compare-to={base}", "--json",
            *(["--prices", prices] if prices else []), *(["--assets-dir", assets_dir] if assets_dir else [])]
    try:
        proc = run(args, capture_output=True, text=True, timeout=COST_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"ok": False, "errors": [{"message": f"cannot run dativo-infra cost: {exc}"}]}
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {"ok": False, "errors": [{"message": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}]}


def _money(value) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _change(value) -> str:
    return f"{value:+,.2f}"


def cost_markdown(diff: dict, base: str) -> str:
    """The cost change as Markdown for the pull-request summary: tenants and total, then the jobs whose estimate moved."""
    if not diff.get("ok"):
        first = (diff.get("errors") or [{"message": "unknown error"}])[0]
        where = f"{first['file']}: " if first.get("file") else ""
        return f"### Estimated cost change against {base}\n\nnot available: {where}{first['message']}\n"
    currency, month = diff.get("currency", "USD"), diff.get("month")
    lines = [f"### Estimated cost change against {base}", "",
             f"{currency} a month ({'month ' + month if month else 'an average month'}), from the price tables: an estimate, not a bill.", "",
             "| tenant | before | after | change |", "|---|---:|---:|---:|"]
    lines += [f"| {t['tenant']} | {_money(t['before'])} | {_money(t['after'])} | {_change(t['change'])} |" for t in diff["tenants"]]
    total = diff["total"]
    lines.append(f"| **total** | {_money(total['before'])} | {_money(total['after'])} | **{_change(total['change'])}** |")
    moved = [j for j in diff["jobs"] if j["status"] != "unchanged"]
    if moved:
        lines += ["", "| job | tenant / environment | before | after | change | |", "|---|---|---:|---:|---:|---|"]
        lines += [f"| {j['job']} | {j['tenant']} / {j['environment']} | {_money(j['before'])} | {_money(j['after'])} | {_change(j['change'])} "
                  f"| {j['status']} |" for j in moved]
    lines += ["", f"{len(diff['jobs']) - len(moved)} of {len(diff['jobs'])} jobs unchanged."]
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Exit codes: 0 all stacks ok, 1 any failed, 2 bad arguments.")
    parser.add_argument("mode", nargs="?", choices=MODES, help="preview or up (default: from the CI event)")
    parser.add_argument("--jobs-dir", default="jobs", help="folder of job files (default: jobs)")
    parser.add_argument("--assets-dir", default=None, help="folder of asset files (default: jobs/assets)")
    parser.add_argument("--tenant", default=None, help="only this tenant's stacks")
    parser.add_argument("--environment", default=None, help="only this environment's stacks")
    parser.add_argument("--parallel", type=int, default=2, help="stacks at once, each in its own process (default: 2)")
    parser.add_argument("--backend-url", default=None, help="state backend (default: PULUMI_BACKEND_URL, else ./.pulumi-state)")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="provider config for every stack, e.g. aws:region=us-east-1")
    parser.add_argument("--results", default=None, metavar="FILE", help="write the JSON results here")
    parser.add_argument("--project-dir", default=".", help="project folder: Pulumi.yaml and the stack files (default: .)")
    parser.add_argument("--cost-base", default=None, metavar="REF",
                        help="preview: compare the estimated cost with this git revision or folder (default: the CI's base branch)")
    parser.add_argument("--cost-prices", default=None, metavar="FILE", help="preview: a price file for the cost diff (e.g. node prices)")
    parser.add_argument("--no-cost", action="store_true", help="preview: leave the cost diff out of the summary")
    args = parser.parse_args(argv)
    args.mode = args.mode or mode_from_ci()
    if args.mode is None:
        parser.error("no mode given and no CI event recognised (GITHUB_EVENT_NAME, CI_PIPELINE_SOURCE): pass preview or up")
    if args.parallel < 1:
        parser.error("--parallel must be at least 1")
    try:
        args.config = dict(item.split("=", 1) for item in args.config)
    except ValueError:
        parser.error("--config takes KEY=VALUE")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from dativo_infra import automation
    from dativo_infra.fleet import discover_stacks, run_fleet

    options = automation.StackOptions(config=args.config, backend_url=args.backend_url)
    try:
        backend = automation.preflight(options)  # CLI, backend, passphrase: before any stack is touched
    except automation.AutomationError as exc:
        for problem in exc.problems:
            print(f"deploy_all: {problem.render()}", file=sys.stderr)
        return 1

    found = discover_stacks(args.jobs_dir, tenant=args.tenant, environment=args.environment)
    for problem in found.problems:
        print(f"deploy_all: no stack for {problem.render()}", file=sys.stderr)
    if not found.stacks:
        print(f"deploy_all: no tenant stack found in {args.jobs_dir}", file=sys.stderr)
        return 1
    print(f"{args.mode}: {len(found.stacks)} stacks, {args.parallel} at a time, backend {backend}", file=sys.stderr)

    def started(stack, pid):
        print(f"  {stack.name}: started", file=sys.stderr, flush=True)

    def finished(record):
        status = f"ok, {record.summary}" if record.ok else f"FAILED, {len(record.errors)} errors (log: {record.log})"
        print(f"  {record.stack}: {status} ({record.seconds:.1f} s)", file=sys.stderr, flush=True)
        for error in record.errors:
            print(f"    {error['file']}: {error['message']}", file=sys.stderr)

    result = run_fleet(args.mode, found.stacks, jobs_dir=args.jobs_dir, assets_dir=args.assets_dir, options=options,
                       parallel=args.parallel, problems=found.problems, on_start=started, on_finish=finished)

    table = ["| stack | result | seconds | changes |", "|---|---|---|---|"]
    table += [f"| {r.stack} | {'ok' if r.ok else 'FAILED'} | {r.seconds:.1f} | {r.summary if r.ok else r.errors[0]['message']} |"
              for r in result.records]
    sections = [f"### dativo-infra {args.mode}\n\n" + "\n".join(table) + "\n"]
    records = result.as_dict()
    base = None if args.mode != "preview" or args.no_cost else args.cost_base or base_from_ci()
    if base:  # beside the preview: what the change does to the estimated monthly cost
        diff = cost_diff(base, args.project_dir, args.jobs_dir, args.cost_prices, args.assets_dir)
        sections.append(cost_markdown(diff, base))
        records["cost"] = diff
        if not diff.get("ok"):
            print(f"deploy_all: cost diff against {base} not available: {diff['errors'][0]['message']}", file=sys.stderr)
    print("\n".join(table))
    for section in sections[1:]:
        print("\n" + section, end="")
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write("\n".join(sections))
    if args.results:
        Path(args.results).write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    failed = len(result.failed) + (1 if result.problems else 0)
    print(f"{len(result.records) - len(result.failed)} of {len(result.records)} stacks ok ({result.seconds:.1f} s)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":  # the guard matters: worker processes are spawned and import this file
    sys.exit(main())
