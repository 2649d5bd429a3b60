package simnet

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// entities returns the first n entities of a platform and kind.
func (b *testBundle) entities(t *testing.T, platform, kind string, n int) []*Entity {
	t.Helper()
	var out []*Entity
	for _, e := range b.srv.World().Entities {
		if e.Platform == platform && e.Kind == kind && len(out) < n {
			out = append(out, e)
		}
	}
	if len(out) < n {
		t.Fatalf("only %d %s %s in the world, want %d", len(out), platform, kind, n)
	}
	return out
}

func urlsOf(es []*Entity) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.URL)
	}
	return out
}

// provider returns the simulator's description of a platform's provider.
func (b *testBundle) provider(t *testing.T, platform string) ProviderInfo {
	t.Helper()
	for _, p := range b.srv.Info().Providers {
		if p.Platform == platform {
			return p
		}
	}
	t.Fatalf("no provider %s in the info", platform)
	return ProviderInfo{}
}

// batchBody is a referral batch as takedown's webhook carries it.
func batchBody(referral int64, urls ...string) []byte {
	type item struct {
		ItemID int64  `json:"item_id"`
		URL    string `json:"url"`
		Reason string `json:"reason"`
	}
	var items []item
	for i, u := range urls {
		items = append(items, item{ItemID: int64(100 + i), URL: u, Reason: "terrorist content (simulated)"})
	}
	b, _ := json.Marshal(map[string]any{
		"type": "referral.batch", "idempotency_key": referralKey(referral), "referral_id": referral,
		"legal_basis": "referral", "items": items,
		"answer": map[string]any{"url": "http://takedown.example/api/v1/referrals/" + itoa(referral) + "/answers"},
	})
	return b
}

