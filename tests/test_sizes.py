"""Compute sizes: the spellings, and validation against every row of the docs/cloud-limits.md §2 tables.

The tables below are written out again from docs/cloud-limits.md (not imported from the
code under test), so a wrong constant in dativo_infra.jobs.sizes fails here.
"""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dativo_infra.jobs.sizes import SizeError, check_for_runtime, ecs_cpu_units, format_cpu, format_memory, parse_cpu, parse_memory

PROPERTIES = settings(derandomize=True, database=None, deadline=None, max_examples=200)

# --- spellings -------------------------------------------------------------------------

CPU_SPELLINGS = [
    ("2", 2000), (2, 2000), ("0.5", 500), (0.5, 500), ("0.25", 250), (".5", 500), ("500m", 500), ("250m", 250), ("1", 1000),
    ("1.5", 1500), ("100", 100_000), ("127", 127_000),  # below 128: cores
    # ECS CPU units (a bare number of 128 or more): 1024 units = 1 vCPU (docs/cloud-limits.md §2)
    ("128", 125), ("256", 250), ("512", 500), ("1024", 1000), ("2048", 2000), ("4096", 4000), ("8192", 8000), ("16384", 16000), (2048, 2000),
    (" 2 ", 2000), ("+2", 2000), ("2000m", 2000), ("0.001", 1),
]
BAD_CPUS = [
    "abc", "", " ", "-1", "-0.5", "0", "0m", "0.0", "2Gi", "2 cores", "1e3", "1.5m", "0.0001", "2,5", "two", "nan", "inf", "1000",
    "200", True, False, None, float("nan"), float("inf"), -1, 0, "9" * 40, 10**40,
]
MEMORY_SPELLINGS = [
    ("4096", 4096), (4096, 4096), ("512", 512), ("4Gi", 4096), ("0.5Gi", 512), ("1.5Gi", 1536), ("512Mi", 512), ("2048Ki", 2), ("1Ti", 1024 * 1024),
    # decimal suffixes are 10^n bytes, as in Kubernetes quantities: 1048576k = 1000 MiB exactly
    ("1048576k", 1000), ("2097152000", 2097152000),
    # MB/GB as the AWS console uses them: "4 GB" is 4096 MiB
    ("4GB", 4096), ("1GB", 1024), ("512MB", 512), ("4 Gi", 4096),
]
BAD_MEMORIES = [
    "4G", "1000M", "abc", "", "-1", "-4Gi", "0", "0Gi", "4096m", "512Ki", "4 parsecs", "1.5Mi", "1e3", True, False, None, -1, 0,
    float("nan"), "9" * 40,
]


@pytest.mark.parametrize("raw,millis", CPU_SPELLINGS, ids=[repr(r) for r, _ in CPU_SPELLINGS])
def test_cpu_spellings(raw, millis):
    assert parse_cpu(raw) == millis


@pytest.mark.parametrize("raw", BAD_CPUS, ids=[repr(r)[:20] for r in BAD_CPUS])
def test_bad_cpu_is_a_size_error(raw):
    with pytest.raises(SizeError) as info:
        parse_cpu(raw)
    assert "cpu" in str(info.value)


@pytest.mark.parametrize("raw,mib", MEMORY_SPELLINGS, ids=[repr(r) for r, _ in MEMORY_SPELLINGS])
def test_memory_spellings(raw, mib):
    assert parse_memory(raw) == mib


@pytest.mark.parametrize("raw", BAD_MEMORIES, ids=[repr(r)[:20] for r in BAD_MEMORIES])
def test_bad_memory_is_a_size_error(raw):
    with pytest.raises(SizeError) as info:
        parse_memory(raw)
    assert "memory" in str(info.value)


def test_decimal_gigabytes_are_not_whole_mebibytes():
    # 4G = 4·10⁹ bytes = 3814.697… MiB (Kubernetes quantity semantics, docs/cloud-limits.md §2)
    with pytest.raises(SizeError, match=r"3814\.70 MiB, not a whole number of MiB \(G is decimal"):
        parse_memory("4G")


@pytest.mark.parametrize("millis,text", [(2000, "2"), (500, "0.5"), (250, "0.25"), (1500, "1.5"), (100, "0.1"), (125, "125m"), (1, "1m"),
                                         (127_000, "127"), (128_000, "128000m"), (200_000, "200000m")])
def test_format_cpu(millis, text):
    assert format_cpu(millis) == text


@pytest.mark.parametrize("mib,text", [(4096, "4Gi"), (1024, "1Gi"), (512, "512Mi"), (1536, "1536Mi"), (1, "1Mi")])
def test_format_memory(mib, text):
    assert format_memory(mib) == text


# --- docs/cloud-limits.md §2 tables ---------------------------------------------------------------------

# ECS Fargate (Linux): CPU units → (first MiB, last MiB, step), or the explicit list
FARGATE_ROWS = {
    256: [512, 1024, 2048],
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}


