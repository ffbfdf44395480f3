-- statement
CREATE TRIGGER ledger_line_no_update BEFORE UPDATE ON ledger_journalline
BEGIN SELECT RAISE(ABORT, 'ledger_journalline is append-only: UPDATE refused'); END;
-- statement
CREATE TRIGGER ledger_line_no_delete BEFORE DELETE ON ledger_journalline
BEGIN SELECT RAISE(ABORT, 'ledger_journalline is append-only: DELETE refused'); END;
-- statement
CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_journalentry
BEGIN SELECT RAISE(ABORT, 'ledger_journalentry is append-only: DELETE refused'); END;
-- statement
CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_journalentry
WHEN NOT (
    OLD.is_hold AND OLD.status = 'pending' AND NEW.status IN ('posted', 'voided') AND NEW.resolved_at IS NOT NULL
    AND NEW.id = OLD.id AND NEW.is_hold IS OLD.is_hold AND NEW.description IS OLD.description
    AND NEW.effective_at IS OLD.effective_at AND NEW.created_at IS OLD.created_at
    AND NEW.timeout_at IS OLD.timeout_at AND NEW.group_id IS OLD.group_id
    AND NEW.pending_entry_id IS OLD.pending_entry_id AND NEW.reversal_of_id IS OLD.reversal_of_id
    AND NEW.template_name IS OLD.template_name AND NEW.template_version IS OLD.template_version
    AND NEW.metadata IS OLD.metadata AND NEW.created_by_kind IS OLD.created_by_kind
    AND NEW.created_by_id IS OLD.created_by_id AND NEW.created_by_label IS OLD.created_by_label
    AND NEW.idempotency_source IS OLD.idempotency_source AND NEW.idempotency_key IS OLD.idempotency_key
    AND NEW.idempotency_fingerprint IS OLD.idempotency_fingerprint
)
BEGIN SELECT RAISE(ABORT, 'ledger_journalentry is append-only: UPDATE refused'); END;
