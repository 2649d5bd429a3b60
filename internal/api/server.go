// Package api is takedown's JSON API under /api/v1: the routes, their
// handlers and the OpenAPI document that describes them.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/refer"
)

// Recognizer turns a submitted URL into an item identity (canon.Recognize).
type Recognizer func(raw string) (takedown.Recognition, error)

// Config is what the API needs from the program that wires it.
type Config struct {
	Store     takedown.Store
	Recognize Recognizer
	// Auth authenticates requests (tokens, sessions); every route but the
	// OpenAPI document needs a signed-in user.
	Auth *auth.Authenticator
	// Plan batches an operation's ready items (refer.Plan with the
	// server's attribution); nil leaves batching to the command line.
	Plan   PlanFunc
	Logger *slog.Logger
	Now    func() time.Time // defaults to time.Now
}

// PlanFunc puts an operation's ready items into referral batches under
// rule.
type PlanFunc func(ctx context.Context, operationID int64, rule refer.Rule) (*refer.Result, error)

// Server serves the API. Create it with New.
type Server struct {
	store     takedown.Store
	recognize Recognizer
	auth      *auth.Authenticator
	plan      PlanFunc
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux
	handler   http.Handler
}

// route is one entry of the routing table; the table is also what the
// OpenAPI test compares the document against, and what the access test
// walks with every role.
type route struct {
	method, pattern string
	handle          func(w http.ResponseWriter, r *http.Request) error
	// public routes need no signed-in user.
	public bool
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/api/v1/openapi.json", s.getOpenAPI, true},
		{"GET", "/api/v1/me", s.getMe, false},
		{"GET", "/api/v1/agencies", s.listAgencies, false},
		{"POST", "/api/v1/agencies", s.createAgency, false},
		{"GET", "/api/v1/agencies/{agency}", s.getAgency, false},
		{"GET", "/api/v1/providers", s.listProviders, false},
		{"POST", "/api/v1/providers", s.createProvider, false},
		{"GET", "/api/v1/providers/{provider}", s.getProvider, false},
		{"PATCH", "/api/v1/providers/{provider}", s.updateProvider, false},
		{"GET", "/api/v1/users", s.listUsers, false},
		{"POST", "/api/v1/users", s.createUser, false},
		{"GET", "/api/v1/users/{user}", s.getUser, false},
		{"PATCH", "/api/v1/users/{user}", s.updateUser, false},
		{"GET", "/api/v1/users/{user}/tokens", s.listTokens, false},
		{"POST", "/api/v1/users/{user}/tokens", s.createToken, false},
		{"DELETE", "/api/v1/tokens/{token}", s.revokeToken, false},
		{"GET", "/api/v1/operations", s.listOperations, false},
		{"POST", "/api/v1/operations", s.createOperation, false},
		{"GET", "/api/v1/operations/{operation}", s.getOperation, false},
		{"POST", "/api/v1/operations/{operation}/agencies", s.addParticipant, false},
		{"GET", "/api/v1/operations/{operation}/items", s.listItems, false},
		{"POST", "/api/v1/operations/{operation}/items", s.submitItem, false},
		{"POST", "/api/v1/operations/{operation}/items/batch", s.submitBatch, false},
		{"GET", "/api/v1/operations/{operation}/items/{item}", s.getItem, false},
		{"POST", "/api/v1/operations/{operation}/items/{item}/attribution", s.attributeItem, false},
		{"GET", "/api/v1/operations/{operation}/items/{item}/observations", s.listObservations, false},
		{"GET", "/api/v1/operations/{operation}/items/{item}/captures", s.listCaptures, false},
		{"GET", "/api/v1/operations/{operation}/figures", s.operationFigures, false},
		{"GET", "/api/v1/operations/{operation}/resurgence", s.operationResurgence, false},
		{"GET", "/api/v1/operations/{operation}/matches", s.listMatches, false},
		{"GET", "/api/v1/operations/{operation}/matches/{match}", s.getMatch, false},
		{"POST", "/api/v1/operations/{operation}/matches/{match}/review", s.reviewMatch, false},
		{"GET", "/api/v1/operations/{operation}/holds", s.listHolds, false},
		{"POST", "/api/v1/operations/{operation}/holds", s.placeHold, false},
		{"GET", "/api/v1/operations/{operation}/holds/{hold}", s.getHold, false},
		{"POST", "/api/v1/operations/{operation}/holds/{hold}/renew", s.renewHold, false},
		{"POST", "/api/v1/operations/{operation}/holds/{hold}/release", s.releaseHold, false},
		{"GET", "/api/v1/operations/{operation}/referrals", s.listReferrals, false},
		{"POST", "/api/v1/operations/{operation}/referrals", s.createReferral, false},
		{"GET", "/api/v1/operations/{operation}/referrals/{referral}", s.getReferral, false},
		{"POST", "/api/v1/operations/{operation}/referrals/plan", s.planReferrals, false},
		{"POST", "/api/v1/operations/{operation}/referrals/{referral}/redeliver", s.redeliverReferral, false},
		{"GET", "/api/v1/operations/{operation}/notifications", s.listNotifications, false},
		{"POST", "/api/v1/operations/{operation}/notifications/{notification}/read", s.readNotification, false},
		{"GET", "/api/v1/referrals", s.listProviderReferrals, false},
		{"GET", "/api/v1/referrals/{referral}", s.getProviderReferral, false},
		{"POST", "/api/v1/referrals/{referral}/acknowledge", s.acknowledgeReferral, false},
		{"POST", "/api/v1/referrals/{referral}/answers", s.answerReferral, false},
		{"GET", "/api/v1/audit", s.listAudit, false},
		{"GET", "/api/v1/audit/verify", s.verifyAudit, false},
		{"GET", "/api/v1/recognize", s.recognizeURL, false},
	}
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, recognize: cfg.Recognize, auth: cfg.Auth, plan: cfg.Plan, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.pattern, s.adapt(rt))
	}
	// Anything else under the API prefix is a JSON 404, not the HTML of
	// whatever serves "/".
	s.mux.Handle("/api/", s.adapt(route{handle: func(w http.ResponseWriter, r *http.Request) error {
		return takedown.Errorf(takedown.ENOTFOUND, "no API route %s %s", r.Method, r.URL.Path)
	}, public: true}))
	s.handler = s.mux
	if s.auth != nil {
		s.handler = s.auth.Middleware(s.mux)
	}
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// API answers are data for a program, never a page to render, and may
	// carry what no cache should keep.
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	s.handler.ServeHTTP(w, r)
}

