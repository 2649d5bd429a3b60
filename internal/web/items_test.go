package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/evidence"
	"github.com/takedown-project/takedown/internal/probe"
	"github.com/takedown-project/takedown/internal/web"
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
	// The charts, drawn on the server, and the breakdowns, each linking
	// to its items; the page of an open operation reloads itself.
	wantIn(t, p, "the operation's charts", `<svg xmlns="http://www.w3.org/2000/svg"`, "Items taken offline over time", "Still online after referral, per platform",
		"Time to removal per provider", `<meta http-equiv="refresh" content="30">`, "By submitting agency", `href="/operations/rad-1/items?agency=nl-iru"`,
		`href="/operations/rad-1/items?kind=website"`, "Removal orders with items pending")
	wantNotIn(t, b.get(t, "ana", op+"?live=0"), "the page not reloading", `http-equiv="refresh"`)
	wantIn(t, b.get(t, "ana", op+"/items?agency=nl-iru"), "the items of an agency", `/items/`+b.item("late")+`"`)
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

// A capture is shown as data: the page's text without its script, its
// headers, its image served as an image with a policy that lets nothing
// run; an SVG (which can hold scripts) is not served at all.
func TestCapturePage(t *testing.T) {
	t.Parallel()
	site := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			rw.Header().Set("Content-Type", "text/html")
			rw.Write([]byte(`<html><head><title>Invented channel</title><script>alert("captured")</script></head><body><p>Filler post.</p><img src="/a.png"><img src="/b.svg"></body></html>`))
		case "/a.png":
			rw.Header().Set("Content-Type", "image/png")
			rw.Write([]byte("\x89PNG\r\n\x1a\nsynthetic"))
		case "/b.svg":
			rw.Header().Set("Content-Type", "image/svg+xml")
			rw.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
		}
	}))
	defer site.Close()
	blobs, err := evidence.NewFSStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := probe.New(probe.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, PerHostRate: 100, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	capturer, err := evidence.New(evidence.Config{Fetcher: p, Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	b := setupWith(t, func(c *web.Config) { c.Evidence = blobs })
	capt, err := capturer.Capture(ctx, evidence.Target{ItemID: b.items["one"], URL: site.URL + "/page", Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.db.RecordCapture(ctx, capt); err != nil {
		t.Fatal(err)
	}
	failed := &takedown.Capture{ItemID: b.items["one"], At: capt.At.Add(time.Minute), URL: site.URL + "/page", State: takedown.CaptureFailed, Reason: takedown.CaptureNetwork}
	if err := b.db.RecordCapture(ctx, failed); err != nil {
		t.Fatal(err)
	}
	item := "/operations/rad-1/items/" + b.item("one")
	p1 := b.get(t, "ana", item)
	wantIn(t, p1, "the item page", capt.SHA256, "View capture "+strconv.FormatInt(capt.ID, 10), "failed (network)", "no file")
	page := item + "/captures/" + strconv.FormatInt(capt.ID, 10)
	p2 := b.get(t, "ana", page)
	wantStatus(t, p2, http.StatusOK, "the capture page")
	wantIn(t, p2, "the capture page", "Invented channel", "Filler post.", "Content-Type: image/png", `src="`+page+`/images/2"`, "Image 2 of the capture")
	wantNotIn(t, p2, "the capture page", `alert(&#34;captured&#34;)`, `/images/3"`)
	img := b.get(t, "ana", page+"/images/2")
	if img.status != http.StatusOK || img.header.Get("Content-Type") != "image/png" || !strings.Contains(img.header.Get("Content-Security-Policy"), "sandbox") ||
		img.header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(img.body, "\x89PNG") {
		t.Errorf("the image: %d %v", img.status, img.header)
	}
	for _, path := range []string{page + "/images/1", page + "/images/3", page + "/images/x", item + "/captures/" + strconv.FormatInt(failed.ID, 10), item + "/captures/999999"} {
		wantStatus(t, b.get(t, "ana", path), http.StatusNotFound, path)
	}
	wantStatus(t, b.get(t, "liaison-a", page), http.StatusNotFound, "a liaison at a capture")
	wantStatus(t, b.get(t, "ana", "/operations/rad-1/items/"+b.item("other")+"/captures/"+strconv.FormatInt(capt.ID, 10)), http.StatusNotFound, "a capture under another item")

	// Without an evidence store, captures are listed but not shown.
	nb := setup(t)
	if err := nb.db.RecordCapture(ctx, &takedown.Capture{ItemID: nb.items["one"], At: capt.At, URL: capt.URL, State: capt.State, SHA256: capt.SHA256, Size: capt.Size, Location: capt.Location, Records: capt.Records}); err != nil {
		t.Fatal(err)
	}
	caps, _ := nb.db.ListCaptures(ctx, nb.items["one"])
	wantStatus(t, nb.get(t, "ana", "/operations/rad-1/items/"+nb.item("one")+"/captures/"+strconv.FormatInt(caps[0].ID, 10)), http.StatusServiceUnavailable, "a capture without a store")
}

// The operation page's figures are computed at most every 20 s; a stale
// report is served while a new one is computed behind it.
func TestOperationReportCache(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	b := setupWith(t, func(c *web.Config) { c.Now = now })
	first := b.get(t, "ana", "/operations/rad-1?live=0")
	wantIn(t, first, "the first figures", "As of 2026-11-24 12:00 UTC")
	advance(10 * time.Second)
	wantIn(t, b.get(t, "ana", "/operations/rad-1?live=0"), "fresh figures", "As of 2026-11-24 12:00 UTC")
	advance(50 * time.Second) // stale: served, and computed again behind
	wantIn(t, b.get(t, "ana", "/operations/rad-1?live=0"), "stale figures", "As of 2026-11-24 12:00 UTC")
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := b.get(t, "ana", "/operations/rad-1?live=0")
		if strings.Contains(p.body, "As of 2026-11-24 12:01 UTC") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale figures were not computed again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	advance(25 * time.Hour) // too old to serve: computed before the answer
	wantIn(t, b.get(t, "ana", "/operations/rad-1?live=0"), "old figures", "As of 2026-11-25 13:01 UTC")
	// The store keeps the latest: a process that starts serves it at once.
	snap, err := b.db.LoadReportSnapshot(ctx, b.op.ID)
	if err != nil || !snap.AsOf.Equal(time.Date(2026, 11, 25, 13, 1, 0, 0, time.UTC)) || snap.Operation != "rad-1" {
		t.Errorf("the kept report: %+v, %v", snap, err)
	}
}
