"""Product files: the four shipped products load, and broken files name file, key and reason."""

from __future__ import annotations

import copy
import tomllib
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from domain.products.loader import (
    PRODUCTS_DIR,
    ProductFileError,
    load_catalog,
    load_product_file,
    parse_product,
)
from domain.products.model import DiscountKind, Factor, ProductKind, RiderMode, WindowKind
from domain.vocab import PRIVATE_EIGHT, Channel, DriverRestriction, PaymentMethod, UseType
from tests.unit.test_rating_support import AIOI, KYOSAI, RAKUTEN, TOKIO, product

FILE = "rakuten-drive-assist.toml"


def _raw(name: str = FILE) -> dict[str, Any]:
    return tomllib.loads((PRODUCTS_DIR / name).read_text(encoding="utf-8"), parse_float=D)


def _error(data: dict[str, Any]) -> ProductFileError:
    with pytest.raises(ProductFileError) as e:
        parse_product(data, FILE)
    return e.value


def test_the_four_products_load() -> None:
    catalog = load_catalog()
    assert sorted(p.id for p in catalog) == sorted([RAKUTEN, AIOI, TOKIO, KYOSAI])
    kinds = {p.id: p.kind for p in catalog}
    assert kinds[KYOSAI] is ProductKind.MUTUAL_AID and kinds[TOKIO] is ProductKind.GROUP
    for p in catalog:
        assert p.coverages and p.tariffs
        for c in p.coverages:
            assert c.ja and c.en and c.source
        for r in p.riders:
            assert r.ja and r.en and r.source
        for d in p.discounts:
            assert d.source.split()[0] in {"001", "002", "003", "004"}   # every pamphlet rate cites its line


def test_demonstration_tariffs_are_labelled() -> None:
    for pid in (RAKUTEN, AIOI, TOKIO):
        for t in product(pid).tariffs:
            assert t.demonstration and "DEMONSTRATION" in t.note
    assert not product(KYOSAI).tariffs[0].demonstration   # the exact 003 table


def test_use_types_per_product() -> None:
    assert product(RAKUTEN).use_types == PRIVATE_EIGHT                  # 001 L166-174
    assert product(TOKIO).use_types == PRIVATE_EIGHT                    # 004 L1607
    assert UseType.MOTORCYCLE not in product(AIOI).use_types            # 002 L817-819
    assert UseType.COMMERCIAL_STANDARD_TRUCK in product(AIOI).use_types
    assert UseType.CAMPING_CAR not in product(KYOSAI).use_types         # 003 L34-39


def test_riders_declare_requirements_and_exclusions() -> None:
    r = product(RAKUTEN).rider("NAMED_INSURED_ONLY")
    assert r is not None and r.excludes == ("NAMED_INSURED_AND_SPOUSE",)          # 001 L635
    assert r.driver_restriction is DriverRestriction.NAMED_INSURED_ONLY
    seven = product(AIOI).rider("VEHICLE_7_PERILS")
    assert seven is not None and seven.requires_options == {"VEHICLE": ("DED_50000", "DED_70000")}   # 002 L3334
    assert product(RAKUTEN).rider("ROAD_ASSISTANCE").mode is RiderMode.AUTOMATIC  # type: ignore[union-attr]  # 001 L889


def test_payment_rules() -> None:
    aioi = product(AIOI).payment
    assert aioi.instalment_surcharge == D("0.05") and not aioi.surcharge_demonstration   # 002 L5379
    assert Channel.GROUP in aioi.waived_for_channels                                     # 002 L5423
    assert product(RAKUTEN).payment.surcharge_demonstration                              # 001 L829: no rate
    assert product(KYOSAI).payment.instalment_surcharge == 0
    assert product(KYOSAI).payment.methods == {PaymentMethod.ANNUAL, PaymentMethod.MONTHLY}


