import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, transaction

from audit import context
from audit.context import Actor
from audit.models import AuditCheckpoint, AuditEvent, AuditVerification, ImmutableAuditRecord
from audit.offline import verify_export
from audit.services import (
    audit_chain_pending,
    audit_checkpoint_create,
    audit_export_lines,
    audit_record,
    audit_verify,
    format_timestamp,
    public_key_base64,
)
from tests.audit.helpers import raw, triggers_lifted

pytestmark = pytest.mark.django_db

VISA = "4111111111111111"


def record_some(count: int) -> list[AuditEvent]:
    events = [audit_record(action="test.thing.done", data={"n": n}) for n in range(count)]
    audit_chain_pending()
    return [AuditEvent.objects.get(pk=e.pk) for e in events]


class TestAuditRecord:
    def test_records_actor_context_target_and_masked_data(self, admin_user) -> None:
        with context.acting(
            actor=Actor.for_user(admin_user), ip="198.51.100.7", user_agent="pytest", tenant="merchant:9"
        ):
            event = audit_record(
                action="vault.card.tokenized", target=admin_user, data={"card": VISA, "cvv": "123", "amount": "1.00"}
            )

        event.refresh_from_db()
        assert (event.actor_kind, event.actor_id, event.actor_label) == ("staff", str(admin_user.pk), "admin")
        assert (event.ip, event.user_agent, event.tenant) == ("198.51.100.7", "pytest", "merchant:9")
        assert (event.object_type, event.object_id) == ("auth.user", str(admin_user.pk))
        assert json.loads(event.data) == {"amount": "1.00", "card": "************1111", "cvv": "[REDACTED]"}
        assert VISA not in event.data

    def test_without_context_the_actor_is_the_system(self) -> None:
        event = audit_record(action="test.thing.done")

        assert (event.actor_kind, event.actor_label) == ("system", "system")

    @pytest.mark.django_db(transaction=True)
    def test_a_rolled_back_change_leaves_no_event(self) -> None:
        before = AuditEvent.objects.count()

        def failing_business_change() -> None:
            with transaction.atomic():
                audit_record(action="test.thing.done")
                raise RuntimeError("business change failed")

        with pytest.raises(RuntimeError):
            failing_business_change()

        assert AuditEvent.objects.count() == before

    def test_an_action_must_be_a_dotted_verb(self) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            audit_record(action="Not A Verb")

    def test_the_model_refuses_to_change_or_delete_a_row(self) -> None:
        event = audit_record(action="test.thing.done")

        with pytest.raises(ImmutableAuditRecord):
            event.save()
        with pytest.raises(ImmutableAuditRecord):
            event.delete()


