DROP TRIGGER IF EXISTS credits_lots_match_ledger ON credits_creditlot;
DROP FUNCTION IF EXISTS credits_lots_match_ledger();
