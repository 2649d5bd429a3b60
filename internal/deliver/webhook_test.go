package deliver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/takedown-project/takedown"
)

// testSecret is a Standard Webhooks secret: whsec_ and 24 bytes in base64.
var testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("takedown test secret 24b"))

func TestRenderWebhook(t *testing.T) {
	t.Parallel()
	b := orderBatch(3)
	body, err := RenderWebhook(b)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	order, _ := doc["order"].(map[string]any)
	want := map[string]any{
		"type":            "takedown.referral",
		"timestamp":       "2026-11-12T09:30:00Z",
		"idempotency_key": "takedown-rad-2026-11-referral-12",
		"referral_id":     12.0,
		"operation":       map[string]any{"slug": "rad-2026-11", "name": "Referral Action Day November 2026"},
		"provider":        map[string]any{"code": "telegram", "name": "Telegram FZ-LLC"},
		"sender":          map[string]any{"name": "EU IRU Coordination Desk", "organisation": "European Internet Referral Unit", "email": "coordination@iru.example"},
		"legal_basis":     "removal_order",
		"order": map[string]any{
			"issuing_authority": "Bundeskriminalamt, Referat ST 45", "reference": "BKA-RO-2026-0042",
			"contact":               "ro-desk@bka.example, +49 611 55 0",
			"legal_basis":           "Article 3 of Regulation (EU) 2021/784; section 2 TerrOIBG",
			"reasons":               "The content glorifies terrorist offences and solicits participation (Article 2(7)(a) and (c)).",
			"issued_at":             "2026-11-12T08:15:00Z",
			"redress":               "Administrative court Wiesbaden, within one month of receipt",
			"disclosure_restricted": true, "restricted_until": "2026-12-31T23:00:00Z",
			"deadline_seconds": 3600.0, "feedback": order["feedback"],
		},
		"item_count": 3.0,
		"items": []any{
			map[string]any{"item_id": 100.0, "url": "https://t.me/propaganda_channel_1", "reason": "official outlet of a listed organisation, item 1"},
			map[string]any{"item_id": 101.0, "url": "https://t.me/propaganda_channel_2", "reason": "official outlet of a listed organisation, item 2"},
			map[string]any{"item_id": 102.0, "url": "https://t.me/propaganda_channel_3", "reason": "official outlet of a listed organisation, item 3"},
		},
		"portal_url": "https://takedown.example/portal/referrals/12",
		"answer": map[string]any{
			"acknowledge": map[string]any{"method": "POST", "path": "/api/v1/referrals/12/acknowledge", "url": "https://takedown.example/api/v1/referrals/12/acknowledge"},
			"answers":     map[string]any{"method": "POST", "path": "/api/v1/referrals/12/answers", "url": "https://takedown.example/api/v1/referrals/12/answers"},
			"outcomes":    []any{"removed", "disabled", "rejected", "not_found", "need_info"},
		},
	}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("webhook document (-want +got):\n%s", diff)
	}
	if f, _ := order["feedback"].(string); !strings.Contains(f, "removed") {
		t.Errorf("the order does not say what feedback it wants: %q", f)
	}

	// The same batch, whatever the order of its items, is the same bytes.
	b.Items[0], b.Items[2] = b.Items[2], b.Items[0]
	if again, err := RenderWebhook(b); err != nil || !bytes.Equal(again, body) {
		t.Errorf("two renderings differ (%v):\n%s", err, cmp.Diff(string(body), string(again)))
	}

	ref, err := RenderWebhook(referralBatch(1))
	if err != nil {
		t.Fatal(err)
	}
	doc = nil
	json.Unmarshal(ref, &doc)
	if _, ok := doc["order"]; ok || doc["legal_basis"] != "referral" {
		t.Errorf("a referral's document: %s", ref)
	}
	b = referralBatch(1)
	b.Items[0].URL = "https://example.org/a?b=1&c=<2>"
	if body, _ := RenderWebhook(b); !bytes.Contains(body, []byte(`"https://example.org/a?b=1&c=<2>"`)) {
		t.Errorf("a URL is escaped: %s", body)
	}
	b.Items = nil
	b.Referral.Items = nil
	if _, err := RenderWebhook(b); err == nil {
		t.Error("a batch without items rendered")
	}
}

