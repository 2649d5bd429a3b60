package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/takedown-project/takedown/internal/outbound"
)

// ErrTooManyRedirects ends a probe whose redirects go on past the limit.
var ErrTooManyRedirects = errors.New("too many redirects")

func (p *Prober) newTransport() *http.Transport {
	return &http.Transport{
		// No proxy, even from the environment: the guard must see the
		// address a probe connects to, which a proxy would hide.
		DialContext:       p.dial,
		TLSClientConfig:   p.out.TLSConfig(),
		ForceAttemptHTTP2: true,
		// Keep-alive pays for the hosts probed again soon; idle
		// connections are bounded in all (and per host by what a host may
		// use at once) so that many hosts keep memory flat. 1,000 hosts
		// probed in turn reuse their connections; past the bound they
		// reconnect.
		MaxIdleConns:           max(1024, 4*p.cfg.GlobalConcurrency),
		MaxIdleConnsPerHost:    p.cfg.PerHostConcurrency,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    p.cfg.HeaderTimeout,
		ResponseHeaderTimeout:  p.cfg.HeaderTimeout,
		MaxResponseHeaderBytes: 256 << 10,
	}
}

// dial connects to addr as the Transport asks: it routes through the
// override (simulator mode) if any, resolves the name itself, checks
// every address it resolves to, and connects to those exact addresses, so
// that a second lookup (DNS rebinding) has nothing to say. The dialer's
// Control checks the socket's address once more. In simulator mode the
// address checked is the simulator's, which the operator allows.
func (p *Prober) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	to := p.out.Route(addr)
	if p.out.Simulated && to == addr {
		return nil, fmt.Errorf("dial %s: %w", addr, outbound.ErrNoRoute)
	}
	name, portText, err := net.SplitHostPort(to)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", to, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, &GuardError{Target: to, Why: "bad port"}
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(name); err == nil {
		addrs = []netip.Addr{a}
	} else if looksNumeric(name) {
		return nil, &GuardError{Target: name, Why: "IPv4 address in a non-canonical form"}
	} else {
		if addrs, err = p.resolve(ctx, name); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", name, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s: no address", name)
		}
	}
	// One forbidden address refuses the name: a name that points both
	// out and in is not one to probe.
	for _, a := range addrs {
		if err := p.guard.check(a); err != nil {
			if a.String() != name {
				err.(*GuardError).Target = name + " (" + a.String() + ")"
			}
			return nil, err
		}
	}
	var first error
	for _, a := range addrs {
		c, err := p.dialIP(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// dialChecked connects to an address the guard passed, and has the guard
// look at the socket's address once more before it connects.
func (p *Prober) dialChecked(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
	d := net.Dialer{Timeout: p.cfg.ConnectTimeout, KeepAlive: 30 * time.Second, Control: p.guard.control}
	return d.DialContext(ctx, network, ap.String())
}

// fetch is one probe in progress: the host slot it holds (at most one at
// a time, so that probes redirected between hosts cannot deadlock), and
// its deadline, which starts with its first request.
type fetch struct {
	p    *Prober
	held *hostState
	// fresh: the slot held came with a token (taken by ProbeAll's
	// dispatcher) that the first request uses.
	fresh  bool
	start  time.Time
	ctx    context.Context
	cancel context.CancelFunc
	// record, when set, is given every exchange of the fetch, redirects
	// included, with what the wire carried (a capture's WARC records);
	// maxBytes then replaces the prober's cap on a body.
	record   func(Exchange)
	maxBytes int64
	// remote and sent are the connection's peer and the time of the
	// request in flight, when recording.
	remote string
	sent   time.Time
}

// Exchange is one request and its answer as a capture keeps them.
type Exchange struct {
	Request *http.Request
	// Response's Body is consumed: Body holds what was read of it, at
	// most the cap; Truncated says it went on, ReadErr why reading ended
	// early.
	Response  *http.Response
	Body      []byte
	Truncated bool
	ReadErr   error
	// RemoteAddr is the address the connection went to ("ip:port").
	RemoteAddr string
	// At is when the request was sent.
	At time.Time
}

func (f *fetch) exchange(resp *http.Response, body []byte, truncated bool, readErr error) {
	if f.record == nil {
		return
	}
	f.record(Exchange{Request: resp.Request, Response: resp, Body: body, Truncated: truncated, ReadErr: readErr, RemoteAddr: f.remote, At: f.sent})
}

func (f *fetch) releaseHost() {
	if f.held != nil {
		f.held.release()
		f.p.hosts.unref(f.held)
		f.held = nil
	}
	if f.cancel != nil {
		f.cancel()
	}
}

// turn waits for the right to send one request to key's host: a slot
// (kept across retries and redirects within the host) and a token.
func (f *fetch) turn(ctx context.Context, key string) error {
	if f.held != nil && f.held.key == key {
		if f.fresh {
			f.fresh = false
			return nil
		}
		return f.held.next(ctx)
	}
	if f.held != nil {
		f.held.release()
		f.p.hosts.unref(f.held)
		f.held = nil
	}
	f.fresh = false
	h := f.p.hosts.ref(key)
	if err := h.acquire(ctx); err != nil {
		f.p.hosts.unref(h)
		return err
	}
	f.held = h
	return nil
}

// run fetches raw, following redirects and trying again after transient
// failures, and says what it saw.
func (f *fetch) run(parent context.Context, raw string) *Response {
	p := f.p
	r := &Response{URL: raw}
	if f.held != nil {
		f.fresh = true
	}
	u, err := url.Parse(raw)
	if err != nil {
		r.Err, r.Guarded = &GuardError{Target: raw, Why: "not a URL"}, true
		return r
	}
	if err := p.guard.checkURL(u); err != nil {
		r.Err, r.Guarded = err, true
		return r
	}
	for hops := 0; ; hops++ {
		r.FinalURL = u.String()
		resp, release, err := f.tries(parent, u)
		if err != nil {
			r.Err, r.Guarded = err, errors.Is(err, ErrGuard)
			return r
		}
		r.Status, r.Header = resp.StatusCode, resp.Header
		loc := resp.Header.Get("Location")
		if isRedirect(resp.StatusCode) && loc != "" {
			// A little of the body is read so that the connection can
			// be used again.
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			release()
			f.exchange(resp, body, len(body) == 4<<10, nil)
			next, err := u.Parse(loc)
			if err != nil {
				r.Err = fmt.Errorf("redirect to %q: %w", loc, err)
				return r
			}
			next.Fragment, next.RawFragment = "", ""
			r.Redirects = append(r.Redirects, next.String())
			if hops+1 > p.cfg.MaxRedirects {
				r.Err = fmt.Errorf("%w (more than %d)", ErrTooManyRedirects, p.cfg.MaxRedirects)
				return r
			}
			if err := p.guard.checkURL(next); err != nil {
				r.Err, r.Guarded = fmt.Errorf("redirect: %w", err), true
				return r
			}
			u = next
			continue
		}
		limit := p.cfg.MaxBytes
		if f.maxBytes > 0 {
			limit = f.maxBytes
		}
		r.Body, r.Truncated, err = readCapped(resp, limit)
		resp.Body.Close()
		release()
		if err != nil {
			// What was read stands as evidence; Err says it was cut short.
			r.Truncated = true
			r.Err = fmt.Errorf("reading the answer: %w", err)
		}
		f.exchange(resp, r.Body, r.Truncated, err)
		return r
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// tries sends one GET to u, again after a transient failure, and returns
// the answer with its headers read; release must be called once the
// body is done with.
func (f *fetch) tries(parent context.Context, u *url.URL) (*http.Response, func(), error) {
	p := f.p
	key := keyOf(u)
	for attempt := 0; ; attempt++ {
		ctx := parent
		if f.ctx != nil {
			ctx = f.ctx
		}
		if err := f.turn(ctx, key); err != nil {
			return nil, nil, fmt.Errorf("waiting for a turn at %s: %w", key, err)
		}
		if f.ctx == nil {
			f.start = time.Now()
			f.ctx, f.cancel = context.WithTimeout(parent, p.cfg.Timeout)
		}
		ctx = f.ctx
		select {
		case p.global <- struct{}{}:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("waiting for a turn: %w", ctx.Err())
		}
		release := func() { <-p.global }
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			release()
			return nil, nil, err
		}
		req.Header.Set("User-Agent", p.ua)
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		req.Header.Set("Accept-Language", "en;q=0.9,*;q=0.5")
		if f.record != nil {
			// The capture keeps the bytes as they came: no compression
			// that the transport would undo on the way.
			req.Header.Set("Accept-Encoding", "identity")
			req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
				GotConn: func(info httptrace.GotConnInfo) { f.remote = info.Conn.RemoteAddr().String() },
			}))
			f.sent = time.Now()
		}
		resp, err := p.transport.RoundTrip(req)
		wait, again := p.retryable(ctx, resp, err, attempt, f.held)
		if again {
			if resp != nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
				resp.Body.Close()
			}
			release()
			if err := p.sleep(ctx, wait); err != nil {
				return nil, nil, fmt.Errorf("waiting to try again: %w", err)
			}
			continue
		}
		if err != nil {
			release()
			return nil, nil, err
		}
		return resp, release, nil
	}
}

