-- The lines guard (0002) joined its transition table to ledger_journalentry and ledger_account. A
-- transition table has no statistics, so the planner hashed the whole of both tables: every posting
-- paid a scan of all entries (25 ms at 100,000 entries, growing with the ledger). Looking the few
-- entries and accounts up by primary key (= ANY of an array built once) keeps it an index probe.
CREATE OR REPLACE FUNCTION ledger_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offending text;
BEGIN
    SELECT string_agg(e.id::text, ', ') INTO offending
      FROM ledger_journalentry e
     WHERE e.id = ANY (ARRAY(SELECT DISTINCT entry_id FROM new_lines))
       AND e.created_txid <> txid_current();
    IF offending IS NOT NULL THEN
        RAISE EXCEPTION 'ledger: lines can be added only by the transaction that creates the entry (entry %)', offending
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'ledger_line_same_transaction';
    END IF;
    SELECT string_agg(l.id::text || ' ' || l.currency_code || '<>' || a.currency_code, ', ') INTO offending
      FROM new_lines l
      JOIN (SELECT id, currency_code FROM ledger_account
             WHERE id = ANY (ARRAY(SELECT DISTINCT account_id FROM new_lines))) a ON a.id = l.account_id
     WHERE l.currency_code <> a.currency_code;
    IF offending IS NOT NULL THEN
        RAISE EXCEPTION 'ledger: line currency differs from its account''s (%)', offending
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_line_currency_is_account_currency';
    END IF;
    RETURN NULL;
END;
$$;