// referralKey is takedown's idempotency key of a referral in the tests'
// operation.
func referralKey(id int64) string { return "takedown-rad-2026-11-referral-" + itoa(id) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// postWebhook signs body with secret the way takedown does and posts it
// to platform's receiver.
func (b *testBundle) postWebhook(t *testing.T, platform, secret, id string, ts time.Time, body []byte) (int, map[string]any) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, WebhookURL(platform), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, itoa(ts.Unix()))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("webhook: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// control posts a JSON request to the simulator's control API.
func (b *testBundle) control(t *testing.T, path string, body any) (int, string) {
	t.Helper()
	buf, _ := json.Marshal(body)
	resp, err := b.client.Post("https://"+ControlHost+"/_simnet/"+path, "application/json", bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func TestMailboxDuplicateMessageID(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	ch := b.entities(t, Telegram, KindChannel, 2)
	msg := func(id string) string {
		return "From: iru@agency.example\r\nTo: " + AbuseAddress(Telegram) + "\r\nSubject: Referral [" + referralKey(7) + "]\r\n" +
			"Message-ID: " + id + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease review:\r\n" + ch[0].URL + "\r\n" + ch[1].URL + "\r\n"
	}
	for _, id := range []string{"<batch-7@takedown.example>", "<batch-7@takedown.example>", "<batch-7-other@takedown.example>"} {
		if err := b.sendMail("iru@agency.example", AbuseAddress(Telegram), msg(id)); err != nil {
			t.Fatal(err)
		}
	}
	mails := b.srv.Mails()
	if len(mails) != 3 || mails[0].Duplicate || !mails[1].Duplicate || mails[2].Duplicate {
		t.Fatalf("mails: want 3, the second a duplicate; got %d: %+v", len(mails), mails)
	}
	if mails[1].ReportID != mails[0].ReportID || mails[0].ReferralID != 7 {
		t.Errorf("duplicate's report %q, want the first's %q; referral %d, want 7", mails[1].ReportID, mails[0].ReportID, mails[0].ReferralID)
	}
	reps := b.srv.Reports()
	if len(reps) != 2 {
		t.Fatalf("%d reports, want 2: one per distinct Message-ID", len(reps))
	}
	// Under one takedown key the sender delivered two distinct batches;
	// the reports keep what tells them apart.
	perKey := map[string][]string{}
	for _, r := range reps {
		perKey[r.IdempotencyKey] = append(perKey[r.IdempotencyKey], r.MessageID)
	}
	if got := perKey[referralKey(7)]; len(got) != 2 || got[0] != "<batch-7@takedown.example>" || reps[0].ReferralID != 7 {
		t.Errorf("reports by key: %v", perKey)
	}
	// Another mailbox has its own Message-IDs.
	other := strings.Replace(msg("<batch-7@takedown.example>"), AbuseAddress(Telegram), AbuseAddress(X), 1)
	if err := b.sendMail("iru@agency.example", AbuseAddress(X), other); err != nil {
		t.Fatal(err)
	}
	if m := b.srv.Mails(); m[len(m)-1].Duplicate {
		t.Error("the same Message-ID at another provider's mailbox counts as a duplicate")
	}
}

func TestWebhookReceiver(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	p := b.provider(t, Telegram)
	if p.Webhook != "https://api.telegram.provider.example/v1/webhook" || !strings.HasPrefix(p.WebhookSecret, "whsec_") {
		t.Fatalf("provider info: webhook %q, secret %q", p.Webhook, p.WebhookSecret)
	}
	urls := urlsOf(b.entities(t, Telegram, KindChannel, 3))
	body := batchBody(42, urls...)
	now := time.Now()

	code, out := b.postWebhook(t, Telegram, p.WebhookSecret, "msg_1", now, body)
	if code != http.StatusOK || out["duplicate"] != false || out["report_id"] == "" {
		t.Fatalf("webhook: %d %v", code, out)
	}
	reps := b.srv.Reports()
	if len(reps) != 1 {
		t.Fatalf("%d reports, want 1", len(reps))
	}
	r := reps[0]
	if r.Channel != "webhook" || r.ReferralID != 42 || r.IdempotencyKey != referralKey(42) || r.WebhookID != "msg_1" || len(r.Items) != 3 || r.Items[0].URL != urls[0] {
		t.Errorf("report from a webhook: %+v", r)
	}
	// A retry carries the same webhook-id: accepted, not reported again.
	code, out = b.postWebhook(t, Telegram, p.WebhookSecret, "msg_1", now.Add(time.Second), body)
	if code != http.StatusOK || out["duplicate"] != true || out["report_id"] != r.ID {
		t.Errorf("repeated webhook-id: %d %v, want 200 and a duplicate of %s", code, out, r.ID)
	}
	if n := len(b.srv.Reports()); n != 1 {
		t.Errorf("%d reports after a repeated webhook-id, want 1", n)
	}
	// Refused: a wrong secret, a stale or future timestamp, no signature.
	wrong := "whsec_" + "c29tZXRoaW5nIGVsc2U="
	if code, _ := b.postWebhook(t, Telegram, wrong, "msg_2", now, body); code != http.StatusUnauthorized {
		t.Errorf("bad signature: %d, want 401", code)
	}
	if code, _ := b.postWebhook(t, Telegram, p.WebhookSecret, "msg_3", now.Add(-6*time.Minute), body); code != http.StatusBadRequest {
		t.Errorf("timestamp 6 minutes old: %d, want 400", code)
	}
	if code, _ := b.postWebhook(t, Telegram, p.WebhookSecret, "msg_4", now.Add(6*time.Minute), body); code != http.StatusBadRequest {
		t.Errorf("timestamp 6 minutes ahead: %d, want 400", code)
	}
	// The scenario clock may be days ahead: the check is on the real one.
	b.clock.Advance(72 * time.Hour)
	if code, _ := b.postWebhook(t, Telegram, p.WebhookSecret, "msg_5", now, batchBody(43, urls[0])); code != http.StatusOK {
		t.Errorf("webhook after the scenario clock moved: %d, want 200", code)
	}
	// Each provider has its own secret.
	if code, _ := b.postWebhook(t, X, p.WebhookSecret, "msg_6", now, body); code != http.StatusUnauthorized {
		t.Errorf("telegram's secret at x's receiver: %d, want 401", code)
	}
	resp, err := b.client.Post(WebhookURL(Telegram), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsigned webhook: %d, want 400", resp.StatusCode)
	}
	if code, _ := b.postWebhook(t, Telegram, p.WebhookSecret, "msg_7", now, []byte(`{"type": "referral.batch", "items": []}`)); code != http.StatusUnprocessableEntity {
		t.Errorf("batch without URLs: %d, want 422", code)
	}

	// Every webhook is recorded, refused or not, and shown by the
	// control API.
	whs := b.srv.Webhooks()
	var statuses []int
	for _, w := range whs {
		statuses = append(statuses, w.Status)
	}
	want := []int{200, 200, 401, 400, 400, 200, 401, 400, 422}
	if !slices.Equal(statuses, want) || !whs[1].Duplicate || whs[1].ReportID != r.ID || whs[0].ReferralID != 42 || len(whs[0].URLs) != 3 {
		t.Errorf("webhooks recorded: statuses %v (want %v), %+v", statuses, want, whs[:2])
	}
	code, listed, _ := b.get(t, "https://"+ControlHost+"/_simnet/webhooks")
	var got []Webhook
	if err := json.Unmarshal([]byte(listed), &got); code != 200 || err != nil || len(got) != len(want) {
		t.Errorf("GET /_simnet/webhooks: %d, %d webhooks, %v", code, len(got), err)
	}
}

func TestScenarioWebhookSecret(t *testing.T) {
	t.Parallel()
	s := smallScenario(t, "providers: {x: {webhook_secret: whsec_c2VjcmV0}}\n")
	if got := s.Providers[X].WebhookSecret; got != "whsec_c2VjcmV0" {
		t.Errorf("x's secret %q", got)
	}
	if got := s.Providers[Telegram].WebhookSecret; got != "whsec_c2ltbmV0LXRlbGVncmFtLXdlYmhvb2stc2VjcmV0" {
		t.Errorf("telegram's default secret %q, want whsec_ and base64 of simnet-telegram-webhook-secret", got)
	}
	if _, err := ParseScenario([]byte("providers: {x: {webhook_secret: 'not base64!'}}\n")); err == nil || !strings.Contains(err.Error(), "webhook_secret") {
		t.Errorf("a broken secret: %v, want an error", err)
	}
}

// fakeTakedown is takedown's provider API as the simulated providers'
// liaisons see it: it records what they post, and fails while fail says.
type fakeTakedown struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []takedownRequest
	// fail returns the status to answer the nth request (from 1) to a
	// path ending in kind with, or 0 for success.
	fail func(kind string, n int) int
	n    map[string]int
}

type takedownRequest struct {
	Path, Auth string
	Answers    []TakedownAnswer
	Failed     bool
}

func newFakeTakedown(t *testing.T, fail func(kind string, n int) int) *fakeTakedown {
	f := &fakeTakedown{fail: fail, n: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Answers []TakedownAnswer `json:"answers"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		kind := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		f.mu.Lock()
		f.n[kind]++
		status := 0
		if f.fail != nil {
			status = f.fail(kind, f.n[kind])
		}
		f.reqs = append(f.reqs, takedownRequest{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Answers: body.Answers, Failed: status != 0})
		f.mu.Unlock()
		if status != 0 {
			http.Error(w, `{"error": "not now"}`, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok": true}`))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// requests returns the requests that succeeded.
func (f *fakeTakedown) requests() []takedownRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []takedownRequest
	for _, r := range f.reqs {
		if !r.Failed {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeTakedown) count(path string, failed bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if r.Path == path && r.Failed == failed {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or 10 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAnswersToTakedown(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, `
providers:
  telegram: {removal_delay: {median: 1h}, reject: 0.3, region_block: 0.2}
  x: {removal_delay: {median: 2h}}
  youtube: {ignore: 1}
`))
	fake := newFakeTakedown(t, nil)
	tokens := map[string]string{Telegram: "liaison-telegram", X: "liaison-x", YouTube: "liaison-youtube"}
	if code, body := b.control(t, "takedown", map[string]any{"url": fake.srv.URL, "tokens": tokens}); code != 200 {
		t.Fatalf("POST /_simnet/takedown: %d %s", code, body)
	}
	// A batch by webhook (referral 42), one by mail (referral 7), one by
	// mail without takedown's key, one the provider ignores (referral 9).
	tg := append(urlsOf(b.entities(t, Telegram, KindChannel, 8)), "https://t.me/never_existed_here")
	if code, _ := b.postWebhook(t, Telegram, b.provider(t, Telegram).WebhookSecret, "msg_42", time.Now(), batchBody(42, tg...)); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	xs := urlsOf(b.entities(t, X, KindAccount, 3))
	mail := func(subject string) string {
		return "From: iru@agency.example\r\nTo: " + AbuseAddress(X) + "\r\nSubject: " + subject + "\r\n\r\n" + strings.Join(xs, "\r\n") + "\r\n"
	}
	if err := b.sendMail("iru@agency.example", AbuseAddress(X), mail("Referral [REF-1] ["+referralKey(7)+"]")); err != nil {
		t.Fatal(err)
	}
	if err := b.sendMail("iru@agency.example", AbuseAddress(X), mail("Referral without a key")); err != nil {
		t.Fatal(err)
	}
	yt := urlsOf(b.entities(t, YouTube, KindChannel, 2))
	if code, _ := b.postWebhook(t, YouTube, b.provider(t, YouTube).WebhookSecret, "msg_9", time.Now(), batchBody(9, yt...)); code != 200 {
		t.Fatalf("webhook: %d", code)
	}

	// The liaisons acknowledge at once; nothing is decided yet.
	ack := func(id string) string { return "/api/v1/referrals/" + id + "/acknowledge" }
	waitFor(t, "the acknowledgements", func() bool {
		return fake.count(ack("42"), false) == 1 && fake.count(ack("7"), false) == 1 && fake.count(ack("9"), false) == 1
	})
	time.Sleep(300 * time.Millisecond)
	for _, r := range fake.requests() {
		if strings.HasSuffix(r.Path, "/answers") {
			t.Fatalf("answer before any decision is due: %+v", r)
		}
	}

	b.clock.Advance(24 * time.Hour)
	waitFor(t, "the answers", func() bool {
		return fake.count("/api/v1/referrals/42/answers", false) > 0 && fake.count("/api/v1/referrals/7/answers", false) > 0
	})
	time.Sleep(500 * time.Millisecond) // time for a wrong second round

	answered := map[string]map[string]int{} // referral -> URL -> times
	outcomes := map[string]int{}
	for _, r := range fake.requests() {
		ref := strings.Split(r.Path, "/")[4]
		want := "Bearer " + map[string]string{"42": tokens[Telegram], "7": tokens[X], "9": tokens[YouTube]}[ref]
		if r.Auth != want {
			t.Errorf("%s with %q, want %q", r.Path, r.Auth, want)
		}
		if !strings.HasSuffix(r.Path, "/answers") {
			continue
		}
		if answered[ref] == nil {
			answered[ref] = map[string]int{}
		}
		for _, a := range r.Answers {
			answered[ref][a.URL]++
			outcomes[a.Outcome]++
			if a.Outcome == OutcomeRejected && a.Reason == "" {
				t.Errorf("%s rejected without a reason", a.URL)
			}
		}
	}
	for ref, urls := range map[string][]string{"42": tg, "7": xs} {
		if len(answered[ref]) != len(urls) {
			t.Errorf("referral %s: %d URLs answered, want %d", ref, len(answered[ref]), len(urls))
		}
		for _, u := range urls {
			if answered[ref][u] != 1 {
				t.Errorf("referral %s: %s answered %d times, want once", ref, u, answered[ref][u])
			}
		}
		// Everything fell due in one round: one request per report.
		if n := fake.count("/api/v1/referrals/"+ref+"/answers", false); n != 1 {
			t.Errorf("referral %s: %d answers requests, want 1", ref, n)
		}
	}
	if len(answered["9"]) != 0 {
		t.Errorf("ignored referral 9 answered: %v", answered["9"])
	}
	if outcomes[OutcomeRemoved] == 0 || outcomes[OutcomeNotFound] != 1 {
		t.Errorf("outcomes %v: want removals and the one unknown URL not found", outcomes)
	}
	for _, id := range []string{"42", "7", "9"} {
		if n := fake.count(ack(id), false); n != 1 {
			t.Errorf("referral %s acknowledged %d times, want once", id, n)
		}
	}
	// What takedown accepted is recorded, and shown by the control API.
	recs := b.srv.Answers()
	if len(recs) != len(fake.requests()) {
		t.Errorf("%d answers recorded, takedown accepted %d", len(recs), len(fake.requests()))
	}
	code, body, _ := b.get(t, "https://"+ControlHost+"/_simnet/answers")
	var listed []AnswerRecord
	if err := json.Unmarshal([]byte(body), &listed); code != 200 || err != nil || len(listed) != len(recs) {
		t.Errorf("GET /_simnet/answers: %d, %d records, %v", code, len(listed), err)
	}
}

func TestAnswersRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, "providers: {telegram: {removal_delay: {median: 1h}}}\n"))
	// takedown fails the first two acknowledgements and three answers.
	fake := newFakeTakedown(t, func(kind string, n int) int {
		switch {
		case kind == "acknowledge" && n <= 2:
			return http.StatusServiceUnavailable
		case kind == "answers" && n <= 3:
			return http.StatusInternalServerError
		}
		return 0
	})
	b.srv.SetTakedown(fake.srv.URL, map[string]string{Telegram: "liaison-telegram"})
	urls := urlsOf(b.entities(t, Telegram, KindChannel, 4))
	if code, _ := b.postWebhook(t, Telegram, b.provider(t, Telegram).WebhookSecret, "msg_5", time.Now(), batchBody(5, urls...)); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	b.clock.Advance(2 * time.Hour)
	waitFor(t, "the answers to come through", func() bool {
		return fake.count("/api/v1/referrals/5/answers", false) == 1
	})
	time.Sleep(300 * time.Millisecond)
	if n := fake.count("/api/v1/referrals/5/acknowledge", true); n != 2 {
		t.Errorf("%d failed acknowledgements, want 2", n)
	}
	if n := fake.count("/api/v1/referrals/5/answers", true); n != 3 {
		t.Errorf("%d failed answers, want 3", n)
	}
	if n := fake.count("/api/v1/referrals/5/answers", false); n != 1 {
		t.Errorf("answers accepted %d times, want once", n)
	}
	recs := b.srv.Answers()
	if len(recs) != 2 || recs[0].Kind != "acknowledge" || recs[0].Attempts != 3 || recs[1].Kind != "answers" || recs[1].Attempts != 4 || len(recs[1].Answers) != len(urls) {
		t.Errorf("records: %+v", recs)
	}
}

