"""Who is covered when driving (SPEC §4.5): driver restriction and age condition (pure).

Two independent tests, both at the accident date:
1. the driver restriction (運転者限定) scope must include the driver;
2. the age condition (運転者年齢条件) binds only the named insured, the spouse, cohabiting
   relatives of either and employees on the business of one of them; everybody else
   (friends, relatives living apart, unmarried children living apart) is covered at any age.
A driver outside either test is not covered, unless a provisional-cover window (SPEC §4.6,
not decided here) saves the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.calendar import age_on
from domain.vocab import AgeCondition, DriverRestriction, Labelled, Relationship, SpouseKind


class SpouseDefinition(Labelled):
    """Which partners a product's wording counts as "spouse" (配偶者). The product file declares it."""

    INCLUDES_PARTNERS = (
        "INCLUDES_PARTNERS",
        "内縁・同性パートナーを含む",
        "Includes de-facto and same-sex partners",
    )  # 001 L1142, 002b L2951-2955
    LEGAL_ONLY = (
        "LEGAL_ONLY",
        "法律上の配偶者のみ",
        "Legally married spouse only",
    )  # 002b L4115-4117


def counts_as_spouse(kind: SpouseKind | None, definition: SpouseDefinition) -> bool:
    """Does a partner of this kind count as the spouse under the product's definition?"""
    if kind is None or kind is SpouseKind.LEGAL:
        return True
    return definition is SpouseDefinition.INCLUDES_PARTNERS


class CoverReason(Labelled):
    COVERED = ("COVERED", "補償対象", "Covered")
    COVERED_AGE_NOT_BINDING = (
        "COVERED_AGE_NOT_BINDING",
        "年齢条件にかかわらず補償",
        "Covered: the age condition does not bind this driver",
    )
    OUTSIDE_DRIVER_RESTRICTION = (
        "OUTSIDE_DRIVER_RESTRICTION",
        "運転者限定の範囲外",
        "Not covered: driver outside the driver restriction",
    )
    UNDER_AGE_CONDITION = (
        "UNDER_AGE_CONDITION",
        "運転者年齢条件を満たさない",
        "Not covered: driver younger than the age condition",
    )


@dataclass(frozen=True, slots=True)
class CoverConditions:
    """What the contract version in force on the accident date says about drivers."""

    age_condition: AgeCondition
    driver_restriction: DriverRestriction
    spouse_definition: SpouseDefinition = SpouseDefinition.INCLUDES_PARTNERS
    # A corporate named insured has no household: the age condition binds every driver (002b L4660).
    named_insured_is_corporate: bool = False


@dataclass(frozen=True, slots=True)
class DriverFacts:
    """The driver at the accident, described relative to the named insured."""

    relationship: Relationship
    birth_date: date
    spouse_kind: SpouseKind | None = None  # only read when relationship is SPOUSE
    # Whose business the driver was working on (SELF / SPOUSE / COHABITING_RELATIVE), if any.
    # Relationship.EMPLOYEE already means "on the business of the household".
    on_business_for: Relationship | None = None


@dataclass(frozen=True, slots=True)
class CoverDecision:
    covered: bool
    reason_code: str
    reason: str
    rule_ref: str
    age_at_accident: int
    effective_relationship: Relationship  # after applying the spouse definition


_HOUSEHOLD = frozenset({Relationship.SELF, Relationship.SPOUSE, Relationship.COHABITING_RELATIVE})

# Who each restriction admits (001 L581-595 table; 004 L1198-1211; family as defined in
# 001 L1143 and 004 L1609: spouse, cohabiting relatives of either, unmarried children apart).
_SCOPE: dict[DriverRestriction, frozenset[Relationship]] = {
    DriverRestriction.NAMED_INSURED_ONLY: frozenset({Relationship.SELF}),
    DriverRestriction.NAMED_INSURED_AND_SPOUSE: frozenset({Relationship.SELF, Relationship.SPOUSE}),
    DriverRestriction.FAMILY: frozenset(
        {
            Relationship.SELF,
            Relationship.SPOUSE,
            Relationship.COHABITING_RELATIVE,
            Relationship.UNMARRIED_CHILD_APART,
        }
    ),
    DriverRestriction.NONE: frozenset(Relationship),
}

_RESTRICTION_REF = {
    DriverRestriction.NAMED_INSURED_ONLY: "001 L581-595; 004 L1198-1211",
    DriverRestriction.NAMED_INSURED_AND_SPOUSE: "001 L581-595; 002b L4672-4708; 004 L1198-1211",
    DriverRestriction.FAMILY: "001 L1143; 004 L1609",
    DriverRestriction.NONE: "001 L581-595",
}
_AGE_BINDS_REF = "001 L624; 002b L4672-4708; 004 L1220-1227"
_AGE_FREE_REF = "001 L617-622; 002b L4672-4708 (❹); 004 L1220"
_CORPORATE_REF = "002b L4660"


def effective_relationship(driver: DriverFacts, definition: SpouseDefinition) -> Relationship:
    """A partner the product does not count as spouse is nobody's relative: an 'other' driver."""
    if driver.relationship is Relationship.SPOUSE and not counts_as_spouse(
        driver.spouse_kind, definition
    ):
        return Relationship.OTHER
    return driver.relationship


def age_condition_binds(
    relationship: Relationship, on_business_for: Relationship | None, corporate: bool
) -> bool:
    """Named insured, spouse, cohabiting relatives, and anyone on the business of one of them.

    A friend or relative living apart who is also an employee on such business must meet the
    condition (002b L4670 注3); an unmarried child living apart is not among the bound people.
    """
    if corporate:
        return True
    return (
        relationship in _HOUSEHOLD
        or relationship is Relationship.EMPLOYEE
        or (on_business_for is not None and on_business_for in _HOUSEHOLD)
    )


def decide_cover(
    conditions: CoverConditions, driver: DriverFacts, accident_date: date
) -> CoverDecision:
    """Is this driver covered on the accident date under these contract conditions?"""
    rel = effective_relationship(driver, conditions.spouse_definition)
    age = age_on(driver.birth_date, accident_date)

    def decision(reason: CoverReason, covered: bool, ref: str) -> CoverDecision:
        return CoverDecision(covered, reason.value, reason.en, ref, age, rel)

    if rel not in _SCOPE[conditions.driver_restriction]:
        return decision(
            CoverReason.OUTSIDE_DRIVER_RESTRICTION,
            False,
            _RESTRICTION_REF[conditions.driver_restriction],
        )
    binds = age_condition_binds(rel, driver.on_business_for, conditions.named_insured_is_corporate)
    if not binds:
        return decision(CoverReason.COVERED_AGE_NOT_BINDING, True, _AGE_FREE_REF)
    ref = _CORPORATE_REF if conditions.named_insured_is_corporate else _AGE_BINDS_REF
    if age < conditions.age_condition.minimum_age:
        return decision(CoverReason.UNDER_AGE_CONDITION, False, ref)
    return decision(CoverReason.COVERED, True, ref)
