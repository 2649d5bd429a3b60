// Package web is takedown's HTML interface: login (password or OpenID
// Connect), the operations a user may see, their referrals and the queue
// of unattributed items, the provider portal where liaisons answer
// referrals, and the administration of users, tokens and the provider
// directory. Pages are rendered on the server with html/template;
// there is no script at all, so the Content-Security-Policy can forbid
// every one.
package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/evidence"
	"github.com/takedown-project/takedown/internal/web/locale"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the UI needs from the program that wires it.
type Config struct {
	Store takedown.Store
	Auth  *auth.Authenticator
	// OIDC, when set, offers login through the organisation's identity
	// provider, named OIDCName on the button (empty: the catalog's
	// "your organisation's sign-in").
	OIDC     *auth.OIDC
	OIDCName string
	// HSTS sends Strict-Transport-Security: set it when served over HTTPS.
	HSTS bool
	// Evidence is where captures are kept; nil: captures are listed but
	// not shown.
	Evidence evidence.BlobStore
	Logger   *slog.Logger
	Now      func() time.Time
	// Catalogs holds catalogs beside those built in (locale/*.json): a
	// file xx.json each, at its root, named by the language's tag; one of
	// a language built in replaces it. Tests add a pseudo-locale here.
	Catalogs fs.FS
}

// Server serves the UI. Create it with New.
type Server struct {
	store    takedown.Store
	auth     *auth.Authenticator
	oidc     *auth.OIDC
	oidcName string
	hsts     bool
	evidence evidence.BlobStore
	log      *slog.Logger
	now      func() time.Time
	locales  *locale.Bundle
	pages    map[string]map[string]*template.Template // by language (its tag), then page
	mux      *http.ServeMux
	handler  http.Handler
	reports  reportCache
}

// New loads the catalogs, parses the templates (a broken one, or a
// message a template or Go code names that the English catalog lacks,
// fails here, at start-up, not on the first request) and registers the
// routes.
func New(cfg Config) (*Server, error) {
	s := &Server{store: cfg.Store, auth: cfg.Auth, oidc: cfg.OIDC, oidcName: cfg.OIDCName, hsts: cfg.HSTS, evidence: cfg.Evidence, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.locales, err = locale.Load(cfg.Catalogs); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if err := s.parsePages(templateFS); err != nil {
		return nil, err
	}
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.adapt(rt.handle))
	}
	s.handler = s.auth.Middleware(s.mux)
	return s, nil
}

type route struct {
	pattern string
	handle  func(w http.ResponseWriter, r *http.Request) error
}

