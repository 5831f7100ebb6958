"""Cost benchmark: `dativo-infra cost` over a generated 10,000-job tree against the YAML floor (issue 15: ≤ 1.5×).

The work is the command's: load and resolve every job (in worker processes, as validate and export), count its runs
in an average month (the 400-year cycle, across DST) and price it; the floor only parses the same YAML files.
The generated Kubernetes jobs need node prices: a price file gives them, as a stack's nodePrices would.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Optional

from benchmarks.generate import generate
from benchmarks.run import Line, median_pair, processes, yaml_floor

NODE_PRICES = """cloud: kubernetes
currency: USD
prices:
  - {item: kubernetes.vcpu_hour, service: Kubernetes, region: "*", unit: vCPU-hour, price: "0.05", source: benchmark, read_on: "2026-12-04", quality: configured}
  - {item: kubernetes.gib_hour, service: Kubernetes, region: "*", unit: GiB-hour, price: "0.006", source: benchmark, read_on: "2026-12-04", quality: configured}
"""


def cost_all(root: str, prices: str, month: Optional[tuple[int, int]] = None) -> Callable[[], None]:
    """What `dativo-infra cost ROOT --prices PRICES [--month]` computes, in-process (no rendering)."""
    from dativo_infra.cli.cost import estimator
    from dativo_infra.cost import load_prices, rollup, total
    from dativo_infra.jobs.parallel import load_and_apply
    from dativo_infra.resolve import Resolver

    def run() -> None:
        resolver, book = Resolver(), load_prices(prices)
        result, outcomes, run.processes = load_and_apply([root], estimator(resolver, book, month), lambda e: e,  # type: ignore[attr-defined]
                                                         scope=resolver.scope([root]))
        assert result.ok and outcomes and not any(isinstance(o, list) for o in outcomes), [o for o in outcomes if isinstance(o, list)][:3]
        assert total(outcomes) == sum(g.monthly_cost for g in rollup(outcomes, "tenant"))
    return run


def bench_cost(runs: int, work: Path) -> list[Line]:
    size, tenants = 10000, 100
    root = work / "cost-fleet-10000"
    files = generate(str(root), tenants, size // tenants)
    prices = work / "node-prices.yaml"
    prices.write_text(NODE_PRICES)
    ours_fn, floor_fn = cost_all(str(root), str(prices)), yaml_floor(files)
    ours, floor = median_pair(ours_fn, floor_fn, max(3, runs // 2))
    return [Line("cost 10,000 jobs (average month)", ours, floor, "s", "≤ 1.5× YAML floor", ours / floor <= 1.5,
                 f"{size / ours:,.0f} jobs/s; {processes(ours_fn.processes)}")]  # type: ignore[attr-defined]


BENCHES = [bench_cost]
