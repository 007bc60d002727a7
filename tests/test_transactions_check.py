"""The `transactions.writes_without_transaction` LibCST check (DATA036), through the real CST engine."""

from __future__ import annotations

import textwrap
from pathlib import Path

from helpers import write

from prodaudit.checks.transactions import WritesWithoutTransaction
from prodaudit.engines.cst import CstEngine
from prodaudit.model import Confidence, Phase, Rule, Severity, Target

CHECK = WritesWithoutTransaction.name
RULE = Rule(
    id="DATA936",
    name="writes-without-transaction-under-test",
    phase=Phase.DATA_SAFETY,
    severity=Severity.MEDIUM,
    confidence=Confidence.LOW,
    title="several writes without a transaction",
    why="a half-done change stays saved",
    fix="wrap the writes in a transaction",
    engine="cst",
    languages=("python",),
    check=CHECK,
    source="rules/data-safety/test.yml",
)


def scan(tmp_path: Path, source: str) -> list[tuple[int, str]]:
    """(line, message) of every report on `source`, scanned as app/services.py."""
    write(tmp_path, {"app/services.py": textwrap.dedent(source)})
    target = Target("app/services.py", str(tmp_path / "app/services.py"), "python")
    result = CstEngine(checks={CHECK: WritesWithoutTransaction}).run([RULE], [target], tmp_path, jobs=1)
    assert result.errors == () and result.skipped == ()
    return [(f.line, f.message) for f in result.findings]


def lines(tmp_path: Path, source: str) -> list[int]:
    return [line for line, _ in scan(tmp_path, source)]


def test_second_related_write_is_reported_with_both_writes_named(tmp_path):
    found = scan(
        tmp_path,
        """\
        def place_order(request):
            order = Order.objects.create(user=request.user)
            OrderLine.objects.create(order=order, sku=request.POST["sku"])
            Order.objects.filter(pk=order.pk).update(state="placed")
        """,
    )
    assert [line for line, _ in found] == [3]
    message = found[0][1]
    assert "`OrderLine.objects.create(...)`" in message and "`Order.objects.create(...)`" in message
    assert "transaction.atomic()" in message


def test_writes_inside_a_transaction_are_not_reported(tmp_path):
    source = """\
    from django.db import transaction
    from django.utils.decorators import method_decorator


    def with_block(user):
        with transaction.atomic():
            user.save()
            Profile.objects.create(user=user)


    @transaction.atomic
    def decorated(user):
        user.save()
        Profile.objects.create(user=user)


    @traced_atomic_transaction()
    def project_wrapper(user):
        user.save()
        Profile.objects.create(user=user)


    @method_decorator(transaction.atomic, name="dispatch")
    class SignupView(View):
        def post(self, request):
            user = User.objects.create(email=request.POST["email"])
            Profile.objects.create(user=user)
    """
    assert lines(tmp_path, source) == []


def test_non_atomic_requests_opens_no_transaction(tmp_path):
    source = """\
    from django.db import transaction


    @transaction.non_atomic_requests
    def signup(request):
        user = User.objects.create(email=request.POST["email"])
        Profile.objects.create(user=user)
    """
    assert lines(tmp_path, source) == [7]


def test_exclusive_branches_and_early_returns_are_not_a_pair(tmp_path):
    source = """\
    def if_else(user, new):
        if new:
            user.save()
        else:
            Profile.objects.filter(user=user).update(seen=True)


    def early_return(user, new):
        if new:
            user.save()
            return user
        Profile.objects.filter(user=user).update(seen=True)


    def on_failure(user):
        try:
            user.save()
        except IntegrityError:
            AuditLog.objects.create(user=user, kind="save-failed")
            raise
    """
    assert lines(tmp_path, source) == []


def test_an_if_without_return_still_pairs_with_what_follows(tmp_path):
    source = """\
    def update(user, new):
        if new:
            user.save()
        Profile.objects.filter(user=user).update(seen=True)
    """
    assert lines(tmp_path, source) == [4]


def test_unrelated_rows_and_one_model_are_not_reported(tmp_path):
    source = """\
    def settings_page(request):
        request.user.save()
        request.profile.save()


    def notify(self, flip):
        n = Notification(owner=self, check=flip.owner)
        n.save()
        Notification.objects.filter(id=n.id).update(error="")


    def bucket(user):
        obj, created = TokenBucket.objects.get_or_create(value=user.email)
        obj.tokens -= 1
        obj.save()


    def flip(delivery: "CheckoutDelivery", checkout: models.Checkout | None):
        models.CheckoutDelivery.objects.filter(checkout_id=delivery.checkout_id, valid=True).delete()
        delivery.is_valid = True
        delivery.save(update_fields=["is_valid"])
    """
    assert lines(tmp_path, source) == []


def test_a_row_built_from_an_earlier_row_is_related(tmp_path):
    source = """\
    def make_user(email):
        user = User(email=email)
        user.save()
        project = Project(owner=user)
        project.save()


    def delete(self):
        super().delete()
        self.address.delete()
    """
    assert lines(tmp_path, source) == [5, 10]


def test_calls_that_do_not_write_rows_are_not_writes(tmp_path):
    source = """\
    def edit(form, image, fp, request, cache):
        profile = form.save(commit=False)
        profile.avatar.delete(save=False)
        image.save(fp, format="PNG")
        cache.delete(profile.pk)
        request.session.save()
        profile.save()
    """
    assert lines(tmp_path, source) == []


def test_nested_function_is_checked_on_its_own(tmp_path):
    source = """\
    from django.db import transaction


    def outer(user):
        with transaction.atomic():
            user.save()

        def later():
            user.save()
            Profile.objects.create(user=user)

        transaction.on_commit(later)
        Profile.objects.create(user=user)
    """
    assert lines(tmp_path, source) == [10]


def test_sqlalchemy_second_commit_after_more_writes_is_reported(tmp_path):
    found = scan(
        tmp_path,
        """\
        def settle(db, invoice, amount):
            db.add(Payment(invoice_id=invoice.id, amount=amount))
            db.commit()
            db.execute(update(Invoice).where(Invoice.id == invoice.id).values(state="paid"))
            db.commit()
        """,
    )
    assert [line for line, _ in found] == [5]
    assert "`db` is committed a second time" in found[0][1]


def test_sqlalchemy_commits_that_are_not_a_partial_unit(tmp_path):
    source = """\
    def one_commit(session, rows):
        session.add_all(rows)
        session.add(ImportLog(count=len(rows)))
        session.commit()


    def nothing_new_between(session, row):
        session.add(row)
        session.commit()
        session.execute(select(Row))
        session.commit()


    def in_a_transaction(session, rows):
        with session.begin():
            session.add_all(rows)
            session.commit()
            session.add(ImportLog(count=len(rows)))
            session.commit()


    def different_sessions(session, audit_session, row):
        session.add(row)
        session.commit()
        audit_session.add(AuditRow(row_id=row.id))
        audit_session.commit()
    """
    assert lines(tmp_path, source) == []


def test_check_is_registered_for_the_catalog():
    from prodaudit.checks import CHECKS

    assert CHECKS.get(CHECK) is WritesWithoutTransaction
