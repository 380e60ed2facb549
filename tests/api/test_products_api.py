"""The public product catalog over GraphQL: `products`, `product(id)`, labels and dated tariffs.

Tariff prices and dates are DEMONSTRATION data of the product files (the insurers' base premiums
are not public); the labels, windows and insurable types are pamphlet facts and cite their lines.
"""

from __future__ import annotations

import httpx

from domain.products import default_catalog
from tests.api.conftest import gql

RAKUTEN = "rakuten-drive-assist"

PRODUCT_FIELDS = """
  id ja en insurerJa insurerEn
  kind { code ja en }
  useTypes { code ja en }
  coverages { code ja en mandatory defaultOption source limitOptions { code ja en } }
  riders { code ja en mode { code ja en } requires requiresAny excludes source }
  windows { kind { code ja en } days automatic source }
  refundMethod { code ja en }
  tariffs { version effectiveFrom effectiveTo demonstration }
"""


async def test_anonymous_caller_lists_every_product(client: httpx.AsyncClient) -> None:
    body = await gql(client, f"{{ products {{ {PRODUCT_FIELDS} }} }}")
    assert "errors" not in body
    products = body["data"]["products"]
    assert sorted(p["id"] for p in products) == sorted(p.id for p in default_catalog())
    assert {p["kind"]["code"] for p in products} == {"PERSONAL", "COMMERCIAL", "GROUP", "MUTUAL_AID"}
    for p in products:
        assert p["ja"] and p["en"] and p["coverages"] and p["tariffs"]
        assert all(label["ja"] and label["en"] for label in p["useTypes"])


async def test_product_by_id_carries_labels_coverages_riders_and_windows(client: httpx.AsyncClient) -> None:
    body = await gql(client, "query P($id: ID!) { product(id: $id) { " + PRODUCT_FIELDS + " } }",
                     {"id": RAKUTEN})
    p = body["data"]["product"]
    assert p["id"] == RAKUTEN
    assert p["insurerJa"] == "楽天損害保険株式会社"
    assert p["kind"] == {"code": "PERSONAL", "ja": "個人用自動車保険", "en": "Personal auto insurance"}
    # 001 L166-174: only the eight private vehicle types (自家用8車種), in declaration order
    assert [u["code"] for u in p["useTypes"]] == [
        "PRIVATE_STANDARD_PASSENGER", "PRIVATE_SMALL_PASSENGER", "PRIVATE_KEI_PASSENGER",
        "PRIVATE_STANDARD_TRUCK_HEAVY", "PRIVATE_STANDARD_TRUCK_LIGHT", "PRIVATE_SMALL_TRUCK",
        "PRIVATE_KEI_TRUCK", "CAMPING_CAR",
    ]
    assert p["useTypes"][0]["ja"] == "自家用普通乗用車"
    bi = next(c for c in p["coverages"] if c["code"] == "BI")
    # 001 L238-240: 対人賠償責任保険
    assert bi["ja"] == "対人賠償責任保険" and bi["en"] == "Bodily-injury liability"
    assert bi["source"].startswith("001 L238")
    pip = next(c for c in p["coverages"] if c["code"] == "PIP")
    assert {o["code"] for o in pip["limitOptions"]} >= {"UNLIMITED"}
    rider = next(r for r in p["riders"] if r["code"] == "PIP_EMERGENCY_SUPPORT")
    assert rider["mode"]["code"] == "AUTOMATIC" and rider["mode"]["ja"] == "自動セット"
    assert rider["requires"] == ["PIP"]  # 001 L378
    # 001 L868: 30 days from the day after the change to file the driver change
    assert p["windows"] == [{
        "kind": {"code": "DRIVER_CHANGE", "ja": "運転者限定・年令条件うっかり", "en": "Driver / age condition change"},
        "days": 30, "automatic": True, "source": "001 L857-869, L873-881",
    }]
    assert p["refundMethod"]["code"] == "MONTHLY_UNEXPIRED"


async def test_product_fields_match_the_catalog_model(client: httpx.AsyncClient) -> None:
    # everything the API shows comes from the loaded product file, nothing is re-typed
    model = default_catalog().get("aioi-tough-biz")
    assert model is not None
    p = (await gql(client, '{ product(id: "aioi-tough-biz") { ' + PRODUCT_FIELDS + " } }"))["data"]["product"]
    assert [c["code"] for c in p["coverages"]] == [c.code for c in model.coverages]
    assert [r["code"] for r in p["riders"]] == [r.code for r in model.riders]
    assert [(r["requires"], r["requiresAny"], r["excludes"]) for r in p["riders"]] == [
        (list(r.requires), list(r.requires_any), list(r.excludes)) for r in model.riders]
    assert [(w["kind"]["code"], w["days"]) for w in p["windows"]] == [(w.kind.value, w.days) for w in model.windows]
    assert {u["code"] for u in p["useTypes"]} == {u.value for u in model.use_types}


