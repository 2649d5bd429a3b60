package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
)

const (
	clientID     = "takedown"
	clientSecret = "client-secret"
	redirectURL  = "https://takedown.example/auth/oidc/callback"
)

var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// idp is a small OpenID provider: discovery, JWKS, an authorize endpoint
// that logs the browser in at once as whoever the test says, and a token
// endpoint that checks the client and the PKCE verifier and returns an ID
// token signed with RS256.
type idp struct {
	t   *testing.T
	srv *httptest.Server

	mu sync.Mutex
	// Who the next login is, and what its ID token says.
	subject, email string
	verified       any    // email_verified: true, false, "true" or nil
	nonce          string // if set, replaces the nonce of the request
	extraAudience  string
	codes          map[string]grant
}

type grant struct {
	challenge, nonce, redirect string
	claims                     map[string]any
}

func newIDP(t *testing.T) *idp {
	p := &idp{t: t, codes: map[string]grant{}, subject: "248289761001", email: "alice@agency.example", verified: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                p.srv.URL,
			"authorization_endpoint":                p.srv.URL + "/authorize",
			"token_endpoint":                        p.srv.URL + "/token",
			"jwks_uri":                              p.srv.URL + "/jwks",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported":      []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &signingKey().PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (p *idp) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != clientID || q.Get("redirect_uri") != redirectURL ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" ||
		!strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	claims := map[string]any{"sub": p.subject, "email": p.email}
	if p.verified != nil {
		claims["email_verified"] = p.verified
	}
	nonce := q.Get("nonce")
	if p.nonce != "" {
		nonce = p.nonce
	}
	code := rand.Text()
	p.codes[code] = grant{challenge: q.Get("code_challenge"), nonce: nonce, redirect: q.Get("redirect_uri"), claims: claims}
	back, _ := url.Parse(q.Get("redirect_uri"))
	back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *idp) token(w http.ResponseWriter, r *http.Request) {
	fail := func(e string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": e})
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != clientID || secret != clientSecret {
		fail("invalid_client")
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code")) // a code is good once
	aud := []string{clientID}
	if p.extraAudience != "" {
		aud = append(aud, p.extraAudience)
	}
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case r.PostFormValue("grant_type") != "authorization_code" || !ok || r.PostFormValue("redirect_uri") != g.redirect:
		fail("invalid_grant")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		fail("invalid_grant") // PKCE: not the verifier of the challenge
		return
	}
	claims := map[string]any{"iss": p.srv.URL, "aud": aud, "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(), "nonce": g.nonce}
	for k, v := range g.claims {
		claims[k] = v
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: signingKey()},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		p.t.Error(err)
		return
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		p.t.Error(err)
		return
	}
	idToken, _ := jws.CompactSerialize()
	writeJSON(w, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

type oidcEnv struct {
	*env
	idp  *idp
	oidc *auth.OIDC
}

func newOIDCEnv(t *testing.T) *oidcEnv {
	t.Helper()
	e := newEnv(t, nil)
	p := newIDP(t)
	o, err := auth.NewOIDC(context.Background(), auth.OIDCConfig{Issuer: p.srv.URL, ClientID: clientID, ClientSecret: clientSecret,
		RedirectURL: redirectURL}, e.a, p.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return &oidcEnv{env: e, idp: p, oidc: o}
}

// flow runs a login: Begin, the browser at the provider, and Callback.
// tamper may change the callback request before it is sent.
func (e *oidcEnv) flow(t *testing.T, tamper func(cb *http.Request)) (*takedown.User, *httptest.ResponseRecorder, error) {
	t.Helper()
	rec := httptest.NewRecorder()
	e.oidc.Begin(rec, httptest.NewRequest("GET", "https://takedown.example/auth/oidc", nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("Begin: status %d", rec.Code)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].MaxAge != 600 {
		t.Fatalf("Begin set cookies %q", rec.Header().Values("Set-Cookie"))
	}
	// The browser at the provider, which sends it straight back.
	browser := e.idp.srv.Client()
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := browser.Get(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	cb := httptest.NewRequest("GET", resp.Header.Get("Location"), nil)
	cb.AddCookie(cookies[0])
	if tamper != nil {
		tamper(cb)
	}
	rec = httptest.NewRecorder()
	u, err := e.oidc.Callback(rec, cb)
	return u, rec, err
}

func (e *oidcEnv) subject() string { return e.idp.srv.URL + "#" + e.idp.subject }

func TestOIDC(t *testing.T) {
	t.Parallel()
	type setup struct {
		*oidcEnv
		t *testing.T
	}
	const noUser = "no takedown user for this identity; ask an administrator"
	for _, c := range []struct {
		name   string
		setup  func(s setup)
		tamper func(cb *http.Request)
		user   string // logged in as, or
		err    string // the error message
		linked bool   // alice is linked to the identity afterwards
	}{
		{name: "linked subject", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject(); u.Email = "other@agency.example" })
		}, user: "alice", linked: true},
		{name: "first login, linked by verified e-mail", setup: func(s setup) {
			s.user(s.t, "alice", false)
		}, user: "alice", linked: true},
		{name: "e-mail verified as a string, in another case", setup: func(s setup) {
			s.user(s.t, "alice", false)
			s.idp.verified, s.idp.email = "true", "Alice@Agency.example"
		}, user: "alice", linked: true},
		{name: "unverified e-mail", setup: func(s setup) {
			s.user(s.t, "alice", false)
			s.idp.verified = false
		}, err: noUser},
		{name: "e-mail verification not stated", setup: func(s setup) {
			s.user(s.t, "alice", false)
			s.idp.verified = nil
		}, err: noUser},
		{name: "user linked to another identity already", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = "https://elsewhere#1" })
		}, err: noUser},
		{name: "two users with the e-mail address", setup: func(s setup) {
			s.user(s.t, "alice", false)
			s.user(s.t, "alice2", false, func(u *takedown.User) { u.Email = "alice@agency.example" })
		}, err: noUser},
		{name: "unknown identity", setup: func(s setup) {
			s.user(s.t, "bob", false)
		}, err: noUser},
		{name: "disabled linked user", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject() })
			s.disable(s.t, "alice")
		}, err: "this takedown user is disabled; ask an administrator", linked: true},
		{name: "disabled user by e-mail", setup: func(s setup) {
			s.user(s.t, "alice", false)
			s.disable(s.t, "alice")
		}, err: "this takedown user is disabled; ask an administrator"},
		{name: "wrong state", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject() })
		}, tamper: func(cb *http.Request) {
			q := cb.URL.Query()
			q.Set("state", "forged")
			cb.URL.RawQuery = q.Encode()
		}, err: "the login's state does not match; log in again", linked: true},
		{name: "wrong nonce", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject() })
			s.idp.nonce = "replayed"
		}, err: "the ID token's nonce does not match; log in again", linked: true},
		{name: "token for several audiences without azp", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject() })
			s.idp.extraAudience = "someone-else"
		}, err: "the ID token was issued to another client", linked: true},
		{name: "no flow cookie", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject() })
		}, tamper: func(cb *http.Request) { cb.Header.Del("Cookie") },
			err: "the login took too long or was begun in another browser; log in again", linked: true},
		{name: "forged flow cookie", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject() })
		}, tamper: func(cb *http.Request) {
			c, _ := cb.Cookie("takedown_oidc")
			f := strings.Split(c.Value, ".")
			f[2] = strings.Repeat("A", 43) // another PKCE verifier
			cb.Header.Set("Cookie", "takedown_oidc="+strings.Join(f, "."))
		}, err: "the login took too long or was begun in another browser; log in again", linked: true},
		{name: "flow too old", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject() })
		}, tamper: func(*http.Request) {}, // the clock moves in the test body
			err: "the login took too long or was begun in another browser; log in again", linked: true},
		{name: "provider reports an error", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject() })
		}, tamper: func(cb *http.Request) { cb.URL.RawQuery = "error=access_denied&state=x" },
			err: "the identity provider refused the login: access_denied", linked: true},
		{name: "code used twice", setup: func(s setup) {
			s.user(s.t, "alice", false, func(u *takedown.User) { u.OIDCSubject = s.subject() })
		}, tamper: func(cb *http.Request) {}, // replayed in the test body
			err: "the identity provider did not confirm the login", linked: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newOIDCEnv(t)
			c.setup(setup{e, t})
			tamper := c.tamper
			switch c.name {
			case "flow too old":
				tamper = func(*http.Request) { e.clock.Advance(11 * time.Minute) }
			case "code used twice":
				tamper = func(cb *http.Request) {
					first := cb.Clone(context.Background())
					if _, err := e.oidc.Callback(httptest.NewRecorder(), first); err != nil {
						t.Fatalf("first use of the code: %v", err)
					}
				}
			}
			u, rec, err := e.flow(t, tamper)
			linked, _ := e.db.FindUserByOIDC(context.Background(), e.subject())
			if c.linked != (linked != nil && linked.Name == "alice") {
				t.Errorf("linked user %+v, want alice linked: %v", linked, c.linked)
			}
			if c.err != "" {
				if u != nil || takedown.ErrorCode(err) != takedown.EUNAUTHORIZED || takedown.ErrorMessage(err) != c.err {
					t.Fatalf("user %v, error %v; want EUNAUTHORIZED %q", u, err, c.err)
				}
				for _, ck := range rec.Result().Cookies() {
					if strings.HasSuffix(ck.Name, "takedown_session") {
						t.Fatalf("a session cookie was set: %s", ck)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Name != c.user {
				t.Fatalf("logged in as %s, want %s", u.Name, c.user)
			}
			cookie := sessionCookie(t, rec)
			if _, s := e.serve(withCookie(cookie)); !s.authenticated || s.actor.User.Name != c.user {
				t.Fatalf("the session does not authenticate: %+v", s.actor)
			}
			sess, _, err := e.db.SessionByID(context.Background(), auth.HashSecret(cookie.Value), e.clock.Now(), time.Hour)
			if err != nil || sess.Via != "oidc" {
				t.Fatalf("session %+v, %v", sess, err)
			}
			evs := audit(t, e.env, "user:"+c.user)
			if last := evs[len(evs)-1]; last.Action != "login.ok" || last.Actor != "user:"+c.user+" via oidc" {
				t.Errorf("last audit event %s by %s", last.Action, last.Actor)
			}
		})
	}
}

func TestOIDCDiscoveryFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	for _, cfg := range []auth.OIDCConfig{
		{Issuer: srv.URL, ClientID: clientID, RedirectURL: redirectURL},
		{Issuer: srv.URL, ClientID: clientID, RedirectURL: "/relative"},
		{Issuer: "", ClientID: clientID, RedirectURL: redirectURL},
	} {
		if _, err := auth.NewOIDC(context.Background(), cfg, e.a, srv.Client()); err == nil {
			t.Errorf("NewOIDC(%+v) succeeded", cfg)
		}
	}
}