// faultClient reaches the simulator on fresh connections (so that no
// connection is reused across faults), over HTTP/2 if h2.
func (b *testBundle) faultClient(timeout time.Duration, h2 bool) *http.Client {
	info := b.srv.Info()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(info.CAPEM))
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, info.HTTPS)
		},
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		DisableKeepAlives: true,
		ForceAttemptHTTP2: h2,
	}}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	secret := b.provider(t, X).WebhookSecret
	// call reads a report of x's API; ok means a normal answer (404: no
	// such report).
	call := func(c *http.Client) (status int, err error) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+ProviderHost(X)+"/v1/reports/XX-000001", nil)
		req.Header.Set("Authorization", "Bearer simnet-x-token")
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); err != nil {
			return resp.StatusCode, err
		}
		return resp.StatusCode, nil
	}
	for _, h2 := range []bool{false, true} {
		c := b.faultClient(5*time.Second, h2)
		proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2]

		b.srv.SetFault(X, Fault{Mode: FaultDown})
		if _, err := call(c); err == nil || (!h2 && !errors.Is(err, io.EOF)) {
			t.Errorf("%s, down: %v, want the connection closed without an answer (EOF)", proto, err)
		}
		b.srv.SetFault(X, Fault{Mode: FaultError})
		if status, err := call(c); status != http.StatusInternalServerError || err != nil {
			t.Errorf("%s, error: %d %v, want 500", proto, status, err)
		}
		b.srv.SetFault(X, Fault{Mode: FaultReset})
		if _, err := call(c); err == nil || (!h2 && !errors.Is(err, io.ErrUnexpectedEOF)) {
			t.Errorf("%s, reset: %v, want the answer broken off (unexpected EOF)", proto, err)
		}
		b.srv.SetFault(X, Fault{Mode: FaultSlow, Delay: 2 * time.Second})
		start := time.Now()
		var uerr interface{ Timeout() bool }
		if _, err := call(b.faultClient(200*time.Millisecond, h2)); !errors.As(err, &uerr) || !uerr.Timeout() {
			t.Errorf("%s, slow past the client's timeout: %v, want a timeout", proto, err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("%s, slow: the client waited %v", proto, d)
		}
		b.srv.SetFault(X, Fault{Mode: FaultSlow, Delay: 100 * time.Millisecond})
		start = time.Now()
		if status, err := call(c); status != http.StatusNotFound || err != nil || time.Since(start) < 100*time.Millisecond {
			t.Errorf("%s, slow within the client's timeout: %d %v after %v, want the normal answer after the delay", proto, status, err, time.Since(start))
		}
		b.srv.SetFault(X, Fault{})
		if status, err := call(c); status != http.StatusNotFound || err != nil {
			t.Errorf("%s, cleared: %d %v, want the normal answer", proto, status, err)
		}
	}

	// A fault ends by itself at Until, and it is the platform's only.
	b.srv.SetFault(X, Fault{Mode: FaultError, Until: time.Now().Add(300 * time.Millisecond)})
	c := b.faultClient(5*time.Second, false)
	if status, _ := call(c); status != http.StatusInternalServerError {
		t.Errorf("error fault: %d, want 500", status)
	}
	if code, _ := b.postWebhook(t, X, secret, "msg_1", time.Now(), batchBody(1, "https://x.com/someone")); code != http.StatusInternalServerError {
		t.Errorf("webhook under the error fault: %d, want 500", code)
	}
	if code, _, _ := b.get(t, "https://"+ProviderHost(Telegram)+"/v1/reports/TE-1"); code != http.StatusUnauthorized {
		t.Errorf("telegram while x fails: %d, want its normal 401", code)
	}
	time.Sleep(400 * time.Millisecond)
	if status, err := call(c); status != http.StatusNotFound || err != nil {
		t.Errorf("after the fault's end: %d %v, want the normal answer", status, err)
	}
	if len(b.srv.Faults()) != 0 {
		t.Errorf("faults in force after their end: %v", b.srv.Faults())
	}
	if code, _ := b.postWebhook(t, X, secret, "msg_1", time.Now(), batchBody(1, "https://x.com/someone")); code != http.StatusOK {
		t.Errorf("webhook after the fault: %d, want 200", code)
	}

	// The control API sets and clears faults too.
	if code, body := b.control(t, "fault", map[string]any{"platform": X, "mode": "down", "for": "30s"}); code != 200 || !strings.Contains(body, `"down"`) {
		t.Fatalf("POST /_simnet/fault: %d %s", code, body)
	}
	if _, err := call(c); !errors.Is(err, io.EOF) {
		t.Errorf("down by the control API: %v, want EOF", err)
	}
	if code, body := b.control(t, "fault", map[string]any{"platform": X, "mode": ""}); code != 200 {
		t.Fatalf("clearing a fault: %d %s", code, body)
	}
	if status, err := call(c); status != http.StatusNotFound || err != nil {
		t.Errorf("cleared by the control API: %d %v", status, err)
	}
	for _, bad := range []map[string]any{
		{"platform": "myspace", "mode": "down"},
		{"platform": X, "mode": "flaky"},
		{"platform": X, "mode": "slow"},
		{"platform": X, "mode": "down", "for": "soon"},
	} {
		if code, _ := b.control(t, "fault", bad); code != http.StatusBadRequest {
			t.Errorf("POST /_simnet/fault %v: %d, want 400", bad, code)
		}
	}
	// Faulted requests are recorded as such.
	faulted := 0
	for _, r := range b.srv.APIRequests() {
		if r.Fault != "" {
			faulted++
		}
	}
	if faulted == 0 {
		t.Error("no API request recorded with its fault")
	}
}

