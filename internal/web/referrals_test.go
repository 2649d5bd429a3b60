package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/sqlite"
	"github.com/takedown-project/takedown/internal/web"
)

// bundle is a UI on a real SQLite store with an operation, providers,
// users of every kind and referral batches in every state.
type bundle struct {
	db   *sqlite.DB
	base string
	now  time.Time
	op   *takedown.Operation
	// items by name, referrals by name.
	items map[string]int64
	refs  map[string]int64
	// tokens by user name: the UI takes bearer tokens as the API does.
	tokens map[string]string
}

const liaisonPassword = "correct horse battery staple"

var ctx = context.Background()

func setup(t *testing.T) *bundle { t.Helper(); return setupWith(t, nil) }

// setupWith is setup with the UI's configuration changed by configure.
func setupWith(t *testing.T, configure func(*web.Config)) *bundle {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "takedown.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b := &bundle{db: db, now: time.Now().UTC().Truncate(time.Minute), items: map[string]int64{}, refs: map[string]int64{}, tokens: map[string]string{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	nl := &takedown.Agency{Code: "nl-iru", Name: "Unit NL"}
	be := &takedown.Agency{Code: "be-iru", Name: "Unit BE"}
	must(db.CreateAgency(ctx, nl))
	must(db.CreateAgency(ctx, be))
	b.op = &takedown.Operation{Slug: "rad-1", Name: "Action day", Status: takedown.OperationOpen, Agencies: []string{"nl-iru", "be-iru"}}
	must(db.CreateOperation(ctx, b.op))
	must(db.CreateProvider(ctx, &takedown.Provider{Code: "chanhost", Name: "Channel host", Platforms: []takedown.Platform{takedown.PlatformTelegram}}))
	must(db.CreateProvider(ctx, &takedown.Provider{Code: "otherhost", Name: "Other host"}))
	must(db.CreateProvider(ctx, &takedown.Provider{Code: "webhost", Name: "Web host", Domains: []string{"webhost.example"},
		Contacts: takedown.ProviderContacts{AbuseEmail: "abuse@webhost.example",
			Webhook: &takedown.WebhookContact{URL: "https://hooks.webhost.example/takedown", Secret: "whsec_c2VjcmV0LXNlY3JldA"},
			API:     &takedown.APIContact{URL: "https://api.webhost.example/v1", Token: "api-token-never-shown"}}}))

	users := []*takedown.User{
		{Name: "coord", Agency: "nl-iru", Roles: []takedown.Role{takedown.RoleCoordinator}},
		{Name: "ana", Agency: "nl-iru", Roles: []takedown.Role{takedown.RoleAnalyst}},
		{Name: "aud", Roles: []takedown.Role{takedown.RoleAuditor}},
		{Name: "adm", Roles: []takedown.Role{takedown.RoleAdmin}},
		{Name: "liaison-a", Provider: "chanhost", Roles: []takedown.Role{takedown.RoleProvider}},
		{Name: "liaison-b", Provider: "otherhost", Roles: []takedown.Role{takedown.RoleProvider}},
	}
	for _, u := range users {
		hash := ""
		if u.Name == "liaison-a" {
			if hash, err = auth.HashPassword(liaisonPassword); err != nil {
				t.Fatal(err)
			}
		}
		must(db.CreateUser(ctx, u, hash))
		secret, prefix, sh := auth.NewToken()
		must(db.CreateToken(ctx, &takedown.Token{User: u.Name, Name: "test", Prefix: prefix, Scopes: []takedown.Scope{takedown.ScopeRead, takedown.ScopeWrite}, ExpiresAt: time.Now().Add(24 * time.Hour)}, sh))
		b.tokens[u.Name] = secret
	}

	// Items; one's URL and another's reason try to smuggle a script in.
	urls := map[string]string{
		"one": "https://t.me/example_one", "script": "https://t.me/x?<script>alert(1)</script>", "other": "https://other.example/a",
		"order": "https://t.me/example_order", "late": "https://t.me/example_late", "lost": "https://example.org/lost",
	}
	names := []string{"one", "script", "other", "order", "late", "lost"}
	var subs []takedown.NewSubmission
	for _, n := range names {
		subs = append(subs, takedown.NewSubmission{
			Item:       takedown.Recognition{Identity: "web:" + urls[n], Canonical: urls[n], Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite},
			Submission: takedown.Submission{AgencyID: nl.ID, RawInput: urls[n], Source: "test", SubmittedAt: b.now},
		})
	}
	res, err := db.Submit(ctx, b.op.ID, subs)
	must(err)
	for i, n := range names {
		b.items[n] = res[i].ItemID
	}
	must(db.SetAttributions(ctx, []takedown.ItemAttribution{{ItemID: b.items["lost"], Provider: "", Via: "none: no provider claims example.org"}}))

	refer := func(name, provider string, basis takedown.LegalBasis, items ...string) *takedown.Referral {
		t.Helper()
		r := &takedown.Referral{OperationID: b.op.ID, Provider: provider, LegalBasis: basis}
		if basis == takedown.BasisRemovalOrder {
			r.Order = &takedown.RemovalOrder{IssuingAuthority: "Example competent authority", Reference: "RO-2026-0042", Contact: "orders@authority.example",
				LegalBasis: "Regulation (EU) 2021/784, Article 3", Reasons: "terrorist content within Article 2(7)(a)", IssuedAt: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
				Redress: "an administrative review before the issuing authority", DisclosureRestricted: true}
		}
		var ids []int64
		for _, n := range items {
			ids = append(ids, b.items[n])
			r.Items = append(r.Items, takedown.ReferralItem{ItemID: b.items[n], Reason: "<script>alert(2)</script> logo"})
		}
		if _, err := db.CreateReferral(ctx, r, ids); err != nil {
			t.Fatal(err)
		}
		b.refs[name] = r.ID
		return r
	}
	refer("plain", "chanhost", takedown.BasisReferral, "one", "script")
	refer("other", "otherhost", takedown.BasisReferral, "other")
	refer("order", "chanhost", takedown.BasisRemovalOrder, "order")
	refer("late", "chanhost", takedown.BasisRemovalOrder, "late")
	// Receipts start the orders' hours: 42 minutes are left of one, the
	// other is 1h05m past it. The providers reach the deliveries by
	// e-mail, recorded here as the sender would.
	must(db.RecordDelivery(ctx, b.refs["order"], takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryDelivered, At: b.now.Add(-18 * time.Minute)}))
	must(db.RecordDelivery(ctx, b.refs["late"], takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryDelivered, At: b.now.Add(-2*time.Hour - 5*time.Minute)}))
	// A dead letter; no delivery job of it is queued (the provider had no
	// e-mail when the batch was made), so it can be sent again at once.
	must(db.RecordDelivery(ctx, b.refs["plain"], takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryDead, Error: "550 mailbox <b>unknown</b>", At: b.now}))

	cfg := web.Config{Store: db, Auth: auth.New(auth.Config{Users: db}), Now: func() time.Time { return b.now }}
	if configure != nil {
		configure(&cfg)
	}
	ui, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	b.base = srv.URL
	return b
}

