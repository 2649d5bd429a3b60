package simnet

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// getAs fetches url as client (X-Simnet-Client), without following
// redirects.
func (b *testBundle) getAs(t *testing.T, client, url string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if client != "" {
		req.Header.Set(clientHeader, client)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func TestScenarioPages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ yaml, wantErr string }{
		{"pages: {login_wall: 1.5}\n", "pages.login_wall is 1.5"},
		{"pages: {rate_limit: {requests: -1}}\n", "pages.rate_limit"},
		{"pages: {rate_limit: {requests: 5, burst: -2}}\n", "pages.rate_limit"},
		{"pages: {rate_limit: {requests: 5, per: soon}}\n", `duration "soon"`},
		{"pages: {login_wal: 0.1}\n", "field login_wal not found"},
	} {
		if _, err := ParseScenario([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: %v, want an error with %q", tt.yaml, err, tt.wantErr)
		}
	}
	s, err := ParseScenario([]byte("pages: {login_wall: 0.2, rate_limit: {requests: 30}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l := s.Pages.RateLimit; l.Per.D() != time.Minute || l.Burst != 30 {
		t.Errorf("rate limit defaults: %+v, want per 1m and burst 30", l)
	}
	if d := Demo().Pages; d.LoginWall != 0 || d.RateLimit.Requests != 0 {
		t.Errorf("the demo walls or limits pages: %+v", d)
	}
}

func TestLoginWall(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, "pages: {login_wall: 0.5}\n"))
	w := b.srv.World()
	var walled, open *Entity
	for _, e := range w.Entities {
		if e.Platform == X && e.Kind == KindAccount {
			if w.LoginWall(e) && walled == nil {
				walled = e
			} else if !w.LoginWall(e) && open == nil {
				open = e
			}
		}
	}
	if walled == nil || open == nil {
		t.Fatalf("login_wall 0.5: walled %v, open %v; want some of each", walled, open)
	}
	code, _, h := b.get(t, walled.URL)
	loc := h.Get("Location")
	if code != http.StatusFound || loc != "https://x.com/i/flow/login?redirect_after_login="+url.QueryEscape("/"+walled.Handle) {
		t.Errorf("walled profile: %d to %q, want 302 to the login flow", code, loc)
	}
	for _, e := range w.Entities {
		if e.Kind == KindPost && e.Parent == walled {
			if code, _, h := b.get(t, e.URL); code != http.StatusFound || !strings.Contains(h.Get("Location"), "/i/flow/login") {
				t.Errorf("post of a walled account: %d to %q, want the login flow", code, h.Get("Location"))
			}
			break
		}
	}
	if code, body, _ := b.get(t, loc); code != 200 || !strings.Contains(body, `type="password"`) || !strings.Contains(body, "Log in to X") {
		t.Errorf("login flow: %d, want 200 with a login form", code)
	}
	// The wall stands whatever became of the account.
	if err := b.srv.SetStatus(walled.URL, StatusRemoved); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := b.get(t, walled.URL); code != http.StatusFound {
		t.Errorf("removed walled account: %d, want the wall", code)
	}
	if code, body, _ := b.get(t, open.URL); code != 200 || !strings.Contains(body, `data-testid="UserName"`) {
		t.Errorf("account without a wall: %d", code)
	}
	// Without the knob nothing is walled.
	if plain := smallScenario(t, ""); plain.Pages.LoginWall != 0 {
		t.Fatal("the test scenario walls by default")
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, "pages: {rate_limit: {requests: 3, per: 1h}}\n"))
	ch := b.entities(t, Telegram, KindChannel, 1)[0]
	file := b.entities(t, FileHost, KindFile, 1)[0]
	for i := range 3 {
		if code, _, _ := b.getAs(t, "a", ch.URL); code != 200 {
			t.Fatalf("request %d within the limit: %d", i+1, code)
		}
	}
	code, body, h := b.getAs(t, "a", "https://telegram.me/"+ch.Handle)
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Too Many Requests") {
		t.Fatalf("request over the limit (another host name of the same service): %d, want 429", code)
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 || s > 1200 {
		t.Errorf("Retry-After %q, want the seconds until a request is allowed again (at most 1200)", h.Get("Retry-After"))
	}
	// Another client, another host: their own buckets.
	if code, _, _ := b.getAs(t, "b", ch.URL); code != 200 {
		t.Errorf("another client: %d, want 200", code)
	}
	if code, _, _ := b.getAs(t, "a", file.URL); code != 200 {
		t.Errorf("another host: %d, want 200", code)
	}
	// The limit refills in real time.
	now := time.Now()
	b.srv.limits.mu.Lock()
	b.srv.limits.now = func() time.Time { return now.Add(20 * time.Minute) }
	b.srv.limits.mu.Unlock()
	if code, _, _ := b.getAs(t, "a", ch.URL); code != 200 {
		t.Errorf("after 20 minutes (a token back): %d, want 200", code)
	}
	if code, _, _ := b.getAs(t, "a", ch.URL); code != http.StatusTooManyRequests {
		t.Errorf("and then: %d, want 429", code)
	}

	// The control API lifts and sets it.
	if code, body := b.control(t, "rate-limit", map[string]any{"requests": 0}); code != 200 || !strings.Contains(body, `"requests": 0`) {
		t.Fatalf("POST /_simnet/rate-limit 0: %d %s", code, body)
	}
	for range 5 {
		if code, _, _ := b.getAs(t, "a", ch.URL); code != 200 {
			t.Fatalf("no limit: %d", code)
		}
	}
	if code, body := b.control(t, "rate-limit", map[string]any{"requests": 1, "per": "1m"}); code != 200 || !strings.Contains(body, `"per": "1m0s"`) {
		t.Fatalf("POST /_simnet/rate-limit: %d %s", code, body)
	}
	b.getAs(t, "c", file.URL)
	if code, _, _ := b.getAs(t, "c", file.URL); code != http.StatusTooManyRequests {
		t.Errorf("limit set by the control API: %d, want 429", code)
	}
	if l := b.srv.RateLimit(); l.Requests != 1 || l.Burst != 1 || l.Per.D() != time.Minute {
		t.Errorf("RateLimit() = %+v", l)
	}
	for _, bad := range []map[string]any{{"requests": -1}, {"requests": 1, "per": "soon"}, {"requests": 1, "burst": -1}, {"requets": 1}} {
		if code, _ := b.control(t, "rate-limit", bad); code != http.StatusBadRequest {
			t.Errorf("POST /_simnet/rate-limit %v: %d, want 400", bad, code)
		}
	}
	// The control API and the providers' APIs are not limited.
	for range 3 {
		if code, _, _ := b.getAs(t, "c", "https://"+ControlHost+"/_simnet/rate-limit"); code != 200 {
			t.Errorf("control API under the limit: %d", code)
		}
	}
}