def fargate_memories(units: int) -> list[int]:
    row = FARGATE_ROWS[units]
    return row if isinstance(row, list) else list(range(row[0], row[1] + 1, row[2]))


def millis_of_units(units: int) -> int:
    assert units * 1000 % 1024 == 0
    return units * 1000 // 1024


FARGATE_VALID = [(u, m) for u in FARGATE_ROWS for m in fargate_memories(u)]
FARGATE_INVALID = []
for _units in FARGATE_ROWS:
    _valid = fargate_memories(_units)
    _step = _valid[1] - _valid[0] if len(_valid) > 1 else 512
    for _mib in (_valid[0] - 1024, _valid[0] - 1, _valid[-1] + 1, _valid[-1] + 1024, _valid[-1] + _step, _valid[0] + 512):
        if _mib > 0 and _mib not in _valid:
            FARGATE_INVALID.append((_units, _mib))
FARGATE_INVALID += [(256, 1536), (8192, 20480 - 1024), (16384, 32768 + 4096)]  # between the steps of the coarser rows


@pytest.mark.parametrize("units,mib", FARGATE_VALID, ids=[f"{u}-{m}" for u, m in FARGATE_VALID])
def test_every_fargate_combination_is_valid(units, mib):
    assert parse_cpu(str(units)) == millis_of_units(units)
    assert check_for_runtime("ecs", millis_of_units(units), mib) == []


@pytest.mark.parametrize("units,mib", FARGATE_INVALID, ids=[f"{u}-{m}" for u, m in FARGATE_INVALID])
def test_fargate_memory_outside_the_row(units, mib):
    problems = check_for_runtime("ecs", millis_of_units(units), mib)
    assert [f for f, _ in problems] == ["memory"]
    message = problems[0][1]
    valid = fargate_memories(units)
    assert f"{mib} MiB is not valid with {units} Fargate CPU units (allowed {valid[0]}–{valid[-1]} MiB)" in message
    nearest = [int(n) for n in message.split("nearest valid: ")[1].split(", ")]
    assert nearest and all(n in valid for n in nearest)  # it names valid choices, the closest ones
    assert min(abs(n - mib) for n in nearest) == min(abs(v - mib) for v in valid)


@pytest.mark.parametrize("cpu", ["0.125", "0.75", "3", "5", "6", "12", "32"])
def test_fargate_cpu_not_in_the_table(cpu):
    problems = check_for_runtime("ecs", parse_cpu(cpu), 4096)
    assert [f for f, _ in problems] == ["cpu"]
    assert "is not a Fargate task size; nearest valid CPU units: " in problems[0][1]
    named = [int(part.split(" ")[0]) for part in problems[0][1].split("nearest valid CPU units: ")[1].split(", ")]
    assert set(named) <= set(FARGATE_ROWS)


# Cloud Run jobs: CPU 1, 2, 4, 6 or 8; memory 512 MiB – 32 GiB; > 4 GiB needs 2, > 8 GiB 4, > 16 GiB 6, > 24 GiB 8
CLOUD_RUN_CPUS = (1, 2, 4, 6, 8)
GIB = 1024


def cloud_run_min_cpu(mib: int) -> int:
    for above, cpus in ((24 * GIB, 8), (16 * GIB, 6), (8 * GIB, 4), (4 * GIB, 2)):
        if mib > above:
            return cpus
    return 1


CLOUD_RUN_MEMORIES = [512, 1024, 4 * GIB, 4 * GIB + 1, 8 * GIB, 8 * GIB + 1, 16 * GIB, 16 * GIB + 1, 24 * GIB, 24 * GIB + 1, 32 * GIB]
CLOUD_RUN_GRID = [(c, m) for c in CLOUD_RUN_CPUS for m in CLOUD_RUN_MEMORIES]


@pytest.mark.parametrize("cpus,mib", CLOUD_RUN_GRID, ids=[f"{c}-{m}" for c, m in CLOUD_RUN_GRID])
def test_cloud_run_minimum_cpu_for_memory(cpus, mib):
    problems = check_for_runtime("cloud_run", cpus * 1000, mib)
    if cpus >= cloud_run_min_cpu(mib):
        assert problems == []
    else:
        assert [f for f, _ in problems] == ["cpu"]
        assert f"needs at least {cloud_run_min_cpu(mib)} CPUs" in problems[0][1]


@pytest.mark.parametrize("millis", [250, 500, 1500, 3000, 5000, 7000, 10000, 16000])
def test_cloud_run_cpu_outside_the_five(millis):
    problems = check_for_runtime("cloud_run", millis, 512)
    assert [f for f, _ in problems] == ["cpu"]
    assert "use 1, 2, 4, 6 or 8" in problems[0][1]


