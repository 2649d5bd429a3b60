package simnet

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// What stands between a visitor and the content on the real platforms,
// so that a prober can be tested against it: login walls (a profile that
// wants a session), bot challenges (an interstitial instead of the page),
// rate limits (429 with Retry-After), and the failures of a content host
// (down, erring, slow, breaking off). Page faults are set per platform by
// SetPageFault or the control API; login walls for some microblog
// accounts and the rate limit come from the scenario (Scenario.Pages) and
// can be changed by SetRateLimit or the control API. All are off unless
// asked for.

// Page fault modes, besides FaultDown, FaultError, FaultSlow and
// FaultReset, which act on a content host as they do on an API host.
const (
	// FaultChallenge answers 403 with a bot-check interstitial ("Just a
	// moment...") and the header cf-mitigated: challenge, as a CDN's
	// managed challenge does.
	FaultChallenge = "challenge"
	// FaultChallenge503 answers 503 with an older style of interstitial
	// ("Checking your browser before accessing ..."), with no header to
	// tell it by: only its text says what it is.
	FaultChallenge503 = "challenge-503"
	// FaultLogin puts every page of the platform behind a login wall:
	// the microblog sends visitors to its login flow, the video site to
	// its consent page, the others answer 200 with a login form in place
	// of the page.
	FaultLogin = "login"
)

// PageFaultModes lists the modes a page fault can have.
var PageFaultModes = []string{FaultNone, FaultDown, FaultError, FaultSlow, FaultReset, FaultChallenge, FaultChallenge503, FaultLogin}

// consentHost is the video site's consent interstitial, where its model
// sends visitors from the EU who have not yet chosen their cookies.
const consentHost = "consent.youtube.com"

// xLoginPath is the microblog's login flow.
const xLoginPath = "/i/flow/login"