func TestSMTPDown(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	addr := b.srv.Info().SMTP
	msg := "From: iru@agency.example\r\nTo: " + AbuseAddress(Telegram) + "\r\nSubject: test\r\n\r\nhttps://t.me/someone\r\n"
	if err := b.srv.SetSMTPDown(true); err != nil {
		t.Fatal(err)
	}
	if c, err := smtp.Dial(addr); err == nil {
		c.Close()
		t.Fatal("the mailboxes are down, yet a connection was accepted")
	}
	if err := b.sendMail("iru@agency.example", AbuseAddress(Telegram), msg); err == nil {
		t.Error("mail sent while the mailboxes were down")
	}
	if err := b.srv.SetSMTPDown(false); err != nil {
		t.Fatal(err)
	}
	if b.srv.Info().SMTP != addr {
		t.Errorf("SMTP address moved from %s to %s", addr, b.srv.Info().SMTP)
	}
	if err := b.sendMail("iru@agency.example", AbuseAddress(Telegram), msg); err != nil {
		t.Errorf("mail after the mailboxes came back: %v", err)
	}
	// And through the control API.
	if code, body := b.control(t, "smtp", map[string]any{"down": true}); code != 200 {
		t.Fatalf("POST /_simnet/smtp: %d %s", code, body)
	}
	if c, err := smtp.Dial(addr); err == nil {
		c.Close()
		t.Error("down by the control API, yet a connection was accepted")
	}
	if code, body := b.control(t, "smtp", map[string]any{"down": false}); code != 200 {
		t.Fatalf("POST /_simnet/smtp: %d %s", code, body)
	}
	if err := b.sendMail("iru@agency.example", AbuseAddress(Telegram), msg); err != nil {
		t.Errorf("mail after the control API put the mailboxes back: %v", err)
	}
	if n := len(b.srv.Mails()); n != 2 {
		t.Errorf("%d mails recorded, want 2", n)
	}
	// Closing the simulator while its mailboxes are down ends the SMTP
	// server too.
	if err := b.srv.SetSMTPDown(true); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- b.srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the simulator does not close while its mailboxes are down")
	}
	if err := b.srv.SetSMTPDown(false); err == nil {
		t.Error("the mailboxes came back up after the simulator closed")
	}
}