// adapt turns a route's handler that returns an error into an
// http.Handler: it lets in only signed-in users (but on public routes),
// keeps read-only tokens to reading, and turns the handler's error into a
// problem details response; only internal errors are logged, with their
// real cause.
func (s *Server) adapt(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.authorize(rt, r)
		if err == nil {
			err = rt.handle(w, r)
		}
		if err != nil {
			if takedown.ErrorCode(err) == takedown.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="takedown"`)
			}
			s.writeError(w, r, err)
		}
	})
}

// authorize checks what holds for every route: a signed-in user, and a
// token that may write for anything but reading.
func (s *Server) authorize(rt route, r *http.Request) error {
	if rt.public {
		return nil
	}
	a, ok := auth.Authenticated(r.Context())
	if !ok {
		return takedown.Errorf(takedown.EUNAUTHORIZED, "sign in first: send a bearer token (takedown token create) or use a browser session")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !a.MayWrite() {
		return takedown.Errorf(takedown.EFORBIDDEN, "this token may only read; create one with the write scope")
	}
	return nil
}

// maxBodyBytes bounds a request body; a batch of MaxBatchSize submissions
// with notes fits comfortably.
const maxBodyBytes = 32 << 20

// decode reads a JSON request body into v, refusing unknown fields so that a
// misspelt field is an error rather than silently ignored.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return takedown.Errorf(takedown.EINVALID, "request body must be application/json, not %q", ct)
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return takedown.Errorf(takedown.ETOOLARGE, "request body is larger than %d bytes; send fewer items at once", tooBig.Limit)
		case errors.Is(err, io.EOF):
			return takedown.Errorf(takedown.EINVALID, "request body is empty")
		case errors.As(err, &syntax):
			return takedown.Errorf(takedown.EINVALID, "request body is not valid JSON at byte %d: %v", syntax.Offset, err)
		case errors.As(err, &typ):
			return takedown.Errorf(takedown.EINVALID, "field %q must be %s, not %s", typ.Field, typ.Type, typ.Value)
		default:
			return takedown.Errorf(takedown.EINVALID, "cannot read request body: %v", err)
		}
	}
	if dec.More() {
		return takedown.Errorf(takedown.EINVALID, "request body holds more than one JSON value")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// The status line is gone; all that is left is to say so in the log.
		return fmt.Errorf("write response: %w", errResponseStarted{err})
	}
	return nil
}

// errResponseStarted marks an error that happened after the response
// began, when a problem document can no longer be sent.
type errResponseStarted struct{ error }

func (e errResponseStarted) Unwrap() error { return e.error }

func contextDone(ctx context.Context) bool { return ctx.Err() != nil }