// page is a response, read.
type page struct {
	status int
	loc    string
	body   string
	header http.Header
}

// as makes requests as user ("" for nobody), following no redirect.
func (b *bundle) as(t *testing.T, user, method, path string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+b.tokens[user])
	}
	return do(t, http.DefaultClient, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) page {
	t.Helper()
	c2 := *c
	c2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, loc: resp.Header.Get("Location"), body: string(raw), header: resp.Header}
	// No page carries a script, whatever the data holds.
	if strings.Contains(strings.ToLower(p.body), "<script") {
		t.Errorf("%s %s: the page holds a script:\n%s", req.Method, req.URL.Path, p.body)
	}
	return p
}

func (b *bundle) get(t *testing.T, user, path string) page {
	t.Helper()
	return b.as(t, user, "GET", path, nil)
}
func (b *bundle) post(t *testing.T, user, path string, form url.Values) page {
	t.Helper()
	return b.as(t, user, "POST", path, form)
}

func (b *bundle) id(name string) string { return strconv.FormatInt(b.refs[name], 10) }
func (b *bundle) item(name string) string {
	return strconv.FormatInt(b.items[name], 10)
}

func wantStatus(t *testing.T, p page, status int, what string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.status, status, p.body)
	}
}

func wantIn(t *testing.T, p page, what string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s: the page lacks %q", what, s)
		}
	}
}