// reminderBody is takedown's reminder of an overdue order, by webhook:
// the order's document, typed as a reminder, with the pending URLs.
func reminderBody(referral int64, urls ...string) []byte {
	var doc map[string]any
	json.Unmarshal(batchBody(referral, urls...), &doc)
	doc["type"], doc["reminder"], doc["legal_basis"] = ReminderType, true, BasisRemovalOrder
	doc["received_at"], doc["deadline"] = "2026-11-12T09:32:10Z", "2026-11-12T10:32:10Z"
	b, _ := json.Marshal(doc)
	return b
}

// orderMail is takedown's mail of a removal order or of its reminder.
func orderMail(to, subject, messageID string, urls []string) string {
	return "From: iru@agency.example\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: " + messageID +
		"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Join(urls, "\r\n") + "\r\n"
}

// TestReminders: a reminder by mail or webhook is recorded and counted on
// the order's report; it makes no report, and the liaison answers the
// order once, as if there had been no reminder.
func TestReminders(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, "providers: {telegram: {order_delay: {median: 1h}}, x: {order_delay: {median: 1h}}}\n"))
	fake := newFakeTakedown(t, nil)
	b.srv.SetTakedown(fake.srv.URL, map[string]string{Telegram: "liaison-telegram", X: "liaison-x"})
	tgSecret, xSecret := b.provider(t, Telegram).WebhookSecret, b.provider(t, X).WebhookSecret
	tg := urlsOf(b.entities(t, Telegram, KindChannel, 4))
	xs := urlsOf(b.entities(t, X, KindAccount, 3))
	key42, key7 := referralKey(42), referralKey(7)

	// Order 42 to telegram by mail and by webhook, order 7 to x by mail.
	tgOrder := orderBody(42, tg...)
	if code, _ := b.postWebhook(t, Telegram, tgSecret, key42, time.Now(), tgOrder); code != 200 {
		t.Fatalf("order by webhook: %d", code)
	}
	mails := []struct{ to, subject, id string }{
		{AbuseAddress(Telegram), "Removal order: rad-2026-11 [" + key42 + "]", "<" + key42 + "@takedown.invalid>"},
		{AbuseAddress(X), "Removal order: rad-2026-11 [" + key7 + "]", "<" + key7 + "@takedown.invalid>"},
	}
	for i, m := range mails {
		if err := b.sendMail("iru@agency.example", m.to, orderMail(m.to, m.subject, m.id, [][]string{tg, xs}[i])); err != nil {
			t.Fatal(err)
		}
	}
	reps := b.srv.Reports()
	if len(reps) != 3 {
		t.Fatalf("%d reports of the orders, want 3", len(reps))
	}
	byChannel := map[string]string{} // provider/channel -> report ID
	for _, r := range reps {
		byChannel[r.Provider+"/"+r.Channel] = r.ID
	}
	waitFor(t, "the acknowledgements", func() bool { return len(b.srv.Answers()) == 3 })

	// The reminders, each sent twice (a retry), with the URLs still
	// pending; and one of an order the provider never had.
	remind := func() {
		t.Helper()
		subject := "Reminder: removal order overdue: rad-2026-11 [" + key42 + "]"
		for range 2 {
			if err := b.sendMail("iru@agency.example", AbuseAddress(Telegram), orderMail(AbuseAddress(Telegram), subject, "<"+key42+".reminder@takedown.invalid>", tg[1:])); err != nil {
				t.Fatal(err)
			}
			code, out := b.postWebhook(t, Telegram, tgSecret, key42+".reminder", time.Now(), reminderBody(42, tg[1:]...))
			if code != 200 || out["report_id"] != byChannel["telegram/webhook"] {
				t.Errorf("reminder by webhook: %d %v, want 200 and the order's report %s", code, out, byChannel["telegram/webhook"])
			}
		}
		// x had order 7 by mail only: a webhook reminder finds it.
		if code, out := b.postWebhook(t, X, xSecret, key7+".reminder", time.Now(), reminderBody(7, xs[2])); code != 200 || out["report_id"] != byChannel["x/mail"] {
			t.Errorf("reminder of a mailed order by webhook: %d %v, want 200 and report %s", code, out, byChannel["x/mail"])
		}
		if code, out := b.postWebhook(t, X, xSecret, referralKey(99)+".reminder", time.Now(), reminderBody(99, xs[0])); code != 200 || out["report_id"] != "" {
			t.Errorf("reminder of an unknown order: %d %v, want 200 and no report", code, out)
		}
	}
	remind()

	rms := b.srv.Reminders()
	type seen struct {
		provider, channel, key, report string
		urls                           int
		duplicate                      bool
	}
	var got []seen
	for _, r := range rms {
		got = append(got, seen{r.Provider, r.Channel, r.IdempotencyKey, r.ReportID, len(r.URLs), r.Duplicate})
		if r.ReceivedAt.IsZero() {
			t.Errorf("reminder %d has no time", r.ID)
		}
	}
	want := []seen{
		{Telegram, "mail", key42, byChannel["telegram/mail"], 3, false},
		{Telegram, "webhook", key42, byChannel["telegram/webhook"], 3, false},
		{Telegram, "mail", key42, byChannel["telegram/mail"], 3, true},
		{Telegram, "webhook", key42, byChannel["telegram/webhook"], 3, true},
		{X, "webhook", key7, byChannel["x/mail"], 1, false},
		{X, "webhook", referralKey(99), "", 1, false},
	}
	if !slices.Equal(got, want) {
		t.Errorf("reminders:\n got %+v\nwant %+v", got, want)
	}
	if rms[0].MessageID != "<"+key42+".reminder@takedown.invalid>" || rms[1].WebhookID != key42+".reminder" || rms[0].ReferralID != 42 || rms[1].ReferralID != 42 || !slices.Equal(rms[0].URLs, tg[1:]) {
		t.Errorf("reminders: %+v", rms[:2])
	}
	// No report more; each order's report counts its reminders, retries
	// not.
	reps = b.srv.Reports()
	if len(reps) != 3 {
		t.Errorf("%d reports after the reminders, want 3", len(reps))
	}
	for _, r := range reps {
		if r.Reminders != 1 {
			t.Errorf("report %s (%s, %s) counts %d reminders, want 1", r.ID, r.Provider, r.Channel, r.Reminders)
		}
	}
	// The mails and webhooks are recorded as reminders.
	var mailReminders, hookReminders int
	for _, m := range b.srv.Mails() {
		if m.Reminder {
			mailReminders++
			if m.ReportID != byChannel["telegram/mail"] {
				t.Errorf("reminder mail %d: report %q", m.ID, m.ReportID)
			}
		}
	}
	for _, w := range b.srv.Webhooks() {
		if w.Reminder {
			hookReminders++
		}
	}
	if mailReminders != 2 || hookReminders != 4 {
		t.Errorf("%d mails and %d webhooks recorded as reminders, want 2 and 4", mailReminders, hookReminders)
	}

	// The liaisons answer each order once, when its decisions fall due,
	// and a reminder after the answers changes nothing either.
	b.clock.Advance(24 * time.Hour)
	waitFor(t, "the answers", func() bool { return len(b.srv.Answers()) == 6 })
	remind()
	time.Sleep(500 * time.Millisecond) // time for a wrong second round
	perReport := map[string]map[string]int{}
	for _, a := range b.srv.Answers() {
		if perReport[a.ReportID] == nil {
			perReport[a.ReportID] = map[string]int{}
		}
		perReport[a.ReportID][a.Kind]++
		for _, x := range a.Answers {
			perReport[a.ReportID][x.URL]++
		}
	}
	if len(perReport) != 3 {
		t.Errorf("the liaisons answered about %d reports, want 3: %v", len(perReport), perReport)
	}
	for _, r := range b.srv.Reports() {
		n := perReport[r.ID]
		if n["acknowledge"] != 1 || n["answers"] != 1 {
			t.Errorf("report %s acknowledged %d times, answered %d times; want once each", r.ID, n["acknowledge"], n["answers"])
		}
		for _, it := range r.Items {
			if n[it.URL] != 1 {
				t.Errorf("report %s: %s answered %d times, want once", r.ID, it.URL, n[it.URL])
			}
		}
	}
	if fake.count("/api/v1/referrals/99/acknowledge", false) != 0 {
		t.Error("the reminder of an unknown order was acknowledged")
	}

	// The control API lists them, and the status counts them.
	code, body, _ := b.get(t, "https://"+ControlHost+"/_simnet/reminders")
	var listed []Reminder
	if err := json.Unmarshal([]byte(body), &listed); code != 200 || err != nil || len(listed) != 12 || listed[0].Channel != "mail" || listed[0].IdempotencyKey != key42 {
		t.Errorf("GET /_simnet/reminders: %d, %d reminders, %v", code, len(listed), err)
	}
	if st := b.srv.Summary(); st.Reminders != 12 || st.Reports != 3 {
		t.Errorf("summary: %d reminders, %d reports; want 12 and 3", st.Reminders, st.Reports)
	}
}

