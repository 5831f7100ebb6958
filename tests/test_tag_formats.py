"""Per-cloud tag formatting against docs/cloud-limits.md §1.

The rule checkers here are written from docs/cloud-limits.md, independently of
dativo_infra.tags.formats: the formatter's output must pass them for any
unicode input (hypothesis), formatting must be deterministic and idempotent,
and shortening must keep two different long values different.
"""
from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from dativo_infra.errors import TagError
from dativo_infra.tags import FORMATS, TagCandidate, format_levels
from dativo_infra.tags.formats import EmptyKey, ReservedKey

PROPERTIES = settings(derandomize=True, database=None, deadline=None, max_examples=200)

# --- the rules, from docs/cloud-limits.md §1 ------------------------------------------------------------


def aws_chars_ok(text: str) -> bool:
    # ECS's API pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*: letters, separators (spaces), numbers and _ . : / = + - @
    return all(unicodedata.category(ch)[0] in "LZN" or ch in "_.:/=+-@" for ch in text)


def aws_key_ok(key: str) -> bool:
    return 1 <= len(key) <= 128 and aws_chars_ok(key) and not key.lower().startswith("aws:")


def aws_value_ok(value: str) -> bool:
    return len(value) <= 256 and aws_chars_ok(value) and "," not in value


def gcp_char_ok(ch: str, key: bool) -> bool:
    if ch.isascii():
        # lowercase letters, digits, '-', and '_' (the seed's rule puts hyphens instead of underscores in keys)
        return ch.islower() or ch.isdigit() or ch == "-" or (not key and ch == "_")
    # international characters: lowercase (or caseless) letters
    return unicodedata.category(ch) in ("Ll", "Lo")


CLOUD_RUN_NAMESPACES = ("run.googleapis.com", "cloud.googleapis.com", "serving.knative.dev", "autoscaling.knative.dev")


def gcp_key_ok(key: str) -> bool:
    first = key[:1]
    starts_with_letter = bool(first) and ((first.isascii() and "a" <= first <= "z") or unicodedata.category(first) in ("Ll", "Lo"))
    return (1 <= len(key) <= 63 and starts_with_letter and all(gcp_char_ok(c, key=True) for c in key)
            and ":" not in key and not key.startswith(CLOUD_RUN_NAMESPACES))


def gcp_value_ok(value: str) -> bool:
    return len(value) <= 63 and all(gcp_char_ok(c, key=False) for c in value)


def azure_key_ok(key: str) -> bool:
    # names ≤ 512 (storage accounts 128: the safe limit), without < > % & \ ? /
    return 1 <= len(key) <= 128 and not set(key) & set("<>%&\\?/")


def azure_value_ok(value: str) -> bool:
    return len(value) <= 256


