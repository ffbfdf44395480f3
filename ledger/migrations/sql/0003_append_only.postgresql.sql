-- Posted history is immutable: lines never change; an entry changes only by the one guarded
-- transition of a hold (pending → posted | voided, setting resolved_at). Corrections are reversals.
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (post a reversing entry instead)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE OR REPLACE FUNCTION ledger_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.is_hold AND OLD.status = 'pending' AND NEW.status IN ('posted', 'voided')
       AND NEW.resolved_at IS NOT NULL
       AND (to_jsonb(NEW) - 'status' - 'resolved_at') = (to_jsonb(OLD) - 'status' - 'resolved_at')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger_journalentry: % of entry % refused (posted history is immutable; reverse it instead)',
        TG_OP, OLD.id USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER ledger_entry_immutable
    BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_guard();

CREATE TRIGGER ledger_entry_no_truncate
    BEFORE TRUNCATE ON ledger_journalentry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER ledger_line_immutable
    BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER ledger_line_no_truncate
    BEFORE TRUNCATE ON ledger_journalline
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
