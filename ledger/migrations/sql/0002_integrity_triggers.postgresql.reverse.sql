DROP INDEX IF EXISTS ledger_account_metadata_gin;
DROP TRIGGER IF EXISTS ledger_account_matches_lines ON ledger_account;
DROP FUNCTION IF EXISTS ledger_account_matches_lines();
DROP TRIGGER IF EXISTS ledger_lines_guard ON ledger_journalline;
DROP FUNCTION IF EXISTS ledger_lines_guard();
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_entry_balanced();
ALTER TABLE ledger_journalentry DROP COLUMN IF EXISTS created_txid;