func TestRateLimitOffByDefault(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	ch := b.entities(t, Telegram, KindChannel, 1)[0]
	for i := range 200 {
		if code, _, _ := b.get(t, ch.URL); code != 200 {
			t.Fatalf("request %d: %d, want no limit", i, code)
		}
	}
}

func TestPageFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	ch := b.entities(t, Telegram, KindChannel, 1)[0]
	acct := b.entities(t, X, KindAccount, 1)[0]
	vid := b.entities(t, YouTube, KindPost, 1)[0]
	file := b.entities(t, FileHost, KindFile, 1)[0]

	b.srv.SetPageFault(Telegram, Fault{Mode: FaultChallenge})
	code, body, h := b.get(t, ch.URL)
	if code != http.StatusForbidden || h.Get("Cf-Mitigated") != "challenge" || !strings.Contains(body, "Just a moment...") {
		t.Errorf("challenge: %d, cf-mitigated %q, want 403 with the header and the interstitial", code, h.Get("Cf-Mitigated"))
	}
	if code, _, _ := b.get(t, avatarURL(ch)); code != http.StatusForbidden {
		t.Errorf("challenge covers media too: %d", code)
	}
	if code, _, _ := b.get(t, acct.URL); code != 200 {
		t.Errorf("another platform under a telegram fault: %d", code)
	}
	b.srv.SetPageFault(Telegram, Fault{Mode: FaultChallenge503})
	if code, body, h := b.get(t, ch.URL); code != http.StatusServiceUnavailable || h.Get("Cf-Mitigated") != "" || !strings.Contains(body, "Checking your browser") {
		t.Errorf("challenge-503: %d, want 503 with the text alone", code)
	}
	b.srv.SetPageFault(Telegram, Fault{Mode: FaultLogin})
	if code, body, _ := b.get(t, ch.URL); code != 200 || !strings.Contains(body, `type="password"`) || strings.Contains(body, ch.Title) {
		t.Errorf("login: %d, want 200 with a login form and nothing of the channel", code)
	}
	b.srv.SetPageFault(Telegram, Fault{Mode: FaultError})
	if code, _, _ := b.get(t, ch.URL); code != http.StatusInternalServerError {
		t.Errorf("error: %d, want 500", code)
	}
	b.srv.SetPageFault(Telegram, Fault{})
	if code, _, _ := b.get(t, ch.URL); code != 200 {
		t.Errorf("cleared: %d", code)
	}

	// The microblog's and the video site's login walls are redirects.
	b.srv.SetPageFault(X, Fault{Mode: FaultLogin})
	code, _, h = b.get(t, acct.URL)
	if code != http.StatusFound || !strings.HasPrefix(h.Get("Location"), "https://x.com/i/flow/login?") {
		t.Errorf("x login: %d to %q", code, h.Get("Location"))
	}
	if code, _, _ := b.get(t, h.Get("Location")); code != 200 {
		t.Errorf("x login flow under the login fault: %d, want the login page", code)
	}
	b.srv.SetPageFault(YouTube, Fault{Mode: FaultLogin})
	code, _, h = b.get(t, vid.URL)
	if code != http.StatusFound || !strings.HasPrefix(h.Get("Location"), "https://consent.youtube.com/m?continue=") {
		t.Errorf("youtube login: %d to %q", code, h.Get("Location"))
	}
	if code, body, _ := b.get(t, h.Get("Location")); code != 200 || !strings.Contains(body, "Before you continue to YouTube") || !strings.Contains(body, vid.Code) {
		t.Errorf("consent page: %d", code)
	}

	// down and reset break the connection; slow delays the page.
	c := b.faultClient(5*time.Second, false)
	b.srv.SetPageFault(FileHost, Fault{Mode: FaultDown})
	if _, err := c.Get(file.URL); err == nil || !errors.Is(err, io.EOF) {
		t.Errorf("down: %v, want EOF", err)
	}
	b.srv.SetPageFault(FileHost, Fault{Mode: FaultReset})
	if resp, err := c.Get(file.URL); err == nil {
		resp.Body.Close()
		t.Error("reset: an answer")
	}
	b.srv.SetPageFault(FileHost, Fault{Mode: FaultSlow, Delay: 2 * time.Second})
	var terr interface{ Timeout() bool }
	if _, err := b.faultClient(200*time.Millisecond, false).Get(file.URL); !errors.As(err, &terr) || !terr.Timeout() {
		t.Errorf("slow: %v, want a timeout", err)
	}
	// The API hosts keep their own faults.
	if code, _, _ := b.get(t, "https://"+ProviderHost(FileHost)+"/v1/reports/XX-1"); code != http.StatusUnauthorized {
		t.Errorf("the file host's API under a page fault: %d, want its normal 401", code)
	}

	// The control API, with a fault that ends by itself.
	if code, body := b.control(t, "page-fault", map[string]any{"platform": "*", "mode": "challenge", "for": "300ms"}); code != 200 || strings.Count(body, `"challenge"`) != len(PlatformKeys) {
		t.Fatalf("POST /_simnet/page-fault: %d %s", code, body)
	}
	if code, _, _ := b.get(t, acct.URL); code != http.StatusForbidden {
		t.Errorf("challenge by the control API: %d", code)
	}
	time.Sleep(400 * time.Millisecond)
	if code, _, _ := b.get(t, acct.URL); code != 200 {
		t.Errorf("after the fault's end: %d", code)
	}
	if n := len(b.srv.PageFaults()); n != 0 {
		t.Errorf("%d page faults in force after their end", n)
	}
	for _, bad := range []map[string]any{
		{"platform": "myspace", "mode": "login"},
		{"platform": X, "mode": "lag", "delay": "1s"},
		{"platform": X, "mode": "slow"},
	} {
		if code, _ := b.control(t, "page-fault", bad); code != http.StatusBadRequest {
			t.Errorf("POST /_simnet/page-fault %v: %d, want 400", bad, code)
		}
	}
	if code, _ := b.control(t, "fault", map[string]any{"platform": X, "mode": "challenge"}); code != http.StatusBadRequest {
		t.Errorf("POST /_simnet/fault with a page mode: %d, want 400", code)
	}
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	b := setup(t, smallScenario(t, ""))
	ch := b.entities(t, Telegram, KindChannel, 1)[0]
	acct := b.entities(t, X, KindAccount, 1)[0]
	if err := b.srv.SetStatus(ch.URL, StatusRemoved); err != nil {
		t.Fatal(err)
	}
	if _, body, _ := b.get(t, ch.URL); !strings.Contains(body, "you can contact") {
		t.Error("a removed channel shows")
	}
	if err := b.srv.SetStatus(ch.URL, StatusLive); err != nil {
		t.Fatal(err)
	}
	if _, body, _ := b.get(t, ch.URL); !strings.Contains(body, "tgme_page_title") {
		t.Error("a channel set live again does not show")
	}
	if code, body := b.control(t, "state", map[string]any{"url": acct.URL, "status": "withheld", "regions": []string{"EU"}}); code != 200 || !strings.Contains(body, `"withheld"`) {
		t.Fatalf("POST /_simnet/state: %d %s", code, body)
	}
	if _, body, _ := b.get(t, acct.URL); !strings.Contains(body, "withheld in EU") {
		t.Error("a withheld account shows in its region")
	}
	for _, bad := range []struct {
		body map[string]any
		code int
	}{
		{map[string]any{"url": "https://t.me/no_such_channel_here", "status": "removed"}, 404},
		{map[string]any{"url": acct.URL, "status": "missing"}, 400},
		{map[string]any{"url": acct.URL, "status": "gone"}, 400},
	} {
		if code, _ := b.control(t, "state", bad.body); code != bad.code {
			t.Errorf("POST /_simnet/state %v: %d, want %d", bad.body, code, bad.code)
		}
	}
}
