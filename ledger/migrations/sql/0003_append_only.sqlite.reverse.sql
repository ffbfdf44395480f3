-- statement
DROP TRIGGER IF EXISTS ledger_entry_no_update;
-- statement
DROP TRIGGER IF EXISTS ledger_entry_no_delete;
-- statement
DROP TRIGGER IF EXISTS ledger_line_no_delete;
-- statement
DROP TRIGGER IF EXISTS ledger_line_no_update;