K8S_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def k8s_key_ok(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash:
        labels = prefix.split(".")
        if not (len(prefix) <= 253 and all(len(lb) <= 63 and DNS_LABEL.fullmatch(lb) for lb in labels)):
            return False
        if prefix in ("kubernetes.io", "k8s.io"):
            return False
    return len(name) <= 63 and bool(K8S_NAME.fullmatch(name))


def k8s_value_ok(value: str) -> bool:
    return value == "" or (len(value) <= 63 and bool(K8S_NAME.fullmatch(value)))


RULES = {
    "aws": (aws_key_ok, aws_value_ok, 256),
    "gcp": (gcp_key_ok, gcp_value_ok, 63),
    "azure": (azure_key_ok, azure_value_ok, 256),
    "kubernetes": (k8s_key_ok, k8s_value_ok, 63),
}
KEY_LIMITS = {"aws": 128, "gcp": 63, "azure": 128, "kubernetes": 63}
CLOUDS = list(RULES)


def reserved(cloud: str, key: str) -> bool:
    """Whether docs/cloud-limits.md says the cloud reserves this key (what the formatter may refuse)."""
    if cloud == "aws":
        return key.lower().startswith("aws:")
    if cloud == "gcp":
        return key.lower().startswith(CLOUD_RUN_NAMESPACES)
    if cloud == "kubernetes":
        prefix = key.partition("/")[0].lower() if "/" in key else ""
        return prefix != "app.kubernetes.io" and (prefix.endswith(("kubernetes.io", "k8s.io")))
    return False


# --- table tests per cloud --------------------------------------------------------------------

KEYS = [
    # (cloud, key as written, formatted key)
    ("aws", "dativo:tenant", "dativo:tenant"),
    ("aws", "Cost Center", "Cost Center"),
    ("aws", "team@acme/data=1+2", "team@acme/data=1+2"),
    ("aws", "Größe", "Größe"),
    ("aws", "a,b", "a-b"),
    ("aws", "owner\n", "owner-"),
    ("aws", "awsome", "awsome"),
    ("gcp", "dativo:tenant", "dativo-tenant"),
    ("gcp", "cost_center", "cost-center"),
    ("gcp", "CostCenter", "costcenter"),
    ("gcp", "team", "team"),
    ("gcp", "größe", "größe"),
    ("gcp", "owner\n", "owner-"),
    ("azure", "Owner", "Owner"),
    ("azure", "dativo:tenant", "dativo:tenant"),
    ("azure", "a/b\\c?d%e&f<g>h", "a-b-c-d-e-f-g-h"),
    ("kubernetes", "dativo:tenant", "dativo.io/tenant"),
    ("kubernetes", "dativo:retention-days", "dativo.io/retention-days"),
    ("kubernetes", "app.kubernetes.io/name", "app.kubernetes.io/name"),
    ("kubernetes", "Team", "Team"),
    ("kubernetes", "Cost Center", "Cost-Center"),
    ("kubernetes", "example.COM/x", "example.com/x"),
    ("kubernetes", "-team-", "team"),
]


@pytest.mark.parametrize("cloud,key,formatted", KEYS, ids=[f"{c}-{k!r}" for c, k, _ in KEYS])
def test_key(cloud, key, formatted):
    assert FORMATS[cloud].key(key) == formatted
    assert RULES[cloud][0](formatted)


VALUES = [
    ("aws", "HR-001", "HR-001"),
    ("aws", "data-team@acme.com", "data-team@acme.com"),
    ("aws", "a,b,c", "a-b-c"),  # a comma is not safe in every AWS service
    ("aws", "", ""),
    ("aws", "payments revenue", "payments revenue"),
    ("gcp", "HR-001", "hr-001"),
    ("gcp", "PCI-DSS_GDPR", "pci-dss_gdpr"),
    ("gcp", "data-team@acme.com", "data-team-acme-com"),
    ("gcp", "", ""),
    ("azure", "a/b?c", "a/b?c"),  # only names are restricted
    ("azure", "", ""),
    ("kubernetes", "PII", "PII"),
    ("kubernetes", "a b", "a-b"),
    ("kubernetes", "-x-", "x"),
    ("kubernetes", "", ""),
]


@pytest.mark.parametrize("cloud,value,formatted", VALUES, ids=[f"{c}-{v!r}" for c, v, _ in VALUES])
def test_value(cloud, value, formatted):
    assert FORMATS[cloud].value(value) == formatted
    assert RULES[cloud][1](formatted)


@pytest.mark.parametrize("cloud,key", [
    ("aws", "aws:x"), ("aws", "AWS:x"), ("aws", "Aws:cost"), ("aws", "aWs:"),
    ("gcp", "run.googleapis.com/x"), ("gcp", "cloud.googleapis.com/x"), ("gcp", "serving.knative.dev/x"), ("gcp", "autoscaling.knative.dev/x"),
    ("gcp", "Run.GoogleApis.com/x"),
    ("kubernetes", "kubernetes.io/x"), ("kubernetes", "k8s.io/x"), ("kubernetes", "KUBERNETES.IO/x"),
    # subdomains are used by core components (node.kubernetes.io/…): treated as reserved too, except app.kubernetes.io
    ("kubernetes", "node.kubernetes.io/x"),
])
def test_reserved_prefixes(cloud, key):
    with pytest.raises(ReservedKey):
        FORMATS[cloud].key(key)
    assert reserved(cloud, key)


@pytest.mark.parametrize("cloud,key", [("aws", ""), ("gcp", ""), ("azure", ""), ("kubernetes", ""), ("kubernetes", "---"), ("kubernetes", "example.com/")])
def test_empty_keys(cloud, key):
    with pytest.raises(EmptyKey):
        FORMATS[cloud].key(key)


@pytest.mark.parametrize("cloud,limit", [("aws", 128), ("gcp", 63), ("azure", 128), ("kubernetes", 63)])
def test_long_keys_are_shortened_not_dropped(cloud, limit):
    base = "k" * (limit + 40)
    one, two = FORMATS[cloud].key(base + "1"), FORMATS[cloud].key(base + "2")
    assert len(one) == limit and len(two) == limit
    assert one != two
    assert one.startswith("k" * (limit - 9))
    assert FORMATS[cloud].key("k" * limit) == "k" * limit  # exactly at the limit: unchanged


@pytest.mark.parametrize("cloud,limit", [("aws", 256), ("gcp", 63), ("azure", 256), ("kubernetes", 63)])
def test_long_values_are_shortened_not_dropped(cloud, limit):
    base = "v" * (limit + 10)
    one, two = FORMATS[cloud].value(base + "1"), FORMATS[cloud].value(base + "2")
    assert len(one) == limit and len(two) == limit and one != two
    assert FORMATS[cloud].value("v" * limit) == "v" * limit


def test_kubernetes_prefix_labels_are_valid_after_cutting():
    key = FORMATS["kubernetes"].key("a" * 62 + "-b.example.com/name")
    assert k8s_key_ok(key)
    assert key == "a" * 62 + ".example.com/name"


# --- limits per resource --------------------------------------------------------------------------


@pytest.mark.parametrize("cloud,limit,added", [("aws", 50, 1), ("gcp", 64, 0), ("azure", 50, 0)])
def test_tag_count_limits(cloud, limit, added):
    """The limit counts what a component adds (the security group's Name on AWS): a job may bring limit - added."""
    def levels(n):
        return {"infrastructure.tags": [TagCandidate(f"t{i:03d}", "v", "infrastructure.tags", "job.yaml") for i in range(n)]}

    assert len(format_levels(levels(limit - added), cloud).tags) == limit - added
    with pytest.raises(TagError) as info:
        format_levels(levels(limit - added + 1), cloud)
    assert f"{limit + 1} " in info.value.problems[0].message and f"limit of {limit} per resource" in info.value.problems[0].message


def test_a_job_that_names_the_added_tag_itself_counts_it_once():
    levels = {"infrastructure.tags": [TagCandidate("Name", "mine", "infrastructure.tags", "job.yaml")]
              + [TagCandidate(f"t{i:03d}", "v", "infrastructure.tags", "job.yaml") for i in range(49)]}
    assert len(format_levels(levels, "aws").tags) == 50


def test_kubernetes_labels_have_no_count_limit():
    levels = {"infrastructure.tags": [TagCandidate(f"t{i:03d}", "v", "infrastructure.tags", "job.yaml") for i in range(200)]}
    assert len(format_levels(levels, "kubernetes").tags) == 200


# --- properties over arbitrary unicode -----------------------------------------------------------

TEXT = st.text(max_size=300)
KEYISH = st.one_of(st.text(max_size=80), st.text(alphabet="abcXYZ019:_-./ @,", max_size=80), st.text(min_size=120, max_size=300))


def format_key(cloud: str, key: str):
    try:
        return FORMATS[cloud].key(key)
    except ReservedKey:
        assert reserved(cloud, key), key
        return None
    except EmptyKey:
        assert key == "" or cloud == "kubernetes", key
        return None


@pytest.mark.parametrize("cloud", CLOUDS)
@PROPERTIES
@given(key=KEYISH)
@example(key="abc\n")
@example(key="dativo:" + "x" * 100)
@example(key="İstanbul")
@example(key="a" * 62 + "-b.example.com/n")
def test_every_formatted_key_satisfies_the_rules(cloud, key):
    out = format_key(cloud, key)
    assume(out is not None)
    assert RULES[cloud][0](out), (key, out)
    assert FORMATS[cloud].key(key) == out  # deterministic
    assert FORMATS[cloud].key(out) == out  # idempotent


@pytest.mark.parametrize("cloud", CLOUDS)
@PROPERTIES
@given(value=TEXT)
@example(value="abc\n")
@example(value="a,b")
@example(value="\u00df" * 64)
def test_every_formatted_value_satisfies_the_rules(cloud, value):
    out = FORMATS[cloud].value(value)
    assert RULES[cloud][1](out), (value, out)
    assert FORMATS[cloud].value(value) == out
    assert FORMATS[cloud].value(out) == out


SAFE_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"  # valid unchanged in every cloud's keys and values


@pytest.mark.parametrize("cloud", CLOUDS)
@settings(PROPERTIES, max_examples=60)
@given(prefix=st.text(alphabet=SAFE_ALPHABET, min_size=300, max_size=320), a=st.text(alphabet=SAFE_ALPHABET, max_size=8),
       b=st.text(alphabet=SAFE_ALPHABET, max_size=8))
def test_shortening_keeps_different_values_different(cloud, prefix, a, b):
    assume(a != b)
    assert FORMATS[cloud].value(prefix + a) != FORMATS[cloud].value(prefix + b)
    assert FORMATS[cloud].key(prefix + a) != FORMATS[cloud].key(prefix + b)


@pytest.mark.parametrize("cloud", CLOUDS)
@PROPERTIES
@given(tags=st.dictionaries(KEYISH, TEXT, max_size=12))
def test_a_formatted_tag_set_satisfies_the_rules(cloud, tags):
    levels = {"infrastructure.tags": [TagCandidate(k, v, "infrastructure.tags", "job.yaml") for k, v in tags.items()]}
    try:
        result = format_levels(levels, cloud)
    except TagError as exc:
        # only reserved or empty keys, two keys of one level that become one, or a key that becomes an identity key
        assert all("reserved" in p.message or "empty" in p.message or "no valid name" in p.message or "both become" in p.message
                   or "always comes from the job itself" in p.message for p in exc.problems)
        return
    key_ok, value_ok, _ = RULES[cloud]
    assert all(key_ok(k) and value_ok(v) for k, v in result.tags.items())
    folded = [k.lower() for k in result.tags] if cloud == "azure" else list(result.tags)
    assert len(set(folded)) == len(folded)
    assert format_levels(levels, cloud) == result  # deterministic
    again = {"infrastructure.tags": [TagCandidate(k, v, "infrastructure.tags", "job.yaml") for k, v in result.tags.items()]}
    assert format_levels(again, cloud).tags == result.tags  # idempotent on a whole set