@pytest.mark.parametrize("mib", [1, 256, 511, 32 * GIB + 1, 64 * GIB])
def test_cloud_run_memory_range(mib):
    problems = check_for_runtime("cloud_run", 8000, mib)
    assert [f for f, _ in problems] == ["memory"]
    assert problems[0][1] == f"{mib} MiB is outside Cloud Run's 512 MiB – 32 GiB"


# Azure Container Apps: 0.25/0.5Gi, 0.5/1Gi, … 2/4Gi, and up to 4/8Gi in the same steps (Consumption)
CONTAINER_APPS = [(250 * k, 512 * k) for k in range(1, 17)]
CONTAINER_APPS_NAMED = {"0.25/0.5Gi": (250, 512), "0.5/1Gi": (500, 1024), "0.75/1.5Gi": (750, 1536), "1/2Gi": (1000, 2048),
                        "1.25/2.5Gi": (1250, 2560), "1.5/3Gi": (1500, 3072), "1.75/3.5Gi": (1750, 3584), "2/4Gi": (2000, 4096),
                        "4/8Gi": (4000, 8192)}


def test_container_apps_table_matches_facts():
    assert set(CONTAINER_APPS_NAMED.values()) <= set(CONTAINER_APPS)
    for text, pair in CONTAINER_APPS_NAMED.items():
        cpu, memory = text.split("/")
        assert (parse_cpu(cpu), parse_memory(memory)) == pair


@pytest.mark.parametrize("millis,mib", CONTAINER_APPS, ids=[f"{c}-{m}" for c, m in CONTAINER_APPS])
def test_every_container_apps_pair_is_valid(millis, mib):
    assert check_for_runtime("container_apps", millis, mib) == []


@pytest.mark.parametrize("millis,mib", [(1000, 4096), (250, 1024), (500, 512), (4250, 8704), (300, 600), (1000, 2000), (8000, 16384), (2000, 2048)])
def test_container_apps_other_pairs(millis, mib):
    problems = check_for_runtime("container_apps", millis, mib)
    assert [f for f, _ in problems] == ["cpu"]
    assert "is not a Container Apps CPU/memory pair" in problems[0][1]
    nearest = problems[0][1].split("nearest: ")[1].split(", ")
    for text in nearest:
        cpu, memory = text.split("/")
        assert (parse_cpu(cpu), parse_memory(memory)) in CONTAINER_APPS


@pytest.mark.parametrize("millis,mib", [(1, 1), (100, 100), (64000, 256 * GIB), (3333, 1234)])
def test_kubernetes_takes_any_positive_quantity(millis, mib):
    assert check_for_runtime("kubernetes", millis, mib) == []


# --- properties -------------------------------------------------------------------------------

ANYTHING = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="0123456789.+-mkMGTiBb eE ", max_size=12),
    st.integers(min_value=-10**15, max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)


def outcome(parse, raw):
    try:
        return ("ok", parse(raw))
    except SizeError as exc:
        return ("error", str(exc))


@PROPERTIES
@given(ANYTHING)
@example("9" * 1_000_001)
@example("0." + "0" * 40 + "1")
@example(10**40)
def test_parsing_is_total_and_deterministic(raw):
    """Any input gives a positive whole number or a SizeError, never another exception; twice the same answer."""
    for parse in (parse_cpu, parse_memory):
        first = outcome(parse, raw)
        assert outcome(parse, raw) == first
        if first[0] == "ok":
            assert isinstance(first[1], int) and not isinstance(first[1], bool) and first[1] > 0


@PROPERTIES
@given(st.one_of(st.integers(max_value=0), st.floats(max_value=0), st.booleans(), st.text(alphabet="abcdefghjklnopqrsuvwxyz!?", min_size=1)))
def test_invalid_sizes_raise_size_error(raw):
    for parse in (parse_cpu, parse_memory):
        with pytest.raises(SizeError):
            parse(raw)


@PROPERTIES
@given(st.integers(min_value=1, max_value=10**9))
def test_cpu_round_trip(millis):
    assert parse_cpu(format_cpu(millis)) == millis


@PROPERTIES
@given(st.integers(min_value=1, max_value=10**11))
def test_memory_round_trip(mib):
    assert parse_memory(format_memory(mib)) == mib


@PROPERTIES
@given(st.integers(min_value=1, max_value=10**6))
def test_ecs_units_and_millicores_agree(k):
    """A bare number ≥ 128 is ECS CPU units; 1024 units = 1 vCPU, so 128·k units = 125·k millicores exactly."""
    units = 128 * k
    millis = parse_cpu(str(units))
    assert millis == 125 * k
    assert ecs_cpu_units(millis) == units
    assert parse_cpu(f"{millis}m") == millis


def test_every_fargate_cpu_spelled_three_ways():
    for units in FARGATE_ROWS:
        vcpu = units / 1024
        spellings = [str(units), f"{millis_of_units(units)}m", f"{vcpu:g}"]
        assert {parse_cpu(s) for s in spellings} == {millis_of_units(units)}
        assert ecs_cpu_units(millis_of_units(units)) == units
