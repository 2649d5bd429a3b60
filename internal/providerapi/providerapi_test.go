package providerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
)

var decided = time.Date(2026, 11, 24, 10, 17, 3, 0, time.UTC)

func testOrder() *takedown.RemovalOrder {
	return &takedown.RemovalOrder{IssuingAuthority: "Example competent authority", Reference: "RO-2026-0001", Contact: "orders@authority.example",
		LegalBasis: "Regulation (EU) 2021/784, Article 3", Reasons: "terrorist content within Article 2(7)(a)", IssuedAt: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		Redress: "Article 9: an administrative review before the issuing authority"}
}

func testItems() []takedown.ReferralItem {
	return []takedown.ReferralItem{
		{ItemID: 11, URL: "https://t.me/news_relay", Outcome: takedown.OutcomePending},
		{ItemID: 12, URL: "https://t.me/news_relay/12", Reason: "a beheading video", Outcome: takedown.OutcomePending},
	}
}

// roundTrip is what the provider sees of a report: its JSON object.
func roundTrip(t *testing.T, rep Report) map[string]any {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReportForVoluntaryReferral(t *testing.T) {
	r := &takedown.Referral{ID: 7, Operation: "rad-1", Provider: "telegram", LegalBasis: takedown.BasisReferral, IdempotencyKey: takedown.ReferralKey("rad-1", 7)}
	rep := ReportFor(r, testItems())
	want := Report{LegalBasis: "referral", Reference: "takedown-rad-1-referral-7", URLs: []string{"https://t.me/news_relay", "https://t.me/news_relay/12"}}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("report of a voluntary referral (-want +got):\n%s", diff)
	}
	// A voluntary referral names no authority and gives no reason on the
	// wire: the fields are left out, not sent empty.
	m := roundTrip(t, rep)
	for _, k := range []string{"issuing_authority", "reason", "callback_url"} {
		if _, ok := m[k]; ok {
			t.Errorf("a voluntary referral's report has %q: %v", k, m)
		}
	}
	if m["legal_basis"] != "referral" || m["reference"] != "takedown-rad-1-referral-7" {
		t.Errorf("report on the wire: %v", m)
	}
}

func TestReportForRemovalOrder(t *testing.T) {
	r := &takedown.Referral{ID: 8, Operation: "rad-1", Provider: "telegram", LegalBasis: takedown.BasisRemovalOrder, Order: testOrder(), IdempotencyKey: takedown.ReferralKey("rad-1", 8)}
	rep := ReportFor(r, testItems())
	want := Report{LegalBasis: "removal_order", Reference: "RO-2026-0001", Authority: "Example competent authority",
		Reason: "terrorist content within Article 2(7)(a)", URLs: []string{"https://t.me/news_relay", "https://t.me/news_relay/12"}}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("report of a removal order (-want +got):\n%s", diff)
	}
	m := roundTrip(t, rep)
	if m["issuing_authority"] != "Example competent authority" || m["reason"] != "terrorist content within Article 2(7)(a)" || m["reference"] != "RO-2026-0001" || m["legal_basis"] != "removal_order" {
		t.Errorf("removal order on the wire: %v", m)
	}
}

func TestReportForNoItems(t *testing.T) {
	rep := ReportFor(&takedown.Referral{LegalBasis: takedown.BasisReferral, IdempotencyKey: "k"}, nil)
	if len(rep.URLs) != 0 {
		t.Errorf("URLs %v", rep.URLs)
	}
}

// reportBody is a provider's answer naming a report.
const reportBody = `{"id":"rep-42","status":"open","items":[
	{"url":"https://t.me/news_relay","status":"removed","decided_at":"2026-11-24T10:17:03Z"},
	{"url":"https://t.me/news_relay/12","status":"pending"}]}`

// request is what the fake provider saw of a call.
type request struct {
	Method, Path, Auth, Key, ContentType, Accept string
	Body                                         []byte
}

