"""Payment mutations (SPEC §4.7): `recordPayment` and `recordDebitResult`.

Staff, admin or the system record money; an agent or a policyholder is refused (FORBIDDEN) on a
contract they see, and sees CONTRACT_NOT_FOUND for one they do not. Like every mutation: one
`input` with idempotencyKey and dryRun, userErrors with stable codes, one transaction
(domain.services.payments.premiums does the work).
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from api.context import Context
from api.contracts.types import Contract
from api.mutation_support import UserError, errors_of, required_id, run_use_case
from api.products.types import Label
from domain.services.contracts import reads as contract_reads
from domain.services.mutation_runner import Outcome
from domain.services.payments import premiums as pp
from domain.store.payment_repo import PaidBy

PaidByEnum = strawberry.enum(PaidBy, name="PaidBy")
DebitResultEnum = strawberry.enum(pp.DebitResult, name="DebitResult")


@strawberry.input
class RecordPaymentInput:
    contract_id: strawberry.ID
    term_no: int
    number: int = strawberry.field(description="The instalment's number in the term (1 = the first premium).")
    amount_yen: int = strawberry.field(description="Must equal the instalment's amount.")
    paid_on: dt.date
    paid_by: PaidByEnum = PaidBy.TRANSFER  # type: ignore[valid-type]
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class RecordDebitResultInput:
    contract_id: strawberry.ID
    term_no: int
    number: int
    result: DebitResultEnum  # type: ignore[valid-type]
    on: dt.date = strawberry.field(description="The debit day the bank reports.")
    not_at_fault: bool = strawberry.field(
        default=False, description="Failed without the policyholder's intent or gross negligence: deadline end of M+2 (001 L833).")
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.type(description="What a payment mutation did (or, in a dry run, would do).")
class PaymentChange:
    policy_number: str
    term_no: int
    number: int
    instalment_state: Label
    statuses: list[Label]
    lock_version: int
    delinquent: bool
    accelerated: bool
    amount_due_now_yen: int

    @classmethod
    def of(cls, c: pp.PaymentChange) -> PaymentChange:
        return cls(policy_number=c.policy_number, term_no=c.term_no, number=c.number,
                   instalment_state=Label.of(c.instalment_state), statuses=[Label.of(s) for s in c.statuses],
                   lock_version=c.lock_version, delinquent=c.delinquent, accelerated=c.accelerated,
                   amount_due_now_yen=c.amount_due_now_yen)


@strawberry.type(description="Answer of recordPayment and recordDebitResult.")
class PaymentPayload:
    change: PaymentChange | None = strawberry.field(description="Null when refused.")
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool
    contract_id: strawberry.Private[int | None]

    @strawberry.field(description="The contract after the payment (null when refused or a dry run).")
    async def contract(self, info: Info[Context, None]) -> Contract | None:
        if self.contract_id is None:
            return None
        ctx = info.context
        at = ctx.clock.now()
        found = await contract_reads.contracts_by_id(ctx.pool, ctx.actor, [self.contract_id], at)
        d = found.get(self.contract_id)
        return None if d is None else Contract.of(d, at)


def _payload(o: Outcome[pp.PaymentChange]) -> PaymentPayload:
    r = o.result
    return PaymentPayload(change=None if r is None else PaymentChange.of(r), user_errors=errors_of(o),
                          dry_run=o.dry_run, replayed=o.replayed,
                          contract_id=None if r is None or o.dry_run else r.contract_id)


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(description="Record that an instalment was paid on a day (staff).")
    async def record_payment(self, info: Info[Context, None], input: RecordPaymentInput) -> PaymentPayload:
        def build() -> pp.PaymentRequest:
            return pp.PaymentRequest(
                required_id(input.contract_id, "Contract", "input.contractId"), input.term_no, input.number,
                input.amount_yen, input.paid_on, input.paid_by, input.idempotency_key)

        return _payload(await run_use_case(info, "recordPayment", build, pp.record_payment, pp.PaymentChange,
                                   input.idempotency_key, input.dry_run))

    @strawberry.mutation(description="Record the bank's result of an instalment's debit: paid, or failed (staff).")
    async def record_debit_result(self, info: Info[Context, None], input: RecordDebitResultInput) -> PaymentPayload:
        def build() -> pp.DebitResultRequest:
            return pp.DebitResultRequest(
                required_id(input.contract_id, "Contract", "input.contractId"), input.term_no, input.number,
                input.result, input.on, input.not_at_fault, input.idempotency_key)

        return _payload(await run_use_case(info, "recordDebitResult", build, pp.record_debit_result, pp.PaymentChange,
                                   input.idempotency_key, input.dry_run))