def test_windows_offered() -> None:
    aioi = product(AIOI)
    for kind in WindowKind:
        w = aioi.window(kind)
        assert w is not None and w.days == 30                            # 002 L4110, L4142, L4161
    assert product(RAKUTEN).window(WindowKind.DRIVER_CHANGE).days == 30  # type: ignore[union-attr]  # 001 L868
    assert product(RAKUTEN).window(WindowKind.FORGOTTEN_RENEWAL) is None  # not in 001 (§9.1)
    assert product(TOKIO).windows == ()


def test_road_assistance_limits() -> None:
    def limit(pid: str, code: str) -> int:
        return next(a.amount for a in product(pid).road_assistance if a.code == code)

    assert limit(RAKUTEN, "TOWING_PER_INCIDENT") == 200_000        # 001 L893
    assert limit(RAKUTEN, "FUEL_LITRES") == 10                     # 001 L941
    assert limit(RAKUTEN, "FUEL_DELIVERIES_AGENT") == 2            # 001 L961
    assert limit(AIOI, "SELF_ARRANGED_TOW") == 150_000             # 002 L3749
    assert limit(TOKIO, "TOWING_AND_EMERGENCY") == 150_000         # 004 L766-790
    assert limit(KYOSAI, "LODGING_PER_PERSON") == 15_000           # 003 L177
    assert limit(KYOSAI, "FREE_TOWING_KM") == 15                   # 003 L139


def test_discount_data_is_exact() -> None:
    by_code = {d.code: d for d in product(RAKUTEN).discounts}
    assert by_code["INTERNET"].rates == {"new_diamond": D("0.30"), "new_other": D("0.25"), "renewal": D("0.25")}  # 001 L674-675
    assert by_code["MULTI_CAR"].band_rates == (D("0.01"), D("0.05"))                   # 001 L745-746
    group = next(d for d in product(TOKIO).discounts if d.kind is DiscountKind.GROUP)
    assert (group.rate, group.valid_from, group.valid_to) == (D("0.27"), date(2026, 4, 1), date(2027, 3, 31))  # 004 L156-160


def test_tariff_versions_chosen_by_date() -> None:
    p = product(RAKUTEN)
    assert p.tariff_on(date(2023, 11, 30)) is None
    assert p.tariff_on(date(2023, 12, 1)).version == "rakuten-drive-assist/DEMO-2023-12"  # type: ignore[union-attr]
    assert p.tariff_on(date(2025, 12, 31)).version == "rakuten-drive-assist/DEMO-2023-12"  # type: ignore[union-attr]
    assert p.tariff_on(date(2026, 1, 1)).version == "rakuten-drive-assist/DEMO-2026-01"  # type: ignore[union-attr]
    assert p.tariff_on(date(2030, 1, 1)).version == "rakuten-drive-assist/DEMO-2026-01"  # type: ignore[union-attr]


def test_extends_inherits_tables_and_overrides_keys() -> None:
    old, new = product(RAKUTEN).tariffs
    assert new.base["BI"][UseType.PRIVATE_STANDARD_PASSENGER] == 24480
    assert new.base["PIP"] == old.base["PIP"]
    assert new.rating_class_factors == old.rating_class_factors
    assert new.effective_to is None and old.effective_to == date(2025, 12, 31)


# ------------------------------------------------------------------ errors name file, key, reason


def test_unknown_top_level_key() -> None:
    data = _raw()
    data["colour"] = "red"
    e = _error(data)
    assert (e.file, e.key, e.reason) == (FILE, "colour", "unknown key")
    assert str(e) == f"{FILE}: colour: unknown key"


def test_unknown_use_type() -> None:
    data = _raw()
    data["use_types"] = data["use_types"] + ["HOVERCRAFT"]
    e = _error(data)
    assert e.file == FILE and e.key == "use_types[8]" and "HOVERCRAFT" in e.reason


def test_unknown_use_type_in_a_base_table() -> None:
    data = _raw()
    data["tariffs"][0]["base"]["BI"]["MOTORCYCLE"] = 1000
    e = _error(data)
    assert e.key == "tariffs[0].base.BI.MOTORCYCLE" and "not insurable" in e.reason


