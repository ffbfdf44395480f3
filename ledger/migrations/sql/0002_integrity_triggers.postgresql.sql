-- Ledger integrity on PostgreSQL (see docs/ledger.md, "Invariants"). These hold whatever writes the
-- rows: the ORM, raw SQL, psql. The append-only triggers live in 0003_append_only.

-- Which transaction created an entry: lines may be added only by that transaction (txid_current()
-- is the top-level transaction's id, also inside savepoints).
ALTER TABLE ledger_journalentry ADD COLUMN created_txid bigint NOT NULL DEFAULT txid_current();

-- 1. Each entry is checked ONCE, at commit: at least two lines, debits = credits in every currency.
CREATE OR REPLACE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_count bigint;
    imbalance text;
BEGIN
    SELECT coalesce(sum(n), 0), string_agg(CASE WHEN net <> 0 THEN currency_code || ' ' || net END, ', ')
      INTO line_count, imbalance
      FROM (SELECT currency_code, count(*) AS n,
                   sum(CASE WHEN side = 'debit' THEN amount ELSE -amount END) AS net
              FROM ledger_journalline WHERE entry_id = NEW.id GROUP BY currency_code) per_currency;
    IF line_count < 2 THEN
        RAISE EXCEPTION 'ledger: entry % has % line(s); an entry has at least two', NEW.id, line_count
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
    END IF;
    IF imbalance IS NOT NULL THEN
        RAISE EXCEPTION 'ledger: entry % is unbalanced (debits minus credits: %)', NEW.id, imbalance
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced
    AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();

-- 2. Lines (checked per INSERT statement, so a bulk insert costs one query): the entry was created by
--    this transaction (an entry checked at an earlier commit cannot gain lines), and the line's
--    currency is its account's.
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

CREATE TRIGGER ledger_lines_guard
    AFTER INSERT ON ledger_journalline
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_lines_guard();

-- 3. A stored posted balance changes only together with the line that explains it: at commit, the
--    line at the account's new version exists and records exactly the new posted balance.
CREATE OR REPLACE FUNCTION ledger_account_matches_lines() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    recorded bigint;
    expected bigint := CASE WHEN NEW.type IN ('asset', 'expense') THEN NEW.posted_debits - NEW.posted_credits
                            ELSE NEW.posted_credits - NEW.posted_debits END;
BEGIN
    SELECT balance_after INTO recorded FROM ledger_journalline
     WHERE account_id = NEW.id AND account_version = NEW.version;
    IF recorded IS DISTINCT FROM expected THEN
        RAISE EXCEPTION 'ledger: account % posted balance % at version % is not explained by its lines (line says %)',
            NEW.id, expected, NEW.version, coalesce(recorded::text, 'nothing')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_account_matches_lines';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_account_matches_lines
    AFTER UPDATE OF posted_debits, posted_credits ON ledger_account
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.posted_debits IS DISTINCT FROM NEW.posted_debits OR OLD.posted_credits IS DISTINCT FROM NEW.posted_credits)
    EXECUTE FUNCTION ledger_account_matches_lines();

-- Containment queries on account metadata (metadata @> '{"psp": "x"}').
CREATE INDEX ledger_account_metadata_gin ON ledger_account USING gin (metadata jsonb_path_ops);