// provider is an httptest server that records each request and answers
// with status and body.
func provider(t *testing.T, status int, body string) (*httptest.Server, *[]request) {
	t.Helper()
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, request{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Key: r.Header.Get("Idempotency-Key"),
			ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept"), Body: b})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func client(srv *httptest.Server, base string) *Client {
	return &Client{HTTP: srv.Client(), BaseURL: srv.URL + base, Token: "provider-token"}
}

func TestPost(t *testing.T) {
	for _, base := range []string{"/v1", "/v1/"} {
		t.Run(base, func(t *testing.T) {
			srv, got := provider(t, http.StatusCreated, reportBody)
			r := &takedown.Referral{ID: 8, Operation: "rad-1", LegalBasis: takedown.BasisRemovalOrder, Order: testOrder(), IdempotencyKey: takedown.ReferralKey("rad-1", 8)}
			s, err := client(srv, base).Post(context.Background(), r.IdempotencyKey, ReportFor(r, testItems()))
			if err != nil {
				t.Fatal(err)
			}
			if s.ID != "rep-42" || s.Status != "open" || len(s.Items) != 2 || !s.Items[0].DecidedAt.Equal(decided) {
				t.Errorf("status %+v", s)
			}
			if len(*got) != 1 {
				t.Fatalf("%d requests", len(*got))
			}
			req := (*got)[0]
			want := request{Method: "POST", Path: "/v1/reports", Auth: "Bearer provider-token", Key: "takedown-rad-1-referral-8", ContentType: "application/json", Accept: "application/json"}
			body := req.Body
			req.Body = nil
			if diff := cmp.Diff(want, req); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			var sent map[string]any
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			wantBody := map[string]any{"legal_basis": "removal_order", "reference": "RO-2026-0001", "issuing_authority": "Example competent authority",
				"reason": "terrorist content within Article 2(7)(a)", "urls": []any{"https://t.me/news_relay", "https://t.me/news_relay/12"}}
			if diff := cmp.Diff(wantBody, sent); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPostVoluntaryReferralBody(t *testing.T) {
	srv, got := provider(t, http.StatusOK, reportBody)
	r := &takedown.Referral{ID: 7, Operation: "rad-1", LegalBasis: takedown.BasisReferral, IdempotencyKey: takedown.ReferralKey("rad-1", 7)}
	if _, err := client(srv, "").Post(context.Background(), r.IdempotencyKey, ReportFor(r, testItems())); err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	if err := json.Unmarshal((*got)[0].Body, &sent); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"legal_basis": "referral", "reference": "takedown-rad-1-referral-7", "urls": []any{"https://t.me/news_relay", "https://t.me/news_relay/12"}}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if (*got)[0].Path != "/reports" || (*got)[0].Key != "takedown-rad-1-referral-7" {
		t.Errorf("request %+v", (*got)[0])
	}
}

func TestGet(t *testing.T) {
	body := `{"id":"rep-42","status":"answered","items":[
		{"url":"https://t.me/a","status":"removed","decided_at":"2026-11-24T10:17:03Z"},
		{"url":"https://t.me/b","status":"disabled","regions":["DE","FR"],"decided_at":"2026-11-24T10:17:03Z"},
		{"url":"https://t.me/c","status":"rejected","reason":"satire","decided_at":"2026-11-24T10:17:03Z"}]}`
	srv, got := provider(t, http.StatusOK, body)
	s, err := client(srv, "/v1/").Get(context.Background(), "rep-42")
	if err != nil {
		t.Fatal(err)
	}
	req := (*got)[0]
	if req.Method != "GET" || req.Path != "/v1/reports/rep-42" || req.Auth != "Bearer provider-token" || req.Accept != "application/json" || len(req.Body) != 0 || req.Key != "" {
		t.Errorf("request %+v", req)
	}
	if s.ID != "rep-42" || s.Status != "answered" || len(s.Answers()) != 3 {
		t.Errorf("status %+v", s)
	}
}

func TestSuccessStatuses(t *testing.T) {
	for _, code := range []int{http.StatusOK, http.StatusCreated, http.StatusAccepted} {
		srv, _ := provider(t, code, reportBody)
		s, err := client(srv, "").Post(context.Background(), "k", Report{LegalBasis: "referral", Reference: "k", URLs: []string{"https://t.me/a"}})
		if err != nil || s.ID != "rep-42" {
			t.Errorf("%d: %+v, %v", code, s, err)
		}
	}
}

func TestErrorStatuses(t *testing.T) {
	tests := []struct {
		code      int
		body      string
		permanent bool
		message   string
	}{
		{400, `{"error":"urls: want at least one"}`, true, "urls: want at least one"},
		{401, `{"error":"bad token"}`, true, "bad token"},
		{403, "forbidden\n", true, "forbidden"},
		{404, `{"error":"no such report"}`, true, "no such report"},
		{422, `{"error":"too many URLs"}`, true, "too many URLs"},
		{408, `{"error":"request timeout"}`, false, "request timeout"},
		{429, `{"error":"slow down"}`, false, "slow down"},
		{500, "internal error", false, "internal error"},
		{502, "<html>bad gateway</html>", false, "<html>bad gateway</html>"},
		{503, "", false, ""},
	}
	for _, tt := range tests {
		srv, _ := provider(t, tt.code, tt.body)
		c := client(srv, "")
		for name, call := range map[string]func() (*Status, error){
			"post": func() (*Status, error) {
				return c.Post(context.Background(), "k", Report{URLs: []string{"https://t.me/a"}})
			},
			"get": func() (*Status, error) { return c.Get(context.Background(), "rep-1") },
		} {
			s, err := call()
			if s != nil || err == nil {
				t.Errorf("%d %s: %+v, %v", tt.code, name, s, err)
				continue
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%d %s: %T %v is no *Error", tt.code, name, err, err)
			}
			if e.Status != tt.code || e.Permanent != tt.permanent || e.Message != tt.message || IsPermanent(err) != tt.permanent {
				t.Errorf("%d %s: %+v, want permanent %v message %q", tt.code, name, e, tt.permanent, tt.message)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("provider API answered %d: ", tt.code)) {
				t.Errorf("%d %s: error text %q", tt.code, name, err)
			}
		}
	}
}

func TestIsPermanent(t *testing.T) {
	if IsPermanent(nil) || IsPermanent(errors.New("other")) || IsPermanent(&Error{Message: "x"}) {
		t.Error("IsPermanent of a temporary or foreign error")
	}
	wrapped := errors.Join(errors.New("context"), &Error{Status: 400, Message: "bad", Permanent: true})
	if !IsPermanent(wrapped) {
		t.Error("IsPermanent does not see a wrapped permanent error")
	}
	if got := (&Error{Message: "provider API unreachable: refused"}).Error(); got != "provider API unreachable: refused" {
		t.Errorf("Error() %q", got)
	}
	if got := (&Error{Status: 503, Message: "later"}).Error(); got != "provider API answered 503: later" {
		t.Errorf("Error() %q", got)
	}
}

// wantTemporary checks that err is a temporary *Error.
func wantTemporary(t *testing.T, what string, s *Status, err error) *Error {
	t.Helper()
	if s != nil || err == nil {
		t.Fatalf("%s: %+v, %v; want an error", what, s, err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: %T %v is no *Error", what, err, err)
	}
	if e.Permanent || IsPermanent(err) {
		t.Errorf("%s: %v is permanent; trying again may help", what, err)
	}
	return e
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c := &Client{HTTP: &http.Client{Timeout: 5 * time.Second}, BaseURL: "http://" + addr + "/v1", Token: "t"}
	s, err := c.Post(context.Background(), "k", Report{URLs: []string{"https://t.me/a"}})
	e := wantTemporary(t, "refused", s, err)
	if e.Status != 0 || !strings.Contains(e.Error(), "unreachable") {
		t.Errorf("refused: %+v", e)
	}
	s, err = c.Get(context.Background(), "rep-1")
	wantTemporary(t, "refused get", s, err)
}

// hijacking serves each request by writing raw onto the connection and
// closing it.
func hijacking(t *testing.T, raw string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		buf.WriteString(raw)
		buf.Flush()
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClosedMidAnswer(t *testing.T) {
	t.Run("body", func(t *testing.T) {
		// The headers promise 500 bytes; the connection ends after a few.
		srv := hijacking(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\":\"rep-")
		s, err := client(srv, "").Post(context.Background(), "k", Report{URLs: []string{"https://t.me/a"}})
		e := wantTemporary(t, "closed in the body", s, err)
		if e.Status != http.StatusOK || !strings.Contains(e.Message, "reading the answer") {
			t.Errorf("closed in the body: %+v", e)
		}
	})
	t.Run("headers", func(t *testing.T) {
		srv := hijacking(t, "HTTP/1.1 200 OK\r\nContent-Ty")
		s, err := client(srv, "").Post(context.Background(), "k", Report{URLs: []string{"https://t.me/a"}})
		wantTemporary(t, "closed in the headers", s, err)
	})
	t.Run("nothing", func(t *testing.T) {
		srv := hijacking(t, "")
		s, err := client(srv, "").Get(context.Background(), "rep-1")
		wantTemporary(t, "closed without an answer", s, err)
	})
	t.Run("chunked", func(t *testing.T) {
		srv := hijacking(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"id\"\r\n")
		s, err := client(srv, "").Get(context.Background(), "rep-1")
		wantTemporary(t, "closed between chunks", s, err)
	})
}

// stalling is a provider that never answers: its handler returns when the
// client hangs up, or at the end of the test.
func stalling(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the whole body lets the server notice the client going.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first
	return srv
}

func TestTimeout(t *testing.T) {
	srv := stalling(t)
	t.Run("client", func(t *testing.T) {
		c := &Client{HTTP: &http.Client{Timeout: 100 * time.Millisecond}, BaseURL: srv.URL, Token: "t"}
		start := time.Now()
		s, err := c.Post(context.Background(), "k", Report{URLs: []string{"https://t.me/a"}})
		wantTemporary(t, "client timeout", s, err)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the call took %v", d)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		s, err := client(srv, "").Get(ctx, "rep-1")
		wantTemporary(t, "context deadline", s, err)
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("ctx %v", ctx.Err())
		}
	})
	t.Run("slow body", func(t *testing.T) {
		// The headers come at once; the body never ends.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"id":"rep-1",`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
		t.Cleanup(srv.Close)
		c := &Client{HTTP: &http.Client{Timeout: 200 * time.Millisecond}, BaseURL: srv.URL, Token: "t"}
		s, err := c.Get(context.Background(), "rep-1")
		e := wantTemporary(t, "slow body", s, err)
		if e.Status != http.StatusOK {
			t.Errorf("slow body: %+v", e)
		}
	})
}

func TestNotAReport(t *testing.T) {
	for _, body := range []string{
		``,
		`not json`,
		`{}`,
		`{"id":""}`,
		`{"status":"open","items":[]}`,
		`[]`,
		`null`,
		`"rep-1"`,
		`{"id":42}`,
		`{"id":"rep-1","items":{"url":"x"}}`,
		`{"id":"rep-1"`,
		`<html><body>maintenance</body></html>`,
	} {
		srv, _ := provider(t, http.StatusOK, body)
		c := client(srv, "")
		s, err := c.Post(context.Background(), "k", Report{URLs: []string{"https://t.me/a"}})
		e := wantTemporary(t, "post "+body, s, err)
		if e.Status != http.StatusOK || e.Message != "the answer is not a report" {
			t.Errorf("body %q: %+v", body, e)
		}
		s, err = c.Get(context.Background(), "rep-1")
		wantTemporary(t, "get "+body, s, err)
	}
}

// endless writes a stream of JSON whitespace inside a report, up to limit
// bytes, and counts what it wrote.
func endless(t *testing.T, status int, prefix string, limit int64) (*httptest.Server, *atomic.Int64) {
	var wrote atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		n, _ := io.WriteString(w, prefix)
		wrote.Add(int64(n))
		chunk := strings.Repeat("x", 32<<10)
		for wrote.Load() < limit {
			n, err := io.WriteString(w, chunk)
			wrote.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &wrote
}

func TestHugeAnswerIsBounded(t *testing.T) {
	const limit = 256 << 20 // far more than is read
	t.Run("success", func(t *testing.T) {
		srv, wrote := endless(t, http.StatusOK, `{"id":"rep-1","status":"`, limit)
		s, err := client(srv, "").Get(context.Background(), "rep-1")
		e := wantTemporary(t, "huge answer", s, err)
		if e.Message != "the answer is not a report" {
			t.Errorf("huge answer: %+v", e)
		}
		srv.Close() // wait for the handler: it stops when the client hangs up
		if n := wrote.Load(); n >= limit {
			t.Errorf("the client read the whole %d bytes", n)
		}
	})
	t.Run("error", func(t *testing.T) {
		srv, _ := endless(t, http.StatusBadGateway, "", limit)
		s, err := client(srv, "").Post(context.Background(), "k", Report{URLs: []string{"https://t.me/a"}})
		e := wantTemporary(t, "huge error", s, err)
		if e.Status != http.StatusBadGateway || len(e.Message) > 200 {
			t.Errorf("huge error: status %d, message of %d bytes", e.Status, len(e.Message))
		}
	})
	t.Run("just under the bound", func(t *testing.T) {
		// A long but whole report within the bound is read.
		pad := strings.Repeat(" ", maxAnswer-len(reportBody)-1)
		srv, _ := provider(t, http.StatusOK, reportBody+pad)
		if s, err := client(srv, "").Get(context.Background(), "rep-42"); err != nil || s.ID != "rep-42" {
			t.Errorf("%+v, %v", s, err)
		}
	})
}

func TestBadBaseURL(t *testing.T) {
	c := &Client{HTTP: http.DefaultClient, BaseURL: "http://[::1", Token: "t"}
	if _, err := c.Post(context.Background(), "k", Report{}); !IsPermanent(err) {
		t.Errorf("post to a malformed base URL: %v, want a permanent error", err)
	}
	if _, err := c.Get(context.Background(), "rep-1"); !IsPermanent(err) {
		t.Errorf("get from a malformed base URL: %v, want a permanent error", err)
	}
}

func decode(t testing.TB, body string) *Status {
	t.Helper()
	var s Status
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestAnswers(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	s := decode(t, `{"id":"rep-1","status":"open","items":[
		{"url":"https://t.me/a","status":"removed","decided_at":"2026-11-24T10:01:00Z"},
		{"url":"https://t.me/b","status":"removed","reason":"terms of service 4.2","decided_at":"2026-11-24T10:02:00Z"},
		{"url":"https://t.me/c","status":"disabled","regions":["DE","FR","NL"],"reason":"local law","decided_at":"2026-11-24T10:03:00Z"},
		{"url":"https://t.me/d","status":"disabled","reason":"in the EU","decided_at":"2026-11-24T10:04:00Z"},
		{"url":"https://t.me/e","status":"disabled","regions":[],"decided_at":"2026-11-24T10:05:00Z"},
		{"url":"https://t.me/f","status":"rejected","reason":"news reporting","decided_at":"2026-11-24T10:06:00Z"},
		{"url":"https://t.me/g","status":"rejected","decided_at":"2026-11-24T10:07:00Z"},
		{"url":"https://t.me/h","status":"not_found","decided_at":"2026-11-24T10:08:00Z"},
		{"url":"https://t.me/i","status":"pending"},
		{"url":"https://t.me/j","status":"open"},
		{"url":"https://t.me/k","status":""},
		{"url":"https://t.me/l","status":"REMOVED","decided_at":"2026-11-24T10:09:00Z"},
		{"url":"https://t.me/m","status":"need_info","reason":"which post?"},
		{"url":"https://t.me/n","status":"removed"},
		{"url":"https://t.me/o","status":"removed","decided_at":"2026-11-24T10:10:00Z","reinstated_at":"2026-11-25T10:00:00Z"},
		{"url":"https://t.me/p","status":"disabled","regions":["DE"],"decided_at":"2026-11-24T12:11:00+02:00"}]}`)
	want := []takedown.ItemAnswer{
		{URL: "https://t.me/a", Outcome: takedown.OutcomeRemoved, At: at("2026-11-24T10:01:00Z")},
		{URL: "https://t.me/b", Outcome: takedown.OutcomeRemoved, Reason: "terms of service 4.2", At: at("2026-11-24T10:02:00Z")},
		{URL: "https://t.me/c", Outcome: takedown.OutcomeDisabled, Reason: "disabled in DE, FR, NL", At: at("2026-11-24T10:03:00Z")},
		{URL: "https://t.me/d", Outcome: takedown.OutcomeDisabled, Reason: "in the EU", At: at("2026-11-24T10:04:00Z")},
		{URL: "https://t.me/e", Outcome: takedown.OutcomeDisabled, At: at("2026-11-24T10:05:00Z")},
		{URL: "https://t.me/f", Outcome: takedown.OutcomeRejected, Reason: "news reporting", At: at("2026-11-24T10:06:00Z")},
		{URL: "https://t.me/g", Outcome: takedown.OutcomeRejected, Reason: "rejected without a reason", At: at("2026-11-24T10:07:00Z")},
		{URL: "https://t.me/h", Outcome: takedown.OutcomeNotFound, At: at("2026-11-24T10:08:00Z")},
		// No decided_at: zero, which the store reads as "when recorded".
		{URL: "https://t.me/n", Outcome: takedown.OutcomeRemoved},
		{URL: "https://t.me/o", Outcome: takedown.OutcomeRemoved, At: at("2026-11-24T10:10:00Z")},
		{URL: "https://t.me/p", Outcome: takedown.OutcomeDisabled, Reason: "disabled in DE", At: at("2026-11-24T10:11:00Z")},
	}
	got := s.Answers()
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	for _, a := range got {
		if err := a.Validate(takedown.BasisReferral); err != nil {
			t.Errorf("answer %+v: %v", a, err)
		}
		if err := a.Validate(takedown.BasisRemovalOrder); err != nil {
			t.Errorf("answer %+v to an order: %v", a, err)
		}
	}
}

func TestAnswersNone(t *testing.T) {
	for _, body := range []string{`{"id":"rep-1"}`, `{"id":"rep-1","items":[]}`, `{"id":"rep-1","items":[{"url":"https://t.me/a","status":"pending"}]}`} {
		if got := decode(t, body).Answers(); len(got) != 0 {
			t.Errorf("%s: %+v", body, got)
		}
	}
}

// A provider's blank reason for a rejection is no reason: the answer still
// gets one, or the store would refuse the whole batch of answers.
func TestAnswersBlankRejection(t *testing.T) {
	got := decode(t, `{"id":"rep-1","items":[{"url":"https://t.me/a","status":"rejected","reason":" \n\t "}]}`).Answers()
	if len(got) != 1 {
		t.Fatalf("answers %+v", got)
	}
	if err := got[0].Validate(takedown.BasisReferral); err != nil {
		t.Errorf("answer %+v: %v", got[0], err)
	}
}

// A provider's reason longer than takedown keeps is cut, not a reason to
// refuse every answer of the report.
func TestAnswersLongReason(t *testing.T) {
	long := strings.Repeat("é", takedown.MaxNotesLength) // two bytes each
	regions := make([]string, 5000)
	for i := range regions {
		regions[i] = "DE"
	}
	rg, _ := json.Marshal(regions)
	got := decode(t, `{"id":"rep-1","items":[
		{"url":"https://t.me/a","status":"rejected","reason":"`+long+`"},
		{"url":"https://t.me/b","status":"disabled","regions":`+string(rg)+`}]}`).Answers()
	if len(got) != 2 {
		t.Fatalf("%d answers", len(got))
	}
	for _, a := range got {
		if err := a.Validate(takedown.BasisReferral); err != nil {
			t.Errorf("answer about %s: %v", a.URL, err)
		}
		if !strings.HasPrefix(long, a.Reason) && !strings.HasPrefix(a.Reason, "disabled in DE, DE") {
			t.Errorf("answer about %s: reason %.40q…", a.URL, a.Reason)
		}
	}
}

// statusSeeds are realistic answers of a provider's API.
var statusSeeds = []string{
	reportBody,
	`{"id":"rep-1","status":"answered","items":[
		{"url":"https://t.me/a","status":"removed","decided_at":"2026-11-24T10:01:00Z"},
		{"url":"https://t.me/b","status":"disabled","regions":["DE","FR"],"decided_at":"2026-11-24T10:02:00Z"},
		{"url":"https://t.me/c","status":"rejected","reason":"news reporting","decided_at":"2026-11-24T10:03:00Z"},
		{"url":"https://t.me/d","status":"rejected","decided_at":"2026-11-24T10:03:00Z"},
		{"url":"https://t.me/e","status":"not_found","decided_at":"2026-11-24T10:04:00Z"},
		{"url":"https://t.me/f","status":"removed","decided_at":"2026-11-24T10:05:00Z","reinstated_at":"2026-11-26T09:00:00Z"}]}`,
	`{"id":"rep-2","status":"open","items":[{"url":"https://example.org/x","status":"pending"},{"url":"https://example.org/y","status":"open"}]}`,
	`{"id":"rep-3","items":[{"url":"","status":"removed"},{"status":"rejected","reason":"  "},{"url":"https://t.me/z","status":"disabled","regions":[""],"reason":""}]}`,
	`{"id":"rep-4","items":[{"url":"https://t.me/a","status":"need_info","reason":"which post?"},{"url":"https://t.me/b","status":"reinstated"}]}`,
	`{"id":"rep-5","items":null}`,
	`{"id":"rep-7","items":[{"url":"https://t.me/a","status":"rejected","reason":"` + strings.Repeat(" ", takedown.MaxNotesLength) + `x"}]}`,
	`{"id":"rep-6","items":[{"url":"https://t.me/a","status":"removed","decided_at":"not a time"}]}`,
	`{}`,
	`[]`,
	``,
}

func FuzzStatus(f *testing.F) {
	for _, s := range statusSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var s Status
		if json.Unmarshal(body, &s) != nil {
			return
		}
		answers := s.Answers()
		// One answer per decided item, in the report's order; pending and
		// unknown statuses give none.
		var decidedItems []int
		for i, it := range s.Items {
			if slices.Contains([]string{"removed", "disabled", "rejected", "not_found"}, it.Status) {
				decidedItems = append(decidedItems, i)
			}
		}
		if len(answers) != len(decidedItems) {
			t.Fatalf("%d answers of %d decided items", len(answers), len(decidedItems))
		}
		for k, a := range answers {
			it := s.Items[decidedItems[k]]
			if !slices.Contains(takedown.Outcomes, a.Outcome) || !a.Outcome.Final() {
				t.Errorf("answer %d: outcome %q is not a provider's decision", k, a.Outcome)
			}
			if string(a.Outcome) != it.Status {
				t.Errorf("answer %d: outcome %q of status %q", k, a.Outcome, it.Status)
			}
			if a.URL != it.URL || !a.At.Equal(it.DecidedAt) || a.ItemID != 0 || a.Feedback != nil {
				t.Errorf("answer %d: %+v of item %+v", k, a, it)
			}
			if a.Outcome == takedown.OutcomeRejected && strings.TrimSpace(a.Reason) == "" {
				t.Errorf("answer %d: a rejection without a reason: %+v", k, a)
			}
			// Validate also wants the item named: a URL-less item is the
			// provider's error, refused by the store as an unknown URL
			// would be. Everything else Answers makes must be taken.
			if a.URL == "" {
				continue
			}
			if err := a.Validate(takedown.BasisReferral); err != nil {
				t.Errorf("answer %d %+v does not validate: %v", k, a, err)
			}
		}
	})
}
