"""無事故祝金 (aioi 長期保険料分割払の無事故返戻金特約, 002a L2264-2277)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from domain.no_claims_refund import decide
from domain.rating import DiscountFacts, RatingError, rate
from domain.vocab import PaymentMethod
from tests.unit.test_rating_support import AIOI, base_quote, product

RIDER = "NO_CLAIMS_REFUND_LONG"


def test_ten_percent_of_the_first_year_paid_the_month_after_expiry() -> None:
    # 002a L2268: 第1保険年度の年額保険料10%の金額を満期日翌月の金融機関所定の期日にお支払い
    d = decide(123_456, Decimal("0.10"), expiry=date(2029, 4, 10), ran_to_expiry=True, paid_in_full=True, accidents=0)
    assert d.payable and d.amount_yen == 12_345 and d.pay_on == date(2029, 5, 27)


@pytest.mark.parametrize(("ran", "paid", "accidents"), [(False, True, 0), (True, False, 0), (True, True, 1)])
def test_every_condition_is_needed(ran: bool, paid: bool, accidents: int) -> None:
    # 002a L2270-2271: 保険期間が満了し、保険料を全額払込み; 保険期間中、事故がないこと
    d = decide(100_000, Decimal("0.10"), expiry=date(2029, 4, 10), ran_to_expiry=ran, paid_in_full=paid,
               accidents=accidents)
    assert not d.payable and d.amount_yen == 0 and d.pay_on is None and d.reasons


def test_the_rider_is_for_long_term_instalments_without_the_telematics_plan() -> None:
    # 002a L2264-2265: 長期保険料分割払; つながるプランは選択いただけません
    q = replace(base_quote(AIOI), term_months=36, payment_method=PaymentMethod.MONTHLY, riders=(RIDER,))
    assert RIDER in rate(product(AIOI), q).riders
    for bad, code in ((replace(q, term_months=12), "NOT_ELIGIBLE_RIDER_TERM"),
                      (replace(q, payment_method=PaymentMethod.ANNUAL), "NOT_ELIGIBLE_RIDER_TERM"),
                      (replace(q, discounts=DiscountFacts(telematics_plan=True)), "RIDER_CONFLICT")):
        with pytest.raises(RatingError) as e:
            rate(product(AIOI), bad)
        assert e.value.code == code
