"""Grade impact of one claim: 3-down / 1-down / no-count from what it paid (SPEC §4.2, §4.8).

Pure. The classification itself is `domain.grade_accidents.classify_accident`; this module maps
the product files' coverage and rider codes onto its vocabulary, applies a staff override (with
a reason) and withdrawal. Products without grades (kyosai) have no grade impact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.calendar import RuleError
from domain.claims.workflow import ActorRole
from domain.grade_accidents import (
    AccidentClassification,
    Coverage,
    NoFault,
    VehicleCause,
    classify_accident,
)
from domain.products.model import Product
from domain.vocab import AccidentClass

# Product coverage / rider code → grade vocabulary. Codes not here count as Coverage.OTHER,
# which classifies as 3-down: an unknown payment never silently becomes no-count.
PRODUCT_CODES: Mapping[str, Coverage] = {
    "BI": Coverage.BI,
    "PD": Coverage.PD,
    "EXCESS_REPAIR": Coverage.PD_EXCESS_REPAIR,
    "TEMPORARY_BI_EXPENSE": Coverage.BI_SPECIAL_EXPENSE,
    "PI": Coverage.PI,
    "PIP": Coverage.PI,
    "PIP_EMERGENCY_SUPPORT": Coverage.PI,          # paid under PIP (001 L369-383)
    "PIP_OUTSIDE_VEHICLE": Coverage.PI,
    "PI_CONVEYANCE": Coverage.PI_CONVEYANCE,
    "PEDESTRIAN_INJURY": Coverage.PEDESTRIAN,
    "PASSENGER": Coverage.PASSENGER,
    "PASSENGER_DOUBLE_MEDICAL": Coverage.PASSENGER,
    "PASSENGER_DEATH_DISABILITY": Coverage.PASSENGER,
    "HOSPITAL_SELECT_ASSIST": Coverage.HOSPITAL_EXPENSES,
    "UNINSURED_MOTORIST": Coverage.UNINSURED,
    "SELF_INJURY": Coverage.UNINSURED,             # 自損傷害: no-count with PI-type riders (002b L4775)
    "VEHICLE": Coverage.VEHICLE,
    "NEW_CAR_REPLACEMENT": Coverage.VEHICLE_NEW_CAR,
    "TOTAL_LOSS_EXPENSE": Coverage.VEHICLE,        # follows the vehicle payment it rides on
    "IN_CAR_BELONGINGS": Coverage.BELONGINGS,
    "ROAD_ASSISTANCE": Coverage.ROAD_SERVICE,
    "ROAD_SERVICE": Coverage.ROAD_SERVICE,
    "ROAD_RENTAL_PACKAGE": Coverage.ROAD_SERVICE,
    "RENTAL_CAR": Coverage.RENTAL_CAR,
    "REPLACEMENT_CAR_EXTENSION": Coverage.RENTAL_CAR,
    "LAWYER_FEES": Coverage.LAWYER,
    "LAWYER_AUTO": Coverage.LAWYER,
    "PERSONAL_LIABILITY": Coverage.PERSONAL_LIABILITY,
    "FAMILY_BICYCLE": Coverage.PERSONAL_LIABILITY,
    "FAMILY_BIKE": Coverage.FAMILY_BIKE,
    "FAMILY_BIKE_PIP": Coverage.FAMILY_BIKE,
    "FAMILY_BIKE_SELF": Coverage.FAMILY_BIKE,
    "EARTHQUAKE_FIXED_SUM": Coverage.EARTHQUAKE_FIXED,
    "EARTHQUAKE_LUMP_SUM": Coverage.EARTHQUAKE_FIXED,
    "VICTIM_RELIEF_HACKING": Coverage.VICTIM_RELIEF,
    "VICTIM_RELIEF_INCAPACITY": Coverage.VICTIM_RELIEF,
    "INSANITY_VICTIM": Coverage.VICTIM_RELIEF,
    # aioi (002b L4761-4810) and tokio (004 L1593-1594) riders
    "REMOTE_VICTIM_EXPENSE": Coverage.REMOTE_VICTIM,
    "TOTAL_LOSS_EXPENSE_DOUBLE": Coverage.VEHICLE,  # follows the vehicle payment it rides on
    "RESTORATION": Coverage.VEHICLE,                # pays the vehicle claim on its basis
    "RECOVERY_COST": Coverage.VEHICLE,
    "NEW_VALUE": Coverage.VEHICLE,                  # the no-fault rule covers new-value payments (004 L995-1002)
    "BREAKDOWN": Coverage.BREAKDOWN,                # 1-down (004 L1593 ①)
    "OTHER_CAR_DRIVING": Coverage.OTHER_CAR_VEHICLE,
    "TRAFFIC_ACCIDENT": Coverage.TRAFFIC_ACCIDENT,
    "PI_EXPENSES": Coverage.HOSPITAL_EXPENSES,
    "INJURY_LUMP_SUM": Coverage.INJURY_LUMP_SUM,
    "INJURY_LUMP_SUM_FLAT": Coverage.INJURY_LUMP_SUM,
    "INJURY_LUMP_SUM_DOUBLE": Coverage.INJURY_LUMP_SUM,
    "PASSENGER_LUMP_SUM": Coverage.PASSENGER,
    "PASSENGER_LUMP_SUM_DOUBLE": Coverage.PASSENGER,
    "LAWYER_DAILY_LIFE": Coverage.LAWYER,
    "LAWYER_BICYCLE": Coverage.LAWYER,
    "BICYCLE_LIABILITY": Coverage.PERSONAL_LIABILITY,
    "FAMILY_BIKE_PI": Coverage.FAMILY_BIKE,
    "FAMILY_BIKE_SELF_UM": Coverage.FAMILY_BIKE,
    "PERSONAL_BELONGINGS": Coverage.PERSONAL_BELONGINGS,
    "BUSINESS_CARGO_500K": Coverage.BUSINESS_CARGO,
    "BUSINESS_CARGO_1M": Coverage.BUSINESS_CARGO,
    "BUSINESS_CARGO_2M": Coverage.BUSINESS_CARGO,
    "CARRIER_CARGO": Coverage.CARRIER_CARGO_LIABILITY,
    "CORPORATE_CONDOLENCE": Coverage.CONDOLENCE,
    "SELF_ACCIDENT_INJURY": Coverage.UNINSURED,     # tokio 自損事故傷害: no-count like aioi 自損傷害 (002b L4775)
}


def grade_coverage(code: str) -> Coverage:
    return PRODUCT_CODES.get(code, Coverage.OTHER)


@dataclass(frozen=True, slots=True)
class GradeOverride:
    accident_class: AccidentClass | None      # None: staff decide it does not count at all
    reason: str
    role: ActorRole


@dataclass(frozen=True, slots=True)
class ClaimGradeImpact:
    """What the claim does to the next renewal. `accident_class` None: not counted."""

    accident_class: AccidentClass | None
    computed: AccidentClassification | None   # None for products without grades
    overridden: bool
    reason: str

    @property
    def counts(self) -> bool:
        return self.accident_class in (AccidentClass.THREE_DOWN, AccidentClass.ONE_DOWN)


def claim_grade_impact(
    product: Product,
    paid_coverages: Iterable[str],
    *,
    vehicle_cause: VehicleCause | None = None,
    no_fault: NoFault = NoFault.NONE,
    withdrawn: bool = False,
    override: GradeOverride | None = None,
) -> ClaimGradeImpact:
    """Class of a claim from the product codes it paid under. Withdrawal wins over everything
    (the policyholder paid it back: not counted, SPEC §4.2); then a staff override with a
    reason; otherwise the computed class with its precedence 3-down > 1-down > no-count."""
    if not product.graded:
        return ClaimGradeImpact(None, None, False, f"{product.id} has no grades (003)")
    if override is not None:
        if not override.role.is_staff:
            raise RuleError("ACTION_NOT_ALLOWED", "override", "only staff may override a grade class")
        if not override.reason.strip():
            raise RuleError("REASON_REQUIRED", "reason", "a grade override needs a reason")
    codes = sorted(set(paid_coverages))
    computed = classify_accident(
        [grade_coverage(c) for c in codes],
        vehicle_cause=vehicle_cause,
        no_fault=no_fault,
        withdrawn=withdrawn,
    )
    if withdrawn:
        return ClaimGradeImpact(None, computed, False, computed.reason)
    if override is not None:
        label = override.accident_class.en if override.accident_class else "not counted"
        return ClaimGradeImpact(override.accident_class, computed, True,
                                f"staff override to {label}: {override.reason.strip()} "
                                f"(computed: {computed.reason})")
    return ClaimGradeImpact(computed.accident_class, computed, False, computed.reason)
