"""A catalogue of hostile and broken job files, each run through the CLI.

For every case: the exit code is 2 (or 0 where the input is legitimately fine), there is no
traceback and no "internal error", every problem line is ``FILE:LINE:COL: …`` or ``FILE: …``,
no secret from the environment shows up, and nothing is written outside the output folder.
The inputs are generated here, in tmp_path; none is committed.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import pytest
from click.testing import CliRunner

from dativo_infra.cli import cli as group

SECRET = "s3cr3t-never-in-output-9f27"
BAD, OK, EITHER = {2}, {0}, {0, 2}

BASE = """\
tenant_id: acme
environment: prod
infrastructure:
  provider: aws
  region: us-east-1
  runtime:
    type: ecs
    cluster_name: main
  networking:
    vpc_id: vpc-1
    subnet_ids: [subnet-1]
  storage:
    bucket: acme-lake
    prefix: raw
  tags:
    team: data
"""

Content = Union[str, bytes, Callable[[Path], None]]


@dataclass(frozen=True)
class Case:
    id: str
    content: Content
    codes: set
    export: bool = False  # also export it (injection cases): nothing may land outside the output folder


def _with(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def _tag(key: str, value: str) -> str:
    return _with("    team: data\n", f"    {key}: {value}\n")


CASES: list[Case] = []


def add(id: str, content: Content, codes: set, export: bool = False) -> None:
    CASES.append(Case(id, content, codes, export))


# --- structure: every field of the job with values of every wrong kind ------------------------------
WRONG_VALUES = {"list": "[a, b]", "map": "{a: 1}", "int": "42", "bool": "true", "null": "null", "empty": "''", "nan": ".nan", "inf": "-.inf",
                "date": "2024-01-01", "no": "NO"}
FIELDS = {
    "tenant_id": "tenant_id: acme\n", "environment": "environment: prod\n", "provider": "  provider: aws\n", "region": "  region: us-east-1\n",
    "runtime-type": "    type: ecs\n", "cluster": "    cluster_name: main\n", "vpc": "    vpc_id: vpc-1\n", "subnets": "    subnet_ids: [subnet-1]\n",
    "bucket": "    bucket: acme-lake\n", "prefix": "    prefix: raw\n", "tags": "    team: data\n",
}
for field, line in FIELDS.items():
    indent = line[: len(line) - len(line.lstrip())]
    key = line.strip().split(":")[0]
    for kind, value in WRONG_VALUES.items():
        add(f"structure-{field}-{kind}", _with(line, f"{indent}{key}: {value}\n"), EITHER)
for top in ("finops", "retry_config", "asset_path", "source", "target", "logging", "infrastructure"):
    for kind, value in ("list", "[1, 2]"), ("int", "7"), ("string", "text"), ("nested", "{a: {b: {c: [1, {d: e}]}}}"):
        add(f"structure-top-{top}-{kind}", BASE + f"{top}: {value}\n" if top != "infrastructure" else f"tenant_id: acme\nenvironment: prod\n{top}: {value}\n",
            EITHER)
add("structure-unknown-infra-key", _with("  region: us-east-1\n", "  region: us-east-1\n  regoin: x\n"), BAD)
add("structure-retry-nan", BASE + "retry_config: {initial_delay_seconds: .nan}\n", BAD)
add("structure-retry-inf", BASE + "retry_config: {max_delay_seconds: .inf}\n", BAD)
add("structure-retry-negative", BASE + "retry_config: {backoff_multiplier: -5}\n", BAD)
add("structure-runtime-bool", _with("    cluster_name: main\n", "    cluster_name: main\n  compute: {max_runtime_seconds: true}\n"), BAD)
for zone in ("localtime", "posixrules", "Factory", "right/UTC", "posix/UTC", "America", "../../etc/passwd", "A" * 80, "Europe/Berlin\\x00"):
    add(f"structure-timezone-{zone[:12]}", _with("    cluster_name: main\n", f"    cluster_name: main\n    schedule: {{cron: '0 2 * * *', timezone: \"{zone}\"}}\n"), BAD)
for cron in ("0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *", "61 * * * *", "* * * *", "@daily", "0 0 0 * *", "*/0 * * * *"):
    add(f"structure-cron-{cron}", _with("    cluster_name: main\n", f"    cluster_name: main\n    schedule: '{cron}'\n"), BAD)

# --- tags: limits, reserved names, characters ---------------------------------------------------------
TAGS = {
    "reserved-aws": ("'aws:owner'", "x"), "reserved-AWS-mixed": ("'Aws:owner'", "x"), "long-key": ("k" * 129, "x"), "long-value": ("k", "v" * 257),
    "comma": ("k", "'a,b'"), "newline": ("k", '"a\\nb"'), "tab": ("k", '"a\\tb"'), "nul": ("k", '"a\\0b"'), "bell": ("k", '"\\a"'),
    "rtl-override": ("k", '"\\u202Eevil"'), "zero-width": ("k", '"a\\u200Bb"'), "emoji": ("k", '"\U0001F600"'), "empty-key": ("''", "x"),
    "empty-value": ("k", "''"), "null-value": ("k", "null"), "slash-key": ("'a/b'", "x"), "angle-key": ("'<k>'", "x"), "percent-key": ("'a%b'", "x"),
    "backslash": ("k", '"a\\\\b"'), "quote": ("k", "'say \"hi\"'"), "dollar-brace": ("k", "'${HOME}'"), "secret-env": ("k", "'${AWS_SECRET_ACCESS_KEY}'"),
    "secret-default": ("k", "'${AWS_SECRET_ACCESS_KEY:-x}'"), "percent-brace": ("k", "'%{ for x in y }'"), "heredoc": ("k", "'<<EOF'"),
    "unicode-key": ("'clé'", "x"), "upper-key": ("TEAM", "x"), "dup-after-case": ("Team", "x"), "number-key": ("1", "x"),
    "bool-key": ("true", "x"), "float-value": ("k", "1.10"), "hex-value": ("k", "0x1F"), "no-value": ("k", "NO"), "yes-value": ("k", "yes"),
    "nfc-grows": ("k", '"' + "\u0958" * 200 + '"'), "decomposed": ("k", '"e\u0301"'), "list-value": ("k", "[a]"), "map-value": ("k", "{a: b}"),
    "dativo-prefix": ("'dativo:tenant'", "other"), "kubernetes-io": ("'kubernetes.io/x'", "y"),
}
for name, (key, value) in TAGS.items():
    add(f"tags-{name}", _tag(key, value), EITHER, export=True)
add("tags-too-many", _with("    team: data\n", "".join(f"    t{i}: v\n" for i in range(60))), BAD)

# --- injection: values that reach tfvars, names, paths ----------------------------------------------
PAYLOADS = {
    "hcl-close": '"} ; x = 1 #"', "interp": "'${file(\"/etc/passwd\")}'", "directive": "'%{if true}x%{endif}'", "dollar-dollar": "'$${x}'",
    "triple-dollar": "'$$${x}'", "backtick": "'`id`'", "semicolon": "'a; rm -rf /'", "crlf": '"a\\r\\nb = 1"', "quote-escape": "'a\\\\\" = 1'",
    "json-break": "'\",\"x\":\"'", "path-up": "'../../../etc/passwd'", "abs-path": "/etc/passwd", "null-byte": '"a\\0b"', "long": "'" + "x" * 5000 + "'",
}
for name, payload in PAYLOADS.items():
    add(f"inject-cluster-{name}", _with("    cluster_name: main\n", f"    cluster_name: {payload}\n"), EITHER, export=True)
    add(f"inject-bucket-{name}", _with("    bucket: acme-lake\n", f"    bucket: {payload}\n"), EITHER, export=True)
    add(f"inject-prefix-{name}", _with("    prefix: raw\n", f"    prefix: {payload}\n"), EITHER, export=True)
    add(f"inject-tfvar-{name}", BASE + f"  terraform:\n    variables:\n      extra: {payload}\n", EITHER, export=True)
for name in ("my var", "1abc", "count", "provider", "a.b", "a/b", "${x}", "'\"'"):
    add(f"inject-tfvar-name-{name}", BASE + f"  terraform:\n    variables:\n      {name!r}: 1\n", BAD, export=True)
for path in ("/etc/passwd", "/proc/self/status", "../../../../etc/hostname", "/dev/zero", "/dev/stdin", "${HOME}/.ssh/id_rsa"):
    add(f"inject-asset-path-{path}", BASE + f"asset_path: '{path}'\n", BAD, export=True)

# --- YAML itself --------------------------------------------------------------------------------------
BOMB = "".join(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9 if i else ['"lol"'] * 9) + "]\n" for i in range(9))
YAML_CASES: dict[str, tuple[Content, set]] = {
    "empty": ("", BAD), "comment-only": ("# nothing\n", BAD), "list-top": ("- a\n- b\n", BAD), "scalar-top": ("hello\n", BAD),
    "two-documents": (BASE + "---\n" + BASE, BAD), "tab-indent": ("tenant_id: acme\ninfrastructure:\n\tprovider: aws\n", BAD),
    "duplicate-key": (BASE + "tenant_id: other\n", BAD), "billion-laughs": ("tenant_id: acme\nenvironment: prod\n" + BOMB, BAD),
    "recursive-alias": ("tenant_id: acme\nenvironment: prod\nx: &a [*a]\n", BAD), "deep-nesting": ("tenant_id: acme\nenvironment: prod\nx: " + "[" * 300 + "]" * 300 + "\n", BAD),
    "python-tag": ("tenant_id: !!python/object:os.system [id]\nenvironment: prod\n", BAD), "custom-tag": ("tenant_id: !foo acme\nenvironment: prod\n", BAD),
    "binary-tag": ("tenant_id: !!binary aGVsbG8=\nenvironment: prod\n", EITHER), "set-tag": ("tenant_id: acme\nenvironment: prod\nsource: !!set {a}\n", EITHER),
    "bom": ("\ufeff" + BASE, OK), "crlf": (BASE.replace("\n", "\r\n"), OK), "cr-only": (BASE.replace("\n", "\r"), EITHER),
    "control-char": ("tenant_id: ac\x07me\nenvironment: prod\n", BAD), "invalid-utf8": (b"tenant_id: \xff\xfe\nenvironment: prod\n", BAD),
    "utf16": (BASE.encode("utf-16"), BAD), "nul": (b"tenant_id: acme\x00\nenvironment: prod\n", BAD), "latin1": ("tenant_id: café\nenvironment: prod\n".encode("latin-1"), BAD),
    "unclosed-flow": ("tenant_id: acme\nenvironment: prod\nsource: [a, b\n", BAD), "unclosed-quote": ("tenant_id: 'acme\nenvironment: prod\n", BAD),
    "bad-indent": ("tenant_id: acme\n  environment: prod\n", BAD), "key-is-list": ("[a]: 1\ntenant_id: acme\nenvironment: prod\n", BAD),
    "key-is-map": ("{a: 1}: 1\ntenant_id: acme\nenvironment: prod\n", BAD), "merge-ok": ("x: &b {region: us-east-1}\n" + BASE, OK),
    "merge-dup": (BASE.replace("  region: us-east-1\n", "  <<: {region: eu-west-1}\n  region: us-east-1\n  region: x\n"), BAD),
    "long-line": ("tenant_id: acme\nenvironment: prod\nsource: {x: '" + "a" * 200_000 + "'}\n", EITHER),
    "surrogate-escape": ('tenant_id: "\\ud800"\nenvironment: prod\n', BAD), "directive": ("%YAML 1.1\n---\n" + BASE, EITHER),
    "bad-directive": ("%YAML 9.9\n---\n" + BASE, BAD), "anchor-undefined": ("tenant_id: *nope\nenvironment: prod\n", BAD),
    "many-keys": ("tenant_id: acme\nenvironment: prod\nsource:\n" + "".join(f"  k{i}: v\n" for i in range(5000)), OK),
}
for name, (content, codes) in YAML_CASES.items():
    add(f"yaml-{name}", content, codes)


# --- the file system ---------------------------------------------------------------------------------
def _link(target: str) -> Callable[[Path], None]:
    return lambda path: os.symlink(target, path)


def _folder(path: Path) -> None:
    path.mkdir()


def _dangling(path: Path) -> None:
    os.symlink(path.parent / "does-not-exist.yaml", path)


def _loop(path: Path) -> None:
    os.symlink(path, path)


FS_CASES: dict[str, tuple[Content, set]] = {
    "link-dev-null": (_link("/dev/null"), BAD), "folder-named-yaml": (_folder, EITHER), "dangling-link": (_dangling, BAD), "link-loop": (_loop, BAD),
    "link-to-etc-passwd": (_link("/etc/passwd"), BAD), "link-to-proc": (_link("/proc/self/status"), BAD),
}
for name, (content, codes) in FS_CASES.items():
    add(f"fs-{name}", content, codes)

LINE = re.compile(r"^[^:\s][^:]*(:\d+:\d+)?: \S")  # FILE:LINE:COL: … or FILE: …
SUMMARY = re.compile(r"^\d+ files?, \d+ jobs? valid")
RUN_LEVEL = re.compile(r"^no job files found ")  # a folder given that holds no job file: said of the whole run


def _write(path: Path, content: Content) -> None:
    if callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")


def _snapshot(root: Path, skip: Optional[Path] = None) -> dict[str, float]:
    out = {}
    for folder, dirs, files in os.walk(root):
        if skip is not None and Path(folder) == skip:
            dirs[:] = []
            continue
        for name in files:
            path = os.path.join(folder, name)
            out[path] = os.lstat(path).st_mtime_ns
    return out


def _check_output(case: Case, code: int, out: str, err: str) -> None:
    text = out + err
    assert "Traceback" not in text and "internal error" not in text, text[-3000:]
    assert SECRET not in text
    assert code in case.codes, (code, text[-3000:])
    if code == 2:
        for line in filter(None, out.splitlines()):
            assert LINE.match(line), line
        for line in filter(None, err.splitlines()):
            assert LINE.match(line) or SUMMARY.match(line) or RUN_LEVEL.match(line) or line.startswith(("wrote", "exported", "skipped")), line


def test_the_catalogue_is_big_and_distinct():
    assert len(CASES) >= 200 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    job = Path("job.yaml")
    _write(tmp_path / job, case.content)
    (tmp_path / "out").mkdir()
    before = _snapshot(tmp_path)
    runner = CliRunner()
    env = {"AWS_SECRET_ACCESS_KEY": SECRET, "HOME": str(tmp_path)}
    result = runner.invoke(group, ["validate", str(job)], env=env, catch_exceptions=False)
    _check_output(case, result.exit_code, result.stdout, result.stderr)
    if case.export and result.exit_code == 0:
        result = runner.invoke(group, ["terraform", "export", "--config", str(job), "--output", "out/job.tfvars"], env=env, catch_exceptions=False)
        _check_output(case, result.exit_code, result.stdout, result.stderr)
        written = (tmp_path / "out" / "job.tfvars").read_text(encoding="utf-8") if result.exit_code == 0 else ""
        assert SECRET not in written
    assert _snapshot(tmp_path, skip=tmp_path / "out") == before, "something was written outside the output folder"
