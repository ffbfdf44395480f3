-- Audit events are append-only. The one UPDATE allowed is the chainer filling the chain columns
-- (sequence, prev_hash, hash) of a row that has none yet; every other column must stay as it was
-- (compared column by column: to_jsonb() of both rows cost the chainer 20 µs per event).
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.sequence IS NULL AND NEW.sequence IS NOT NULL AND NEW.hash IS NOT NULL
       AND (NEW.id, NEW.occurred_at, NEW.actor_kind, NEW.actor_id, NEW.actor_label, NEW.action, NEW.object_type,
            NEW.object_id, NEW.tenant, NEW.request_id, NEW.ip, NEW.user_agent, NEW.data)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.actor_kind, OLD.actor_id, OLD.actor_label, OLD.action, OLD.object_type,
            OLD.object_id, OLD.tenant, OLD.request_id, OLD.ip, OLD.user_agent, OLD.data)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER audit_event_immutable
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard();

CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_guard();

CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER audit_checkpoint_immutable
    BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

CREATE TRIGGER audit_checkpoint_no_truncate
    BEFORE TRUNCATE ON audit_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