def test_missing_required_key() -> None:
    data = _raw()
    del data["refund_method"]
    assert (_error(data).key, _error(data).reason) == ("refund_method", "missing required key")


def test_bad_rate_value() -> None:
    data = _raw()
    data["discounts"][0]["rates"]["renewal"] = "a lot"
    e = _error(data)
    assert e.key == "discounts[0].rates.renewal" and "number" in e.reason


def test_unknown_discount_key_and_kind() -> None:
    data = _raw()
    data["discounts"][1]["rait"] = D("0.09")
    assert _error(data).key == "discounts[1].rait"
    data = _raw()
    data["discounts"][1]["kind"] = "LOYALTY"
    assert _error(data).key == "discounts[1].kind"


def test_discount_kind_needs_its_keys() -> None:
    data = _raw()
    del data["discounts"][4]["band_rates"]       # MULTI_CAR
    e = _error(data)
    assert e.key == "discounts[4].band_rates" and "MULTI_CAR" in e.reason


def test_band_rates_must_match_bands() -> None:
    data = _raw()
    data["discounts"][4]["band_rates"] = [D("0.01")]
    e = _error(data)
    assert e.key == "discounts[4].band_rates" and "2 values" in e.reason


def test_overlapping_tariff_versions() -> None:
    data = _raw()
    data["tariffs"][1]["effective_from"] = date(2025, 12, 31)
    e = _error(data)
    assert e.key == "tariffs[1].effective_from" and "overlaps" in e.reason


def test_open_ended_version_followed_by_another_overlaps() -> None:
    data = _raw()
    del data["tariffs"][0]["effective_to"]
    e = _error(data)
    assert "overlaps" in e.reason


def test_tariff_missing_a_base_premium() -> None:
    data = _raw()
    del data["tariffs"][0]["base"]["PD"]["CAMPING_CAR"]
    e = _error(data)
    assert e.key == "tariffs[0].base.PD" and "CAMPING_CAR" in e.reason


def test_tariff_missing_a_factor_value() -> None:
    data = _raw()
    del data["tariffs"][0]["factors"]["MILEAGE_CLASS"]["8"]
    e = _error(data)
    assert e.key == "tariffs[0].factors.MILEAGE_CLASS.8"


def test_rider_referring_to_unknown_things() -> None:
    data = _raw()
    data["riders"][4]["excludes"] = ["NAMED_INSURED_AND_PETS"]
    assert _error(data).key == "riders[4].excludes"
    data = _raw()
    data["riders"][0]["requires"] = ["BOAT"]
    assert _error(data).key == "riders[0].requires"


def test_grade_and_factor_order_agree() -> None:
    data = _raw()
    data["factor_order"] = [f for f in data["factor_order"] if f != Factor.GRADE.value]
    e = _error(data)
    assert e.key == "factor_order" and "GRADE" in e.reason


def test_fleet_is_never_in_the_factor_order() -> None:
    """The fleet rate stands where GRADE is for a fleet car (002b L5015-5016); listing FLEET as well
    would apply it twice."""
    data = _raw()
    data["factor_order"] = [*data["factor_order"], Factor.FLEET.value]
    e = _error(data)
    assert e.key == "factor_order" and "FLEET" in e.reason


def test_extends_unknown_version() -> None:
    data = _raw()
    data["tariffs"][1]["extends"] = "nope"
    assert _error(data).key == "tariffs[1].extends"


def test_syntax_error_and_file_name(tmp_path: Path) -> None:
    bad = tmp_path / "x.toml"
    bad.write_text("id = [", encoding="utf-8")
    with pytest.raises(ProductFileError) as e:
        load_product_file(bad)
    assert e.value.file == "x.toml" and e.value.key == "<syntax>"
    renamed = tmp_path / "other-name.toml"
    renamed.write_text((PRODUCTS_DIR / FILE).read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ProductFileError) as e:
        load_product_file(renamed)
    assert e.value.key == "id"


def test_input_is_not_mutated() -> None:
    data = _raw()
    before = copy.deepcopy(data)
    parse_product(data, FILE)
    assert data == before