func wantNotIn(t *testing.T, p page, what string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.body, s) {
			t.Errorf("%s: the page shows %q", what, s)
		}
	}
}

// TestPortalLink: the link a message carries sends a liaison who is not
// signed in to the login page and back to the batch.
func TestPortalLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	link := "/portal/referrals/" + b.id("plain")
	req, _ := http.NewRequest("GET", b.base+link, nil)
	p := do(t, browser, req)
	if p.status != http.StatusSeeOther || p.loc != "/login?next="+url.QueryEscape(link) {
		t.Fatalf("the portal link signed out: %d to %q, want the login page", p.status, p.loc)
	}
	req, _ = http.NewRequest("GET", b.base+p.loc, nil)
	login := do(t, browser, req)
	wantIn(t, login, "login page", `name="next" value="`+link+`"`)
	form := url.Values{"user": {"liaison-a"}, "password": {liaisonPassword}, "next": {link}}
	req, _ = http.NewRequest("POST", b.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p = do(t, browser, req)
	if p.status != http.StatusSeeOther || p.loc != link {
		t.Fatalf("login: %d to %q, want back to %s", p.status, p.loc, link)
	}
	req, _ = http.NewRequest("GET", b.base+link, nil)
	p = do(t, browser, req)
	wantStatus(t, p, http.StatusOK, "the portal link signed in")
	wantIn(t, p, "the batch", "Batch "+b.id("plain"), "Acknowledge receipt")
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q", csp)
	}
	// The home page leads a liaison to the portal.
	req, _ = http.NewRequest("GET", b.base+"/", nil)
	wantIn(t, do(t, browser, req), "a liaison's home page", `href="/portal"`)
}