func TestRenderWebhookReminder(t *testing.T) {
	t.Parallel()
	b := reminderBatch(5) // items 100 and 103 answered
	body, err := RenderWebhook(b)
	if err != nil {
		t.Fatal(err)
	}
	b.Reminder = false
	orderBody, err := RenderWebhook(b)
	if err != nil {
		t.Fatal(err)
	}
	b.Reminder = true
	var doc, order map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	json.Unmarshal(orderBody, &order)
	// The reminder is the order's document with these changes.
	want := maps.Clone(order)
	for k, v := range map[string]any{
		"type":        "takedown.referral.reminder",
		"timestamp":   "2026-11-12T10:32:40Z",
		"reminder":    true,
		"received_at": "2026-11-12T09:32:10Z",
		"deadline":    "2026-11-12T10:32:10Z",
		"item_count":  3.0,
		"items": []any{
			map[string]any{"item_id": 101.0, "url": "https://t.me/propaganda_channel_2", "reason": "official outlet of a listed organisation, item 2"},
			map[string]any{"item_id": 102.0, "url": "https://t.me/propaganda_channel_3", "reason": "official outlet of a listed organisation, item 3"},
			map[string]any{"item_id": 104.0, "url": "https://t.me/propaganda_channel_5", "reason": "official outlet of a listed organisation, item 5"},
		},
	} {
		want[k] = v
	}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("reminder document (-want +got):\n%s", diff)
	}
	if ReminderWebhookType != "takedown.referral.reminder" || order["type"] != WebhookType {
		t.Errorf("types: reminder %q, order %v", ReminderWebhookType, order["type"])
	}
	for _, k := range []string{"reminder", "received_at", "deadline"} {
		if _, ok := order[k]; ok {
			t.Errorf("the order's own document has %q", k)
		}
	}
	b.Items[0], b.Items[4] = b.Items[4], b.Items[0]
	if again, err := RenderWebhook(b); err != nil || !bytes.Equal(again, body) {
		t.Errorf("two renderings of the reminder differ (%v):\n%s", err, cmp.Diff(string(body), string(again)))
	}

	// Sent, it carries the reminder's own webhook-id.
	rc := startReceiver(t, testSecret, http.StatusOK)
	if err := SendWebhook(context.Background(), rc.Client(), rc.contact(), ReminderID(b.Referral.IdempotencyKey), body, time.Now()); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.verified) != 1 || rc.headers[0].Get("webhook-id") != "takedown-rad-2026-11-referral-12.reminder" {
		t.Errorf("verified %d, webhook-id %q", len(rc.verified), rc.headers[0].Get("webhook-id"))
	}
}

// receiver is a provider's webhook endpoint that verifies what it gets
// with the Standard Webhooks library and answers as a test tells it.
type receiver struct {
	*httptest.Server
	secret string

	mu       sync.Mutex
	status   int
	verified [][]byte
	headers  []http.Header
	failures []error
}

func startReceiver(t *testing.T, secret string, status int) *receiver {
	t.Helper()
	rc := &receiver{secret: secret, status: status}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		wh, err := standardwebhooks.NewWebhook(rc.secret)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.headers = append(rc.headers, r.Header.Clone())
		if err != nil {
			rc.failures = append(rc.failures, err)
			http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
			return
		}
		rc.verified = append(rc.verified, body)
		if rc.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "120")
		}
		w.WriteHeader(rc.status)
		io.WriteString(w, `{"status":"`+http.StatusText(rc.status)+`"}`)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) contact() *takedown.WebhookContact {
	return &takedown.WebhookContact{URL: rc.URL + "/hooks/takedown", Secret: testSecret}
}

