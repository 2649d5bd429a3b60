package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/takedown-project/takedown"
)

// Config is what an Authenticator needs; zero fields take the defaults
// given.
type Config struct {
	Users takedown.UserService
	// SessionIdle ends a session unused this long (default 30 minutes).
	SessionIdle time.Duration
	// SessionMax ends a session this long after login, used or not
	// (default 12 hours: a working day, so a stolen cookie is not good
	// for long).
	SessionMax time.Duration
	// SecureCookies marks cookies Secure and gives them the __Host-
	// prefix (which needs Secure, Path=/ and no Domain, so no other host
	// can plant or read them). Set it whenever takedown is served over
	// HTTPS, which is always outside a laptop.
	SecureCookies bool
	// Failed logins allowed within FailureWindow, per account (default
	// 5) and per client address (default 20, as an office behind one
	// NAT address shares it), before logins are refused for the window.
	MaxFailuresPerAccount int
	MaxFailuresPerAddress int
	FailureWindow         time.Duration // default 15 minutes
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed. Without them the client's address is the TCP peer's.
	TrustedProxies []netip.Prefix
	Now            func() time.Time // default time.Now
	Logger         *slog.Logger     // default: discard
}

// Authenticator authenticates requests by token or session cookie and
// logs users in. Create it with New; it is safe for concurrent use.
type Authenticator struct {
	users         takedown.UserService
	idle, max     time.Duration
	secure        bool
	maxPerAccount int
	maxPerAddress int
	window        time.Duration
	proxies       []netip.Prefix
	now           func() time.Time
	log           *slog.Logger
	sessionCookie string
	// hashSlots bounds the argon2id computations running at once: each
	// takes 64 MiB and a core, and a flood of logins must not take the
	// server's memory.
	hashSlots chan struct{}
	// attempts serializes logins per account and per address, so that
	// concurrent guesses cannot all pass the failure count before any
	// of them is recorded.
	attempts keyedLocks
}

// New returns an Authenticator for cfg.
func New(cfg Config) *Authenticator {
	a := &Authenticator{
		users: cfg.Users, idle: cfg.SessionIdle, max: cfg.SessionMax, secure: cfg.SecureCookies,
		maxPerAccount: cfg.MaxFailuresPerAccount, maxPerAddress: cfg.MaxFailuresPerAddress, window: cfg.FailureWindow,
		proxies: cfg.TrustedProxies, now: cfg.Now, log: cfg.Logger,
		sessionCookie: "takedown_session",
		hashSlots:     make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	defaults := []struct {
		v *time.Duration
		d time.Duration
	}{{&a.idle, 30 * time.Minute}, {&a.max, 12 * time.Hour}, {&a.window, 15 * time.Minute}}
	for _, d := range defaults {
		if *d.v <= 0 {
			*d.v = d.d
		}
	}
	if a.maxPerAccount <= 0 {
		a.maxPerAccount = 5
	}
	if a.maxPerAddress <= 0 {
		a.maxPerAddress = 20
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.secure {
		a.sessionCookie = "__Host-" + a.sessionCookie
	}
	return a
}

// How a session began: its Session.Via, and the Via of the actor that
// the login's audit events name ("user:alice via password").
const (
	ViaPassword = "password" // Session.Via of a login with a password
	ViaOIDC     = "oidc"     // Session.Via of a login through OpenID Connect
)

type authKey struct{}

// withAuthenticated returns ctx carrying the actor a credential proved,
// both as takedown's actor and under this package's own key: a context
// without credentials yields takedown.System from ActorFrom, and the mark
// keeps anyone from taking that for an authenticated caller.
func withAuthenticated(ctx context.Context, a *takedown.Actor) context.Context {
	return context.WithValue(takedown.WithActor(ctx, a), authKey{}, a)
}

// Authenticated returns the user actor that Middleware set from a valid
// token or session, and false when the request came without credentials
// (or the actor has since been replaced). Handlers that need a user must
// ask this, not takedown.ActorFrom, which answers System for nobody.
func Authenticated(ctx context.Context) (*takedown.Actor, bool) {
	a, ok := ctx.Value(authKey{}).(*takedown.Actor)
	if !ok || a == nil || a.User == nil || takedown.ActorFrom(ctx) != a {
		return nil, false
	}
	return a, true
}

// Middleware authenticates a request by its bearer token or else its
// session cookie and passes it on with the actor in its context (see
// Authenticated). A request without credentials passes on without one:
// the handlers decide what it may see. A bad bearer token is answered at
// once with 401: an API client must learn that its token is wrong, not
// be served as nobody. A bad or ended session cookie is cleared and the
// request passes on unauthenticated, so the UI can send the browser to
// the login page.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hs := r.Header.Values("Authorization"); len(hs) > 0 {
			actor, ok := a.authenticateToken(w, r, hs)
			if ok {
				next.ServeHTTP(w, r.WithContext(withAuthenticated(r.Context(), actor)))
			}
			return
		}
		c, err := r.Cookie(a.sessionCookie)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		actor, err := a.authenticateSession(r, c.Value)
		switch {
		case err == nil:
			next.ServeHTTP(w, r.WithContext(withAuthenticated(r.Context(), actor)))
		case takedown.ErrorCode(err) == takedown.EUNAUTHORIZED:
			a.log.Debug("session refused", "address", actor.Address, "reason", takedown.ErrorMessage(err))
			a.clearCookie(w, a.sessionCookie)
			next.ServeHTTP(w, r)
		default:
			// The store failed: keep the cookie, the session may be fine.
			a.storeFailed(w, r, err)
		}
	})
}

