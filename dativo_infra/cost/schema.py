"""JSON Schema of price table files, from the loader's model (``python -m dativo_infra.cost.schema > schemas/prices.schema.json``)."""
from __future__ import annotations

from typing import Any

from ..schema import model_schema, render
from .prices import PriceFile


def prices_schema() -> dict[str, Any]:
    return model_schema(PriceFile, "prices.schema.json", "dativo-infra price table",
                        "Prices for cost estimates (docs/cost.md), one file per cloud, or a --prices overlay. "
                        "Generated from dativo_infra.cost.prices; do not edit.")


if __name__ == "__main__":
    print(render(prices_schema()), end="")
