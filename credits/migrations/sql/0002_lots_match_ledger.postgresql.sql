-- At commit, for every wallet whose lots changed: its lots explain its ledger account.
--   sum(lot.remaining) = account posted balance (credits - debits; the wallet is a liability)
--   sum(lot.reserved)  = account pending debits (the reservations' holds)
-- Only lots with remaining > 0 can hold anything (reserved <= remaining), so the sums read the
-- partial index credits_lot_open_order. One check per changed lot row (constraint triggers are
-- per row); a consumption changes one or two lots.
CREATE OR REPLACE FUNCTION credits_lots_match_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    lots_remaining bigint;
    lots_reserved bigint;
    posted bigint;
    pending bigint;
BEGIN
    SELECT COALESCE(sum(remaining), 0), COALESCE(sum(reserved), 0)
      INTO lots_remaining, lots_reserved
      FROM credits_creditlot
     WHERE wallet_id = NEW.wallet_id AND remaining > 0;
    SELECT a.posted_credits - a.posted_debits, a.pending_debits
      INTO posted, pending
      FROM credits_wallet w JOIN ledger_account a ON a.id = w.account_id
     WHERE w.id = NEW.wallet_id;
    IF lots_remaining <> posted OR lots_reserved <> pending THEN
        RAISE EXCEPTION 'credits_lots_match_ledger: wallet % lots hold % (reserved %), its ledger account % (pending %)',
            NEW.wallet_id, lots_remaining, lots_reserved, posted, pending
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER credits_lots_match_ledger
    AFTER INSERT OR UPDATE ON credits_creditlot
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION credits_lots_match_ledger();