func (s *Server) routes() []route {
	return []route{
		{"GET /{$}", s.home},
		{"GET /login", s.loginPage},
		{"POST /login", s.login},
		{"POST /logout", s.logout},
		{"GET /login/oidc", s.oidcBegin},
		{"GET /login/oidc/callback", s.oidcCallback},
		{"GET /users", s.usersPage},
		{"POST /users", s.addUser},
		{"GET /users/{user}", s.userPage},
		{"POST /users/{user}/tokens", s.addToken},
		{"POST /users/{user}/state", s.setUserState},
		{"POST /tokens/{token}/revoke", s.revokeToken},
		{"POST /notices/{notice}/read", s.readNotice},
		{"GET /audit", s.auditPage},
		{"POST /language", s.setLanguage},

		// The provider portal (the link messages carry).
		{"GET /portal", s.portalPage},
		{"GET /portal/referrals/{id}", s.portalReferralPage},
		{"POST /portal/referrals/{id}/acknowledge", s.acknowledge},
		{"POST /portal/referrals/{id}/answers", s.answer},

		// An operation, its items and their verification, for its members.
		{"GET /operations/{slug}", s.operationPage},
		{"GET /operations/{slug}/items", s.itemsPage},
		{"GET /operations/{slug}/items/{id}", s.itemPage},
		{"GET /operations/{slug}/items/{id}/captures/{capture}", s.capturePage},
		{"GET /operations/{slug}/items/{id}/captures/{capture}/images/{n}", s.captureImage},
		{"GET /operations/{slug}/matches", s.matchesPage},
		{"GET /operations/{slug}/holds", s.holdsPage},
		{"GET /operations/{slug}/import", s.importPage},
		{"POST /operations/{slug}/import", s.importFile},
		{"POST /operations/{slug}/holds", s.placeHold},
		{"POST /operations/{slug}/holds/{id}/release", s.releaseHold},
		{"POST /operations/{slug}/matches/{id}/review", s.reviewMatch},

		// An operation's referrals, for its coordinators and auditors.
		{"GET /operations/{slug}/referrals", s.referralsPage},
		{"GET /operations/{slug}/referrals/{id}", s.referralPage},
		{"POST /operations/{slug}/referrals/{id}/redeliver", s.redeliver},
		{"GET /operations/{slug}/unattributed", s.unattributedPage},
		{"POST /operations/{slug}/unattributed", s.attribute},

		// The provider directory, for administrators.
		{"GET /providers", s.providersPage},
		{"GET /providers/{code}", s.providerPage},
		{"POST /providers/{code}", s.updateProvider},
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No script, no plug-in, no frame, no form to elsewhere: the pages
	// show law-enforcement data and captured material will be shown
	// beside it later.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.hsts {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	limit := int64(maxFormBytes)
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/portal/referrals/") && strings.HasSuffix(r.URL.Path, "/answers") {
		limit = maxAnswersBytes
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	s.handler.ServeHTTP(w, r)
}

// maxFormBytes bounds a form post: the UI's forms are small.
const maxFormBytes = 64 << 10

// maxAnswersBytes bounds the portal's answer form: a page of open items,
// each with a reason and details of up to takedown.MaxNotesLength.
const maxAnswersBytes = 2 << 20

// errSignIn sends the browser to the login page.
var errSignIn = errors.New("sign in first")

var (
	msgFormTooLarge = key("error.form_too_large", "bytes")
	msgInternal     = key("error.internal")
)

// statusTexts name the statuses of the error page.
var statusTexts = map[int]locale.Key{
	http.StatusBadRequest:            key("http.bad_request"),
	http.StatusForbidden:             key("http.forbidden"),
	http.StatusNotFound:              key("http.not_found"),
	http.StatusConflict:              key("http.conflict"),
	http.StatusRequestEntityTooLarge: key("http.too_large"),
	http.StatusTooManyRequests:       key("http.too_many_requests"),
	http.StatusInternalServerError:   key("http.internal"),
	http.StatusServiceUnavailable:    key("http.unavailable"),
}

// adapt turns a handler that returns an error into an http.Handler that
// shows the error as a page (and sends those who must sign in to the
// login page). Only internal errors are logged.
func (s *Server) adapt(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, errSignIn) || takedown.ErrorCode(err) == takedown.EUNAUTHORIZED:
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		case errors.As(err, &tooBig):
			err = uiErrorf(takedown.ETOOLARGE, msgFormTooLarge, tooBig.Limit)
		}
		code := takedown.ErrorCode(err)
		status := map[string]int{
			takedown.EINVALID: http.StatusBadRequest, takedown.ENOTFOUND: http.StatusNotFound, takedown.EFORBIDDEN: http.StatusForbidden,
			takedown.ECONFLICT: http.StatusConflict, takedown.ERATELIMITED: http.StatusTooManyRequests, takedown.ETOOLARGE: http.StatusRequestEntityTooLarge,
			takedown.EUNAVAILABLE: http.StatusServiceUnavailable,
		}[code]
		if status == 0 {
			status = http.StatusInternalServerError
			if r.Context().Err() != nil {
				return
			}
			s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		}
		l := s.localizer(r)
		text := http.StatusText(status)
		if k, ok := statusTexts[status]; ok {
			text = l.T(k)
		}
		s.render(w, r, status, "error", map[string]any{"Status": status, "StatusText": text, "Message": errorMessage(l, err)})
	})
}

// actor returns the signed-in user, or errSignIn.
func actor(r *http.Request) (*takedown.Actor, error) {
	a, ok := auth.Authenticated(r.Context())
	if !ok {
		return nil, errSignIn
	}
	return a, nil
}

// baseFuncs are the templates' functions that are the same in every
// language (dates and numbers keep one form); the others are localFuncs.
var baseFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join": func(v any) string {
		switch x := v.(type) {
		case []string:
			return strings.Join(x, ", ")
		case []takedown.Role:
			s := make([]string, len(x))
			for i, r := range x {
				s[i] = string(r)
			}
			return strings.Join(s, ", ")
		case []takedown.Scope:
			s := make([]string, len(x))
			for i, r := range x {
				s[i] = string(r)
			}
			return strings.Join(s, ", ")
		}
		return fmt.Sprint(v)
	},
	// dict hands a part of a page more than one value.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, errors.New("dict: want pairs of a name and a value")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: name %v is no string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	"add":     func(a, b int) int { return a + b },
	"percent": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"score":   func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"mb":      func(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/(1<<20)) },
}

// render writes a page inside the layout, in the request's language;
// data is the page's own, and the layout gets the signed-in user and the
// language (its tag, its direction, and the others to choose from).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	l := s.localizer(r)
	t, ok := s.pages[l.Tag().String()][page]
	if !ok {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Lang"], data["RTL"], data["Languages"], data["Here"] = l.Tag().String(), l.RTL(), s.languages(l), here(r)
	if a, ok := auth.Authenticated(r.Context()); ok {
		data["Me"] = a.User
		data["IsAdmin"] = a.Has(takedown.RoleAdmin)
		data["IsAuditor"] = a.Has(takedown.RoleAuditor)
		_, notLiaison := liaison(a)
		data["IsLiaison"] = notLiaison == nil
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		s.log.Error("render", "page", page, "error", err)
		http.Error(w, l.T(msgInternal), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprint(w, b.String())
}

// localPath returns next if it is a path on this site, else "/": a login
// or the language chooser must not send the browser elsewhere (an open
// redirect). Browsers read "/\host" as "//host", and drop tabs and line
// breaks from a URL ("/\t/host" is "//host" too), so any control
// character is refused.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return next
}
