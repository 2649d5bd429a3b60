package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
)

// The operation's page shows the figures of verification (only confirmed
// removals count as taken offline, time to removal per provider and per
// platform), the item page the probes' evidence and the item's own time
// to removal, to the operation's members only, redacted as the API is.
func TestOperationAndItemPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// "late" is seen offline 1h05 after its receipt, confirmed half an
	// hour later; "order" is offline once.
	v, err := b.db.FindVerification(ctx, b.items["late"])
	must(err)
	if v.ReferredAt == nil {
		t.Fatal("the received referral did not start the item's verification")
	}
	received := *v.ReferredAt
	obs := []takedown.Observation{
		{ItemID: b.items["late"], At: received.Add(65 * time.Minute), Verdict: takedown.VerdictOffline, Reason: takedown.ReasonRemoved, Rule: "telegram/contact-page",
			Status: 200, FinalURL: "https://t.me/example_late", Bytes: 1834, LatencyMS: 41, Region: "EU"},
		{ItemID: b.items["late"], At: received.Add(95 * time.Minute), Verdict: takedown.VerdictOffline, Reason: takedown.ReasonRemoved, Rule: "telegram/contact-page",
			Status: 200, FinalURL: "https://t.me/example_late", Bytes: 1834, LatencyMS: 39, Region: "EU"},
		{ItemID: b.items["order"], At: received.Add(time.Minute), Verdict: takedown.VerdictOffline, Reason: takedown.ReasonWithheld, Rule: "telegram/withheld", Status: 200, Region: "EU"},
	}
	if _, err := b.db.RecordObservations(ctx, obs, takedown.DefaultSchedule); err != nil {
		t.Fatal(err)
	}
	// Another agency's analyst, and a note of nl-iru not shared with it.
	must(b.db.CreateUser(ctx, &takedown.User{Name: "ana-be", Agency: "be-iru", Roles: []takedown.Role{takedown.RoleAnalyst}}, ""))
	secret, prefix, sh := auth.NewToken()
	must(b.db.CreateToken(ctx, &takedown.Token{User: "ana-be", Name: "test", Prefix: prefix, Scopes: []takedown.Scope{takedown.ScopeRead}, ExpiresAt: time.Now().Add(time.Hour)}, sh))
	b.tokens["ana-be"] = secret
	nl, err := b.db.FindAgency(ctx, "nl-iru")
	must(err)
	late := "https://t.me/example_late"
	_, err = b.db.Submit(ctx, b.op.ID, []takedown.NewSubmission{{
		Item:       takedown.Recognition{Identity: "web:" + late, Canonical: late, Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite},
		Submission: takedown.Submission{AgencyID: nl.ID, RawInput: late + "?ref=lead", Notes: "informant lead, do not share", Source: "test", SubmittedAt: b.now},
	}})
	must(err)

	op := "/operations/rad-1"
	p := b.get(t, "ana", op)
	wantStatus(t, p, http.StatusOK, "the operation's page")
	wantIn(t, p, "the operation's page", "Preliminary figures", "Taken offline: 1", "seen offline, not yet confirmed", `href="/operations/rad-1/items?status=confirmed_offline"`,
		"By provider", "<th scope=\"row\">chanhost</th>", "By platform", "1 h 5 min")
	wantNotIn(t, p, "an analyst's operation page", `href="/operations/rad-1/referrals"`)
	wantIn(t, b.get(t, "coord", op), "a coordinator's operation page", `href="/operations/rad-1/referrals"`)
	wantIn(t, b.get(t, "aud", op), "an auditor's operation page", "Taken offline: 1")
	wantIn(t, b.get(t, "ana", "/"), "the home page", `<a href="/operations/rad-1">rad-1</a>`)

	// The item list, filtered.
	p = b.get(t, "ana", op+"/items?status=confirmed_offline")
	wantStatus(t, p, http.StatusOK, "the items")
	wantIn(t, p, "confirmed items", `href="/operations/rad-1/items/`+b.item("late")+`"`)
	wantNotIn(t, p, "confirmed items", `href="/operations/rad-1/items/`+b.item("one")+`"`, `href="/operations/rad-1/items/`+b.item("order")+`"`)
	wantIn(t, b.get(t, "ana", op+"/items"), "all items", `/items/`+b.item("one")+`"`, `/items/`+b.item("order")+`"`, "t.me/x?&lt;script&gt;")
	wantStatus(t, b.get(t, "ana", op+"/items?cursor=not-a-cursor"), http.StatusBadRequest, "a broken cursor")

	// The item: its verification and every probe's evidence.
	p = b.get(t, "ana", op+"/items/"+b.item("late"))
	wantStatus(t, p, http.StatusOK, "the item page")
	wantIn(t, p, "the item page", "confirmed offline", "Time to removal</dt><dd>1 h 5 min", "telegram/contact-page", "1834", "41 ms",
		received.Add(65*time.Minute).Format("2006-01-02 15:04"), "informant lead, do not share")
	wantIn(t, b.get(t, "ana-be", op+"/items/"+b.item("late")), "another agency's view", "not shared with your agency")
	wantNotIn(t, b.get(t, "ana-be", op+"/items/"+b.item("late")), "another agency's view", "informant lead")
	wantIn(t, b.get(t, "ana", op+"/items/"+b.item("order")), "an item seen offline once", "seen offline, not yet confirmed", "telegram/withheld")
	wantIn(t, b.get(t, "ana", op+"/items/"+b.item("other")), "an item never probed", "Not probed yet.")

	// Who may not: nobody signs in first; liaisons and strangers find
	// nothing; an item of no such number, or of no such form, is not there.
	if p := b.get(t, "", op); p.status != http.StatusSeeOther {
		t.Errorf("signed out: %d, want a redirect to the login page", p.status)
	}
	for _, path := range []string{op, op + "/items", op + "/items/" + b.item("late")} {
		wantStatus(t, b.get(t, "liaison-a", path), http.StatusNotFound, "a liaison at "+path)
		wantStatus(t, b.get(t, "adm", path), http.StatusNotFound, "an administrator of no agency at "+path)
	}
	wantStatus(t, b.get(t, "ana", "/operations/nope"), http.StatusNotFound, "no such operation")
	wantStatus(t, b.get(t, "ana", op+"/items/999999"), http.StatusNotFound, "no such item")
	wantStatus(t, b.get(t, "ana", op+"/items/x"), http.StatusNotFound, "no item number")
}
