package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/sqlite"
)

const password = "correct horse battery staple"

// passwordHash is one hash of password, shared by the tests' users: a
// hash costs a noticeable time, more so under the race detector.
var passwordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

// clock is a settable time for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	db    *sqlite.DB
	clock *clock
	a     *auth.Authenticator
}

// newEnv opens a fresh store and an Authenticator on it; configure may
// change the configuration first.
func newEnv(t *testing.T, configure func(*auth.Config)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "takedown.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// The store itself keeps real time (tokens must expire in the
	// future by its clock), so the test clock starts at the real now.
	c := &clock{t: time.Now()}
	cfg := auth.Config{Users: db, Now: c.Now}
	if configure != nil {
		configure(&cfg)
	}
	return &env{db: db, clock: c, a: auth.New(cfg)}
}

// user creates a user with the tests' password ("" hash for none if
// withPassword is false).
func (e *env) user(t *testing.T, name string, withPassword bool, change ...func(*takedown.User)) *takedown.User {
	t.Helper()
	u := &takedown.User{Name: name, Email: name + "@agency.example", Roles: []takedown.Role{takedown.RoleAuditor}}
	for _, f := range change {
		f(u)
	}
	hash := ""
	if withPassword {
		hash = passwordHash()
	}
	if err := e.db.CreateUser(context.Background(), u, hash); err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) disable(t *testing.T, name string) {
	t.Helper()
	yes := true
	if _, err := e.db.UpdateUser(context.Background(), name, takedown.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
}

// token creates a token of user with scopes, valid for a day.
func (e *env) token(t *testing.T, user string, scopes ...takedown.Scope) (string, *takedown.Token) {
	t.Helper()
	secret, prefix, hash := auth.NewToken()
	tok := &takedown.Token{User: user, Name: "test", Prefix: prefix, Scopes: scopes, ExpiresAt: time.Now().Add(24 * time.Hour)}
	if err := e.db.CreateToken(context.Background(), tok, hash); err != nil {
		t.Fatal(err)
	}
	return secret, tok
}

// session starts a session for u and returns its cookie.
func (e *env) session(t *testing.T, u *takedown.User) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := e.a.StartSession(rec, httptest.NewRequest("POST", "/login", nil), u, auth.ViaPassword); err != nil {
		t.Fatal(err)
	}
	return sessionCookie(t, rec)
}

func sessionCookie(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if strings.HasSuffix(c.Name, "takedown_session") {
			return c
		}
	}
	t.Fatalf("no session cookie in %q", rec.Header().Values("Set-Cookie"))
	return nil
}

// seen is what the handler behind the middleware saw.
type seen struct {
	called        bool
	actor         *takedown.Actor
	authenticated bool
	ctxActor      *takedown.Actor
}

// serve runs req through the middleware to a handler that records what
// it saw.
func (e *env) serve(req *http.Request) (*httptest.ResponseRecorder, *seen) {
	var s seen
	h := e.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.called = true
		s.actor, s.authenticated = auth.Authenticated(r.Context())
		s.ctxActor = takedown.ActorFrom(r.Context())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, &s
}

func TestMiddlewareTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.user(t, "alice", false)
	e.user(t, "mallory", false)
	write, writeTok := e.token(t, "alice", takedown.ScopeWrite, takedown.ScopeRead)
	read, readTok := e.token(t, "alice", takedown.ScopeRead)
	revoked, revokedTok := e.token(t, "alice", takedown.ScopeWrite)
	if _, err := e.db.RevokeToken(context.Background(), revokedTok.ID); err != nil {
		t.Fatal(err)
	}
	disabled, _ := e.token(t, "mallory", takedown.ScopeWrite)
	e.disable(t, "mallory")
	unknown, _, _ := auth.NewToken()

	for _, c := range []struct {
		name, method, header string
		status               int
		tokenID              int64
		mayWrite             bool
		wwwAuth              string // in WWW-Authenticate
	}{
		{"write token GET", "GET", "Bearer " + write, 200, writeTok.ID, true, ""},
		{"write token POST", "POST", "Bearer " + write, 200, writeTok.ID, true, ""},
		{"scheme in lower case", "GET", "bearer " + write, 200, writeTok.ID, true, ""},
		{"read token GET", "GET", "Bearer " + read, 200, readTok.ID, false, ""},
		{"read token HEAD", "HEAD", "Bearer " + read, 200, readTok.ID, false, ""},
		{"read token POST", "POST", "Bearer " + read, 403, 0, false, `error="insufficient_scope"`},
		{"read token DELETE", "DELETE", "Bearer " + read, 403, 0, false, `error="insufficient_scope"`},
		{"revoked token", "GET", "Bearer " + revoked, 401, 0, false, `error="invalid_token"`},
		{"disabled user's token", "GET", "Bearer " + disabled, 401, 0, false, `error="invalid_token"`},
		{"unknown token", "GET", "Bearer " + unknown, 401, 0, false, `error="invalid_token"`},
		{"malformed token", "GET", "Bearer tdk_short", 401, 0, false, `error="invalid_token"`},
		{"not a b64token", "GET", "Bearer tdk_a b", 401, 0, false, `error="invalid_token"`},
		{"empty bearer", "GET", "Bearer ", 401, 0, false, `error="invalid_token"`},
		{"basic credentials", "GET", "Basic YWxpY2U6cHc=", 401, 0, false, `Bearer realm="takedown"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(c.method, "/api/v1/operations", nil)
			req.Header.Set("Authorization", c.header)
			rec, s := e.serve(req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if c.status != 200 {
				if s.called {
					t.Error("the handler was called")
				}
				if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, c.wwwAuth) {
					t.Errorf("WWW-Authenticate %q, want %q in it", got, c.wwwAuth)
				}
				checkProblem(t, rec, c.status)
				if body := rec.Body.String(); strings.Contains(body, "alice") || strings.Contains(body, "mallory") {
					t.Errorf("the refusal names a user: %s", body)
				}
				return
			}
			if !s.authenticated || s.actor.User.Name != "alice" || s.actor.Via != takedown.ViaToken || s.actor.TokenID != c.tokenID {
				t.Fatalf("actor %+v (authenticated %v), want alice via token %d", s.actor, s.authenticated, c.tokenID)
			}
			if s.ctxActor != s.actor {
				t.Error("takedown.ActorFrom differs from auth.Authenticated")
			}
			if s.actor.MayWrite() != c.mayWrite {
				t.Errorf("MayWrite = %v, want %v", s.actor.MayWrite(), c.mayWrite)
			}
			if s.actor.Address != "192.0.2.1" {
				t.Errorf("address %q", s.actor.Address)
			}
		})
	}
}

func TestMiddlewareExpiredToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.user(t, "alice", false)
	secret, _ := e.token(t, "alice", takedown.ScopeRead)
	req := func() *http.Request {
		r := httptest.NewRequest("GET", "/api/v1/operations", nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		return r
	}
	if rec, _ := e.serve(req()); rec.Code != 200 {
		t.Fatalf("fresh token: status %d", rec.Code)
	}
	e.clock.Advance(25 * time.Hour)
	rec, s := e.serve(req())
	if rec.Code != 401 || s.called {
		t.Fatalf("expired token: status %d, handler called %v", rec.Code, s.called)
	}
	checkProblem(t, rec, 401)
}

func TestMiddlewareTwoAuthorizationHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.user(t, "alice", false)
	secret, _ := e.token(t, "alice", takedown.ScopeRead)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Add("Authorization", "Bearer "+secret)
	req.Header.Add("Authorization", "Bearer "+secret)
	if rec, s := e.serve(req); rec.Code != 400 || s.called {
		t.Fatalf("status %d, handler called %v", rec.Code, s.called)
	}
}

// checkProblem checks that rec holds an RFC 9457 problem document.
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	var p struct {
		Type, Title, Detail, Code string
		Status                    int
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if p.Status != status || p.Type != "about:blank" || p.Title != http.StatusText(status) || p.Code == "" || p.Detail == "" {
		t.Errorf("problem %+v", p)
	}
}

func TestMiddlewareSessions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		// before changes the world after the session starts; it
		// returns the cookie to send.
		before func(t *testing.T, e *env, c *http.Cookie) *http.Cookie
		ok     bool
	}{
		{"fresh", nil, true},
		{"used within the idle limit", func(t *testing.T, e *env, c *http.Cookie) *http.Cookie {
			for range 4 { // 80 minutes in all, never idle 30
				e.clock.Advance(20 * time.Minute)
				if rec, s := e.serve(withCookie(c)); !s.authenticated {
					t.Fatalf("session ended while in use: %d", rec.Code)
				}
			}
			return c
		}, true},
		{"idle too long", func(t *testing.T, e *env, c *http.Cookie) *http.Cookie {
			e.clock.Advance(31 * time.Minute)
			return c
		}, false},
		{"past its absolute end", func(t *testing.T, e *env, c *http.Cookie) *http.Cookie {
			for range 6 { // 2 hours, in use all along: SessionMax is 2h
				e.clock.Advance(20 * time.Minute)
				e.serve(withCookie(c))
			}
			return c
		}, false},
		{"after logout", func(t *testing.T, e *env, c *http.Cookie) *http.Cookie {
			rec := httptest.NewRecorder()
			if err := e.a.Logout(rec, withCookie(c)); err != nil {
				t.Fatal(err)
			}
			if cleared := sessionCookie(t, rec); cleared.MaxAge >= 0 || cleared.Value != "" {
				t.Errorf("logout did not clear the cookie: %+v", cleared)
			}
			return c
		}, false},
		{"user disabled", func(t *testing.T, e *env, c *http.Cookie) *http.Cookie {
			e.disable(t, "alice")
			return c
		}, false},
		{"unknown session", func(t *testing.T, e *env, c *http.Cookie) *http.Cookie {
			id, _ := auth.NewSessionID()
			return &http.Cookie{Name: c.Name, Value: id}
		}, false},
		{"garbage cookie", func(t *testing.T, e *env, c *http.Cookie) *http.Cookie {
			return &http.Cookie{Name: c.Name, Value: "x"}
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(cfg *auth.Config) { cfg.SessionMax = 2 * time.Hour })
			u := e.user(t, "alice", false)
			cookie := e.session(t, u)
			if cookie.Name != "takedown_session" {
				t.Errorf("cookie name %q", cookie.Name)
			}
			if c.before != nil {
				cookie = c.before(t, e, cookie)
			}
			rec, s := e.serve(withCookie(cookie))
			if rec.Code != 200 || !s.called {
				t.Fatalf("status %d, handler called %v: a session cookie never stops a request", rec.Code, s.called)
			}
			if !c.ok {
				if s.authenticated || s.actor != nil {
					t.Fatalf("authenticated as %+v", s.actor)
				}
				if cleared := sessionCookie(t, rec); cleared.MaxAge >= 0 || cleared.Value != "" {
					t.Errorf("the bad cookie was not cleared: %+v", cleared)
				}
				return
			}
			a := s.actor
			if !s.authenticated || a.User.Name != "alice" || a.Via != takedown.ViaSession || !a.MayWrite() ||
				!slices.Equal(a.Scopes, []takedown.Scope{takedown.ScopeRead, takedown.ScopeWrite}) {
				t.Fatalf("actor %+v, want alice via session with read and write", a)
			}
			if len(rec.Header().Values("Set-Cookie")) != 0 {
				t.Errorf("a good session set cookies: %q", rec.Header().Values("Set-Cookie"))
			}
		})
	}
}

func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/ui/operations", nil)
	r.AddCookie(c)
	return r
}

func TestMiddlewareNoCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rec, s := e.serve(httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || !s.called {
		t.Fatalf("status %d, handler called %v", rec.Code, s.called)
	}
	if s.authenticated || s.actor != nil {
		t.Errorf("Authenticated = %+v, %v for a request without credentials", s.actor, s.authenticated)
	}
	// The trap Authenticated exists for: takedown.ActorFrom answers
	// System, who may do everything.
	if s.ctxActor != takedown.System {
		t.Errorf("ActorFrom = %v", s.ctxActor)
	}
	// A context whose actor a handler replaced is not authenticated
	// either.
	ctx := takedown.WithActor(context.Background(), &takedown.Actor{User: &takedown.User{Name: "x"}, Via: takedown.ViaSession})
	if _, ok := auth.Authenticated(ctx); ok {
		t.Error("Authenticated trusts an actor the middleware did not set")
	}
}

func TestMiddlewareTokenBeatsCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	alice := e.user(t, "alice", false)
	e.user(t, "bob", false)
	secret, _ := e.token(t, "bob", takedown.ScopeRead)
	req := withCookie(e.session(t, alice))
	req.Header.Set("Authorization", "Bearer "+secret)
	if _, s := e.serve(req); !s.authenticated || s.actor.User.Name != "bob" || s.actor.Via != takedown.ViaToken {
		t.Fatalf("actor %+v, want bob via token", s.actor)
	}
}

func TestClientAddress(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct {
		name, remote string
		xff          []string
		proxies      []netip.Prefix
		want         string
	}{
		{"direct", "198.51.100.7:5555", nil, nil, "198.51.100.7"},
		{"XFF not trusted without proxies", "198.51.100.7:5555", []string{"203.0.113.9"}, nil, "198.51.100.7"},
		{"XFF from an untrusted peer", "198.51.100.7:5555", []string{"203.0.113.9"}, proxies, "198.51.100.7"},
		{"one trusted proxy", "10.1.2.3:80", []string{"203.0.113.9"}, proxies, "203.0.113.9"},
		{"client-supplied entries left of the real one", "10.1.2.3:80", []string{"1.1.1.1, 203.0.113.9"}, proxies, "203.0.113.9"},
		{"two trusted proxies", "10.1.2.3:80", []string{"1.1.1.1, 203.0.113.9, 10.9.9.9"}, proxies, "203.0.113.9"},
		{"several headers", "10.1.2.3:80", []string{"1.1.1.1", "203.0.113.9"}, proxies, "203.0.113.9"},
		{"garbage stops the walk", "10.1.2.3:80", []string{"203.0.113.9, nonsense, 10.2.2.2"}, proxies, "10.2.2.2"},
		{"all trusted", "10.1.2.3:80", []string{"10.3.3.3"}, proxies, "10.3.3.3"},
		{"no header", "10.1.2.3:80", nil, proxies, "10.1.2.3"},
		{"IPv6 peer", "[2001:db8::1]:443", nil, nil, "2001:db8::1"},
		{"IPv4-mapped peer", "[::ffff:198.51.100.7]:443", nil, nil, "198.51.100.7"},
		{"IPv6 proxy and client with port", "[fd00::1]:443", []string{"[2001:db8::2]:1234"}, proxies, "2001:db8::2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(cfg *auth.Config) { cfg.TrustedProxies = c.proxies })
			e.user(t, "alice", false)
			secret, _ := e.token(t, "alice", takedown.ScopeRead)
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = c.remote
			req.Header.Set("Authorization", "Bearer "+secret)
			for _, h := range c.xff {
				req.Header.Add("X-Forwarded-For", h)
			}
			if _, s := e.serve(req); !s.authenticated || s.actor.Address != c.want {
				t.Fatalf("address %q, want %q", s.actor.Address, c.want)
			}
		})
	}
}

// login tries to log in from addr and returns the response too.
func (e *env) login(addr, name, pw string) (*takedown.User, *httptest.ResponseRecorder, error) {
	req := httptest.NewRequest("POST", "/login", nil)
	req.RemoteAddr = addr + ":40000"
	req.Header.Set("User-Agent", strings.Repeat("Mozilla/5.0 ", 30))
	rec := httptest.NewRecorder()
	u, err := e.a.Login(rec, req, name, pw)
	return u, rec, err
}

func TestLogin(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "secure"}[secure], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(cfg *auth.Config) { cfg.SecureCookies = secure })
			e.user(t, "alice", true)
			u, rec, err := e.login("198.51.100.7", " Alice ", password)
			if err != nil {
				t.Fatal(err)
			}
			if u.Name != "alice" {
				t.Errorf("logged in as %q", u.Name)
			}
			c := sessionCookie(t, rec)
			raw := rec.Header().Get("Set-Cookie")
			wantName := map[bool]string{false: "takedown_session", true: "__Host-takedown_session"}[secure]
			if c.Name != wantName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != secure ||
				c.Path != "/" || c.Domain != "" || c.MaxAge != 0 || !c.Expires.IsZero() || len(c.Value) != 43 {
				t.Errorf("session cookie %s", raw)
			}
			// The cookie works.
			_, s := e.serve(withCookie(c))
			if !s.authenticated || s.actor.User.Name != "alice" || s.actor.Address != "192.0.2.1" {
				t.Fatalf("the new session does not authenticate: %+v", s.actor)
			}
			// The session as stored: by its hash only, with where it came from.
			sess, _, err := e.db.SessionByID(context.Background(), auth.HashSecret(c.Value), e.clock.Now(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if sess.Via != "password" || sess.Address != "198.51.100.7" || len(sess.UserAgent) > 200 ||
				!sess.ExpiresAt.Equal(sess.CreatedAt.Add(12*time.Hour)) {
				t.Errorf("session %+v", sess)
			}
			// A second login from the same browser ends the first session.
			req := withCookie(c)
			rec2 := httptest.NewRecorder()
			if _, err := e.a.Login(rec2, req, "alice", password); err != nil {
				t.Fatal(err)
			}
			if _, s := e.serve(withCookie(c)); s.authenticated {
				t.Error("the session before a new login still works")
			}
		})
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *auth.Config) { cfg.MaxFailuresPerAddress = 100 })
	e.user(t, "alice", true)
	e.user(t, "carol", true)
	e.disable(t, "carol")
	e.user(t, "dave", false)
	var first error
	for i, c := range []struct{ name, pw, reason string }{
		{"alice", "wrong password, long", "wrong password"},
		{"nobody", password, "no such user"},
		{"carol", password, "disabled"},
		{"dave", password, "no password set"},
		{strings.Repeat("x", 500), password, "no such user"},
	} {
		u, rec, err := e.login("198.51.100.7", c.name, c.pw)
		if u != nil || len(rec.Header().Values("Set-Cookie")) > 0 {
			t.Fatalf("%s: logged in", c.name)
		}
		if takedown.ErrorCode(err) != takedown.EUNAUTHORIZED || takedown.ErrorMessage(err) != "wrong user name or password" {
			t.Fatalf("%s: error %v", c.name, err)
		}
		if i == 0 {
			first = err
		} else if err.Error() != first.Error() {
			t.Errorf("%s: error %q differs from %q", c.name, err, first)
		}
		account := c.name
		if len(account) > 64 {
			account = account[:64]
		}
		evs := audit(t, e, "user:"+account)
		if len(evs) == 0 {
			t.Fatalf("%s: no audit event", c.name)
		}
		last := evs[len(evs)-1]
		var d map[string]string
		json.Unmarshal(last.Details, &d)
		if last.Action != "login.fail" || d["reason"] != c.reason || d["address"] != "198.51.100.7" || last.Actor != "user:"+account+" via password" {
			t.Errorf("%s: audit event %s %s %s", c.name, last.Actor, last.Action, last.Details)
		}
	}
}

func audit(t *testing.T, e *env, subject string) []*takedown.AuditEvent {
	t.Helper()
	evs, err := e.db.ListAudit(context.Background(), takedown.AuditFilter{Subject: subject})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestLoginInvalidInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, c := range [][2]string{{"", password}, {"  ", password}, {"alice", ""}} {
		if _, _, err := e.login("198.51.100.7", c[0], c[1]); takedown.ErrorCode(err) != takedown.EINVALID {
			t.Errorf("Login(%q, %q) error %v, want EINVALID", c[0], c[1], err)
		}
	}
}

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		// fail makes the failures: attempt i from which address, on
		// which account.
		fail      func(i int) (addr, account string)
		failures  int
		lockedOut []string // then the right password from these addresses for alice is refused
		stillOK   string   // and accepted from this one, if any
	}{
		{"per account", func(i int) (string, string) { return "198.51.100." + string(rune('1'+i)), "alice" }, 5,
			[]string{"198.51.100.7", "203.0.113.50"}, ""},
		{"per address", func(i int) (string, string) { return "198.51.100.7", "nobody" + string(rune('a'+i)) }, 3,
			[]string{"198.51.100.7"}, "203.0.113.50"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(cfg *auth.Config) { cfg.MaxFailuresPerAddress = 3 })
			if c.name == "per account" {
				e.a = auth.New(auth.Config{Users: e.db, Now: e.clock.Now}) // default limits: 5 and 20
			}
			e.user(t, "alice", true)
			for i := range c.failures {
				addr, account := c.fail(i)
				if _, _, err := e.login(addr, account, "not the password"); takedown.ErrorCode(err) != takedown.EUNAUTHORIZED {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
			for _, addr := range c.lockedOut {
				_, rec, err := e.login(addr, "alice", password)
				if takedown.ErrorCode(err) != takedown.ERATELIMITED || !strings.Contains(takedown.ErrorMessage(err), "wait 15 minutes") {
					t.Fatalf("from %s while locked: error %v, want ERATELIMITED", addr, err)
				}
				if len(rec.Header().Values("Set-Cookie")) > 0 {
					t.Fatal("a cookie was set while locked")
				}
			}
			if c.stillOK != "" {
				if _, _, err := e.login(c.stillOK, "alice", password); err != nil {
					t.Fatalf("from another address: %v", err)
				}
			}
			evs := audit(t, e, "user:alice")
			if last := evs[len(evs)-1]; c.stillOK == "" && !strings.Contains(string(last.Details), `"reason":"rate limited"`) {
				t.Errorf("last audit event %s %s, want a rate-limited failure", last.Action, last.Details)
			}
			// The window passes: a whole one after the last refused try.
			e.clock.Advance(14 * time.Minute)
			if _, _, err := e.login(c.lockedOut[0], "alice", password); takedown.ErrorCode(err) != takedown.ERATELIMITED {
				t.Fatalf("14 minutes later: %v, want still locked", err)
			}
			e.clock.Advance(16 * time.Minute)
			u, rec, err := e.login(c.lockedOut[0], "alice", password)
			if err != nil || u.Name != "alice" {
				t.Fatalf("after the window: %v", err)
			}
			sessionCookie(t, rec)
			evs = audit(t, e, "user:alice")
			if last := evs[len(evs)-1]; last.Action != "login.ok" || last.Actor != "user:alice via password" {
				t.Errorf("last audit event %s by %s, want login.ok", last.Action, last.Actor)
			}
		})
	}
}

// Concurrent guesses must not all slip past the failure count before any
// of them is recorded.
func TestLoginConcurrentGuesses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *auth.Config) { cfg.MaxFailuresPerAccount = 3 })
	e.user(t, "alice", true)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			e.login("198.51.100."+string(rune('0'+i%10)), "alice", "guess number "+string(rune('a'+i)))
		})
	}
	wg.Wait()
	checked := 0
	for _, ev := range audit(t, e, "user:alice") {
		if strings.Contains(string(ev.Details), "wrong password") {
			checked++
		}
	}
	if checked != 3 {
		t.Errorf("%d guesses were checked, want 3", checked)
	}
}

func TestLoginRehash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	old := phcOf(password, 19*1024, 2, 1)
	if err := e.db.CreateUser(context.Background(), &takedown.User{Name: "alice", Roles: []takedown.Role{takedown.RoleAdmin}}, old); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.login("198.51.100.7", "alice", password); err != nil {
		t.Fatal(err)
	}
	_, h, err := e.db.PasswordHash(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if h == old || auth.NeedsRehash(h) || !auth.CheckPassword(h, password) {
		t.Errorf("stored hash %q after login, want a current hash of the password", h)
	}
}
