// Package probe observes whether items are online: a safe, polite HTTP
// client (an SSRF guard checked on every connection, per-host and global
// limits, timeouts, a cap on bytes read, retries with jitter for transient
// errors only) and classification rules per platform, kept as data, that
// turn an answer into a verdict with its reason and evidence.
package probe

import (
	"net/http"

	"github.com/takedown-project/takedown"
)

// Response is what a probe saw, as the rules read it.
type Response struct {
	// Status is the final HTTP status; 0 when there was no answer.
	Status int
	// URL is the URL probed, FinalURL where the redirects ended, and
	// Redirects the Location of each redirect followed, in order.
	URL       string
	FinalURL  string
	Redirects []string
	Header    http.Header
	// Body is the start of the body, at most the prober's cap; Truncated
	// says the body went on.
	Body      []byte
	Truncated bool
	// Err is the error that ended the probe without an answer (refused,
	// reset, timeout, refused by the guard); nil when there is an answer.
	Err error
	// Guarded says the safety guard refused an address on the way.
	Guarded bool
}

// Verdict is a classification: the verdict, its reason (takedown.Reason*)
// and the name of the rule that made it.
type Verdict struct {
	Verdict takedown.Verdict
	Reason  string
	Rule    string
}

// Classifier turns what a probe saw into a verdict.
type Classifier interface {
	Classify(platform takedown.Platform, kind takedown.Kind, r *Response) Verdict
}