// retryable says whether a try is made again and after how long: for
// transient failures only, while tries are left and the wait fits in the
// probe's time. A 429 or 503 with a Retry-After within bounds is waited
// out, and the whole host waits with it.
func (p *Prober) retryable(ctx context.Context, resp *http.Response, err error, attempt int, h *hostState) (time.Duration, bool) {
	throttled := resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable)
	ra, hasRA := time.Duration(0), false
	if throttled {
		if ra, hasRA = retryAfter(resp.Header.Get("Retry-After"), time.Now()); hasRA && h != nil {
			// Every probe of the host waits, whether this one tries
			// again or not.
			h.pause(time.Now().Add(min(ra, p.cfg.MaxRetryAfter)))
		}
	}
	if attempt >= p.cfg.Retries || ctx.Err() != nil {
		return 0, false
	}
	wait := p.backoff(attempt)
	switch {
	case err != nil:
		if !transient(err) {
			return 0, false
		}
	case throttled && hasRA:
		if ra > p.cfg.MaxRetryAfter {
			return 0, false // the answer stands: the host throttles
		}
		// The host's pause does the waiting, in the next turn.
		wait = ra
	case throttled, resp.StatusCode == http.StatusBadGateway, resp.StatusCode == http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
		return 0, false
	}
	if throttled && hasRA {
		wait = 0
	}
	return wait, true
}