async def test_unknown_product_id_is_null(client: httpx.AsyncClient) -> None:
    body = await gql(client, '{ product(id: "no-such-product") { id } }')
    assert body == {"data": {"product": None}}


async def test_rakuten_lists_both_tariff_versions_oldest_first(client: httpx.AsyncClient) -> None:
    body = await gql(client, f'{{ product(id: "{RAKUTEN}") {{ tariffs {{ version effectiveFrom effectiveTo demonstration }} }} }}')
    assert body["data"]["product"]["tariffs"] == [
        {"version": "rakuten-drive-assist/DEMO-2023-12", "effectiveFrom": "2023-12-01",
         "effectiveTo": "2025-12-31", "demonstration": True},
        {"version": "rakuten-drive-assist/DEMO-2026-01", "effectiveFrom": "2026-01-01",
         "effectiveTo": None, "demonstration": True},
    ]


async def test_tariff_on_picks_the_version_in_force_by_date(client: httpx.AsyncClient) -> None:
    query = """query T($id: ID!, $a: Date!, $b: Date!, $c: Date!, $d: Date!) {
      product(id: $id) {
        before: tariffOn(date: $a) { version }
        lastOld: tariffOn(date: $b) { version }
        firstNew: tariffOn(date: $c) { version }
        later: tariffOn(date: $d) { version }
      }
    }"""
    body = await gql(client, query, {"id": RAKUTEN, "a": "2023-11-30", "b": "2025-12-31",
                                     "c": "2026-01-01", "d": "2030-06-15"})
    p = body["data"]["product"]
    assert p["before"] is None  # nothing in force before the first version
    assert p["lastOld"] == {"version": "rakuten-drive-assist/DEMO-2023-12"}   # effective_to is inclusive
    assert p["firstNew"] == {"version": "rakuten-drive-assist/DEMO-2026-01"}
    assert p["later"] == {"version": "rakuten-drive-assist/DEMO-2026-01"}   # open-ended


async def test_tariff_on_rejects_a_malformed_date(client: httpx.AsyncClient) -> None:
    body = await gql(client, f'{{ product(id: "{RAKUTEN}") {{ tariffOn(date: "2026-13-01") {{ version }} }} }}')
    assert body.get("data") is None and body["errors"]


async def test_riders_show_their_pay_out_rules_and_windows_their_liability_set(client: httpx.AsyncClient) -> None:
    q = """query P($id: ID!) { product(id: $id) {
      riders { code modeNote payout { source demonstration pick { code } timesPerYear
        parts { code kind { code } amountYen maxDays deductibleYen source }
        caps { basis { code } amountYen sumInsuredTimes conditional source } } }
      coverages { code payout { caps { amountYen sumInsuredTimes conditional label } } }
      windows { kind { code } liabilitySet } } }"""
    p = (await gql(client, q, {"id": RAKUTEN}))["data"]["product"]
    riders = {r["code"]: r for r in p["riders"]}
    belongings = riders["IN_CAR_BELONGINGS"]["payout"]
    assert belongings["caps"] == [{"basis": {"code": "PER_ACCIDENT"}, "amountYen": 300_000, "sumInsuredTimes": None,
                                   "conditional": False, "source": "001 L567, L1120"}]
    assert belongings["parts"][0]["deductibleYen"] == 5_000                          # 001 L567
    assert "DEMONSTRATION" in riders["RENTAL_CAR"]["payout"]["demonstration"]      # 001 L559: daily amount
    assert [x["maxDays"] for x in riders["RENTAL_CAR"]["payout"]["parts"]] == [30, 15]
    assert riders["NAMED_INSURED_ONLY"]["payout"] is None
    assert riders["EXCESS_REPAIR"]["modeNote"]
    pd = next(c for c in p["coverages"] if c["code"] == "PD")["payout"]
    assert {"amountYen": 100_000_000, "sumInsuredTimes": None, "conditional": True,
            "label": "hazardous cargo / aircraft"} in pd["caps"]                  # 001 L1088
    change = next(w for w in p["windows"] if w["kind"]["code"] == "DRIVER_CHANGE")
    assert change["liabilitySet"] == ["BI", "TEMPORARY_BI_EXPENSE", "PD", "EXCESS_REPAIR"]   # 001 L869
