from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import RuleError
from domain.covered import (
    CoverConditions,
    CoverReason,
    DriverFacts,
    SpouseDefinition,
    counts_as_spouse,
    decide_cover,
)
from domain.vocab import AgeCondition, DriverRestriction, Relationship, SpouseKind

ACCIDENT = date(2026, 6, 10)


def born_aged(age: int) -> date:
    """A birth date giving exactly `age` on ACCIDENT (birthday a month earlier)."""
    return date(ACCIDENT.year - age, 5, 10)


def cover(rel, age, *, cond=AgeCondition.ANY, restr=DriverRestriction.NONE, **kw):
    driver_kw = {k: kw.pop(k) for k in ("spouse_kind", "on_business_for") if k in kw}
    conditions = CoverConditions(cond, restr, **kw)
    return decide_cover(conditions, DriverFacts(rel, born_aged(age), **driver_kw), ACCIDENT)


# --- the age-condition matrix, 001 L617-622 (同居の親族 vs 同居の親族以外の方) -----------------

MATRIX = {
    # condition: (≤20, 21–25, 26–34, ≥35) for a cohabiting relative — 001 L617-622
    AgeCondition.AGE_35: (False, False, False, True),
    AgeCondition.AGE_26: (False, False, True, True),
    AgeCondition.AGE_21: (False, True, True, True),
    AgeCondition.ANY: (True, True, True, True),
}
SAMPLE_AGES = ((18, 20), (21, 25), (26, 34), (35, 70))


@pytest.mark.parametrize("cond", list(MATRIX))
@pytest.mark.parametrize("column", range(4))
def test_age_matrix_binds_cohabiting_relatives(cond, column):
    # 001 L617-622 (table), L624 (注) 同居の親族 = 記名被保険者、配偶者、同居の親族
    for age in SAMPLE_AGES[column]:
        for rel in (Relationship.SELF, Relationship.SPOUSE, Relationship.COHABITING_RELATIVE):
            d = cover(rel, age, cond=cond)
            assert d.covered is MATRIX[cond][column], (cond, age, rel)
            if not d.covered:
                assert d.reason_code == CoverReason.UNDER_AGE_CONDITION
                assert "001 L624" in d.rule_ref


@pytest.mark.parametrize("cond", list(MATRIX))
@pytest.mark.parametrize("age", [17, 20, 25, 34])
def test_friends_covered_at_any_age(cond, age):
    # 001 L617-622 「同居の親族以外の方(友人など)」年齢を問わず補償; 004 L1220 ※
    d = cover(Relationship.OTHER, age, cond=cond)
    assert d.covered
    assert d.reason_code == CoverReason.COVERED_AGE_NOT_BINDING


def test_unmarried_child_living_apart_not_bound_by_age():
    # Not in the bound list of 001 L624 (注), 004 L1222-1227, 002b L4672-4708 ❹ (別居の親族)
    d = cover(Relationship.UNMARRIED_CHILD_APART, 19, cond=AgeCondition.AGE_35)
    assert d.covered and d.reason_code == CoverReason.COVERED_AGE_NOT_BINDING


def test_age_taken_on_the_accident_date():
    relative = DriverFacts(Relationship.COHABITING_RELATIVE, date(2005, 6, 10))
    cond = CoverConditions(AgeCondition.AGE_21, DriverRestriction.NONE)
    assert not decide_cover(cond, relative, date(2026, 6, 9)).covered
    d = decide_cover(cond, relative, date(2026, 6, 10))
    assert d.covered and d.age_at_accident == 21


# --- employees on business --------------------------------------------------------------


def test_employee_on_business_must_meet_age_condition():
    # 001 L603 ※, L624 (注) 業務に従事中の使用人を含みます; 004 L1227 ④
    d = cover(Relationship.EMPLOYEE, 20, cond=AgeCondition.AGE_21)
    assert not d.covered and d.reason_code == CoverReason.UNDER_AGE_CONDITION
    assert cover(Relationship.EMPLOYEE, 21, cond=AgeCondition.AGE_21).covered


def test_friend_working_on_household_business_is_bound():
    # 002b L4670 (注3) ❹の方が❺に該当する場合は、運転者年令条件を満たした場合に補償
    d = cover(Relationship.OTHER, 20, cond=AgeCondition.AGE_21, on_business_for=Relationship.SELF)
    assert not d.covered and d.reason_code == CoverReason.UNDER_AGE_CONDITION
    assert cover(Relationship.OTHER, 20, cond=AgeCondition.AGE_21).covered


def test_corporate_named_insured_binds_every_driver():
    # 002b L4660 ※記名被保険者が法人の場合は、運転するすべての方に運転者年令条件が適用
    d = cover(Relationship.OTHER, 20, cond=AgeCondition.AGE_21, named_insured_is_corporate=True)
    assert not d.covered and d.rule_ref == "002b L4660"


# --- driver restriction scope -----------------------------------------------------------

RESTRICTION_TABLE = {
    # (SELF, SPOUSE, COHABITING_RELATIVE, EMPLOYEE, OTHER): 001 L581-595, 004 L1208-1211
    DriverRestriction.NAMED_INSURED_ONLY: (True, False, False, False, False),
    DriverRestriction.NAMED_INSURED_AND_SPOUSE: (True, True, False, False, False),
    DriverRestriction.NONE: (True, True, True, True, True),
}
TABLE_RELS = (
    Relationship.SELF,
    Relationship.SPOUSE,
    Relationship.COHABITING_RELATIVE,
    Relationship.EMPLOYEE,
    Relationship.OTHER,
)