// SetPageFault makes platform's content hosts (its pages and media, not
// its API host) answer as f says, from now on; a Fault with no mode
// clears it. It panics on a mode not in PageFaultModes.
func (s *Server) SetPageFault(platform string, f Fault) {
	if !slices.Contains(PageFaultModes, f.Mode) {
		panic("simnet: page fault mode " + strconv.Quote(f.Mode))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := map[string]Fault{}
	if cur := s.pageFaults.Load(); cur != nil {
		for p, g := range *cur {
			next[p] = g
		}
	}
	if f.Mode == FaultNone {
		delete(next, platform)
	} else {
		next[platform] = f
		s.log.Info("page fault set", "platform", platform, "mode", f.Mode, "until", f.Until, "delay", f.Delay)
	}
	s.pageFaults.Store(&next)
}

// PageFaults returns the page faults in force, by platform.
func (s *Server) PageFaults() map[string]Fault {
	now := time.Now()
	out := map[string]Fault{}
	if cur := s.pageFaults.Load(); cur != nil {
		for p, f := range *cur {
			if f.Until.IsZero() || now.Before(f.Until) {
				out[p] = f
			}
		}
	}
	return out
}

// activePageFault returns the page fault in force for platform. It reads
// without a lock: every page request asks.
func (s *Server) activePageFault(platform string) Fault {
	cur := s.pageFaults.Load()
	if cur == nil {
		return Fault{}
	}
	f := (*cur)[platform]
	if !f.Until.IsZero() && !time.Now().Before(f.Until) {
		return Fault{}
	}
	return f
}

// gate answers in the content's place when a page fault or the rate
// limit says so, and reports whether it did; false means serve the
// request as usual.
func (s *Server) gate(w http.ResponseWriter, r *http.Request, host string, t target) bool {
	if f := s.activePageFault(t.platform); f.Mode != FaultNone && s.injectPageFault(w, r, host, t, f) {
		return true
	}
	return s.limits.check(w, r, t.platform, host)
}

// injectPageFault acts out f on a page request and reports whether that
// was the answer.
func (s *Server) injectPageFault(w http.ResponseWriter, r *http.Request, host string, t target, f Fault) bool {
	switch f.Mode {
	case FaultError:
		plainNotice(http.StatusInternalServerError, "500 Internal Server Error", "The server encountered an internal error and was unable to complete your request.").send(w)
		return true
	case FaultChallenge:
		challengePage(w, host, http.StatusForbidden)
		return true
	case FaultChallenge503:
		challengePage(w, host, http.StatusServiceUnavailable)
		return true
	case FaultLogin:
		switch t.platform {
		case X:
			if t.view == viewXLogin {
				return false
			}
			xLoginRedirect(w, r)
		case YouTube:
			redirect(w, http.StatusFound, "https://"+consentHost+"/m?continue="+url.QueryEscape("https://"+host+r.URL.RequestURI())+"&hl=en&src=1")
		default:
			loginPage(host).send(w)
		}
		return true
	}
	// down, reset, slow: as on the API hosts.
	return s.injectFault(w, r, f)
}

// challengePage is a bot check in place of the page: the 403 kind, as
// CDNs' managed challenges answer today, says what it is in a header too;
// the 503 kind, an older style, only in its text. The texts are written
// here after what such pages say.
func challengePage(w http.ResponseWriter, host string, status int) {
	p := newPage(status)
	p.header.Set("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate")
	p.header.Set("X-Frame-Options", "SAMEORIGIN")
	if status == http.StatusForbidden {
		p.header.Set("Cf-Mitigated", "challenge")
		p.write(`<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta name="robots" content="noindex,nofollow"></head><body><div class="main-wrapper" role="main"><div class="main-content"><h1 class="zone-name-title">`)
		p.text(host)
		p.write(`</h1><h2 id="challenge-running">Verifying you are human. This may take a few seconds.</h2><div id="challenge-body-text">`)
		p.text(host)
		p.write(` needs to review the security of your connection before proceeding.</div><noscript>Enable JavaScript and cookies to continue</noscript></div></div><script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=simnet"></script></body></html>`)
	} else {
		p.write(`<!DOCTYPE html><html><head><title>Please Wait... | Checking your browser</title></head><body><div id="cf-wrapper"><h1>Checking your browser before accessing `)
		p.text(host)
		p.write(`.</h1><p>This process is automatic. Your browser will redirect to your requested content shortly.</p><p>Please allow up to 5 seconds…</p><p>DDoS protection by the simulated edge network</p></div></body></html>`)
	}
	p.send(w)
}

// loginPage is a login form in place of the page, at the page's address
// and with status 200, as sites that wall content for visitors without a
// session answer.
func loginPage(host string) *page {
	p := newPage(http.StatusOK)
	p.head("Log in", "Log in to continue to "+host+".", "", "")
	p.write(`<main><h1>Log in to continue</h1><form method="post" action="/login"><input type="text" name="username" autocomplete="username"><input type="password" name="password" autocomplete="current-password"><button type="submit">Log in</button></form><p>You must log in to see this page.</p></main>`)
	p.end()
	return p
}

// xLoginRedirect sends a visitor to the microblog's login flow, with the
// page asked for to come back to, as X does for visitors without a
// session.
func xLoginRedirect(w http.ResponseWriter, r *http.Request) {
	redirect(w, http.StatusFound, "https://x.com"+xLoginPath+"?redirect_after_login="+url.QueryEscape(r.URL.Path))
}

// xLoginPage is the microblog's login flow.
func xLoginPage() *page {
	p := newPage(http.StatusOK)
	p.head("Log in to X / X", "", "", "")
	p.write(`<main role="main"><h1>Sign in to X</h1><form><input autocomplete="username" name="text" type="text"><input name="password" type="password" autocomplete="current-password"><button type="submit">Log in</button></form><span>Don’t have an account? Sign up</span></main>`)
	p.end()
	return p
}

// consentPage is the video site's consent interstitial.
func consentPage(w http.ResponseWriter, r *http.Request) {
	p := newPage(http.StatusOK)
	p.head("Before you continue to YouTube", "", "", "")
	p.write(`<main><h1>Before you continue to YouTube</h1><p>We use cookies and data to deliver and maintain our services.</p><form action="https://consent.youtube.com/save" method="POST"><input type="hidden" name="continue" value="`)
	p.text(r.URL.Query().Get("continue"))
	p.write(`"><button>Reject all</button><button>Accept all</button></form></main>`)
	p.end()
	p.send(w)
}

// LoginWall reports whether the scenario puts e (a microblog account, or
// a post of one) behind a login wall: Scenario.Pages.LoginWall of the
// accounts, drawn from the seed.
func (w *World) LoginWall(e *Entity) bool {
	share := w.Scenario.Pages.LoginWall
	if e == nil || share <= 0 || e.Platform != X {
		return false
	}
	if e.Kind == KindPost && e.Parent != nil {
		e = e.Parent
	}
	return e.Kind == KindAccount && uniform(w.Seed, "login-wall", uint64(e.ID)) < share
}

// --- the rate limit ---

// rateLimiter holds a token bucket per client and host.
type rateLimiter struct {
	cfg atomic.Pointer[RateLimit] // nil or no Requests: no limit
	// now is the real time; tests replace it.
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the buckets kept; past it they are all dropped
// (every client starts afresh), which is rare and simple.
const maxBuckets = 100_000

func (l *rateLimiter) set(c RateLimit) {
	c = c.withDefaults()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buckets = nil
	if c.Requests == 0 {
		l.cfg.Store(nil)
		return
	}
	l.cfg.Store(&c)
}

func (l *rateLimiter) get() RateLimit {
	if c := l.cfg.Load(); c != nil {
		return *c
	}
	return RateLimit{}
}

// take takes a token of key's bucket; when there is none it returns
// false and how long until there is one.
func (l *rateLimiter) take(key string) (bool, time.Duration) {
	c := l.cfg.Load()
	if c == nil {
		return true, 0
	}
	rate := float64(c.Requests) / c.Per.D().Seconds() // tokens a second
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil || len(l.buckets) >= maxBuckets {
		l.buckets = map[string]*bucket{}
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(c.Burst), last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(float64(c.Burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// clientHeader names the client a request stands for, in place of its
// source address: a prober that stands for several, or a test.
const clientHeader = "X-Simnet-Client"

// check answers 429 when r is over the limit, and reports whether it did.
func (l *rateLimiter) check(w http.ResponseWriter, r *http.Request, platform, host string) bool {
	if l.cfg.Load() == nil {
		return false
	}
	client := r.Header.Get(clientHeader)
	if client == "" {
		client, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	key := platform
	if platform == FileHost || platform == WebHost {
		key = strings.TrimPrefix(host, "www.")
	}
	ok, wait := l.take(client + "\x00" + key)
	if ok {
		return false
	}
	p := plainNotice(http.StatusTooManyRequests, "429 Too Many Requests", "You have sent too many requests in a given amount of time. Try again later.")
	p.header.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	p.send(w)
	return true
}

// SetRateLimit sets the limit of every client's requests to every
// content host, from now on, with every bucket full; zero Requests lifts
// it. A zero Per means a minute and a zero Burst the Requests.
func (s *Server) SetRateLimit(l RateLimit) error {
	if err := l.withDefaults().validate(); err != nil {
		return fmt.Errorf("simnet: rate limit: %w", err)
	}
	s.limits.set(l)
	s.log.Info("rate limit set", "requests", l.Requests, "per", l.Per, "burst", l.Burst)
	return nil
}

// RateLimit returns the limit in force; zero Requests: none.
func (s *Server) RateLimit() RateLimit { return s.limits.get() }

// --- forced states ---

// SetStatus makes the entity at rawURL show as st from now on, as if its
// provider had acted: StatusRemoved removes it (a removed channel or
// account takes its posts along), StatusWithheld withholds it in regions
// (the scenario's region when none are given), StatusLive undoes both.
// It is for tests and demonstrations: the adversary does not react, and
// no report or answer records it. Returns an error for a URL that names
// no entity, or a status it cannot set.
func (s *Server) SetStatus(rawURL string, st Status, regions ...string) error {
	e := s.world.Resolve(rawURL)
	if e == nil {
		return fmt.Errorf("simnet: %s names nothing on the simulated internet", rawURL)
	}
	if len(regions) == 0 {
		regions = []string{s.world.Scenario.Region}
	}
	return s.world.force(e, st, s.clock.Now(), regions)
}

func (w *World) force(e *Entity, st Status, at time.Time, regions []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	es := w.state[e.ID]
	if es == nil {
		es = &entityState{}
		w.state[e.ID] = es
	}
	switch st {
	case StatusRemoved:
		es.removedAt, es.reinstatedAt = at, time.Time{}
	case StatusWithheld:
		es.blockedAt, es.blockedIn = at, append([]string(nil), regions...)
	case StatusLive:
		if !es.removedAt.IsZero() && !es.removedAt.After(at) {
			es.reinstatedAt = at
		}
		es.blockedAt, es.blockedIn = time.Time{}, nil
	default:
		return errors.New("simnet: an entity can be set removed, withheld or live, not " + st.String())
	}
	return nil
}

// ParseStatus reads a status by its name (Status.String).
func ParseStatus(s string) (Status, error) {
	for st := StatusLive; st <= StatusWithheld; st++ {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("status %q: want live, missing, removed or withheld", s)
}
