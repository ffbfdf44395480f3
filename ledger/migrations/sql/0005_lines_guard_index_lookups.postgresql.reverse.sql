-- Back to 0002's join of the transition table.
CREATE OR REPLACE FUNCTION ledger_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offending text;
BEGIN
    SELECT string_agg(DISTINCT l.entry_id::text, ', ') INTO offending
      FROM new_lines l JOIN ledger_journalentry e ON e.id = l.entry_id
     WHERE e.created_txid <> txid_current();
    IF offending IS NOT NULL THEN
        RAISE EXCEPTION 'ledger: lines can be added only by the transaction that creates the entry (entry %)', offending
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'ledger_line_same_transaction';
    END IF;
    SELECT string_agg(l.id::text || ' ' || l.currency_code || '<>' || a.currency_code, ', ') INTO offending
      FROM new_lines l JOIN ledger_account a ON a.id = l.account_id
     WHERE l.currency_code <> a.currency_code;
    IF offending IS NOT NULL THEN
        RAISE EXCEPTION 'ledger: line currency differs from its account''s (%)', offending
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_line_currency_is_account_currency';
    END IF;
    RETURN NULL;
END;
$$;
