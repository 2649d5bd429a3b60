package probe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/simnet"
)

// The pages the rules are written for: every simulated platform's pages
// in every state (present, removed or suspended, withheld in the region,
// missing, behind a login wall, rate-limited, behind a bot challenge,
// and for the hosts without platform rules, no answer), fetched from a
// running simulator through the simulator-mode client of
// internal/outbound. TestLivePages classifies them as the simulator
// serves them now, so that the rules cannot drift from it; with -update
// it records them into testdata/pages, where TestRecordedPages classifies
// them without a simulator. The content is the simulator's: synthetic.

var updatePages = flag.Bool("update", false, "record the simulator's pages into testdata/pages")

const pagesDir = "testdata/pages"

// pageRecord is one fetched page and the verdict the rules must give.
type pageRecord struct {
	name     string // the file's name: SIMPLATFORM-STATE-WHAT
	platform takedown.Platform
	kind     takedown.Kind
	verdict  takedown.Verdict
	reason   string
	resp     *Response
}

// pageStates are the states each simulated platform's pages are recorded
// in; "gone" stands for removed or suspended, whichever the platform
// shows.
var pageStates = []string{"present", "gone", "withheld", "missing", "login", "ratelimited", "challenge"}

// pageCase is a page to fetch: setup (which may be nil) puts the
// simulator in the state, and its return undoes it.
type pageCase struct {
	name     string
	platform takedown.Platform
	kind     takedown.Kind
	url      string
	verdict  takedown.Verdict
	reason   string
	setup    func() func()
	// warmup is how many requests go before the one recorded (to use up
	// a rate limit); timeout bounds the recorded one (0: 10 s).
	warmup  int
	timeout time.Duration
}

// pageScenario is the world the pages come from: small, with some
// microblog accounts behind a login wall.
const pageScenario = `
name: probe-pages
seed: 20261118
time_scale: 1
network: {items: 400, outlets: 4}
agencies: [{code: aa-iru, name: "Unit A", format: csv}]
pages: {login_wall: 0.25}
`

