-- statement
DROP TRIGGER IF EXISTS audit_event_no_delete;
-- statement
DROP TRIGGER IF EXISTS audit_event_no_update;
-- statement
DROP TRIGGER IF EXISTS audit_checkpoint_no_delete;
-- statement
DROP TRIGGER IF EXISTS audit_checkpoint_no_update;
