-- Partner isolation of the approval tables by row-level security.
--
-- A partner's transaction sets `strongroom.partner_id` with set_config(..., true) (SET LOCAL):
-- it then sees only the requests it is eligible to sign or that its own people made, the
-- eligibility rows of its own partner, and the signatures of requests it can see, and may only
-- insert signatures in its own name. Without the setting (platform staff and clients, the engine,
-- beat tasks, migrations) every row is visible. FORCE applies the policies to the table owner too
-- (the application's role owns these tables).

CREATE OR REPLACE FUNCTION reserves_current_partner() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('strongroom.partner_id', true), '')::bigint
$$;

ALTER TABLE reserves_approvaleligibility ENABLE ROW LEVEL SECURITY;
ALTER TABLE reserves_approvaleligibility FORCE ROW LEVEL SECURITY;
CREATE POLICY reserves_approvaleligibility_partner ON reserves_approvaleligibility
    USING (reserves_current_partner() IS NULL OR partner_id = reserves_current_partner());

ALTER TABLE reserves_approvalrequest ENABLE ROW LEVEL SECURITY;
ALTER TABLE reserves_approvalrequest FORCE ROW LEVEL SECURITY;
CREATE POLICY reserves_approvalrequest_partner ON reserves_approvalrequest
    USING (
        reserves_current_partner() IS NULL
        OR requester_partner_id = reserves_current_partner()
        OR EXISTS (
            SELECT 1 FROM reserves_approvaleligibility e
            WHERE e.approval_id = reserves_approvalrequest.id AND e.partner_id = reserves_current_partner()
        )
    );

ALTER TABLE reserves_approvalsignature ENABLE ROW LEVEL SECURITY;
ALTER TABLE reserves_approvalsignature FORCE ROW LEVEL SECURITY;
CREATE POLICY reserves_approvalsignature_partner ON reserves_approvalsignature
    USING (
        reserves_current_partner() IS NULL
        OR EXISTS (SELECT 1 FROM reserves_approvalrequest r WHERE r.id = reserves_approvalsignature.approval_id)
    )
    WITH CHECK (reserves_current_partner() IS NULL OR partner_id = reserves_current_partner());
