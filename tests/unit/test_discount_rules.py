from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import RuleError, YearMonth, age_on
from domain.discount_rules import (
    AgeBand,
    EnvironmentDiscount,
    NewCarBand,
    age_band,
    asv_eligible,
    asv_last_start,
    eco_or_welfare,
    eco_window_open,
    gold_licence_applies,
    group_scheme_active,
    months_since_first_registration,
    multi_car_rate_key,
    new_car_band,
    no_accident_discount_kept,
    pick_band,
    telematics_band,
)
from domain.vocab import LicenceColour

# --- named-insured age bands ------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (18, AgeBand.UP_TO_29),
        (29, AgeBand.UP_TO_29),
        (30, AgeBand.THIRTIES),
        (39, AgeBand.THIRTIES),
        (40, AgeBand.FORTIES),
        (49, AgeBand.FORTIES),
        (50, AgeBand.FIFTIES),
        (59, AgeBand.FIFTIES),
        (60, AgeBand.AGE_60_64),
        (64, AgeBand.AGE_60_64),
        (65, AgeBand.AGE_65_69),
        (69, AgeBand.AGE_65_69),
        (70, AgeBand.AGE_70_74),
        (74, AgeBand.AGE_70_74),
        (75, AgeBand.AGE_75_79),
        (79, AgeBand.AGE_75_79),
        (80, AgeBand.AGE_80_PLUS),
        (104, AgeBand.AGE_80_PLUS),
    ],
)
def test_age_band_boundaries(age, band):
    # 001 L626 「29才以下」…「80才以上」; 002b L4599-4616 same nine bands
    assert age_band(age) is band


def test_age_band_uses_age_on_start_date():
    # 001 L626 記名被保険者の保険始期日時点の年齢
    birth = date(1996, 4, 2)
    assert age_band(age_on(birth, date(2026, 4, 1))) is AgeBand.UP_TO_29
    assert age_band(age_on(birth, date(2026, 4, 2))) is AgeBand.THIRTIES


def test_age_band_refuses_negative():
    with pytest.raises(RuleError):
        age_band(-1)


# --- new-car month counting -------------------------------------------------------------


def test_new_car_months_count_from_month_after_registration():
    # 001 L752 「初度登録(検査)年月の翌月から起算して」: the next month is month 1
    first = YearMonth(2024, 3)
    assert months_since_first_registration(first, date(2024, 4, 1)) == 1
    assert months_since_first_registration(first, date(2024, 4, 30)) == 1
    assert months_since_first_registration(first, date(2024, 3, 20)) == 0  # registration month


@pytest.mark.parametrize(
    ("start", "band"),
    [
        (date(2026, 4, 1), NewCarBand.UP_TO_25_MONTHS),  # month 25
        (date(2026, 5, 1), NewCarBand.MONTHS_26_49),  # month 26
        (date(2028, 4, 30), NewCarBand.MONTHS_26_49),  # month 49
        (date(2028, 5, 1), None),  # month 50
    ],
)
def test_new_car_bands_rakuten_and_tokio(start, band):
    # 001 L758-763 「25か月以内」「26～49か月以内」; 004 L1532 49か月以内, L1562-1567
    assert new_car_band(YearMonth(2024, 3), start) is band


def test_start_before_registration_refused():
    with pytest.raises(RuleError) as e:
        months_since_first_registration(YearMonth(2024, 3), date(2024, 2, 29))
    assert e.value.code == "START_BEFORE_FIRST_REGISTRATION"


def test_eco_window_13_months():
    # 002b L4846-4847 and 004 L1535: 翌月から起算して13か月以内
    first = YearMonth(2025, 1)
    assert eco_window_open(first, date(2026, 2, 28))  # month 13
    assert not eco_window_open(first, date(2026, 3, 1))  # month 14


# --- ASV / automatic braking ------------------------------------------------------------


def test_asv_release_april_2022():
    # 001 L704-709: release 2022-04 → start on or before 2025-12-31
    release = YearMonth(2022, 4)
    assert asv_last_start(release) == date(2025, 12, 31)
    assert asv_eligible(release, date(2025, 12, 31))
    assert not asv_eligible(release, date(2026, 1, 1))


def test_asv_release_january_2023_is_fiscal_2022():
    # 001 L711-716: release 2023-01 → also 2025-12-31
    release = YearMonth(2023, 1)
    assert asv_last_start(release) == date(2025, 12, 31)
    assert asv_eligible(release, date(2025, 12, 31))
    assert not asv_eligible(release, date(2026, 1, 1))


def test_asv_fiscal_year_turns_in_april():
    # 002b L4845, 004 L1533: 発売された年度(4月始まり)に3を加算した年の12月末以前
    assert asv_last_start(YearMonth(2023, 3)) == date(2025, 12, 31)
    assert asv_last_start(YearMonth(2023, 4)) == date(2026, 12, 31)


# --- no-accident 5% (rakuten) -----------------------------------------------------------

PREV_END = date(2026, 3, 31)


def test_no_accident_kept_at_seven_day_gap():
    # 001 L722 「始期日が前契約の満期日・解約日から8日以上過ぎた場合…は除きます」
    assert no_accident_discount_kept(PREV_END, date(2026, 4, 7), False, True)


def test_no_accident_lost_at_eight_day_gap():
    # 001 L722
    assert not no_accident_discount_kept(PREV_END, date(2026, 4, 8), False, True)


def test_no_accident_kept_on_seamless_renewal():
    assert no_accident_discount_kept(PREV_END, PREV_END, False, True)


def test_no_accident_lost_with_interruption_certificate():
    # 001 L722 「中断証明書を適用する場合は除きます」
    assert not no_accident_discount_kept(PREV_END, date(2026, 4, 1), True, True)