func TestPortal(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// The list: its own provider's batches only, with the orders' clocks,
	// and never who put them together.
	p := b.get(t, "liaison-a", "/portal")
	wantStatus(t, p, http.StatusOK, "the portal")
	wantIn(t, p, "the portal", "/portal/referrals/"+b.id("plain"), "/portal/referrals/"+b.id("order"), "/portal/referrals/"+b.id("late"),
		"42 min left", `<strong class="overdue">OVERDUE by 1h05m</strong>`, "removal order")
	wantNotIn(t, p, "the portal", "/portal/referrals/"+b.id("other"), "system:takedown")
	if i, j := strings.Index(p.body, "/portal/referrals/"+b.id("late")), strings.Index(p.body, "/portal/referrals/"+b.id("plain")); i > j {
		t.Error("the portal lists the batches oldest first")
	}
	// Another provider's batch does not exist for this liaison; nor do
	// the coordinators' pages.
	for _, path := range []string{"/portal/referrals/" + b.id("other"), "/portal/referrals/99999", "/portal/referrals/x", "/operations/rad-1/referrals"} {
		wantStatus(t, b.get(t, "liaison-a", path), http.StatusNotFound, path)
	}
	wantStatus(t, b.post(t, "liaison-a", "/portal/referrals/"+b.id("other")+"/acknowledge", url.Values{}), http.StatusNotFound, "acknowledging another's batch")
	wantStatus(t, b.post(t, "liaison-a", "/portal/referrals/"+b.id("other")+"/answers", url.Values{"item": {b.item("other")}, "outcome_" + b.item("other"): {"removed"}}), http.StatusNotFound, "answering another's batch")
	wantStatus(t, b.get(t, "liaison-b", "/portal/referrals/"+b.id("other")), http.StatusOK, "the other liaison's batch")
	// The portal is the liaisons'.
	wantStatus(t, b.get(t, "coord", "/portal"), http.StatusForbidden, "a coordinator on the portal")

	// A removal order: its Annex I, the deadline and the time left.
	p = b.get(t, "liaison-a", "/portal/referrals/"+b.id("order"))
	wantStatus(t, p, http.StatusOK, "the order")
	wantIn(t, p, "the order", "Example competent authority", "RO-2026-0042", "orders@authority.example", "Regulation (EU) 2021/784, Article 3",
		"terrorist content within Article 2(7)(a)", "2026-11-24 10:00 UTC", "an administrative review", "<strong>restricted</strong>",
		"42 min left", b.now.Add(42*time.Minute).Format("2006-01-02 15:04 UTC"), `name="acted_at_`+b.item("order")+`"`, `value="force_majeure"`)
	p = b.get(t, "liaison-a", "/portal/referrals/"+b.id("late"))
	wantIn(t, p, "the overdue order", "OVERDUE by 1h05m")

	// Acknowledge receipt: recorded, and the button is gone.
	plain := "/portal/referrals/" + b.id("plain")
	p = b.get(t, "liaison-a", plain)
	wantIn(t, p, "the batch", `action="`+plain+`/acknowledge"`, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(2)&lt;/script&gt; logo",
		`rel="noreferrer noopener"`)
	wantNotIn(t, p, "the batch", "system:takedown")
	p = b.post(t, "liaison-a", plain+"/acknowledge", url.Values{})
	if p.status != http.StatusSeeOther || p.loc != plain+"?done=acknowledged" {
		t.Fatalf("acknowledge: %d to %q", p.status, p.loc)
	}
	if ref, _ := b.db.FindReferral(ctx, b.refs["plain"]); ref.AcknowledgedAt == nil {
		t.Error("the acknowledgement was not recorded")
	}
	p = b.get(t, "liaison-a", plain+"?done=acknowledged")
	wantIn(t, p, "after acknowledging", "Receipt acknowledged.")
	wantNotIn(t, p, "after acknowledging", "Acknowledge receipt")

	// Two items from one form: a rejection without its reason is shown
	// on the page and nothing is recorded.
	one, script := b.item("one"), b.item("script")
	form := url.Values{"item": {one, script}, "outcome_" + one: {"removed"}, "outcome_" + script: {"rejected"}, "reason_" + script: {"  "}}
	p = b.post(t, "liaison-a", plain+"/answers", form)
	wantStatus(t, p, http.StatusBadRequest, "a rejection without reason")
	wantIn(t, p, "a rejection without reason", "nothing was recorded", "Item "+script+": a rejected answer needs its reason",
		`<option value="removed" selected>`, `aria-invalid="true"`)
	ref, _ := b.db.FindReferral(ctx, b.refs["plain"])
	for _, it := range ref.Items {
		if it.Outcome != takedown.OutcomePending {
			t.Errorf("item %d was answered %s by a form with an error", it.ItemID, it.Outcome)
		}
	}
	// Nothing chosen at all is said so too.
	p = b.post(t, "liaison-a", plain+"/answers", url.Values{"item": {one, script}})
	wantStatus(t, p, http.StatusBadRequest, "an empty form")
	wantIn(t, p, "an empty form", "choose an outcome for at least one item")

	// With the reason (one that tries a script), both are recorded.
	form.Set("reason_"+script, "<script>alert(3)</script> within our terms")
	p = b.post(t, "liaison-a", plain+"/answers", form)
	if p.status != http.StatusSeeOther || p.loc != plain+"?done=answered" {
		t.Fatalf("answers: %d to %q\n%s", p.status, p.loc, p.body)
	}
	ref, _ = b.db.FindReferral(ctx, b.refs["plain"])
	got := map[int64]takedown.ReferralItem{}
	for _, it := range ref.Items {
		got[it.ItemID] = it
	}
	if it := got[b.items["one"]]; it.Outcome != takedown.OutcomeRemoved || it.AnsweredBy != "provider chanhost (user liaison-a)" {
		t.Errorf("the removed item: %+v", it)
	}
	if it := got[b.items["script"]]; it.Outcome != takedown.OutcomeRejected || it.AnswerReason != "<script>alert(3)</script> within our terms" {
		t.Errorf("the rejected item: %+v", it)
	}
	// Answered items show their answers and can no longer be answered.
	p = b.get(t, "liaison-a", plain)
	wantIn(t, p, "the answered batch", "&lt;script&gt;alert(3)&lt;/script&gt; within our terms", "by provider chanhost (user liaison-a)")
	wantNotIn(t, p, "the answered batch", `name="outcome_`+one+`"`, `name="outcome_`+script+`"`, "Send answers")

	// An order's answer with its Annex II feedback; acted at is UTC.
	order := b.item("order")
	p = b.post(t, "liaison-a", "/portal/referrals/"+b.id("order")+"/answers", url.Values{"item": {order}, "outcome_" + order: {"disabled"},
		"acted_at_" + order: {"2026-11-24T10:20"}, "action_" + order: {"disabled"}, "details_" + order: {"blocked in the EU"}})
	wantStatus(t, p, http.StatusSeeOther, "the order's answer")
	ref, _ = b.db.FindReferral(ctx, b.refs["order"])
	if f := ref.Items[0].Feedback; f == nil || f.ActedAt == nil || !f.ActedAt.Equal(time.Date(2026, 11, 24, 10, 20, 0, 0, time.UTC)) || f.Action != "disabled" || f.Details != "blocked in the EU" {
		t.Errorf("the order's feedback: %+v", ref.Items[0].Feedback)
	}
	// A cannot-comply reason the Regulation does not know is refused.
	late := b.item("late")
	p = b.post(t, "liaison-a", "/portal/referrals/"+b.id("late")+"/answers", url.Values{"item": {late}, "outcome_" + late: {"need_info"},
		"reason_" + late: {"which account?"}, "cannot_comply_" + late: {"bored"}})
	wantStatus(t, p, http.StatusBadRequest, "a bad cannot-comply reason")
	wantIn(t, p, "a bad cannot-comply reason", "cannot_comply &#34;bored&#34;")

	// The coordinator reads who answered, when, and the feedback.
	p = b.get(t, "coord", "/operations/rad-1/referrals/"+b.id("order"))
	wantStatus(t, p, http.StatusOK, "the coordinator's view of the order")
	wantIn(t, p, "the coordinator's view of the order", "by provider chanhost (user liaison-a)", "2026-11-24 10:20 UTC", "access disabled", "blocked in the EU", "RO-2026-0042")
}

