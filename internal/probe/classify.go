package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"html"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/outbound"
)

// Classify implements Classifier: the first rule of the platform's, then
// of the default section that matches r gives the verdict; when none
// does, the verdict is unknown (unexpected) by the rule NoRule. A
// platform without a section of its own gets the default rules alone.
//
// It is cheap: conditions are tried from the cheapest (kind, status,
// headers) to the dearest (the body, then body regexes), the body is
// lowered at most once and only for a rule that ignores case, and nothing
// is compiled here.
func (rs *Rules) Classify(platform takedown.Platform, kind takedown.Kind, r *Response) Verdict {
	if r == nil {
		return Verdict{Verdict: takedown.VerdictUnknown, Reason: takedown.ReasonUnexpected, Rule: NoRule}
	}
	chain, ok := rs.chains[platform]
	if !ok {
		chain = rs.def
	}
	a := answer{r: r, noAnswer: r.Status == 0 || r.Guarded}
	defer a.release()
	for _, rule := range chain {
		if rule.matches(&a, kind) {
			return Verdict{Verdict: rule.verdict, Reason: rule.reason, Rule: rule.name}
		}
	}
	return Verdict{Verdict: takedown.VerdictUnknown, Reason: takedown.ReasonUnexpected, Rule: NoRule}
}

// answer is a response as the rules read it, with what is worked out
// once for all rules.
type answer struct {
	r        *Response
	noAnswer bool

	errKind string

	lowered bool
	lower   *[]byte // the body, ASCII letters lowered; pooled

	titled bool
	title  string
}

var lowerPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (a *answer) release() {
	if a.lower != nil {
		*a.lower = (*a.lower)[:0]
		lowerPool.Put(a.lower)
		a.lower = nil
	}
}

func (a *answer) kind() string {
	if a.errKind == "" {
		a.errKind = ErrorKind(a.r)
	}
	return a.errKind
}

func (a *answer) lowerBody() []byte {
	if !a.lowered {
		a.lowered = true
		a.lower = lowerPool.Get().(*[]byte)
		*a.lower = lowerASCII((*a.lower)[:0], a.r.Body)
	}
	return *a.lower
}

func (a *answer) htmlTitle() string {
	if !a.titled {
		a.titled = true
		a.title = htmlTitle(a.r.Body)
	}
	return a.title
}

