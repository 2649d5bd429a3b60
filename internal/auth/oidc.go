package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/takedown-project/takedown"
)

// OIDCConfig configures login through an OpenID Connect provider (the
// authorization code flow with PKCE).
type OIDCConfig struct {
	Issuer       string // the provider's issuer URL, as its discovery document states it
	ClientID     string
	ClientSecret string // "" for a public client (PKCE alone)
	RedirectURL  string // takedown's callback URL, registered with the provider
	// Scopes to ask for; "openid" is always added. Default: openid,
	// email, profile.
	Scopes []string
}

// OIDC logs users in through an OpenID Connect provider. Create it with
// NewOIDC.
type OIDC struct {
	auth     *Authenticator
	client   *http.Client
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	// flowKey signs the cookie that carries a login's state, nonce and
	// PKCE verifier from Begin to Callback.
	flowKey    []byte
	flowCookie string
}

// flowLifetime bounds the time from Begin to Callback.
const flowLifetime = 10 * time.Minute

// NewOIDC reads the provider's discovery document and returns an OIDC
// that logs users in with a. httpClient talks to the provider (nil: one
// with a 15-second timeout).
func NewOIDC(ctx context.Context, cfg OIDCConfig, a *Authenticator, httpClient *http.Client) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, takedown.Errorf(takedown.EINVALID, "OpenID Connect needs an issuer URL and a client ID")
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || !u.IsAbs() || u.Host == "" {
		return nil, takedown.Errorf(takedown.EINVALID, "OpenID Connect needs takedown's absolute callback URL, not %q", cfg.RedirectURL)
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 15 * time.Second}
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, httpClient), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OpenID provider %s: %w", cfg.Issuer, err)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopeProfile}
	} else if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	o := &OIDC{
		auth:   a,
		client: httpClient,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: cfg.RedirectURL, Scopes: scopes},
		// The verifier checks the signature (against the provider's
		// JWKS), the issuer, the audience and the expiry; the nonce is
		// Callback's to check.
		verifier:   p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: a.now}),
		flowCookie: "takedown_oidc",
	}
	if a.secure {
		o.flowCookie = "__Host-" + o.flowCookie
	}
	// With a client secret, every replica of takedown derives the same
	// key, so a login may end on another replica than it began on; a
	// public client gets a key of this process's own.
	if cfg.ClientSecret != "" {
		m := hmac.New(sha256.New, []byte(cfg.ClientSecret))
		m.Write([]byte("takedown OpenID Connect flow cookie v1"))
		o.flowKey = m.Sum(nil)
	} else {
		o.flowKey = make([]byte, 32)
		rand.Read(o.flowKey)
	}
	return o, nil
}