def test_no_accident_needs_a_previous_term_of_a_year():
    # 001 L722 「前契約…の保険期間が1年以上」
    assert not no_accident_discount_kept(PREV_END, date(2026, 4, 1), False, False)
    assert not no_accident_discount_kept(None, date(2026, 4, 1), False, True)


def test_no_accident_lost_after_a_counted_accident():
    # 001 L722 事故(ノーカウント事故を除きます)がない場合
    assert not no_accident_discount_kept(
        PREV_END, date(2026, 4, 1), False, True, prev_term_had_counted_accident=True
    )


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2050, 1, 1)), st.integers(0, 60))
def test_no_accident_gap_rule_property(prev_end, gap):
    assert no_accident_discount_kept(prev_end, prev_end + timedelta(days=gap), False, True) == (
        gap <= 7
    )


# --- gold licence -----------------------------------------------------------------------


def test_gold_licence_on_start_date():
    # 001 L730 保険始期日時点で…「ゴールド」の場合; 004 L1544
    assert gold_licence_applies(LicenceColour.GOLD)
    assert not gold_licence_applies(LicenceColour.BLUE)
    assert not gold_licence_applies(LicenceColour.GREEN)


def test_gold_licence_assumed_when_eligible_but_not_renewed():
    # 004 L1544 ※ ゴールド免許証を保有していない場合でも…適用できる場合があります
    assert gold_licence_applies(LicenceColour.BLUE, gold_eligible_at_renewal=True)
    assert not gold_licence_applies(LicenceColour.GREEN, gold_eligible_at_renewal=True)


# --- group scheme -----------------------------------------------------------------------


def test_group_scheme_dates_inclusive():
    # 004 L160 2026年4月1日～翌年3月31日までの始期の契約に適用
    frm, to = date(2026, 4, 1), date(2027, 3, 31)
    assert group_scheme_active(date(2026, 4, 1), frm, to)
    assert group_scheme_active(date(2027, 3, 31), frm, to)
    assert not group_scheme_active(date(2026, 3, 31), frm, to)
    assert not group_scheme_active(date(2027, 4, 1), frm, to)


def test_group_scheme_reversed_dates_refused():
    with pytest.raises(RuleError) as e:
        group_scheme_active(date(2026, 5, 1), date(2027, 3, 31), date(2026, 4, 1))
    assert e.value.code == "DATES_OUT_OF_ORDER"


# --- multi-car --------------------------------------------------------------------------

RAKUTEN_MULTI = [(2, 2), (3, None)]  # 001 L738-746: 2台 1%, 3台以上 5%
AIOI_TOKIO_MULTI = [(2, 2), (3, 5), (6, None)]  # 002b L4894-4896, 004 L1546: 3%/4%/6%


@pytest.mark.parametrize(("cars", "key"), [(1, None), (2, 0), (3, 1), (9, 1)])
def test_multi_car_rakuten(cars, key):
    # 001 L738-746
    assert multi_car_rate_key(cars, RAKUTEN_MULTI) == key


@pytest.mark.parametrize(("cars", "key"), [(1, None), (2, 0), (3, 1), (5, 1), (6, 2), (40, 2)])
def test_multi_car_aioi_tokio(cars, key):
    # 002b L4894-4896, 004 L1546 「2台: 3% 3~5台: 4% 6台以上: 6%」
    assert multi_car_rate_key(cars, AIOI_TOKIO_MULTI) == key


@pytest.mark.parametrize(
    "bands", [[(2, 3), (3, None)], [(3, None), (5, 6)], [(4, 2)], [(3, 2), (1, 1)]]
)
def test_bad_bands_refused(bands):
    with pytest.raises(RuleError) as e:
        pick_band(3, bands)
    assert e.value.code == "INVALID_BANDS"


# --- telematics -------------------------------------------------------------------------

AIOI_SCORE = [(0, 59), (60, 79), (80, None)]  # 002a L1082-1101: C / B / A → 0 / 4 / 8%


@pytest.mark.parametrize(("score", "key"), [(0, 0), (59, 0), (60, 1), (79, 1), (80, 2), (100, 2)])
def test_telematics_aioi(score, key):
    # 002a L1082-1116 80点以上 A, 60〜79点 B, 59点以下 C
    assert telematics_band(score, AIOI_SCORE) == key


def test_telematics_tokio_driving_score():
    # 004 L1547 運転性向スコアが80点以上 → 5%
    assert telematics_band(80, [(80, None)]) == 0
    assert telematics_band(79, [(80, None)]) is None


def test_telematics_without_score_and_bad_score():
    # 002a L1106-1108: no category → the product prices it (like B)
    assert telematics_band(None, AIOI_SCORE) is None
    with pytest.raises(RuleError):
        telematics_band(101, AIOI_SCORE)


# --- ECO vs welfare ---------------------------------------------------------------------


def test_welfare_wins_over_eco():
    # 002b L4812 (注1) 共に満たす場合は、福祉車両割引を適用; 004 L1535 ※
    assert eco_or_welfare(True, True, welfare_wins=True) is EnvironmentDiscount.WELFARE
    assert eco_or_welfare(True, True, welfare_wins=False) is EnvironmentDiscount.ECO
    assert eco_or_welfare(True, False, welfare_wins=True) is EnvironmentDiscount.ECO
    assert eco_or_welfare(False, True, welfare_wins=False) is EnvironmentDiscount.WELFARE
    assert eco_or_welfare(False, False, welfare_wins=True) is None
    assert eco_or_welfare(True, True, True) == "WELFARE"