// matches reports whether every condition of the rule holds for a.
func (rule *compiledRule) matches(a *answer, kind takedown.Kind) bool {
	r := a.r
	if len(rule.kinds) > 0 && !slices.Contains(rule.kinds, kind) {
		return false
	}
	if rule.noAnswer != a.noAnswer {
		return false
	}
	if rule.noAnswer {
		if rule.errKinds != nil && !slices.Contains(rule.errKinds, a.kind()) {
			return false
		}
		return rule.url == nil || rule.url.MatchString(r.URL)
	}
	if len(rule.status) > 0 {
		ok := false
		for _, s := range rule.status {
			if r.Status >= s.lo && r.Status <= s.hi {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, h := range rule.headers {
		vs := r.Header[h.name]
		if len(vs) == 0 {
			return false
		}
		if h.re != nil && !slices.ContainsFunc(vs, h.re.MatchString) {
			return false
		}
	}
	if rule.url != nil && !rule.url.MatchString(r.URL) {
		return false
	}
	if rule.finalURL != nil && !rule.finalURL.MatchString(finalURL(r)) {
		return false
	}
	if rule.redirect != nil && !redirected(r, rule.redirect.MatchString) {
		return false
	}
	if rule.title != nil && !rule.title.MatchString(a.htmlTitle()) {
		return false
	}
	if len(rule.body) > 0 || len(rule.bodyLacks) > 0 {
		body := r.Body
		if rule.ignoreCase {
			body = a.lowerBody()
		}
		if len(rule.body) > 0 && !slices.ContainsFunc(rule.body, func(t []byte) bool { return bytes.Contains(body, t) }) {
			return false
		}
		if slices.ContainsFunc(rule.bodyLacks, func(t []byte) bool { return bytes.Contains(body, t) }) {
			return false
		}
	}
	return rule.bodyRE == nil || rule.bodyRE.Match(r.Body)
}

// finalURL is where the probe ended: FinalURL, or the URL probed.
func finalURL(r *Response) string {
	if r.FinalURL != "" {
		return r.FinalURL
	}
	return r.URL
}

// redirected reports whether match holds for an address the probe was
// sent to: each redirect's target as recorded (absolute or relative),
// the Location of an answer that is itself a redirect (one the prober did
// not follow), and the final URL when it is not the one probed.
func redirected(r *Response, match func(string) bool) bool {
	if slices.ContainsFunc(r.Redirects, match) {
		return true
	}
	if r.Status >= 300 && r.Status < 400 {
		if loc := r.Header.Get("Location"); loc != "" && match(loc) {
			return true
		}
	}
	return r.FinalURL != "" && r.FinalURL != r.URL && match(r.FinalURL)
}

// htmlTitle returns the text of the first <title> element of an HTML
// body, entities decoded and spaces trimmed; "" when there is none.
func htmlTitle(body []byte) string {
	rest := body
	for {
		i := bytes.IndexByte(rest, '<')
		if i < 0 || len(rest)-i < 7 {
			return ""
		}
		rest = rest[i+1:]
		if !equalFoldASCII(rest[:5], "title") || (rest[5] != '>' && rest[5] != ' ' && rest[5] != '\t' && rest[5] != '\n' && rest[5] != '\r') {
			continue
		}
		gt := bytes.IndexByte(rest, '>')
		if gt < 0 {
			return ""
		}
		text := rest[gt+1:]
		if end := bytes.IndexByte(text, '<'); end >= 0 {
			text = text[:end]
		}
		if len(text) > 1000 {
			text = text[:1000]
		}
		return strings.TrimSpace(html.UnescapeString(string(text)))
	}
}

func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// lowerASCII appends src to dst with ASCII letters lowered; other bytes
// (UTF-8 included) are kept as they are.
func lowerASCII(dst, src []byte) []byte {
	n := len(dst)
	dst = append(dst, src...)
	for i := n; i < len(dst); i++ {
		if c := dst[i]; 'A' <= c && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// ErrorKind says why a probe got no answer, as the rules name it
// (ErrKind*): "" when it got one. The safety guard's refusal is
// Response.Guarded (or outbound's ErrNoRoute in simulator mode); an
// error may also name its kind itself with a method
// ProbeErrorKind() string. Otherwise the error's chain is read: DNS
// errors, TLS and certificate errors, timeouts and deadlines, refused
// connections, resets and answers broken off.
func ErrorKind(r *Response) string {
	if r.Guarded || errors.Is(r.Err, outbound.ErrNoRoute) {
		return ErrKindGuard
	}
	if r.Status != 0 {
		return ""
	}
	err := r.Err
	if err == nil {
		return ErrKindOther
	}
	var named interface{ ProbeErrorKind() string }
	if errors.As(err, &named) {
		if k := named.ProbeErrorKind(); slices.Contains(errKinds, k) {
			return k
		}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return ErrKindDNS
	}
	var (
		certErr     *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		authority   x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalidCert x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &recordErr) || errors.As(err, &alertErr) ||
		errors.As(err, &authority) || errors.As(err, &hostname) || errors.As(err, &invalidCert) {
		return ErrKindTLS
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		return ErrKindTimeout
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return ErrKindRefused
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrKindReset
	}
	// Errors that lost their type on the way (HTTP/2's, some of the
	// transport's) still say what they are.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		return ErrKindTLS
	case strings.Contains(msg, "timeout") || strings.Contains(msg, "deadline exceeded"):
		return ErrKindTimeout
	case strings.Contains(msg, "connection refused"):
		return ErrKindRefused
	case strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe") || strings.Contains(msg, "EOF") ||
		strings.Contains(msg, "stream error") || strings.Contains(msg, "server closed") || strings.Contains(msg, "GOAWAY"):
		return ErrKindReset
	case strings.Contains(msg, "no such host"):
		return ErrKindDNS
	}
	return ErrKindOther
}