// authenticateToken checks the Authorization header; when it fails it
// has answered the request.
func (a *Authenticator) authenticateToken(w http.ResponseWriter, r *http.Request, hs []string) (*takedown.Actor, bool) {
	addr := a.clientAddress(r)
	if len(hs) > 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="takedown", error="invalid_request"`)
		writeProblem(w, r, http.StatusBadRequest, takedown.EINVALID, "send one Authorization header, not several")
		return nil, false
	}
	if scheme, _, _ := strings.Cut(hs[0], " "); !strings.EqualFold(scheme, "Bearer") {
		// RFC 6750, 3.1: no bearer credentials at all, so no error code.
		w.Header().Set("WWW-Authenticate", `Bearer realm="takedown"`)
		writeProblem(w, r, http.StatusUnauthorized, takedown.EUNAUTHORIZED, "takedown accepts Bearer tokens only")
		return nil, false
	}
	secret, ok := ParseBearer(hs[0])
	var tok *takedown.Token
	var u *takedown.User
	var err error
	if !ok || !wellFormedToken(secret) {
		err = takedown.Errorf(takedown.EUNAUTHORIZED, "malformed token")
	} else {
		tok, u, err = a.users.TokenBySecret(r.Context(), HashSecret(secret), a.now())
	}
	if err != nil {
		if takedown.ErrorCode(err) != takedown.EUNAUTHORIZED {
			a.storeFailed(w, r, err)
			return nil, false
		}
		// The store's reason goes to the log only; the client learns
		// nothing about which tokens exist or whose they are.
		a.log.Info("bearer token refused", "address", addr, "reason", takedown.ErrorMessage(err))
		w.Header().Set("WWW-Authenticate", `Bearer realm="takedown", error="invalid_token"`)
		writeProblem(w, r, http.StatusUnauthorized, takedown.EUNAUTHORIZED, "the token is unknown, expired or revoked")
		return nil, false
	}
	actor := &takedown.Actor{User: u, Via: takedown.ViaToken, TokenID: tok.ID, Scopes: tok.Scopes, Address: addr}
	if !safeMethod(r.Method) && !actor.MayWrite() {
		// A read token is for GET only (takedown.ScopeRead); refusing
		// here guards against a handler that forgets to ask MayWrite.
		w.Header().Set("WWW-Authenticate", `Bearer realm="takedown", error="insufficient_scope", scope="write"`)
		writeProblem(w, r, http.StatusForbidden, takedown.EFORBIDDEN, "this token may only read; "+r.Method+" needs a token with the write scope")
		return nil, false
	}
	return actor, true
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticateSession checks a session cookie's value. The actor it
// returns carries the address even on failure, for the log.
func (a *Authenticator) authenticateSession(r *http.Request, id string) (*takedown.Actor, error) {
	actor := &takedown.Actor{Via: takedown.ViaSession, Address: a.clientAddress(r)}
	if !wellFormedSessionID(id) {
		return actor, takedown.Errorf(takedown.EUNAUTHORIZED, "malformed session cookie")
	}
	_, u, err := a.users.SessionByID(r.Context(), HashSecret(id), a.now(), a.idle)
	if err != nil {
		return actor, err
	}
	actor.User, actor.Scopes = u, []takedown.Scope{takedown.ScopeRead, takedown.ScopeWrite}
	return actor, nil
}

// storeFailed answers a request whose credentials could not be checked.
func (a *Authenticator) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	code := takedown.ErrorCode(err)
	if r.Context().Err() != nil {
		return // the client went away
	}
	a.log.Error("cannot check credentials", "method", r.Method, "path", r.URL.Path, "error", err)
	if code == takedown.EUNAVAILABLE {
		writeProblem(w, r, http.StatusServiceUnavailable, code, takedown.ErrorMessage(err))
		return
	}
	writeProblem(w, r, http.StatusInternalServerError, takedown.EINTERNAL, "internal error")
}

// problem is an RFC 9457 problem document, as internal/api writes them.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: detail, Instance: r.URL.Path, Code: code})
}

// clientAddress is the client's IP address: the TCP peer's, unless the
// peer is a trusted proxy; then the right-most address of
// X-Forwarded-For that is not a trusted proxy (the ones left of it were
// written by the client and prove nothing).
func (a *Authenticator) clientAddress(r *http.Request) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return clamp(r.RemoteAddr, 64)
	}
	addr := peer
	if a.trusted(peer) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			h, ok := parseAddr(strings.TrimSpace(hops[i]))
			if !ok {
				break // garbage: keep the last hop a trusted proxy vouched for
			}
			addr = h
			if !a.trusted(h) {
				break
			}
		}
	}
	return addr.String()
}

func (a *Authenticator) trusted(addr netip.Addr) bool {
	for _, p := range a.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseAddr reads "host:port", "[v6]:port", a bare address or "[v6]".
func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if ad, err := netip.ParseAddr(s); err == nil {
		return ad.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// errWrongLogin is the one answer to every failed password login, so that
// nobody learns which accounts exist, are disabled or have no password.
func errWrongLogin() error {
	return takedown.Errorf(takedown.EUNAUTHORIZED, "wrong user name or password")
}

// dummyHash is a hash no password matches (its password is random and
// forgotten), checked when the account has none, so that an attempt on
// an unknown account takes as long as one on a real account.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword(randomString())
	if err != nil {
		panic(err)
	}
	return h
})

// Login checks a user name and password and, if they are right, starts a
// session and sets its cookie. Every attempt is recorded (the audit chain
// says who tried, from where, and why it failed). After too many failures
// within the window, for the account or the client's address, it returns
// ERATELIMITED without looking at the password; every other failure is
// the same EUNAUTHORIZED "wrong user name or password".
func (a *Authenticator) Login(w http.ResponseWriter, r *http.Request, name, password string) (*takedown.User, error) {
	ctx := r.Context()
	if strings.TrimSpace(name) == "" || password == "" {
		return nil, takedown.Errorf(takedown.EINVALID, "enter a user name and a password")
	}
	// User names are lower-case slugs; anything longer than a slug can be
	// is no user, and is clamped so that it cannot flood the audit chain.
	account := clamp(strings.ToLower(strings.TrimSpace(name)), 64)
	addr := a.clientAddress(r)
	unlock, err := a.attempts.lock(ctx, "account\x00"+account, "address\x00"+addr)
	if err != nil {
		return nil, err
	}
	defer unlock()

	now := a.now()
	attempt := takedown.LoginAttempt{Account: account, Address: addr, At: now}
	// The actor of the attempt's audit event: "user:alice via password".
	// The record is written even if the client hangs up meanwhile.
	rctx := context.WithoutCancel(ctx)
	actx := takedown.WithActor(rctx, &takedown.Actor{User: &takedown.User{Name: account}, Via: ViaPassword, Address: addr})
	byAccount, byAddress, err := a.users.FailedLogins(ctx, account, addr, now.Add(-a.window))
	if err != nil {
		return nil, err
	}
	if byAccount >= a.maxPerAccount || byAddress >= a.maxPerAddress {
		// A refused attempt counts as a failure too: the wait is a whole
		// window after the last try, whoever keeps trying.
		attempt.Reason = "rate limited"
		if err := a.users.RecordLogin(actx, attempt); err != nil {
			return nil, err
		}
		return nil, takedown.Errorf(takedown.ERATELIMITED, "too many failed logins; wait %s and try again", minutes(a.window))
	}

	u, hash, err := a.users.PasswordHash(ctx, account)
	switch {
	case takedown.ErrorCode(err) == takedown.ENOTFOUND:
		attempt.Reason = "no such user"
	case err != nil:
		return nil, err
	case u.Disabled:
		attempt.Reason = "disabled"
	case hash == "":
		attempt.Reason = "no password set"
	}
	// One argon2id computation for every attempt, whatever the account,
	// so that timing does not tell which accounts exist.
	if hash == "" {
		hash = dummyHash()
	}
	select {
	case a.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ok := CheckPassword(hash, password)
	<-a.hashSlots
	if attempt.Reason == "" && !ok {
		attempt.Reason = "wrong password"
	}
	if attempt.Reason != "" {
		if err := a.users.RecordLogin(actx, attempt); err != nil {
			return nil, err
		}
		return nil, errWrongLogin()
	}

	attempt.OK = true
	actx = takedown.WithActor(rctx, &takedown.Actor{User: u, Via: ViaPassword, Address: addr})
	if err := a.users.RecordLogin(actx, attempt); err != nil {
		return nil, err
	}
	if NeedsRehash(hash) {
		// Parameters were raised since the password was set; the
		// password is at hand only now.
		if nh, err := HashPassword(password); err == nil {
			if _, err := a.users.UpdateUser(actx, u.Name, takedown.UserUpdate{PasswordHash: &nh}); err != nil {
				a.log.Warn("cannot store a stronger password hash", "user", u.Name, "error", err)
			}
		}
	}
	if err := a.StartSession(w, r.WithContext(actx), u, ViaPassword); err != nil {
		return nil, err
	}
	return u, nil
}

func minutes(d time.Duration) string {
	if d%time.Minute == 0 {
		if m := int(d / time.Minute); m != 1 {
			return fmt.Sprintf("%d minutes", m)
		}
		return "1 minute"
	}
	return d.String()
}

// StartSession starts a session for u, who has just proved who they are
// (via: ViaPassword or ViaOIDC), and sets its cookie, replacing the
// browser's earlier session if it had one. Login and OIDC.Callback call
// it; the audit events it causes name the actor in r's context.
//
// The cookie is HttpOnly (no script reads it), SameSite=Lax (sent on the
// top-level navigation back from an identity provider, not on cross-site
// subrequests; state-changing routes are also behind net/http's
// CrossOriginProtection), Path=/, Secure with SecureCookies, and has no
// Expires or Max-Age: a browser-session cookie, gone when the browser is
// closed, which suits shared workstations; the server ends the session
// after SessionIdle or SessionMax regardless.
func (a *Authenticator) StartSession(w http.ResponseWriter, r *http.Request, u *takedown.User, via string) error {
	if u == nil || u.ID == 0 || u.Disabled {
		return takedown.Errorf(takedown.EUNAUTHORIZED, "no session for a disabled or unknown user")
	}
	ctx := r.Context()
	if c, err := r.Cookie(a.sessionCookie); err == nil && wellFormedSessionID(c.Value) {
		if err := a.users.EndSession(ctx, HashSecret(c.Value)); err != nil {
			return err
		}
	}
	now := a.now().UTC()
	id, hash := NewSessionID()
	s := &takedown.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.max),
		Address: a.clientAddress(r), UserAgent: clamp(r.UserAgent(), 200), Via: via}
	if err := a.users.CreateSession(ctx, s, hash); err != nil {
		return err
	}
	http.SetCookie(w, a.cookie(a.sessionCookie, id, 0))
	return nil
}

// Logout ends the request's session, if any, and clears its cookie. Run
// it behind Middleware, so that the audit event names the user.
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(a.sessionCookie)
	if err != nil {
		return nil
	}
	a.clearCookie(w, a.sessionCookie)
	if !wellFormedSessionID(c.Value) {
		return nil
	}
	return a.users.EndSession(r.Context(), HashSecret(c.Value))
}

// cookie returns a cookie with takedown's attributes (see StartSession);
// maxAge 0 means a browser-session cookie.
func (a *Authenticator) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode}
}

func (a *Authenticator) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, a.cookie(name, "", -1))
}

// clamp cuts s to at most n bytes without splitting a character, and
// replaces invalid UTF-8 and control characters, for what is stored or
// logged from a request.
func clamp(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// keyedLocks is a set of mutexes by name, made when needed and dropped
// when nobody holds or waits for them.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	ch   chan struct{} // holds a value while locked
	refs int           // holders and waiters
}

// lock takes the locks of keys in order (callers pass them in one fixed
// order, so that none waits in a cycle) and returns the function that
// releases them all. It gives up when ctx ends.
func (k *keyedLocks) lock(ctx context.Context, keys ...string) (unlock func(), err error) {
	var held []func()
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i]()
		}
	}
	for _, key := range keys {
		u, err := k.lock1(ctx, key)
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, u)
	}
	return release, nil
}

func (k *keyedLocks) lock1(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyedLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	drop := func() {
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; drop() }, nil
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
}