func TestSendWebhook(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, testSecret, http.StatusOK)
	body, err := RenderWebhook(orderBatch(2))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := SendWebhook(context.Background(), rc.Client(), rc.contact(), "takedown-rad-2026-11-referral-12", body, now); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.verified) != 1 || !bytes.Equal(rc.verified[0], body) {
		t.Fatalf("verified %d bodies (failures %v)", len(rc.verified), rc.failures)
	}
	h := rc.headers[0]
	if h.Get("webhook-id") != "takedown-rad-2026-11-referral-12" || h.Get("webhook-timestamp") != strconv.FormatInt(now.Unix(), 10) ||
		!strings.HasPrefix(h.Get("webhook-signature"), "v1,") || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
}

// TestWebhookSignatureNegative: a receiver with another secret refuses
// the webhook, and SendWebhook takes the refusal as final.
func TestWebhookSignatureNegative(t *testing.T) {
	t.Parallel()
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another secret, 24 bytes"))
	rc := startReceiver(t, other, http.StatusOK)
	body, _ := RenderWebhook(referralBatch(1))
	err := SendWebhook(context.Background(), rc.Client(), rc.contact(), "key-1", body, time.Now())
	if !Permanent(err) {
		t.Errorf("a webhook the receiver cannot verify: %v, want a permanent error", err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.verified) != 0 || len(rc.failures) != 1 || !errors.Is(rc.failures[0], standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("verified %d, failures %v; want one failure to match", len(rc.verified), rc.failures)
	}

	// And directly: the signature made with one secret does not verify
	// with another, nor over another body.
	h := rc.headers[0]
	good, _ := standardwebhooks.NewWebhook(testSecret)
	if err := good.Verify(body, h); err != nil {
		t.Errorf("the right secret does not verify: %v", err)
	}
	if err := good.Verify(append(bytes.Clone(body), ' '), h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("a changed body verifies: %v", err)
	}
}

func TestSendWebhookAnswers(t *testing.T) {
	t.Parallel()
	body, _ := RenderWebhook(referralBatch(1))
	for _, tc := range []struct {
		status     int
		ok         bool
		permanent  bool
		retryAfter time.Duration
	}{
		{http.StatusOK, true, false, 0},
		{http.StatusAccepted, true, false, 0},
		{http.StatusNoContent, true, false, 0},
		{http.StatusInternalServerError, false, false, 0},
		{http.StatusBadGateway, false, false, 0},
		{http.StatusServiceUnavailable, false, false, 0},
		{http.StatusBadRequest, false, true, 0},
		{http.StatusNotFound, false, true, 0},
		{http.StatusGone, false, true, 0},
		{http.StatusRequestTimeout, false, false, 0},
		{http.StatusTooManyRequests, false, false, 2 * time.Minute},
	} {
		rc := startReceiver(t, testSecret, tc.status)
		err := SendWebhook(context.Background(), rc.Client(), rc.contact(), "key-1", body, time.Now())
		if (err == nil) != tc.ok || Permanent(err) != tc.permanent {
			t.Errorf("answer %d: %v, want ok %v, permanent %v", tc.status, err, tc.ok, tc.permanent)
			continue
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Code != tc.status || e.RetryAfter != tc.retryAfter || e.Channel != takedown.ChannelWebhook) {
			t.Errorf("answer %d: %#v", tc.status, e)
		}
	}
}

func TestSendWebhookSlow(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	client := srv.Client()
	client.Timeout = 200 * time.Millisecond
	body, _ := RenderWebhook(referralBatch(1))
	start := time.Now()
	err := SendWebhook(context.Background(), client, &takedown.WebhookContact{URL: srv.URL, Secret: testSecret}, "key-1", body, time.Now())
	if err == nil || Permanent(err) {
		t.Errorf("a server slower than the client's timeout: %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("SendWebhook waited %v", d)
	}
}

func TestSendWebhookHangUp(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	body, _ := RenderWebhook(referralBatch(1))
	err := SendWebhook(context.Background(), srv.Client(), &takedown.WebhookContact{URL: srv.URL, Secret: testSecret}, "key-1", body, time.Now())
	var e *Error
	if !errors.As(err, &e) || e.Permanent || e.Code != 0 {
		t.Errorf("a connection closed mid-request: %v, want a temporary error", err)
	}
}

// An answer that says 200 and then breaks off does not prove the batch
// was taken: it is sent again (under the same webhook-id).
func TestSendWebhookAnswerBreaksOff(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"id": "`))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(srv.Close)
	body, _ := RenderWebhook(referralBatch(1))
	err := SendWebhook(context.Background(), srv.Client(), &takedown.WebhookContact{URL: srv.URL, Secret: testSecret}, "key-1", body, time.Now())
	var e *Error
	if !errors.As(err, &e) || e.Permanent || !strings.Contains(err.Error(), "broke off") {
		t.Errorf("a 200 that breaks off: %v, want a temporary error", err)
	}
}

func TestSendWebhookRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	body, _ := RenderWebhook(referralBatch(1))
	err = SendWebhook(context.Background(), &http.Client{Timeout: 5 * time.Second}, &takedown.WebhookContact{URL: url, Secret: testSecret}, "key-1", body, time.Now())
	if err == nil || Permanent(err) || !strings.Contains(err.Error(), "temporary") {
		t.Errorf("connection refused: %v, want a temporary error", err)
	}
}

func TestSendWebhookRedirects(t *testing.T) {
	t.Parallel()
	body, _ := RenderWebhook(referralBatch(1))
	elsewhere := startReceiver(t, testSecret, http.StatusOK)
	var mu sync.Mutex
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.Method+" "+r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/moved-here":
			http.Redirect(w, r, "/hook", http.StatusPermanentRedirect)
		case "/moved-away":
			http.Redirect(w, r, elsewhere.URL+"/hook", http.StatusTemporaryRedirect)
		case "/found":
			http.Redirect(w, r, "/hook", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
		case "/hook":
			got, _ := io.ReadAll(r.Body)
			wh, _ := standardwebhooks.NewWebhook(testSecret)
			if err := wh.Verify(got, r.Header); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
			}
		}
	}))
	t.Cleanup(srv.Close)
	send := func(path string) error {
		return SendWebhook(context.Background(), srv.Client(), &takedown.WebhookContact{URL: srv.URL + path, Secret: testSecret}, "key-1", body, time.Now())
	}
	if err := send("/moved-here"); err != nil {
		t.Errorf("a 308 to the same host: %v", err)
	}
	if err := send("/moved-away"); !Permanent(err) || !strings.Contains(err.Error(), elsewhere.URL) {
		t.Errorf("a redirect to another host: %v, want a permanent error naming it", err)
	}
	elsewhere.mu.Lock()
	if n := len(elsewhere.headers); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
	elsewhere.mu.Unlock()
	if err := send("/found"); !Permanent(err) {
		t.Errorf("a 302, which would turn the POST into a GET: %v, want a permanent error", err)
	}
	if err := send("/loop"); err == nil {
		t.Error("a redirect loop delivered")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range hits {
		if strings.HasPrefix(h, "GET") {
			t.Errorf("a redirect was followed as %s", h)
		}
	}
}

func TestSendWebhookRefuses(t *testing.T) {
	t.Parallel()
	body, _ := RenderWebhook(referralBatch(1))
	for name, w := range map[string]*takedown.WebhookContact{
		"no webhook": nil,
		"no secret":  {URL: "https://hooks.provider.example/takedown"},
		"bad secret": {URL: "https://hooks.provider.example/takedown", Secret: "whsec_not base64!"},
		"bad URL":    {URL: "ftp://hooks.provider.example/", Secret: testSecret},
	} {
		if err := SendWebhook(context.Background(), nil, w, "key-1", body, time.Now()); !Permanent(err) {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ä", 300)
	if got := snippet([]byte(long)); len([]rune(got)) != 203 || !strings.HasSuffix(got, "...") {
		t.Errorf("snippet of 300 runes: %d runes", len([]rune(got)))
	}
	if got := snippet([]byte("  a\n\tb \xff")); got != "a b" {
		t.Errorf("snippet %q", got)
	}
	if got := snippet(nil); got != "(no body)" {
		t.Errorf("snippet of nothing: %q", got)
	}
}