func TestCoordinatorReferrals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	list := "/operations/rad-1/referrals"
	p := b.get(t, "coord", list)
	wantStatus(t, p, http.StatusOK, "the referrals")
	wantIn(t, p, "the referrals", "<strong>DEAD</strong>", "550 mailbox &lt;b&gt;unknown&lt;/b&gt;", "Send again", "otherhost",
		`<strong class="overdue">OVERDUE by 1h05m</strong>`, "42 min left", "dead-row", "0 of 2")
	wantNotIn(t, p, "the referrals", "<b>unknown</b>")

	// The home page leads there.
	wantIn(t, b.get(t, "coord", "/"), "the coordinator's home page", `href="/operations/rad-1/referrals"`, `href="/operations/rad-1/unattributed"`)

	// An analyst of the operation may not; an auditor reads and changes
	// nothing.
	for _, path := range []string{list, list + "/" + b.id("plain"), "/operations/rad-1/unattributed"} {
		wantStatus(t, b.get(t, "ana", path), http.StatusForbidden, "an analyst on "+path)
	}
	wantStatus(t, b.post(t, "ana", list+"/"+b.id("plain")+"/redeliver", url.Values{"channel": {"email"}}), http.StatusForbidden, "an analyst sending again")
	p = b.get(t, "aud", list)
	wantStatus(t, p, http.StatusOK, "an auditor's view")
	wantIn(t, p, "an auditor's view", "<strong>DEAD</strong>")
	wantNotIn(t, p, "an auditor's view", "Send again")
	wantStatus(t, b.post(t, "aud", list+"/"+b.id("plain")+"/redeliver", url.Values{"channel": {"email"}}), http.StatusForbidden, "an auditor sending again")
	wantStatus(t, b.get(t, "adm", list), http.StatusNotFound, "an administrator (no operation of theirs)")
	wantStatus(t, b.get(t, "coord", "/operations/nope/referrals"), http.StatusNotFound, "an unknown operation")

	// Send again: queued, pending; a second time is a conflict, shown.
	p = b.post(t, "coord", list+"/"+b.id("plain")+"/redeliver", url.Values{"channel": {"email"}})
	if p.status != http.StatusSeeOther || p.loc != list+"?done=redelivered" {
		t.Fatalf("send again: %d to %q\n%s", p.status, p.loc, p.body)
	}
	ref, _ := b.db.FindReferral(ctx, b.refs["plain"])
	if i := slices.IndexFunc(ref.Deliveries, func(d takedown.Delivery) bool { return d.Channel == takedown.ChannelEmail }); i < 0 || ref.Deliveries[i].State != takedown.DeliveryPending {
		t.Errorf("after sending again: %+v", ref.Deliveries)
	}
	p = b.post(t, "coord", list+"/"+b.id("plain")+"/redeliver", url.Values{"channel": {"email"}, "from": {"referral"}})
	wantStatus(t, p, http.StatusConflict, "sending again what is not dead")
	wantIn(t, p, "sending again what is not dead", "not dead", "Batch "+b.id("plain")+" to chanhost")
	p = b.get(t, "coord", list+"?done=redelivered")
	wantIn(t, p, "after sending again", "The delivery is queued again.")
	wantNotIn(t, p, "after sending again", "<strong>DEAD</strong>")

	// A batch of another operation's path is not found.
	wantStatus(t, b.get(t, "coord", list+"/99999"), http.StatusNotFound, "an unknown batch")
}

