package simnet

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// smallScenario is a world small enough for many tests, with providers
// that always act and no noise, unless a test says otherwise.
func smallScenario(t testing.TB, extra string) *Scenario {
	t.Helper()
	s, err := ParseScenario([]byte(`
name: small
seed: 7
network: {items: 600, outlets: 6}
agencies:
  - {code: aa-iru, name: "Unit A", format: csv}
  - {code: bb-iru, name: "Unit B", format: csv-semicolon}
  - {code: cc-iru, name: "Unit C", format: jsonl}
  - {code: dd-iru, name: "Unit D", format: csv-tab}
  - {code: ee-iru, name: "Unit E", format: csv-reordered}
  - {code: ff-iru, name: "Unit F", format: jsonl-aliases}
exports: {coverage: 0.2, bad_rows: 0.03, repeats: 0.05}
` + extra))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testBundle is a running simulator and a client that reaches it the way
// takedown's will: every host routed to the simulator, its CA trusted.
type testBundle struct {
	srv    *Server
	clock  *Clock
	client *http.Client
}

func setup(t *testing.T, s *Scenario) *testBundle {
	t.Helper()
	clock := newClockAt(s.Start, 1, time.Now)
	srv, err := Start(context.Background(), Config{Scenario: s, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	info := srv.Info()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(info.CAPEM)) {
		t.Fatal("no CA in the simulator's info")
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		to := info.HTTPS
		if port == "80" {
			to = info.HTTP
		}
		return (&net.Dialer{}).DialContext(ctx, network, to)
	}
	client := &http.Client{
		Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: 10 * time.Second,
	}
	return &testBundle{srv: srv, clock: clock, client: client}
}

// sendMail sends a message the way a mail sender in simulator mode does:
// over STARTTLS, trusting the simulator's CA.
func (b *testBundle) sendMail(from, to, msg string) error {
	c, err := smtp.Dial(b.srv.Info().SMTP)
	if err != nil {
		return err
	}
	defer c.Close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(b.srv.Info().CAPEM))
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "mx.provider.example"}); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(wc, msg); err != nil {
		return err
	}
	if err := wc.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (b *testBundle) get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := b.client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func TestParseScenario(t *testing.T) {
	t.Parallel()
	demo := Demo()
	if len(demo.Agencies) != 11 || demo.Network.Items < 26000 {
		t.Errorf("the demo scenario has %d agencies and %d items; want 11 and at least 26,000", len(demo.Agencies), demo.Network.Items)
	}
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"unknown field", "seed: 1\nsede: 2\n", "field sede not found"},
		{"bad share", "exports: {found: 1.5}\n", "exports.found is 1.5"},
		{"bad mix kind", "network: {mix: {telegram_channl: 1}}\n", `unknown kind "telegram_channl"`},
		{"bad format", "agencies: [{code: a, name: A, format: xls}]\n", `format "xls"`},
		{"real file host", "network: {file_hosts: [files.com]}\n", "must be a host name under .example"},
		{"bad duration", "adversary: {delay: {median: soon}}\n", `duration "soon"`},
		{"empty", "", "empty"},
		{"too big", "network: {items: 99999999}\n", "network.items 99999999"},
		{"json works too", `{"seed": 3, "network": {"items": 100}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScenario([]byte(tt.yaml))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDelayQuantile(t *testing.T) {
	t.Parallel()
	d := Delay{Median: Duration(time.Hour), P90: Duration(10 * time.Hour), Max: Duration(20 * time.Hour)}
	if got := d.Quantile(0.5); got < 59*time.Minute || got > 61*time.Minute {
		t.Errorf("median %v, want 1h", got)
	}
	if got := d.Quantile(0.9); got < 9*time.Hour || got > 11*time.Hour {
		t.Errorf("90th percentile %v, want 10h", got)
	}
	if got := d.Quantile(0.9999); got != 20*time.Hour {
		t.Errorf("far tail %v, want the 20h cap", got)
	}
	if got := (Delay{Median: Duration(time.Minute)}).Quantile(0.99); got != time.Minute {
		t.Errorf("fixed delay %v, want 1m", got)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	describe := func(w *World) []string {
		var out []string
		for _, e := range w.Entities {
			out = append(out, fmt.Sprintf("%d %s %s %s %q %q", e.ID, e.Platform, e.Kind, e.URL, e.Title, e.Description))
		}
		return out
	}
	a, err := Generate(smallScenario(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(smallScenario(t, ""))
	if diff := cmp.Diff(describe(a), describe(b)); diff != "" {
		t.Fatalf("same seed, other world: mismatch (-want +got):\n%s", diff)
	}
	if len(a.Entities) != 600 {
		t.Errorf("%d entities, want the 600 asked for", len(a.Entities))
	}
	other := smallScenario(t, "")
	other.Seed = 8
	c, _ := Generate(other)
	if cmp.Equal(describe(a), describe(c)) {
		t.Error("another seed gives the same world")
	}
	// Every entity answers at its own address.
	for _, e := range a.Entities {
		if got := a.Resolve(e.URL); got != e {
			t.Fatalf("%s resolves to %v, want entity %d", e.URL, got, e.ID)
		}
	}
	kinds := map[string]int{}
	for _, e := range a.Entities {
		kinds[e.Platform+"/"+e.Kind]++
	}
	for _, k := range []string{"telegram/channel", "telegram/group", "telegram/post", "telegram/invite", "x/account", "x/post", "youtube/channel", "youtube/post", "filehost/file", "webhost/website"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the world: %v", k, kinds)
		}
	}
}

func TestPages(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	w := b.srv.World()
	first := func(platform, kind string) *Entity {
		for _, e := range w.Entities {
			if e.Platform == platform && e.Kind == kind && (kind != KindWebsite || e.Parent != nil) {
				return e
			}
		}
		t.Fatalf("no %s %s", platform, kind)
		return nil
	}
	ch := first(Telegram, KindChannel)
	post := first(Telegram, KindPost)
	inv := first(Telegram, KindInvite)
	acct := first(X, KindAccount)
	status := first(X, KindPost)
	ytc := first(YouTube, KindChannel)
	var vid *Entity
	for _, e := range w.Entities {
		if e.Platform == YouTube && e.Kind == KindPost && e.Parent != ytc {
			vid = e
			break
		}
	}
	if vid == nil {
		t.Fatal("no video outside the first channel")
	}
	file := first(FileHost, KindFile)
	page := first(WebHost, KindWebsite)

	type want struct {
		url    string
		status int
		has    string
	}
	live := []want{
		{"https://t.me/s/" + strings.ToUpper(ch.Handle), 200, `tgme_channel_info_header_title`},
		{"https://t.me/s/" + ch.Handle, 200, ch.Title[:min(len(ch.Title), 5)]},
		{"https://telegram.me/" + ch.Handle, 200, `tgme_page_title`},
		{post.URL, 200, `tgme_widget_message_text`},
		{inv.URL, 200, `Join Group`},
		{"https://t.me/joinchat/" + inv.Code, 200, `Join Group`},
		{"https://twitter.com/" + acct.Handle, 200, `data-testid="UserName"`},
		{status.URL, 200, `data-testid="tweetText"`},
		{"https://x.com/i/web/status/" + status.Code, 200, `data-testid="tweetText"`},
		{ytc.URL, 200, `id="channel-name"`},
		{"https://www.youtube.com/channel/" + ytc.Code, 200, `id="channel-name"`},
		{vid.URL, 200, `class="title"`},
		{"https://youtu.be/" + vid.Code, 301, ""},
		{file.URL, 200, ""},
		{page.URL, 200, "<article>"},
		{"https://t.me/s/no_such_channel_here", 302, ""},
		{"https://t.me/no_such_channel_here", 200, "you can contact"},
		{"https://x.com/no_such_account", 200, "doesn’t exist"},
		{"https://www.youtube.com/@no_such_channel", 404, "available"},
		{"https://unknown-host.example/", 404, "not a host of the simulated internet"},
		{"http://t.me/" + ch.Handle, 301, ""},
	}
	for _, c := range live {
		code, body, _ := b.get(t, c.url)
		if code != c.status || !strings.Contains(body, c.has) {
			t.Errorf("GET %s: %d with %q in the body? want %d", c.url, code, c.has, c.status)
		}
	}
	// Avatars are images, the same on every request.
	code, img1, h := b.get(t, avatarURL(ch))
	_, img2, _ := b.get(t, avatarURL(ch))
	if code != 200 || h.Get("Content-Type") != "image/jpeg" || img1 != img2 || len(img1) < 1000 {
		t.Errorf("avatar: %d %s, %d bytes, stable %v", code, h.Get("Content-Type"), len(img1), img1 == img2)
	}

	code, _, h = b.get(t, "https://"+page.Host+"/_media/avatar/"+fmt.Sprint(page.Parent.ID)+".png")
	if code != 200 || h.Get("Content-Type") != "image/png" {
		t.Errorf("a site's logo: %d %s, want a PNG", code, h.Get("Content-Type"))
	}

	// Remove them all at once (decisions with no delay) and look again.
	for _, e := range []*Entity{ch, inv, acct, ytc, file, page} {
		w.apply(Decision{Entity: e, Outcome: OutcomeRemoved, DecidedAt: b.clock.Now()})
	}
	w.apply(Decision{Entity: vid, Outcome: OutcomeDisabled, Regions: []string{"EU"}, DecidedAt: b.clock.Now()})
	gone := []want{
		{"https://t.me/s/" + ch.Handle, 302, ""},
		{"https://t.me/" + ch.Handle, 200, "you can contact"},
		{inv.URL, 200, "invalid or has expired"},
		{acct.URL, 200, "Account suspended"},
		{ytc.URL, 404, "terminated"},
		{vid.URL, 200, "not made this video available in your country"},
		{file.URL, 404, "removed"},
		{page.URL, 404, "Not Found"},
		{avatarURL(ch), 404, ""},
	}
	if post.Parent == ch {
		gone = append(gone, want{post.URL, 200, "tgme_page_title"})
	}
	if status.Parent == acct {
		gone = append(gone, want{status.URL, 200, "suspended account"})
	}
	for _, c := range gone {
		code, body, _ := b.get(t, c.url)
		if code != c.status || !strings.Contains(body, c.has) {
			t.Errorf("after removal, GET %s: %d with %q in the body? want %d", c.url, code, c.has, c.status)
		}
	}
	// A site suspended as a whole answers 200 with a notice.
	w.apply(Decision{Entity: page.Parent, Outcome: OutcomeRemoved, DecidedAt: b.clock.Now()})
	if code, body, _ := b.get(t, page.URL); code != 200 || !strings.Contains(body, "Account Suspended") {
		t.Errorf("suspended site: %d, want 200 with the hosting provider's notice", code)
	}
	// Withheld only in the region that blocked it.
	req, _ := http.NewRequest("GET", vid.URL, nil)
	req.Header.Set(regionHeader, "US")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `class="title"`) {
		t.Error("a video disabled in the EU is not visible from the US")
	}
}

func TestProviderAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, `
providers:
  telegram: {removal_delay: {median: 1h}, reject: 0.3, ignore: 0.3}
`))
	w := b.srv.World()
	var urls []string
	for _, e := range w.Entities {
		if e.Platform == Telegram && e.Kind == KindChannel && len(urls) < 40 {
			urls = append(urls, e.URL)
		}
	}
	urls = append(urls, "https://t.me/never_existed_here", "https://x.com/not_this_provider")
	post := func(token, idem string, body any) (int, ReportView) {
		t.Helper()
		buf, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", "https://"+ProviderHost(Telegram)+"/v1/reports", bytes.NewReader(buf))
		req.Header.Set("Authorization", "Bearer "+token)
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v ReportView
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	if code, _ := post("wrong", "", map[string]any{"legal_basis": "referral", "urls": urls}); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code, _ := post("simnet-telegram-token", "", map[string]any{"legal_basis": "please", "urls": urls}); code != http.StatusUnprocessableEntity {
		t.Errorf("bad legal basis: %d, want 422", code)
	}
	if code, _ := post("simnet-telegram-token", "", map[string]any{"legal_basis": "removal_order", "urls": urls}); code != http.StatusUnprocessableEntity {
		t.Errorf("removal order without reference: %d, want 422", code)
	}
	code, rep := post("simnet-telegram-token", "batch-1", map[string]any{"legal_basis": "referral", "reference": "REF-1", "urls": urls})
	if code != http.StatusCreated || len(rep.Items) != len(urls) || rep.Status != "open" {
		t.Fatalf("report: %d, %d items, status %s", code, len(rep.Items), rep.Status)
	}
	for _, it := range rep.Items {
		if it.Status != OutcomePending {
			t.Errorf("%s is %s at once, want pending until the provider's delay passes", it.URL, it.Status)
		}
	}
	// The same idempotency key is the same report, not a second one.
	code, again := post("simnet-telegram-token", "batch-1", map[string]any{"legal_basis": "referral", "reference": "REF-1", "urls": urls})
	if code != http.StatusOK || again.ID != rep.ID || len(b.srv.Reports()) != 1 {
		t.Errorf("repeated request: %d, report %s (first %s), %d reports recorded", code, again.ID, rep.ID, len(b.srv.Reports()))
	}
	b.clock.Advance(3 * time.Hour)
	if code, _, _ := b.get(t, "https://"+ProviderHost(Telegram)+"/v1/reports/"+rep.ID); code != http.StatusUnauthorized {
		t.Errorf("GET of a report without the token: %d, want 401", code)
	}
	req, _ := http.NewRequest("GET", "https://"+ProviderHost(Telegram)+"/v1/reports/"+rep.ID, nil)
	req.Header.Set("Authorization", "Bearer simnet-telegram-token")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var now ReportView
	json.NewDecoder(resp.Body).Decode(&now)
	resp.Body.Close()
	counts := map[string]int{}
	for i, it := range now.Items {
		counts[it.Status]++
		e := w.Resolve(it.URL)
		st := w.Status(e, b.clock.Now(), "EU")
		switch it.Status {
		case OutcomeRemoved:
			if st != StatusRemoved {
				t.Errorf("%s answered removed but shows %s", it.URL, st)
			}
		case OutcomeRejected:
			if it.Reason == "" || st != StatusLive {
				t.Errorf("%s rejected without a reason (%q) or not live (%s)", it.URL, it.Reason, st)
			}
		case OutcomeNotFound:
			if i < 40 {
				t.Errorf("%s of the network answered not found", it.URL)
			}
		}
	}
	if counts[OutcomeRemoved] == 0 || counts[OutcomeRejected] == 0 || counts[OutcomePending] == 0 || counts[OutcomeNotFound] != 2 {
		t.Errorf("outcomes %v: want some removed, rejected and ignored (pending), and the 2 foreign URLs not found", counts)
	}
	if n := len(b.srv.APIRequests()); n != 7 {
		t.Errorf("%d API requests recorded, want 7", n)
	}
}

func TestCallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, "providers: {x: {removal_delay: {median: 10m}}}\n"))
	got := make(chan Callback, 10)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c Callback
		json.NewDecoder(r.Body).Decode(&c)
		got <- c
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	var acct *Entity
	for _, e := range b.srv.World().Entities {
		if e.Platform == X && e.Kind == KindAccount {
			acct = e
			break
		}
	}
	rep, _ := b.srv.receive(X, receipt{channel: "api", from: "api"}, reportRequest{LegalBasis: BasisReferral, URLs: []string{acct.URL}, CallbackURL: "http://" + ln.Addr().String() + "/hook"})
	select {
	case c := <-got:
		t.Fatalf("callback before the decision is due: %+v", c)
	case <-time.After(300 * time.Millisecond):
	}
	b.clock.Advance(24 * time.Hour)
	select {
	case c := <-got:
		if c.ReportID != rep.ID || c.Item.URL != acct.URL || c.Item.Status == OutcomePending {
			t.Errorf("callback %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no callback after the decision fell due")
	}
}

func TestMailbox(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	var ch *Entity
	for _, e := range b.srv.World().Entities {
		if e.Platform == Telegram && e.Kind == KindChannel {
			ch = e
			break
		}
	}
	msg := "From: iru@agency.example\r\nTo: " + AbuseAddress(Telegram) + "\r\nSubject: Removal order [RO-2026-0001]\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease remove:\r\n" + ch.URL + "\r\nhttps://t.me/some_unknown_one.\r\n"
	if err := b.sendMail("iru@agency.example", AbuseAddress(Telegram), msg); err != nil {
		t.Fatal(err)
	}
	err := b.sendMail("iru@agency.example", "someone@elsewhere.example", msg)
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("mail to an unknown mailbox: %v, want a 550 refusal", err)
	}
	mails := b.srv.Mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails recorded, want 1", len(mails))
	}
	m := mails[0]
	if diff := cmp.Diff([]string{ch.URL, "https://t.me/some_unknown_one"}, m.URLs); diff != "" {
		t.Errorf("URLs read from the mail: mismatch (-want +got):\n%s", diff)
	}
	reps := b.srv.Reports()
	if len(reps) != 1 || reps[0].LegalBasis != BasisRemovalOrder || reps[0].Reference != "RO-2026-0001" || reps[0].Channel != "mail" {
		t.Fatalf("reports from mail: %+v", reps)
	}
}

func TestAdversary(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, "adversary: {recreate: 1, delay: {median: 2h}, cross_platform: 0.3}\n"))
	w := b.srv.World()
	var removed []*Entity
	for _, e := range w.Entities {
		if e.IsContainer() {
			removed = append(removed, e)
			w.apply(Decision{Entity: e, Outcome: OutcomeRemoved, DecidedAt: b.clock.Now()})
		}
	}
	if got := w.Truth(b.clock.Now(), false); len(got) != 0 {
		t.Errorf("%d successors before their delay", len(got))
	}
	all := w.Truth(b.clock.Now(), true)
	if len(all) != len(removed) {
		t.Fatalf("%d successors scheduled for %d removals at recreate 1", len(all), len(removed))
	}
	b.clock.Advance(3 * time.Hour)
	truth := w.Truth(b.clock.Now(), false)
	if len(truth) != len(removed) {
		t.Fatalf("%d successors after the delay, want %d", len(truth), len(removed))
	}
	cross := 0
	for _, s := range truth {
		succ := w.Resolve(s.Successor)
		if succ == nil || succ.Predecessor == nil || succ.Predecessor.ID != s.PredecessorID {
			t.Fatalf("successor %s does not resolve to a successor of %d", s.Successor, s.PredecessorID)
		}
		if w.Status(succ, b.clock.Now(), "EU") != StatusLive {
			t.Errorf("successor %s is not live", s.Successor)
		}
		if strings.EqualFold(succ.Handle, succ.Predecessor.Handle) && succ.Platform == succ.Predecessor.Platform {
			t.Errorf("successor %s kept its predecessor's handle", s.Successor)
		}
		if succ.Platform != succ.Predecessor.Platform {
			cross++
		}
		if len(s.Mutations) == 0 {
			t.Errorf("successor %s has no recorded mutations", s.Successor)
		}
		code, body, _ := b.get(t, s.Successor)
		if code != 200 || !strings.Contains(body, "/_media/avatar/") {
			t.Errorf("successor page %s: %d", s.Successor, code)
		}
	}
	if cross == 0 {
		t.Error("no successor on another platform at cross_platform 0.3")
	}
	// The outlet's remaining channels point to successors: here all are
	// removed, so the successors of one outlet announce each other.
	s := w.Resolve(truth[0].Successor)
	b.clock.Advance(3 * time.Hour)
	found := false
	for _, o := range w.All() {
		if o.Outlet == s.Outlet && o != s && o.Predecessor != nil && w.Status(o, b.clock.Now(), "EU") == StatusLive {
			for _, p := range w.posts(o, b.clock.Now()) {
				if strings.Contains(p.text, s.URL) {
					found = true
				}
			}
		}
	}
	if !found {
		t.Error("no channel of the outlet announces the successor")
	}
	// A successor's avatar is a variant of its predecessor's, not the same
	// bytes.
	_, a1, _ := b.get(t, avatarURL(s))
	if a1 == "" {
		t.Error("successor has no avatar")
	}
	// Same seed, same truth.
	b2 := setup(t, smallScenario(t, "adversary: {recreate: 1, delay: {median: 2h}, cross_platform: 0.3}\n"))
	for _, e := range removed {
		b2.srv.World().apply(Decision{Entity: b2.srv.World().Entities[e.ID], Outcome: OutcomeRemoved, DecidedAt: b2.clock.Now()})
	}
	strip := func(ss []Succession) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Successor+" <- "+s.Predecessor+" "+strings.Join(s.Mutations, ","))
		}
		return out
	}
	if diff := cmp.Diff(strip(w.Truth(time.Time{}, true)), strip(b2.srv.World().Truth(time.Time{}, true))); diff != "" {
		t.Errorf("same seed, other successors: mismatch (-want +got):\n%s", diff)
	}
}

func TestExports(t *testing.T) {
	t.Parallel()
	w, err := Generate(smallScenario(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truth, err := w.WriteExports(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(truth.Files) != 6 || truth.Found < 500 || truth.Bad == 0 || truth.Submissions <= truth.Found {
		t.Fatalf("truth: %d files, %d found, %d bad, %d submissions", len(truth.Files), truth.Found, truth.Bad, truth.Submissions)
	}
	sum := 0
	for _, f := range truth.Files {
		sum += f.NewItems
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(b, []byte("\n"))
		header := 1
		if strings.HasPrefix(f.Format, "jsonl") {
			header = 0
		}
		if lines < f.Rows+header {
			t.Errorf("%s: %d lines for %d rows", filepath.Base(f.Path), lines, f.Rows)
		}
	}
	if sum != truth.Found {
		t.Errorf("files' new items add up to %d, want %d found", sum, truth.Found)
	}
	// Same seed, same files.
	dir2 := t.TempDir()
	if _, err := w.WriteExports(dir2); err != nil {
		t.Fatal(err)
	}
	for _, f := range truth.Files {
		a, _ := os.ReadFile(f.Path)
		b, _ := os.ReadFile(filepath.Join(dir2, filepath.Base(f.Path)))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", filepath.Base(f.Path))
		}
	}
}