// capturePages starts a simulator, puts its entities in every state and
// fetches their pages.
func capturePages(t *testing.T) []pageRecord {
	t.Helper()
	s, err := simnet.ParseScenario([]byte(pageScenario))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := simnet.Start(context.Background(), simnet.Config{Scenario: s, Clock: simnet.NewClock(s.Start, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	info := srv.Info()
	out, err := outbound.Simnet(outbound.SimnetInfo{HTTPS: info.HTTPS, HTTP: info.HTTP, SMTP: info.SMTP, CAPEM: info.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	base := out.HTTPClient(10 * time.Second)
	cases := pageCases(t, srv)
	var recs []pageRecord
	for _, c := range cases {
		undo := func() {}
		if c.setup != nil {
			undo = c.setup()
		}
		client := "pages-" + c.name
		for range c.warmup {
			pageFetch(base, c.url, client, 0)
		}
		r := pageFetch(base, c.url, client, c.timeout)
		undo()
		recs = append(recs, pageRecord{name: c.name, platform: c.platform, kind: c.kind, verdict: c.verdict, reason: c.reason, resp: r})
	}
	return recs
}

// pageFetch gets rawURL as a prober does: following up to 5 redirects,
// recording each, reading at most 256 KiB of the body.
func pageFetch(base *http.Client, rawURL, client string, timeout time.Duration) *Response {
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	r := &Response{URL: rawURL}
	c := &http.Client{Transport: base.Transport, Timeout: timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > 5 {
			return http.ErrUseLastResponse
		}
		r.Redirects = append(r.Redirects, req.URL.String())
		return nil
	}}
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		r.Err = err
		return r
	}
	req.Header.Set("X-Simnet-Client", client)
	resp, err := c.Do(req)
	if err != nil {
		r.Err = err
		return r
	}
	defer resp.Body.Close()
	const maxBytes = 256 << 10
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		r.Err = err
		return r
	}
	r.Status, r.FinalURL, r.Header = resp.StatusCode, resp.Request.URL.String(), resp.Header
	r.Truncated = len(body) > maxBytes
	r.Body = body[:min(len(body), maxBytes)]
	return r
}

// pageCases picks the entities and writes the cases.
func pageCases(t *testing.T, srv *simnet.Server) []pageCase {
	t.Helper()
	w := srv.World()
	posts := map[*simnet.Entity][]*simnet.Entity{}
	for _, e := range w.Entities {
		if e.Kind == simnet.KindPost && e.Parent != nil {
			posts[e.Parent] = append(posts[e.Parent], e)
		}
	}
	used := map[*simnet.Entity]bool{}
	// pick returns an unused container of platform and kind with at least
	// n post entities, without a login wall unless walled.
	pick := func(platform, kind string, n int, walled bool) *simnet.Entity {
		for _, e := range w.Entities {
			if e.Platform == platform && e.Kind == kind && !used[e] && len(posts[e]) >= n && w.LoginWall(e) == walled {
				used[e] = true
				return e
			}
		}
		t.Fatalf("no %s %s with %d posts (walled %v) in the world", platform, kind, n, walled)
		return nil
	}
	first := func(platform, kind string, ok func(*simnet.Entity) bool) *simnet.Entity {
		for _, e := range w.Entities {
			if e.Platform == platform && e.Kind == kind && !used[e] && (ok == nil || ok(e)) {
				used[e] = true
				return e
			}
		}
		t.Fatalf("no %s %s in the world", platform, kind)
		return nil
	}
	set := func(url string, st simnet.Status) {
		if err := srv.SetStatus(url, st); err != nil {
			t.Fatal(err)
		}
	}
	fault := func(platform, mode string) func() func() {
		return func() func() {
			srv.SetPageFault(platform, simnet.Fault{Mode: mode, Delay: 3 * time.Second})
			return func() { srv.SetPageFault(platform, simnet.Fault{}) }
		}
	}
	limited := func() func() {
		if err := srv.SetRateLimit(simnet.RateLimit{Requests: 1, Per: simnet.Duration(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return func() { srv.SetRateLimit(simnet.RateLimit{}) }
	}
	missing := func(url string) string {
		if w.Resolve(url) != nil {
			t.Fatalf("%s is in the world", url)
		}
		return url
	}
	var cs []pageCase
	add := func(name string, p takedown.Platform, k takedown.Kind, url string, v takedown.Verdict, reason string) *pageCase {
		cs = append(cs, pageCase{name: name, platform: p, kind: k, url: url, verdict: v, reason: reason})
		return &cs[len(cs)-1]
	}
	const (
		online, offline, unknown = takedown.VerdictOnline, takedown.VerdictOffline, takedown.VerdictUnknown
		tg, x, yt, web           = takedown.PlatformTelegram, takedown.PlatformX, takedown.PlatformYouTube, takedown.PlatformWeb
	)

	// The channel service.
	chLive := pick(simnet.Telegram, simnet.KindChannel, 2, false)
	chGone := pick(simnet.Telegram, simnet.KindChannel, 1, false)
	chHeld := pick(simnet.Telegram, simnet.KindChannel, 1, false)
	group := first(simnet.Telegram, simnet.KindGroup, nil)
	invLive := first(simnet.Telegram, simnet.KindInvite, nil)
	invGone := first(simnet.Telegram, simnet.KindInvite, nil)
	postGone := posts[chLive][1]
	set(chGone.URL, simnet.StatusRemoved)
	set(chHeld.URL, simnet.StatusWithheld)
	set(invGone.URL, simnet.StatusRemoved)
	set(postGone.URL, simnet.StatusRemoved)
	add("telegram-present-channel", tg, takedown.KindChannel, chLive.URL, online, takedown.ReasonPresent)
	add("telegram-present-preview", tg, takedown.KindChannel, "https://t.me/s/"+chLive.Handle, online, takedown.ReasonPresent)
	add("telegram-present-group", tg, takedown.KindGroup, group.URL, online, takedown.ReasonPresent)
	add("telegram-present-post", tg, takedown.KindPost, posts[chLive][0].URL, online, takedown.ReasonPresent)
	add("telegram-present-invite", tg, takedown.KindInvite, invLive.URL, online, takedown.ReasonPresent)
	add("telegram-gone-channel", tg, takedown.KindChannel, chGone.URL, offline, takedown.ReasonNotFound)
	add("telegram-gone-preview", tg, takedown.KindChannel, "https://t.me/s/"+chGone.Handle, offline, takedown.ReasonNotFound)
	add("telegram-gone-post", tg, takedown.KindPost, postGone.URL, offline, takedown.ReasonNotFound)
	add("telegram-gone-post-of-channel", tg, takedown.KindPost, posts[chGone][0].URL, offline, takedown.ReasonNotFound)
	add("telegram-gone-invite", tg, takedown.KindInvite, invGone.URL, offline, takedown.ReasonNotFound)
	add("telegram-withheld-channel", tg, takedown.KindChannel, chHeld.URL, offline, takedown.ReasonWithheld)
	add("telegram-withheld-post", tg, takedown.KindPost, posts[chHeld][0].URL, offline, takedown.ReasonWithheld)
	add("telegram-missing-channel", tg, takedown.KindChannel, missing("https://t.me/no_such_channel_recorded"), offline, takedown.ReasonNotFound)
	add("telegram-missing-preview", tg, takedown.KindChannel, missing("https://t.me/s/no_such_channel_recorded"), offline, takedown.ReasonNotFound)
	add("telegram-login-channel", tg, takedown.KindChannel, chLive.URL, unknown, takedown.ReasonLoginWall).setup = fault(simnet.Telegram, simnet.FaultLogin)
	c := add("telegram-ratelimited-channel", tg, takedown.KindChannel, chLive.URL, unknown, takedown.ReasonRateLimited)
	c.setup, c.warmup = limited, 1
	add("telegram-challenge-channel", tg, takedown.KindChannel, chLive.URL, unknown, takedown.ReasonChallenge).setup = fault(simnet.Telegram, simnet.FaultChallenge)

	// The microblog.
	acLive := pick(simnet.X, simnet.KindAccount, 3, false)
	acGone := pick(simnet.X, simnet.KindAccount, 1, false)
	acHeld := pick(simnet.X, simnet.KindAccount, 0, false)
	acWalled := pick(simnet.X, simnet.KindAccount, 1, true)
	xPostGone, xPostHeld := posts[acLive][1], posts[acLive][2]
	set(acGone.URL, simnet.StatusRemoved)
	set(acHeld.URL, simnet.StatusWithheld)
	set(xPostGone.URL, simnet.StatusRemoved)
	set(xPostHeld.URL, simnet.StatusWithheld)
	add("x-present-account", x, takedown.KindAccount, acLive.URL, online, takedown.ReasonPresent)
	add("x-present-post", x, takedown.KindPost, posts[acLive][0].URL, online, takedown.ReasonPresent)
	add("x-gone-account", x, takedown.KindAccount, acGone.URL, offline, takedown.ReasonSuspended)
	add("x-gone-post-of-account", x, takedown.KindPost, posts[acGone][0].URL, offline, takedown.ReasonSuspended)
	add("x-gone-post", x, takedown.KindPost, xPostGone.URL, offline, takedown.ReasonNotFound)
	add("x-withheld-account", x, takedown.KindAccount, acHeld.URL, offline, takedown.ReasonWithheld)
	add("x-withheld-post", x, takedown.KindPost, xPostHeld.URL, offline, takedown.ReasonWithheld)
	add("x-missing-account", x, takedown.KindAccount, missing("https://x.com/no_such_account_rec"), offline, takedown.ReasonNotFound)
	add("x-missing-post", x, takedown.KindPost, missing("https://x.com/i/web/status/1850000000000000001"), offline, takedown.ReasonNotFound)
	add("x-login-account", x, takedown.KindAccount, acWalled.URL, unknown, takedown.ReasonLoginWall)
	add("x-login-post", x, takedown.KindPost, posts[acWalled][0].URL, unknown, takedown.ReasonLoginWall)
	c = add("x-ratelimited-account", x, takedown.KindAccount, acLive.URL, unknown, takedown.ReasonRateLimited)
	c.setup, c.warmup = limited, 1
	add("x-challenge-account", x, takedown.KindAccount, acLive.URL, unknown, takedown.ReasonChallenge).setup = fault(simnet.X, simnet.FaultChallenge503)

	// The video site.
	ytLive := pick(simnet.YouTube, simnet.KindChannel, 3, false)
	ytGone := pick(simnet.YouTube, simnet.KindChannel, 1, false)
	ytHeld := pick(simnet.YouTube, simnet.KindChannel, 0, false)
	vid, vidGone, vidHeld := posts[ytLive][0], posts[ytLive][1], posts[ytLive][2]
	set(ytGone.URL, simnet.StatusRemoved)
	set(ytHeld.URL, simnet.StatusWithheld)
	set(vidGone.URL, simnet.StatusRemoved)
	set(vidHeld.URL, simnet.StatusWithheld)
	add("youtube-present-channel", yt, takedown.KindChannel, ytLive.URL, online, takedown.ReasonPresent)
	add("youtube-present-video", yt, takedown.KindPost, vid.URL, online, takedown.ReasonPresent)
	add("youtube-present-short-link", yt, takedown.KindPost, "https://youtu.be/"+vid.Code, online, takedown.ReasonPresent)
	add("youtube-gone-channel", yt, takedown.KindChannel, ytGone.URL, offline, takedown.ReasonSuspended)
	add("youtube-gone-video-of-channel", yt, takedown.KindPost, posts[ytGone][0].URL, offline, takedown.ReasonSuspended)
	add("youtube-gone-video", yt, takedown.KindPost, vidGone.URL, offline, takedown.ReasonRemoved)
	add("youtube-withheld-channel", yt, takedown.KindChannel, ytHeld.URL, offline, takedown.ReasonWithheld)
	add("youtube-withheld-video", yt, takedown.KindPost, vidHeld.URL, offline, takedown.ReasonWithheld)
	add("youtube-missing-channel", yt, takedown.KindChannel, missing("https://www.youtube.com/@no_such_channel_rec"), offline, takedown.ReasonNotFound)
	add("youtube-missing-video", yt, takedown.KindPost, missing("https://www.youtube.com/watch?v=AAAAAAAAAAA"), offline, takedown.ReasonNotFound)
	add("youtube-login-video", yt, takedown.KindPost, vid.URL, unknown, takedown.ReasonLoginWall).setup = fault(simnet.YouTube, simnet.FaultLogin)
	c = add("youtube-ratelimited-video", yt, takedown.KindPost, vid.URL, unknown, takedown.ReasonRateLimited)
	c.setup, c.warmup = limited, 1
	add("youtube-challenge-video", yt, takedown.KindPost, vid.URL, unknown, takedown.ReasonChallenge).setup = fault(simnet.YouTube, simnet.FaultChallenge)

	// The file host: files, on the web platform.
	file := first(simnet.FileHost, simnet.KindFile, nil)
	fileGone := first(simnet.FileHost, simnet.KindFile, nil)
	fileHeld := first(simnet.FileHost, simnet.KindFile, nil)
	set(fileGone.URL, simnet.StatusRemoved)
	set(fileHeld.URL, simnet.StatusWithheld)
	add("filehost-present-file", web, takedown.KindFile, file.URL, online, takedown.ReasonPresent)
	add("filehost-gone-file", web, takedown.KindFile, fileGone.URL, offline, takedown.ReasonRemoved)
	add("filehost-withheld-file", web, takedown.KindFile, fileHeld.URL, offline, takedown.ReasonWithheld)
	add("filehost-missing-file", web, takedown.KindFile, missing("https://"+file.Host+"/f/NoSuchFile/missing.pdf"), offline, takedown.ReasonNotFound)
	add("filehost-login-file", web, takedown.KindFile, file.URL, unknown, takedown.ReasonLoginWall).setup = fault(simnet.FileHost, simnet.FaultLogin)
	c = add("filehost-ratelimited-file", web, takedown.KindFile, file.URL, unknown, takedown.ReasonRateLimited)
	c.setup, c.warmup = limited, 1
	add("filehost-challenge-file", web, takedown.KindFile, file.URL, unknown, takedown.ReasonChallenge).setup = fault(simnet.FileHost, simnet.FaultChallenge503)
	add("filehost-down-file", web, takedown.KindFile, file.URL, unknown, takedown.ReasonNetwork).setup = fault(simnet.FileHost, simnet.FaultDown)
	add("filehost-error-file", web, takedown.KindFile, file.URL, unknown, takedown.ReasonNetwork).setup = fault(simnet.FileHost, simnet.FaultError)

	// The web host: sites and their pages, on the web platform.
	hasPages := func(e *simnet.Entity) bool { return e.Parent == nil && siteHasPages(w, e, 2) }
	site := first(simnet.WebHost, simnet.KindWebsite, hasPages)
	siteGone := first(simnet.WebHost, simnet.KindWebsite, hasPages)
	pages, gonePages := sitePages(w, site), sitePages(w, siteGone)
	pageGone, pageHeld := pages[0], pages[1]
	set(siteGone.URL, simnet.StatusRemoved)
	set(pageGone.URL, simnet.StatusRemoved)
	set(pageHeld.URL, simnet.StatusWithheld)
	add("webhost-present-site", web, takedown.KindWebsite, site.URL, online, takedown.ReasonPresent)
	add("webhost-present-page", web, takedown.KindWebsite, pages[2%len(pages)].URL, online, takedown.ReasonPresent)
	add("webhost-gone-page", web, takedown.KindWebsite, pageGone.URL, offline, takedown.ReasonNotFound)
	add("webhost-gone-site", web, takedown.KindWebsite, siteGone.URL, offline, takedown.ReasonSuspended)
	add("webhost-gone-page-of-site", web, takedown.KindWebsite, gonePages[0].URL, offline, takedown.ReasonSuspended)
	add("webhost-withheld-page", web, takedown.KindWebsite, pageHeld.URL, offline, takedown.ReasonWithheld)
	add("webhost-missing-page", web, takedown.KindWebsite, missing("https://"+site.Host+"/no/such/page.html"), offline, takedown.ReasonNotFound)
	add("webhost-missing-host", web, takedown.KindWebsite, missing("https://no-such-host-recorded.example/"), unknown, takedown.ReasonNetwork)
	add("webhost-login-site", web, takedown.KindWebsite, site.URL, unknown, takedown.ReasonLoginWall).setup = fault(simnet.WebHost, simnet.FaultLogin)
	c = add("webhost-ratelimited-site", web, takedown.KindWebsite, site.URL, unknown, takedown.ReasonRateLimited)
	c.setup, c.warmup = limited, 1
	add("webhost-challenge-site", web, takedown.KindWebsite, site.URL, unknown, takedown.ReasonChallenge).setup = fault(simnet.WebHost, simnet.FaultChallenge)
	add("webhost-down-site", web, takedown.KindWebsite, site.URL, unknown, takedown.ReasonNetwork).setup = fault(simnet.WebHost, simnet.FaultReset)
	c = add("webhost-slow-site", web, takedown.KindWebsite, site.URL, unknown, takedown.ReasonNetwork)
	c.setup, c.timeout = fault(simnet.WebHost, simnet.FaultSlow), 300*time.Millisecond
	return cs
}

// sitePages returns the pages of a site root, in ID order.
func sitePages(w *simnet.World, site *simnet.Entity) []*simnet.Entity {
	var out []*simnet.Entity
	for _, e := range w.Entities {
		if e.Parent == site {
			out = append(out, e)
		}
	}
	return out
}

func siteHasPages(w *simnet.World, site *simnet.Entity, n int) bool {
	return site.Platform == simnet.WebHost && len(sitePages(w, site)) > n
}

// checkPage classifies a page with the default rules and reports a
// verdict other than the one wanted.
func checkPage(t *testing.T, rs *Rules, p pageRecord) {
	t.Helper()
	v := rs.Classify(p.platform, p.kind, p.resp)
	t.Logf("%-32s %3d %-8s %-13s %s", p.name, p.resp.Status, v.Verdict, v.Reason, v.Rule)
	if v.Verdict != p.verdict || v.Reason != p.reason {
		t.Errorf("%s (%s %s, %s: status %d, error %v): %s %s by rule %s, want %s %s",
			p.name, p.platform, p.kind, p.resp.URL, p.resp.Status, p.resp.Err, v.Verdict, v.Reason, v.Rule, p.verdict, p.reason)
	}
}

// checkCoverage reports a simulated platform without a page in one of
// pageStates.
func checkCoverage(t *testing.T, recs []pageRecord) {
	t.Helper()
	have := map[string]bool{}
	for _, p := range recs {
		parts := strings.SplitN(p.name, "-", 3)
		if len(parts) == 3 {
			have[parts[0]+"-"+parts[1]] = true
		}
	}
	for _, platform := range simnet.PlatformKeys {
		for _, st := range pageStates {
			if !have[platform+"-"+st] {
				t.Errorf("no page of %s in state %s", platform, st)
			}
		}
	}
}

func TestLivePages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a simulator")
	}
	t.Parallel()
	recs := capturePages(t)
	rs := DefaultRules()
	for _, p := range recs {
		checkPage(t, rs, p)
	}
	checkCoverage(t, recs)
	if *updatePages {
		if t.Failed() {
			t.Fatal("not recording pages the rules get wrong")
		}
		writePages(t, recs)
	}
}

func TestRecordedPages(t *testing.T) {
	t.Parallel()
	recs := readPages(t)
	if len(recs) < 50 {
		t.Fatalf("%d recorded pages in %s, want every platform in every state (go test -run TestLivePages -update)", len(recs), pagesDir)
	}
	rs := DefaultRules()
	for _, p := range recs {
		checkPage(t, rs, p)
	}
	checkCoverage(t, recs)
}

// --- the recorded format ---
//
// A recorded page is a text file: "key: value" lines (header lines
// repeat), an empty line, then the body as it came, to the end of the
// file. Bodies that are not text keep their first 512 bytes only, in
// base64 (body_encoding: base64).

const pageHeader = `# A page of the takedown simulator (synthetic content), as a prober saw it.
# Recorded by: go test ./internal/probe -run TestLivePages -update
`

func writePages(t *testing.T, recs []pageRecord) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(pagesDir, "*.txt"))
	for _, f := range old {
		os.Remove(f)
	}
	if err := os.MkdirAll(pagesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range recs {
		var b bytes.Buffer
		r := p.resp
		b.WriteString(pageHeader)
		line := func(k, v string) {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.NewReplacer("\r", " ", "\n", " ").Replace(v))
		}
		line("platform", string(p.platform))
		line("kind", string(p.kind))
		line("want", string(p.verdict)+" "+p.reason)
		line("url", r.URL)
		if r.Err != nil {
			line("error", ErrorKind(r))
			line("error_text", r.Err.Error())
		} else {
			line("status", strconv.Itoa(r.Status))
			line("final_url", r.FinalURL)
		}
		for _, rd := range r.Redirects {
			line("redirect", rd)
		}
		names := make([]string, 0, len(r.Header))
		for k := range r.Header {
			if k != "Date" {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		for _, k := range names {
			for _, v := range r.Header[k] {
				line("header", k+": "+v)
			}
		}
		body := r.Body
		truncated := r.Truncated
		binary := false
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "text/") {
			// A file's start, in base64: its bytes say nothing to the
			// rules, and a text file diffs better.
			binary = true
			if len(body) > 512 {
				body, truncated = body[:512], true
			}
		}
		if truncated {
			line("truncated", "true")
		}
		if binary {
			line("body_encoding", "base64")
			enc := base64.StdEncoding.EncodeToString(body)
			var wrapped strings.Builder
			for len(enc) > 76 {
				wrapped.WriteString(enc[:76] + "\n")
				enc = enc[76:]
			}
			wrapped.WriteString(enc + "\n")
			body = []byte(wrapped.String())
		}
		b.WriteString("\n")
		b.Write(body)
		if err := os.WriteFile(filepath.Join(pagesDir, p.name+".txt"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pageError is a recorded error: its text, and its kind for ErrorKind.
type pageError struct{ kind, text string }

func (e pageError) Error() string          { return e.text }
func (e pageError) ProbeErrorKind() string { return e.kind }

func readPages(t testing.TB) []pageRecord {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(pagesDir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []pageRecord
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := parsePage(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		p.name = strings.TrimSuffix(filepath.Base(f), ".txt")
		out = append(out, p)
	}
	return out
}

func parsePage(b []byte) (pageRecord, error) {
	head, body, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return pageRecord{}, errors.New("no empty line before the body")
	}
	p := pageRecord{resp: &Response{Header: http.Header{}, Body: body}}
	r := p.resp
	var errKind, errText string
	base64Body := false
	sc := bufio.NewScanner(bytes.NewReader(head))
	for sc.Scan() {
		ln := sc.Text()
		if strings.HasPrefix(ln, "#") || ln == "" {
			continue
		}
		k, v, ok := strings.Cut(ln, ": ")
		if !ok {
			return p, fmt.Errorf("line %q: want key: value", ln)
		}
		switch k {
		case "platform":
			p.platform = takedown.Platform(v)
		case "kind":
			p.kind = takedown.Kind(v)
		case "want":
			verdict, reason, _ := strings.Cut(v, " ")
			p.verdict, p.reason = takedown.Verdict(verdict), reason
		case "url":
			r.URL = v
		case "status":
			n, err := strconv.Atoi(v)
			if err != nil {
				return p, fmt.Errorf("status %q", v)
			}
			r.Status = n
		case "final_url":
			r.FinalURL = v
		case "redirect":
			r.Redirects = append(r.Redirects, v)
		case "header":
			name, value, _ := strings.Cut(v, ": ")
			r.Header.Add(name, value)
		case "truncated":
			r.Truncated = v == "true"
		case "error":
			errKind = v
		case "error_text":
			errText = v
		case "body_encoding":
			if v != "base64" {
				return p, fmt.Errorf("body_encoding %q: want base64", v)
			}
			base64Body = true
		default:
			return p, fmt.Errorf("unknown key %q", k)
		}
	}
	if errKind != "" {
		r.Err = pageError{kind: errKind, text: errText}
	}
	if base64Body {
		dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\n", ""))
		if err != nil {
			return p, fmt.Errorf("body: %v", err)
		}
		r.Body = dec
	}
	if p.platform == "" || p.kind == "" || p.verdict == "" || r.URL == "" {
		return p, errors.New("platform, kind, want or url missing")
	}
	return p, nil
}
