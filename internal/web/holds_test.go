package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// An analyst holds an item from its page and a pattern from the holds
// page, sees the hold on the item, and releases it; the item page shows
// coordinators the referral and audit trails, analysts not.
func TestHoldsAndItemTrails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	item := "/operations/rad-1/items/" + b.item("one")
	p := b.get(t, "ana", item)
	wantIn(t, p, "an item's page", "No hold covers this item.", "Hold item "+b.item("one"))
	wantNotIn(t, p, "an analyst's item page", "Referral trail", "Audit trail")
	wantIn(t, b.get(t, "aud", item), "an auditor's item page", "Referral trail", "Audit trail")
	p = b.get(t, "coord", item)
	wantNotIn(t, p, "a coordinator's item page", "Audit trail")
	wantIn(t, p, "a coordinator's item page", "Referral trail", "This item's answer", `href="/operations/rad-1/referrals/`)

	p = b.post(t, "ana", "/operations/rad-1/holds", url.Values{"scope": {"item"}, "item": {b.item("one")}, "reason": {"investigation"}, "note": {"case <17>"}, "days": {"10"}})
	if p.status != http.StatusSeeOther || p.loc != item+"?done=held" {
		t.Fatalf("place a hold: %d %q", p.status, p.loc)
	}
	wantIn(t, b.get(t, "ana", p.loc), "the held item", "The hold is placed", "<strong>Held</strong>", "investigation", "case &lt;17&gt;")
	wantStatus(t, b.post(t, "aud", "/operations/rad-1/holds", url.Values{"scope": {"pattern"}, "pattern": {"t.me/x_*"}, "reason": {"other"}, "days": {"5"}}), http.StatusForbidden, "an auditor's hold")
	wantStatus(t, b.post(t, "ana", "/operations/rad-1/holds", url.Values{"scope": {"pattern"}, "pattern": {"*"}, "reason": {"other"}, "days": {"5"}}), http.StatusBadRequest, "a pattern holding everything")
	wantStatus(t, b.post(t, "ana", "/operations/rad-1/holds", url.Values{"scope": {"pattern"}, "pattern": {"t.me/x_*"}, "reason": {"other"}, "days": {"500"}}), http.StatusBadRequest, "a hold of 500 days")
	p = b.post(t, "ana", "/operations/rad-1/holds", url.Values{"scope": {"pattern"}, "pattern": {"t.me/later_*"}, "reason": {"other"}, "days": {"5"}})
	if p.status != http.StatusSeeOther || p.loc != "/operations/rad-1/holds?done=held" {
		t.Fatalf("place a pattern hold: %d %q", p.status, p.loc)
	}
	p = b.get(t, "ana", "/operations/rad-1/holds")
	wantIn(t, p, "the holds page", "t.me/later_*", "Release hold", "Place a hold on a handle or a URL pattern")
	wantStatus(t, b.get(t, "liaison-a", "/operations/rad-1/holds"), http.StatusNotFound, "a liaison")
	wantIn(t, b.get(t, "coord", "/operations/rad-1/holds"), "a coordinator's holds page", "every agency", "t.me/later_*")
}

// Auditors read the audit chain and verify it; nobody else.
func TestAuditPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.get(t, "aud", "/audit?operation=rad-1")
	wantStatus(t, p, http.StatusOK, "the audit page")
	wantIn(t, p, "the audit page", "referral.create", "Verify the whole chain now", `href="/audit"`)
	wantIn(t, b.get(t, "aud", "/audit?verify=1"), "a verified chain", "The chain verifies")
	wantStatus(t, b.get(t, "aud", "/audit?after=x"), http.StatusBadRequest, "a bad after")
	for _, u := range []string{"ana", "coord", "adm", "liaison-a"} {
		wantStatus(t, b.get(t, u, "/audit"), http.StatusForbidden, u+"'s audit page")
	}
}
