DROP TRIGGER IF EXISTS ledger_line_no_truncate ON ledger_journalline;
DROP TRIGGER IF EXISTS ledger_line_immutable ON ledger_journalline;
DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_entry_immutable ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_entry_guard();
DROP FUNCTION IF EXISTS ledger_append_only();