@pytest.mark.parametrize("restr", list(RESTRICTION_TABLE))
def test_restriction_table(restr):
    # 001 L581-595 本人限定/本人・配偶者限定/限定なし; 004 L1208-1211 (①〜⑤)
    for rel, expected in zip(TABLE_RELS, RESTRICTION_TABLE[restr]):
        d = cover(rel, 40, restr=restr)
        assert d.covered is expected, (restr, rel)
        if not expected:
            assert d.reason_code == CoverReason.OUTSIDE_DRIVER_RESTRICTION


def test_family_restriction_admits_unmarried_child_apart_but_not_friends():
    # family = spouse, cohabiting relatives, unmarried children living apart (001 L1143, 004 L1609)
    assert cover(Relationship.UNMARRIED_CHILD_APART, 19, restr=DriverRestriction.FAMILY).covered
    assert cover(Relationship.COHABITING_RELATIVE, 40, restr=DriverRestriction.FAMILY).covered
    assert not cover(Relationship.OTHER, 40, restr=DriverRestriction.FAMILY).covered
    assert not cover(Relationship.EMPLOYEE, 40, restr=DriverRestriction.FAMILY).covered


def test_restriction_and_age_both_apply():
    # 002b L4672-4708: 本人・配偶者限定 ✓ only "if the age condition is met"
    d = cover(
        Relationship.SPOUSE,
        20,
        cond=AgeCondition.AGE_26,
        restr=DriverRestriction.NAMED_INSURED_AND_SPOUSE,
    )
    assert not d.covered and d.reason_code == CoverReason.UNDER_AGE_CONDITION


def test_unmarried_child_apart_outside_spouse_restriction():
    # 002b L4672-4708: ❹ × under 本人・配偶者限定
    d = cover(
        Relationship.UNMARRIED_CHILD_APART, 30, restr=DriverRestriction.NAMED_INSURED_AND_SPOUSE
    )
    assert not d.covered and d.reason_code == CoverReason.OUTSIDE_DRIVER_RESTRICTION


# --- spouse definition is a product parameter -------------------------------------------


def test_de_facto_partner_is_spouse_where_product_says_so():
    # 001 L1142 配偶者…内縁の相手方および同性パートナーを含みます
    d = cover(
        Relationship.SPOUSE,
        40,
        restr=DriverRestriction.NAMED_INSURED_AND_SPOUSE,
        spouse_kind=SpouseKind.DE_FACTO,
        spouse_definition=SpouseDefinition.INCLUDES_PARTNERS,
    )
    assert d.covered and d.effective_relationship is Relationship.SPOUSE


def test_de_facto_partner_is_not_spouse_under_legal_only_definition():
    # 002b L4115-4117 (注2) 婚姻の届出をしていない…方…は含みません
    d = cover(
        Relationship.SPOUSE,
        40,
        restr=DriverRestriction.NAMED_INSURED_AND_SPOUSE,
        spouse_kind=SpouseKind.DE_FACTO,
        spouse_definition=SpouseDefinition.LEGAL_ONLY,
    )
    assert not d.covered and d.effective_relationship is Relationship.OTHER
    # without a restriction such a partner is an "other" driver: covered at any age
    d = cover(
        Relationship.SPOUSE,
        19,
        cond=AgeCondition.AGE_26,
        spouse_kind=SpouseKind.DE_FACTO,
        spouse_definition=SpouseDefinition.LEGAL_ONLY,
    )
    assert d.covered and d.reason_code == CoverReason.COVERED_AGE_NOT_BINDING


def test_counts_as_spouse():
    assert counts_as_spouse(SpouseKind.LEGAL, SpouseDefinition.LEGAL_ONLY)
    assert counts_as_spouse(None, SpouseDefinition.LEGAL_ONLY)
    assert counts_as_spouse(SpouseKind.DE_FACTO, SpouseDefinition.INCLUDES_PARTNERS)
    assert not counts_as_spouse(SpouseKind.DE_FACTO, SpouseDefinition.LEGAL_ONLY)


def test_decision_carries_labels_and_reference():
    d = cover(Relationship.SELF, 40)
    assert d.reason_code == "COVERED" and d.reason and d.rule_ref


def test_accident_before_birth_refused():
    cond = CoverConditions(AgeCondition.ANY, DriverRestriction.NONE)
    with pytest.raises(RuleError):
        decide_cover(cond, DriverFacts(Relationship.SELF, date(2030, 1, 1)), ACCIDENT)


# --- properties -------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(list(Relationship)),
    st.integers(min_value=16, max_value=90),
    st.sampled_from(list(AgeCondition)),
    st.sampled_from(list(DriverRestriction)),
    st.sampled_from([None, *SpouseKind]),
    st.sampled_from(list(SpouseDefinition)),
)
def test_cover_properties(rel, age, cond, restr, kind, definition):
    d = cover(rel, age, cond=cond, restr=restr, spouse_kind=kind, spouse_definition=definition)
    assert d.reason_code in {r.value for r in CoverReason}
    assert d.covered == (d.reason_code in ("COVERED", "COVERED_AGE_NOT_BINDING"))
    # the most permissive contract covers everyone
    if cond is AgeCondition.ANY and restr is DriverRestriction.NONE:
        assert d.covered
    # the named insured is always in scope; only the age can refuse them
    if rel is Relationship.SELF:
        assert d.covered == (age >= cond.minimum_age)
    # raising the age never loses cover
    assert (
        cover(
            rel, age + 10, cond=cond, restr=restr, spouse_kind=kind, spouse_definition=definition
        ).covered
        >= d.covered
    )
