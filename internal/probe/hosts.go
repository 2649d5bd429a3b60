package probe

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"
	"golang.org/x/time/rate"
)

// hostState is the politeness state of one host: how many requests are in
// flight, its rate limiter, and until when it asked to be left alone
// (Retry-After).
type hostState struct {
	key string
	// limit is how many requests the host gets at once.
	limit int

	// refs counts who holds a pointer to this host (waiters, holders of
	// a slot, the pool peeking at it); guarded by hostTable.mu. A host
	// with refs is never evicted.
	refs int

	mu        sync.Mutex
	inflight  int
	lim       *rate.Limiter
	notBefore time.Time
	// freed is closed when a slot is released, to wake the waiters.
	freed chan struct{}
}

// hostTable holds the state of the hosts probed recently. A host's state
// is dropped once nothing refers to it and forgetting it loses nothing
// (its limiter is full again, its Retry-After is past), so memory follows
// the hosts active in the last second or so, not every host ever probed.
type hostTable struct {
	limit int
	rate  rate.Limit
	burst int
	// overrides are the limits of hosts that differ from the default.
	overrides map[string]hostOverride

	mu      sync.Mutex
	m       map[string]*hostState
	sweepAt int
}

// HostLimit is a host's own politeness: requests a second and at once.
type HostLimit struct {
	Rate        float64
	Concurrency int
}

type hostOverride struct {
	rate  rate.Limit
	limit int
}

const minSweep = 1024

func newHostTable(limit int, r rate.Limit, burst int) *hostTable {
	return &hostTable{limit: limit, rate: r, burst: burst, overrides: map[string]hostOverride{}, m: map[string]*hostState{}, sweepAt: minSweep}
}

// ref returns the state of a host, made if need be; unref must follow.
func (t *hostTable) ref(key string) *hostState {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.m[key]
	if h == nil {
		if len(t.m) >= t.sweepAt {
			t.sweep(time.Now())
		}
		r, limit := t.rate, t.limit
		if o, ok := t.overrides[key]; ok {
			r, limit = o.rate, o.limit
		}
		h = &hostState{key: key, limit: limit, lim: rate.NewLimiter(r, t.burst)}
		t.m[key] = h
	}
	h.refs++
	return h
}

func (t *hostTable) unref(h *hostState) {
	t.mu.Lock()
	h.refs--
	t.mu.Unlock()
}

// sweep drops the hosts that can be forgotten; amortised over the
// insertions, since the next sweep waits until the table has doubled.
func (t *hostTable) sweep(now time.Time) {
	for k, h := range t.m {
		if h.refs == 0 && h.forgettable(now) {
			delete(t.m, k)
		}
	}
	t.sweepAt = max(2*len(t.m), minSweep)
}

func (t *hostTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

func (h *hostState) forgettable(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inflight == 0 && !now.Before(h.notBefore) &&
		(h.lim.Limit() == rate.Inf || h.lim.TokensAt(now) >= float64(h.lim.Burst()))
}

// tryAcquire takes a slot and a token if both are there now. Otherwise
// it says when to try again: zero when waiting for a slot, the time of
// the next token or the end of a Retry-After otherwise.
func (h *hostState) tryAcquire(now time.Time) (bool, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.inflight >= h.limit {
		return false, time.Time{}
	}
	if now.Before(h.notBefore) {
		return false, h.notBefore
	}
	if !h.lim.AllowN(now, 1) {
		need := 1 - h.lim.TokensAt(now)
		return false, now.Add(time.Duration(need / float64(h.lim.Limit()) * float64(time.Second)))
	}
	h.inflight++
	return true, time.Time{}
}

// acquire waits for a slot, then for a token and the end of any
// Retry-After.
func (h *hostState) acquire(ctx context.Context) error {
	for {
		h.mu.Lock()
		if h.inflight < h.limit {
			h.inflight++
			h.mu.Unlock()
			if err := h.next(ctx); err != nil {
				h.release()
				return err
			}
			return nil
		}
		if h.freed == nil {
			h.freed = make(chan struct{})
		}
		freed := h.freed
		h.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// next waits, holding a slot, for the next token and the end of any
// Retry-After: every request, retries and redirects included, takes one.
func (h *hostState) next(ctx context.Context) error {
	h.mu.Lock()
	now := time.Now()
	r := h.lim.ReserveN(now, 1)
	wait := max(r.DelayFrom(now), h.notBefore.Sub(now))
	h.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	tm := time.NewTimer(wait)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

func (h *hostState) release() {
	h.mu.Lock()
	h.inflight--
	if h.freed != nil {
		close(h.freed)
		h.freed = nil
	}
	h.mu.Unlock()
}

// pause keeps every request to the host waiting until t (Retry-After).
func (h *hostState) pause(t time.Time) {
	h.mu.Lock()
	if t.After(h.notBefore) {
		h.notBefore = t
	}
	h.mu.Unlock()
}

// hostKey is the name politeness is counted by: the URL's host name,
// lower case, in its ASCII form, without a port or a final dot. Items of
// one platform share it (every channel of t.me), as they share servers.
func hostKey(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", false
	}
	return keyOf(u), true
}

func keyOf(u *url.URL) string {
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if a, err := idna.Lookup.ToASCII(h); err == nil {
		h = a
	}
	return h
}
