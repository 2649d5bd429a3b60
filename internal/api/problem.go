package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/takedown-project/takedown"
)

// Problem is an RFC 9457 problem details document. Code carries takedown's
// application error code so clients can act on it without parsing text.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
}

// statusOf maps application error codes to HTTP statuses.
var statusOf = map[string]int{
	takedown.ECONFLICT:     http.StatusConflict,
	takedown.EINVALID:      http.StatusBadRequest,
	takedown.ENOTFOUND:     http.StatusNotFound,
	takedown.EUNAUTHORIZED: http.StatusUnauthorized,
	takedown.EFORBIDDEN:    http.StatusForbidden,
	takedown.EUNAVAILABLE:  http.StatusServiceUnavailable,
	takedown.ERATELIMITED:  http.StatusTooManyRequests,
	takedown.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	takedown.EINTERNAL:     http.StatusInternalServerError,
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var started errResponseStarted
	if errors.As(err, &started) {
		s.log.Warn("response cut short", "method", r.Method, "path", r.URL.Path, "error", err)
		return
	}
	code := takedown.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == takedown.EINTERNAL {
		if contextDone(r.Context()) {
			// The client went away; nothing to report to anyone.
			return
		}
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	p := Problem{
		Type:     "about:blank",
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   takedown.ErrorMessage(err),
		Instance: r.URL.Path,
		Code:     code,
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