class TestChainingAndVerification:
    def test_chained_events_are_gapless_and_verify(self) -> None:
        events = record_some(5)

        sequences = [e.sequence for e in events]
        assert sequences == list(range(sequences[0], sequences[0] + 5))
        result = audit_verify()
        assert result.ok
        assert result.report.last_sequence == sequences[-1]
        assert AuditVerification.objects.latest("pk").is_ok

    def test_timestamps_hash_the_same_on_every_path(self) -> None:
        [event] = record_some(1)
        streamed = next(e for e in audit_export_lines() if f'"sequence": {event.sequence},' in e)

        assert json.loads(streamed)["occurred_at"] == format_timestamp(event.occurred_at)

    @pytest.mark.parametrize(
        ("column", "value"),
        [
            ("action", "'ledger.entry.posted'"),
            ("actor_label", "'mallory'"),
            ("actor_id", "'999'"),
            ("actor_kind", "'staff'"),
            ("object_type", "'x.y'"),
            ("object_id", "'1'"),
            ("tenant", "'merchant:1'"),
            ("request_id", "'forged'"),
            ("ip", "'10.9.9.9'"),
            ("user_agent", "'forged'"),
            ("data", "'{\"n\":99}'"),
            ("occurred_at", "occurred_at"),  # shifted below
            ("prev_hash", "'" + "a" * 64 + "'"),
            ("hash", "'" + "b" * 64 + "'"),
        ],
    )
    def test_changing_any_column_is_reported_at_exactly_that_sequence(self, column: str, value: str) -> None:
        events = record_some(4)
        target = events[2]
        if column == "occurred_at":
            value = "'2001-01-01 00:00:00+00:00'"

        with triggers_lifted():
            raw(f"UPDATE audit_auditevent SET {column} = {value} WHERE id = %s", [target.pk])

        result = audit_verify(record_result=False)
        assert not result.ok
        assert result.report.broken.sequence == target.sequence

    def test_a_deleted_row_is_reported_as_a_gap(self) -> None:
        events = record_some(4)

        with triggers_lifted():
            raw("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])

        broken = audit_verify(record_result=False).report.broken
        assert (broken.sequence, broken.reason) == (events[1].sequence, "gap")

    def test_the_verify_command_exits_non_zero_when_broken(self, capsys) -> None:
        events = record_some(3)
        with triggers_lifted():
            raw("UPDATE audit_auditevent SET actor_label = 'x' WHERE id = %s", [events[1].pk])

        with pytest.raises(CommandError) as raised:
            call_command("audit_verify", "--no-progress")

        assert raised.value.returncode == 1
        assert f"BROKEN at sequence {events[1].sequence}: hash mismatch" in str(raised.value)

    def test_the_verify_command_reports_ok(self, capsys) -> None:
        record_some(3)

        call_command("audit_verify", "--no-progress")

        assert capsys.readouterr().out.startswith("OK: ")


def rewrite_history(target_pk: int) -> None:
    """An attacker with DB access edits one event and re-chains everything after it consistently."""
    from audit.offline import event_hash
    from audit.services import iter_chained_events

    raw("UPDATE audit_auditevent SET data = '{\"n\":12345}' WHERE id = %s", [target_pk])
    previous = None
    for event in list(iter_chained_events()):
        if previous is not None:
            event["prev_hash"] = previous
        if event["id"] == target_pk:
            event["data"] = '{"n":12345}'
        digest = event_hash(event)
        raw(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [event["prev_hash"], digest, event["id"]],
        )
        previous = digest
    raw("UPDATE audit_auditchainhead SET last_hash = %s", [previous])


class TestCheckpoints:
    def test_a_checkpoint_signs_the_head(self) -> None:
        record_some(2)

        checkpoint = audit_checkpoint_create()

        assert checkpoint.sequence == AuditEvent.objects.filter(action="test.thing.done").latest("sequence").sequence
        assert audit_verify(record_result=False).ok

    def test_a_consistently_rewritten_table_is_caught_by_an_earlier_checkpoint(self) -> None:
        events = record_some(4)
        exported = audit_checkpoint_create().as_export()  # kept elsewhere by the operator

        with triggers_lifted():
            rewrite_history(events[1].pk)
            raw("DELETE FROM audit_auditcheckpoint")  # the attacker also removes stored checkpoints

        without = audit_verify(record_result=False)
        assert without.ok  # the rewritten chain is internally consistent …
        caught = audit_verify(external_checkpoint=exported, record_result=False)
        assert not caught.ok  # … but does not extend the exported checkpoint
        assert "different hash" in caught.checkpoint_problems[0]

    def test_a_forged_checkpoint_signature_is_refused(self) -> None:
        record_some(1)
        exported = audit_checkpoint_create().as_export()
        exported["hash"] = "c" * 64

        result = audit_verify(external_checkpoint=exported, record_result=False)

        assert result.checkpoint_problems == [
            f"checkpoint at sequence {exported['sequence']}: signature does not verify"
        ]


class TestOfflineVerifier:
    def export(self, tmp_path) -> str:  # noqa: ANN001
        record_some(5)
        audit_checkpoint_create()
        record_some(2)
        path = tmp_path / "export.jsonl"
        path.write_text("\n".join(audit_export_lines()) + "\n")
        return str(path)

    def test_a_clean_export_verifies(self, tmp_path) -> None:
        path = self.export(tmp_path)

        ok, lines = verify_export(path, public_key_raw=__import__("base64").b64decode(public_key_base64()))

        assert ok, lines
        assert lines[0].startswith("chain ok")
        assert lines[1].endswith(": ok")

    def test_a_tampered_export_is_rejected(self, tmp_path) -> None:
        path = self.export(tmp_path)
        lines = open(path).read().splitlines()  # noqa: SIM115
        victim = next(i for i, line in enumerate(lines) if '"test.thing.done"' in line)
        lines[victim] = lines[victim].replace('"n": 0', '"n": 1000')
        open(path, "w").write("\n".join(lines) + "\n")  # noqa: SIM115

        ok, report = verify_export(path)

        assert not ok
        assert "hash mismatch" in report[0]

    def test_the_script_runs_without_django(self, tmp_path) -> None:
        import subprocess
        import sys

        path = self.export(tmp_path)
        result = subprocess.run(
            [sys.executable, "-I", "audit/offline.py", path], capture_output=True, text=True, check=False, env={}
        )

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("VERIFIED")


class TestImmutabilityInTheDatabase:
    def test_update_and_delete_of_any_row_are_refused(self) -> None:
        [event] = record_some(1)

        with pytest.raises(DatabaseError), transaction.atomic():
            raw("UPDATE audit_auditevent SET action = 'x.y' WHERE id = %s", [event.pk])
        with pytest.raises(DatabaseError), transaction.atomic():
            raw("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])

    @pytest.mark.postgres  # SQLite chains in the writer's own transaction: no unchained rows to try
    def test_chaining_may_only_fill_the_chain_columns_of_unchained_rows(self) -> None:
        unchained = audit_record(action="test.thing.done")

        with pytest.raises(DatabaseError), transaction.atomic():
            raw(
                "UPDATE audit_auditevent SET sequence = 999999, prev_hash = 'x', hash = 'y', actor_label = 'z' "
                "WHERE id = %s",
                [unchained.pk],
            )

    def test_rechaining_a_chained_row_is_refused(self) -> None:
        [event] = record_some(1)

        with pytest.raises(DatabaseError), transaction.atomic():
            raw("UPDATE audit_auditevent SET hash = %s WHERE id = %s", ["d" * 64, event.pk])

    def test_checkpoints_are_append_only(self) -> None:
        record_some(1)
        checkpoint = audit_checkpoint_create()

        with pytest.raises(DatabaseError), transaction.atomic():
            raw("DELETE FROM audit_auditcheckpoint WHERE id = %s", [checkpoint.pk])
        assert AuditCheckpoint.objects.filter(pk=checkpoint.pk).exists()


class TestDeployCheck:
    def test_a_missing_signing_key_is_refused_in_production(self, settings) -> None:
        from audit.checks import check_audit_signing_key

        settings.DEV_MODE, settings.AUDIT_SIGNING_KEY = False, ""

        assert [m.id for m in check_audit_signing_key()] == ["strongroom.E006"]
