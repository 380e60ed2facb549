"""GraphQL view of a term's premium payment (SPEC §4.7): its instalments with their states and
its standing — delinquent since when, the rescission deadline, acceleration.

General path only: `Contract.payments` is not in the compiled read's tables, so a query that
selects it is answered by the resolvers (api/compiled.py falls back on the unknown field).
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.context import Context
from api.products.types import Label
from domain.services.payments import premiums as premium_payments
from domain.services.payments.premiums import TermPayments as DomainTermPayments
from domain.store.contract_read_repo import ContractDetail
from domain.store.payment_repo import InstalmentState, StoredInstalment


@strawberry.type(description="One premium instalment (分割保険料) of a term.")
class Instalment:
    model: strawberry.Private[StoredInstalment]
    as_of: strawberry.Private[dt.date]

    @strawberry.field(description="1 = the first premium.")
    def number(self) -> int:
        return self.model.number

    @strawberry.field(description="Its scheduled due day (払込期日).")
    def due_on(self) -> dt.date:
        return self.model.due_on

    @strawberry.field(description="Set when the rest of the term fell due at once (002b L5134-5135).")
    def accelerated_on(self) -> dt.date | None:
        return self.model.accelerated_on

    @strawberry.field
    def amount_yen(self) -> int:
        return self.model.amount_yen

    @strawberry.field(description="The extra premium of a vehicle-swap or driver-change filing, not the term's own "
                                  "schedule: the window's cover waits for its payment (002b L4111-4112, L4143).")
    def extra_premium(self) -> bool:
        return self.model.transaction_id is not None

    @strawberry.field(description="DUE, OVERDUE, PAID or VOID (stored state; PAID only if paid by asOf).")
    def state(self) -> Label:
        m = self.model
        if m.state is InstalmentState.PAID and m.paid_on is not None and m.paid_on > self.as_of:
            return Label.of(InstalmentState.OVERDUE if m.effective_due_on < self.as_of else InstalmentState.DUE)
        return Label.of(m.state)

    @strawberry.field
    def paid_on(self) -> dt.date | None:
        p = self.model.paid_on
        return p if p is not None and p <= self.as_of else None

    @strawberry.field(description="How it was paid: bank debit, card or transfer.")
    def paid_by(self) -> Label | None:
        m = self.model
        return Label.of(m.paid_by) if m.paid_by is not None and m.paid_on is not None and m.paid_on <= self.as_of else None

    @strawberry.field(description="The day of its last failed debit.")
    def debit_failed_on(self) -> dt.date | None:
        return self.model.debit_failed_on

    @strawberry.field(description="The last failed debit was not the policyholder's fault: deadline end of M+2 (001 L833).")
    def not_at_fault(self) -> bool:
        return self.model.not_at_fault


@strawberry.type(description="Premium payment of one term on a day: schedule and standing (SPEC §4.7).")
class TermPayments:
    model: strawberry.Private[DomainTermPayments]

    @strawberry.field
    def term_no(self) -> int:
        return self.model.term_no

    @strawberry.field(description="Single payment (一時払) or monthly instalments.")
    def plan(self) -> Label:
        return Label.of(self.model.plan)

    @strawberry.field(description="The day the standing is for (asOf's date).")
    def on(self) -> dt.date:
        return self.model.on

    @strawberry.field
    def total_yen(self) -> int:
        return self.model.total_yen

    @strawberry.field
    def paid_yen(self) -> int:
        return self.model.paid_yen

    @strawberry.field(description="Overdue now; with an acceleration, everything left.")
    def amount_due_now_yen(self) -> int:
        return self.model.standing.amount_due_now

    @strawberry.field(description="CURRENT, DELINQUENT (overdue, in grace) or RESCINDABLE (past the deadline).")
    def state(self) -> Label:
        return Label.of(self.model.standing.state)

    @strawberry.field(description="What claims get: payable, held for the premium, or not payable.")
    def claims(self) -> Label:
        return Label.of(self.model.standing.claims)

    @strawberry.field(description="The due day of the oldest unpaid instalment.")
    def delinquent_since(self) -> dt.date | None:
        return self.model.delinquent_since

    @strawberry.field(description="Last day to pay it: end of M+1, M+2 when not at fault (001 L833; 002b L5131).")
    def rescission_deadline(self) -> dt.date | None:
        return self.model.standing.rescission_deadline

    @strawberry.field
    def not_at_fault(self) -> bool:
        return self.model.not_at_fault

    @strawberry.field
    def first_premium_unpaid(self) -> bool:
        return self.model.standing.first_premium_unpaid

    @strawberry.field(description="The first premium was never paid by its deadline: no cover from day one.")
    def no_cover_from_start(self) -> bool:
        return self.model.standing.no_cover_from_start

    @strawberry.field(description="Runs of two or more consecutive failed debits in the term.")
    def missed_debit_runs(self) -> int:
        return self.model.standing.missed_debit_runs

    @strawberry.field(description="The rest of the term is due at once (002b L5134-5135).")
    def accelerated(self) -> bool:
        return self.model.standing.accelerated

    @strawberry.field
    def accelerated_on(self) -> dt.date | None:
        return self.model.standing.accelerated_on

    @strawberry.field(description="Why, in words, with the pamphlet lines.")
    def reasons(self) -> list[str]:
        return list(self.model.standing.reasons)

    @strawberry.field
    def instalments(self) -> list[Instalment]:
        return [Instalment(model=i, as_of=self.model.on) for i in self.model.instalments]


async def payments_of(info: Info[Context, None], detail: ContractDetail, as_of: dt.datetime) -> TermPayments | None:
    """`Contract.payments`: the instalments of every contract of the request in one statement."""
    ctx = info.context
    loaders = ctx.loaders
    if "payments" not in loaders:
        async def load(ids: list[int]) -> list[list[StoredInstalment]]:
            found = await premium_payments.instalments_of(ctx.pool, ids)
            return [found.get(i, []) for i in ids]

        loaders["payments"] = DataLoader(load_fn=load)
    rows = await loaders["payments"].load(detail.contract.id)
    found = premium_payments.payments_at(rows, detail.terms, as_of)
    return None if found is None else TermPayments(model=found)
