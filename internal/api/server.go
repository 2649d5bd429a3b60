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
)

// Recognizer turns a submitted URL into an item identity (canon.Recognize).
type Recognizer func(raw string) (takedown.Recognition, error)

// Config is what the API needs from the program that wires it.
type Config struct {
	Store     takedown.Store
	Recognize Recognizer
	Logger    *slog.Logger
	Now       func() time.Time // defaults to time.Now
}

// Server serves the API. Create it with New.
type Server struct {
	store     takedown.Store
	recognize Recognizer
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux
}

// route is one entry of the routing table; the table is also what the
// OpenAPI test compares the document against.
type route struct {
	method, pattern string
	handle          func(w http.ResponseWriter, r *http.Request) error
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/api/v1/openapi.json", s.getOpenAPI},
		{"GET", "/api/v1/agencies", s.listAgencies},
		{"POST", "/api/v1/agencies", s.createAgency},
		{"GET", "/api/v1/agencies/{agency}", s.getAgency},
		{"GET", "/api/v1/operations", s.listOperations},
		{"POST", "/api/v1/operations", s.createOperation},
		{"GET", "/api/v1/operations/{operation}", s.getOperation},
		{"POST", "/api/v1/operations/{operation}/agencies", s.addParticipant},
		{"GET", "/api/v1/operations/{operation}/items", s.listItems},
		{"POST", "/api/v1/operations/{operation}/items", s.submitItem},
		{"POST", "/api/v1/operations/{operation}/items/batch", s.submitBatch},
		{"GET", "/api/v1/operations/{operation}/items/{item}", s.getItem},
		{"GET", "/api/v1/recognize", s.recognizeURL},
	}
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, recognize: cfg.Recognize, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.pattern, s.adapt(rt.handle))
	}
	// Anything else under the API prefix is a JSON 404, not the HTML of
	// whatever serves "/".
	s.mux.Handle("/api/", s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		return takedown.Errorf(takedown.ENOTFOUND, "no API route %s %s", r.Method, r.URL.Path)
	}))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// adapt turns a handler that returns an error into an http.Handler: the
// error becomes a problem details response, and only internal errors are
// logged, with their real cause.
func (s *Server) adapt(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
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
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
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