func TestUnattributed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	queue := "/operations/rad-1/unattributed"
	p := b.get(t, "coord", queue)
	wantStatus(t, p, http.StatusOK, "the queue")
	lost := b.item("lost")
	wantIn(t, p, "the queue", "https://example.org/lost", "none: no provider claims example.org", `<label for="provider-`+lost+`">`, `value="chanhost"`)
	// The auditor reads it without the forms.
	p = b.get(t, "aud", queue)
	wantIn(t, p, "the auditor's queue", "none: no provider claims example.org")
	wantNotIn(t, p, "the auditor's queue", `name="provider"`)
	wantStatus(t, b.post(t, "aud", queue, url.Values{"item": {lost}, "provider": {"chanhost"}}), http.StatusForbidden, "an auditor attributing")

	// Bad choices are said on the page.
	p = b.post(t, "coord", queue, url.Values{"item": {lost}, "provider": {"nobody"}})
	wantStatus(t, p, http.StatusBadRequest, "an unknown provider")
	wantIn(t, p, "an unknown provider", "no provider &#34;nobody&#34;")
	wantStatus(t, b.get(t, "coord", queue+"?cursor=nonsense"), http.StatusBadRequest, "a malformed cursor")

	p = b.post(t, "coord", queue, url.Values{"item": {lost}, "provider": {"chanhost"}})
	if p.status != http.StatusSeeOther || p.loc != queue+"?done=attributed" {
		t.Fatalf("attribute: %d to %q\n%s", p.status, p.loc, p.body)
	}
	it, _ := b.db.FindItem(ctx, b.items["lost"])
	if it.Provider != "chanhost" || it.Attribution != "by hand (user coord)" {
		t.Errorf("the attributed item: %q %q", it.Provider, it.Attribution)
	}
	p = b.get(t, "coord", queue+"?done=attributed")
	wantIn(t, p, "the queue after", "The item is attributed", "The queue is empty")
	wantNotIn(t, p, "the queue after", "https://example.org/lost")
}

