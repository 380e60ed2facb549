"""Products as data: one TOML file per product in this folder, loaded and validated by `loader`.

`default_catalog()` reads the shipped files once per process; `parse_product` is the pure
validator behind it. The model (frozen dataclasses) is in `model`.
"""

from domain.products.loader import (
    Catalog,
    ProductFileError,
    default_catalog,
    load_catalog,
    load_product_file,
    parse_product,
)
from domain.products.model import Product, Tariff

__all__ = [
    "Catalog", "Product", "ProductFileError", "Tariff",
    "default_catalog", "load_catalog", "load_product_file", "parse_product",
]