// backoff is the wait before try attempt+2: Backoff doubled each time,
// with "equal jitter" (half fixed, half random) so that the probes that
// failed together do not come back together.
func (p *Prober) backoff(attempt int) time.Duration {
	d := p.cfg.Backoff << min(attempt, 16)
	return d/2 + rand.N(d/2+1)
}

// transient says a failure may not happen again: the connection refused
// or reset, closed before the answer, a timeout, a DNS failure that is
// not a "no such host". A refusal of the guard or a certificate error
// never is.
func transient(err error) bool {
	if errors.Is(err, ErrGuard) || errors.Is(err, outbound.ErrNoRoute) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound && (dnsErr.IsTimeout || dnsErr.IsTemporary)
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 1<<30)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// readCapped reads at most limit bytes of the body and says whether it
// went on; it reads one byte past the limit to know.
func readCapped(resp *http.Response, limit int64) ([]byte, bool, error) {
	size := min(int64(32<<10), limit)
	if resp.ContentLength >= 0 {
		size = min(resp.ContentLength, limit)
	}
	buf := make([]byte, 0, size+1)
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(cap(buf)), limit+1-int64(len(buf)))))
		}
		n, err := resp.Body.Read(buf[len(buf):min(int64(cap(buf)), limit+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return buf[:min(int64(len(buf)), limit)], false, err
		}
	}
	return buf[:limit], true, nil
}