// Begin sends the browser to the provider to log in. The state (against
// login CSRF), the nonce (against a replayed ID token) and the PKCE
// verifier (against a stolen code) travel to Callback in a short-lived
// HttpOnly cookie, signed so it cannot be made up. SameSite=Lax, because
// the browser comes back from the provider by a top-level navigation.
func (o *OIDC) Begin(w http.ResponseWriter, r *http.Request) {
	f := flow{state: randomString(), nonce: randomString(), verifier: oauth2.GenerateVerifier(),
		expires: o.auth.now().Add(flowLifetime).Unix()}
	http.SetCookie(w, o.auth.cookie(o.flowCookie, o.seal(f), int(flowLifetime/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, o.oauth.AuthCodeURL(f.state, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)), http.StatusFound)
}

// flow is what Begin leaves for Callback.
type flow struct {
	state, nonce, verifier string
	expires                int64 // Unix seconds
}

// seal encodes f as state.nonce.verifier.expires.mac; every field is
// base64url or decimal, so "." cannot occur in them.
func (o *OIDC) seal(f flow) string {
	body := strings.Join([]string{f.state, f.nonce, f.verifier, strconv.FormatInt(f.expires, 10)}, ".")
	return body + "." + base64.RawURLEncoding.EncodeToString(o.mac(body))
}

func (o *OIDC) mac(body string) []byte {
	m := hmac.New(sha256.New, o.flowKey)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// open checks a flow cookie's signature and expiry.
func (o *OIDC) open(v string) (flow, bool) {
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		return flow{}, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(v[i+1:])
	if err != nil || !hmac.Equal(sig, o.mac(v[:i])) {
		return flow{}, false
	}
	f := strings.Split(v[:i], ".")
	if len(f) != 4 {
		return flow{}, false
	}
	exp, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || o.auth.now().Unix() >= exp {
		return flow{}, false
	}
	return flow{state: f[0], nonce: f[1], verifier: f[2], expires: exp}, true
}

// Callback finishes a login that Begin started: it checks the state,
// exchanges the code (with the PKCE verifier), verifies the ID token and
// its nonce, and finds the user: the one linked to the identity
// ("issuer#subject"), or else the one user, not yet linked, whose e-mail
// address is the token's verified one, who is linked now. Then it
// starts a session. Every failure is EUNAUTHORIZED, for the caller to
// show.
func (o *OIDC) Callback(w http.ResponseWriter, r *http.Request) (*takedown.User, error) {
	ctx := oidc.ClientContext(r.Context(), o.client)
	var f flow
	ok := false
	if c, err := r.Cookie(o.flowCookie); err == nil {
		f, ok = o.open(c.Value)
		o.auth.clearCookie(w, o.flowCookie) // one use only
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the identity provider refused the login: %s", clamp(e, 100))
	}
	if !ok {
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the login took too long or was begun in another browser; log in again")
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the login's state does not match; log in again")
	}
	code := q.Get("code")
	if code == "" {
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the identity provider sent no authorization code")
	}
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		o.auth.log.Warn("OpenID Connect code exchange failed", "error", err)
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the identity provider did not confirm the login")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the identity provider sent no ID token")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		o.auth.log.Warn("OpenID Connect ID token refused", "error", err)
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the identity provider's ID token is not valid")
	}
	var claims struct {
		Email         string   `json:"email"`
		EmailVerified flexBool `json:"email_verified"`
		AZP           string   `json:"azp"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the identity provider's ID token cannot be read")
	}
	switch {
	case subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.nonce)) != 1:
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the ID token's nonce does not match; log in again")
	case idt.Subject == "":
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the ID token names no subject")
	case len(idt.Audience) > 1 && claims.AZP != o.oauth.ClientID:
		// OpenID Connect Core 3.1.3.7: a token for several audiences
		// must have been issued to this client.
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the ID token was issued to another client")
	}
	return o.login(w, r, idt.Issuer+"#"+idt.Subject, claims.Email, bool(claims.EmailVerified))
}

// login finds the user of an identity, links it by e-mail address on the
// first login, records the attempt and starts a session.
func (o *OIDC) login(w http.ResponseWriter, r *http.Request, subject, email string, verified bool) (*takedown.User, error) {
	ctx, users := r.Context(), o.auth.users
	addr := o.auth.clientAddress(r)
	fail := func(account, reason string) (*takedown.User, error) {
		actx := takedown.WithActor(context.WithoutCancel(ctx), &takedown.Actor{User: &takedown.User{Name: account}, Via: ViaOIDC, Address: addr})
		if err := users.RecordLogin(actx, takedown.LoginAttempt{Account: account, Address: addr, At: o.auth.now(), Reason: reason}); err != nil {
			return nil, err
		}
		if reason == "disabled" {
			return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "this takedown user is disabled; ask an administrator")
		}
		return nil, takedown.Errorf(takedown.EUNAUTHORIZED, "no takedown user for this identity; ask an administrator")
	}
	u, err := users.FindUserByOIDC(ctx, subject)
	switch {
	case takedown.ErrorCode(err) == takedown.ENOTFOUND:
		if email == "" || !verified {
			return fail(clamp(subject, 200), "no such user (no verified e-mail address)")
		}
		u, err = o.linkByEmail(ctx, subject, email, addr)
		if takedown.ErrorCode(err) == takedown.ENOTFOUND {
			return fail(clamp(subject, 200), "no such user")
		} else if err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if u.Disabled {
		return fail(u.Name, "disabled")
	}
	actx := takedown.WithActor(context.WithoutCancel(ctx), &takedown.Actor{User: u, Via: ViaOIDC, Address: addr})
	if err := users.RecordLogin(actx, takedown.LoginAttempt{Account: u.Name, Address: addr, At: o.auth.now(), OK: true}); err != nil {
		return nil, err
	}
	if err := o.auth.StartSession(w, r.WithContext(actx), u, ViaOIDC); err != nil {
		return nil, err
	}
	return u, nil
}

// linkByEmail links the identity to the one user whose e-mail address is
// email (compared without regard to ASCII case: providers and
// administrators capitalize differently) and who has no identity linked
// yet. Several such users are ambiguous and link none. A disabled user is
// returned unlinked, to be refused. Returns ENOTFOUND for no match.
func (o *OIDC) linkByEmail(ctx context.Context, subject, email, addr string) (*takedown.User, error) {
	all, err := o.auth.users.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var match []*takedown.User
	for _, u := range all {
		if u.OIDCSubject == "" && u.Email != "" && asciiEqualFold(u.Email, email) {
			match = append(match, u)
		}
	}
	if len(match) != 1 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no single user with e-mail address %s", email)
	}
	u := match[0]
	if u.Disabled {
		return u, nil
	}
	actx := takedown.WithActor(ctx, &takedown.Actor{User: u, Via: ViaOIDC, Address: addr})
	return o.auth.users.UpdateUser(actx, u.Name, takedown.UserUpdate{OIDCSubject: &subject})
}

// asciiEqualFold compares ignoring the case of ASCII letters only: full
// Unicode folding would equate addresses that mail servers keep apart
// (the Kelvin sign and "k").
func asciiEqualFold(a, b string) bool {
	return len(a) == len(b) && bytes.Equal(asciiLower(a), asciiLower(b))
}

func asciiLower(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// flexBool reads a JSON boolean, or the strings "true" and "false" that
// some providers send for email_verified.
type flexBool bool

func (b *flexBool) UnmarshalJSON(p []byte) error {
	switch string(p) {
	case `true`, `"true"`:
		*b = true
	case `false`, `"false"`, `null`:
		*b = false
	default:
		return fmt.Errorf("email_verified: want a boolean, not %s", p)
	}
	return nil
}
