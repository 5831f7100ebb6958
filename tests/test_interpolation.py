"""${VAR}: explicit values win; the environment gives only DATIVO_* names and the ones allowed; the rest is unset, and says why."""
from __future__ import annotations

import pytest

from dativo_infra.jobs.interpolation import make_lookup, resolve, unset_message

ENV = {"DATIVO_REGION": "eu-west-1", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "HOME": "/root", "TEAM": "data"}


def _resolve(tags: dict, explicit=None, env_allowed=()):
    data = {"infrastructure": {"tags": tags}}
    out, missing = resolve(data, make_lookup(explicit or {}, ENV, env_allowed=env_allowed))
    return out["infrastructure"]["tags"], missing


def test_dativo_names_come_from_the_environment():
    tags, missing = _resolve({"region": "${DATIVO_REGION}"})
    assert tags == {"region": "eu-west-1"} and missing == []


@pytest.mark.parametrize("name", ["AWS_SECRET_ACCESS_KEY", "HOME", "TEAM"])
def test_other_environment_names_are_blocked_and_never_leak(name):
    tags, missing = _resolve({"x": f"${{{name}}}"})
    assert tags == {"x": f"${{{name}}}"}  # left as written: the value is never read into the job
    (miss,) = missing
    assert (miss.name, miss.blocked, miss.path) == (name, True, ("infrastructure", "tags", "x"))
    message = unset_message(miss)
    assert f"${{{name}}} is not allowed from the environment" in message and f"--var {name}=..." in message
    assert "dativo-infra:envVars" in message and ENV[name] not in message


def test_a_name_listed_in_env_allowed_is_read():
    tags, missing = _resolve({"team": "${TEAM}"}, env_allowed=["TEAM"])
    assert tags == {"team": "data"} and missing == []


def test_explicit_values_win_over_the_environment():
    tags, _ = _resolve({"region": "${DATIVO_REGION}", "key": "${AWS_SECRET_ACCESS_KEY}"}, explicit={"DATIVO_REGION": "us-east-1", "AWS_SECRET_ACCESS_KEY": "given"})
    assert tags == {"region": "us-east-1", "key": "given"}


def test_a_name_nowhere_is_unset_not_blocked():
    _, (miss,) = _resolve({"x": "${NOWHERE}"})
    assert miss.blocked is False and "is not set" in unset_message(miss) and "--var NOWHERE=..." in unset_message(miss)


def test_a_default_covers_a_blocked_name():
    tags, missing = _resolve({"x": "${HOME:-none}"})
    assert tags == {"x": "none"} and missing == []


def test_the_old_call_still_works():
    lookup = make_lookup({"A": "1"}, {"DATIVO_B": "2", "C": "3"})
    assert (lookup("A"), lookup("DATIVO_B"), lookup("C")) == ("1", "2", None)