// orderBody is a removal order as takedown's webhook carries it.
func orderBody(referral int64, urls ...string) []byte {
	var doc map[string]any
	json.Unmarshal(batchBody(referral, urls...), &doc)
	doc["type"], doc["legal_basis"] = "takedown.referral", BasisRemovalOrder
	doc["order"] = map[string]any{"issuing_authority": "Simulated Authority", "reference": "SIM-RO-1", "reasons": "simulated"}
	b, _ := json.Marshal(doc)
	return b
}

// A lagging provider acts on what it gets and answers late: a sender that
// gives up first has delivered anyway, and its retry under the same key or
// Message-ID is recognised.
func TestLag(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	secret := b.provider(t, X).WebhookSecret
	urls := urlsOf(b.entities(t, X, "account", 2))
	b.srv.SetFault(X, Fault{Mode: FaultLag, Delay: 2 * time.Second})
	body := batchBody(41, urls...)
	wh, _ := standardwebhooks.NewWebhook(secret)
	now := time.Now()
	sig, _ := wh.Sign("lag-1", now, body)
	send := func(c *http.Client) error {
		req, _ := http.NewRequest(http.MethodPost, WebhookURL(X), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(standardwebhooks.HeaderWebhookID, "lag-1")
		req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, itoa(now.Unix()))
		req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := send(b.faultClient(300*time.Millisecond, false)); err == nil {
		t.Fatal("a lagging answer came within the client's timeout")
	}
	if n := len(b.srv.Reports()); n != 1 {
		t.Fatalf("%d reports after a lagging webhook, want the one it took", n)
	}
	b.srv.SetFault(X, Fault{})
	if err := send(b.client); err != nil {
		t.Fatal(err)
	}
	hooks := b.srv.Webhooks()
	if n := len(b.srv.Reports()); n != 1 || len(hooks) != 2 || !hooks[1].Duplicate {
		t.Errorf("the retry: %d reports, webhooks %+v; want one report and the retry marked a duplicate", n, hooks)
	}

	b.srv.SetSMTPLag(time.Second)
	msg := "From: iru@agency.example\r\nTo: " + AbuseAddress(Telegram) + "\r\nMessage-ID: <lag-2@takedown.invalid>\r\nSubject: Referral [takedown-rad-2026-11-referral-42]\r\n\r\n" + strings.Join(urlsOf(b.entities(t, Telegram, "channel", 2)), "\r\n") + "\r\n"
	start := time.Now()
	if err := b.sendMail("iru@agency.example", AbuseAddress(Telegram), msg); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("a lagging mailbox confirmed after %v, want a second", d)
	}
	b.srv.SetSMTPLag(0)
	if err := b.sendMail("iru@agency.example", AbuseAddress(Telegram), msg); err != nil {
		t.Fatal(err)
	}
	mails := b.srv.Mails()
	if len(mails) != 2 || mails[0].Duplicate || !mails[1].Duplicate || len(b.srv.Reports()) != 2 {
		t.Errorf("mail sent again after a late confirmation: %d reports, mails %+v", len(b.srv.Reports()), mails)
	}
}