func TestProviderDirectory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.get(t, "adm", "/providers")
	wantStatus(t, p, http.StatusOK, "the directory")
	wantIn(t, p, "the directory", `href="/providers/webhost"`, "Web host", "webhost.example", "api, webhook, email, portal", "telegram")
	wantStatus(t, b.get(t, "coord", "/providers"), http.StatusForbidden, "a coordinator on the directory")
	wantStatus(t, b.get(t, "liaison-a", "/providers/chanhost"), http.StatusForbidden, "a liaison on the directory")
	wantStatus(t, b.get(t, "adm", "/providers/nobody"), http.StatusNotFound, "an unknown provider")

	p = b.get(t, "adm", "/providers/webhost")
	wantStatus(t, p, http.StatusOK, "the provider")
	wantIn(t, p, "the provider", "currently set", "https://hooks.webhost.example/takedown", `value="abuse@webhost.example"`)
	wantNotIn(t, p, "the provider", "whsec_c2VjcmV0LXNlY3JldA", "api-token-never-shown")

	form := url.Values{"name": {"Web host <b>Ltd</b>"}, "domains": {"webhost.example, Other-Web.example"}, "asns": {"AS64500 64501"}, "languages": {"de, en"},
		"abuse_email": {"abuse@webhost.example"}, "order_email": {"orders@webhost.example"},
		"webhook_url": {"https://hooks.webhost.example/takedown"}, "webhook_secret": {""},
		"api_url": {"https://api.webhost.example/v2"}, "api_token": {""}}
	// A bad address is shown, and nothing changes.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("order_email", "not an address")
	p = b.post(t, "adm", "/providers/webhost", bad)
	wantStatus(t, p, http.StatusBadRequest, "a bad address")
	wantIn(t, p, "a bad address", "is not an e-mail address", `value="not an address"`)
	wantNotIn(t, p, "a bad address", "whsec_c2VjcmV0LXNlY3JldA", "api-token-never-shown")
	if got, _ := b.db.FindProvider(ctx, "webhost"); got.Name != "Web host" {
		t.Errorf("a refused edit changed the provider: %+v", got)
	}

	p = b.post(t, "adm", "/providers/webhost", form)
	if p.status != http.StatusSeeOther || p.loc != "/providers/webhost?done=saved" {
		t.Fatalf("save: %d to %q\n%s", p.status, p.loc, p.body)
	}
	got, err := b.db.FindProvider(ctx, "webhost")
	if err != nil {
		t.Fatal(err)
	}
	// The secret left empty for the same URL stays; the token of a URL
	// that changed is gone with it.
	if got.Contacts.Webhook == nil || got.Contacts.Webhook.Secret != "whsec_c2VjcmV0LXNlY3JldA" {
		t.Errorf("the webhook secret was not kept: %+v", got.Contacts.Webhook)
	}
	if got.Contacts.API == nil || got.Contacts.API.URL != "https://api.webhost.example/v2" || got.Contacts.API.Token != "" {
		t.Errorf("the API contact: %+v", got.Contacts.API)
	}
	if got.Name != "Web host <b>Ltd</b>" || !slices.Equal(got.Domains, []string{"other-web.example", "webhost.example"}) || !slices.Equal(got.ASNs, []uint32{64500, 64501}) ||
		!slices.Equal(got.Languages, []string{"de", "en"}) || got.Contacts.OrderEmail != "orders@webhost.example" || !slices.Equal(got.Platforms, []takedown.Platform{}) {
		t.Errorf("the saved provider: %+v", got)
	}
	p = b.get(t, "adm", "/providers/webhost?done=saved")
	wantIn(t, p, "the saved provider", "The provider is saved.", "Web host &lt;b&gt;Ltd&lt;/b&gt;")
	// A new secret replaces the old one.
	form.Set("webhook_secret", "whsec_bmV3LXNlY3JldA")
	wantStatus(t, b.post(t, "adm", "/providers/webhost", form), http.StatusSeeOther, "a new secret")
	if got, _ := b.db.FindProvider(ctx, "webhost"); got.Contacts.Webhook.Secret != "whsec_bmV3LXNlY3JldA" {
		t.Errorf("the new secret: %+v", got.Contacts.Webhook)
	}
}

// TestPortalPaging: a long batch is answered a page of open items at a
// time.
func TestPortalPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	nl, err := b.db.FindAgency(ctx, "nl-iru")
	if err != nil {
		t.Fatal(err)
	}
	var subs []takedown.NewSubmission
	for i := range 105 {
		u := "https://t.me/many_" + strconv.Itoa(i)
		subs = append(subs, takedown.NewSubmission{
			Item:       takedown.Recognition{Identity: "web:" + u, Canonical: u, Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite},
			Submission: takedown.Submission{AgencyID: nl.ID, RawInput: u, Source: "test", SubmittedAt: b.now},
		})
	}
	res, err := b.db.Submit(ctx, b.op.ID, subs)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range res {
		ids = append(ids, r.ItemID)
	}
	ref := &takedown.Referral{OperationID: b.op.ID, Provider: "chanhost", LegalBasis: takedown.BasisReferral}
	if _, err := b.db.CreateReferral(ctx, ref, ids); err != nil {
		t.Fatal(err)
	}
	path := "/portal/referrals/" + strconv.FormatInt(ref.ID, 10)
	p := b.get(t, "liaison-a", path)
	if n := strings.Count(p.body, `name="item"`); n != 100 {
		t.Errorf("the first page has %d open items, want 100", n)
	}
	wantIn(t, p, "the first page", "Items 1 to 100 of the 105 open", `href="`+path+`?page=2"`)
	p = b.get(t, "liaison-a", path+"?page=2")
	if n := strings.Count(p.body, `name="item"`); n != 5 {
		t.Errorf("the second page has %d open items, want 5", n)
	}
	wantIn(t, p, "the second page", `value="2"`, `href="`+path+`?page=1"`)
}
