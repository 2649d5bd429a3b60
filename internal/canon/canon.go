// Package canon turns URLs as people paste them into canonical form and
// recognises what they point at: the platform, the kind of item, its handle
// and the identity under which two submissions are the same item. Pure
// functions, no I/O; hot enough to run on every row of a million-row import.
package canon

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/takedown-project/takedown"
)

// parts is a URL taken apart after Safe Browsing canonicalisation, before it
// is escaped and put together again.
type parts struct {
	scheme string // lower case; "http" when the input had none
	host   string // canonical host, not escaped
	port   string // digits, "" when none or the scheme's default
	path   string // starts with "/", dot segments resolved, slashes collapsed
	query  string // without "?"; hasQuery tells "?" from nothing
	// hasQuery is true when the URL had a "?", even with nothing after it.
	hasQuery bool
}

// Canonicalize returns the Google Safe Browsing canonical form of raw:
// tabs, CR and LF removed, the fragment dropped, percent-escapes undone until
// none is left, the host lower-cased, its dots trimmed and collapsed, IPv4
// addresses in any notation written as dotted decimal, IDN hosts in their
// ASCII (punycode) form, "/./" and "/../" resolved, repeated slashes in the
// path collapsed, the port dropped (as Safe Browsing does), a missing scheme
// taken as http, and then the characters Safe Browsing escapes escaped
// again. It fails only for input that has no host at all.
func Canonicalize(raw string) (string, error) {
	p, err := split(raw)
	if err != nil {
		return "", err
	}
	p.port = ""
	return p.String(), nil
}

// String assembles the canonical URL, escaping what Safe Browsing escapes.
func (p *parts) String() string {
	var b strings.Builder
	b.Grow(len(p.scheme) + len(p.host) + len(p.path) + len(p.query) + 12)
	b.WriteString(p.scheme)
	b.WriteString("://")
	escapeTo(&b, p.host)
	if p.port != "" {
		b.WriteByte(':')
		b.WriteString(p.port)
	}
	escapeTo(&b, p.path)
	if p.hasQuery {
		b.WriteByte('?')
		escapeTo(&b, p.query)
	}
	return b.String()
}

// split canonicalises raw the Safe Browsing way and takes it apart.
func split(raw string) (parts, error) {
	var p parts
	s := trimControl(raw)
	if strings.ContainsAny(s, "\t\r\n") {
		s = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(s)
	}
	if s == "" {
		return p, invalid("empty input")
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if strings.IndexByte(s, '%') >= 0 {
		s = unescapeAll(s)
	}

	// Scheme: letters, digits, "+-." before "://"; anything else has none.
	if i := schemeEnd(s); i > 0 {
		p.scheme = strings.ToLower(s[:i])
		s = s[i+3:]
	} else {
		p.scheme = "http"
	}

	// Authority ends at the first "/" or "?"; a "#" here came from an
	// escape and belongs to the host.
	end := strings.IndexAny(s, "/?")
	if end < 0 {
		end = len(s)
	}
	authority, rest := s[:end], s[end:]
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		// User information is dropped: "https://t.me@evil.example/" is on
		// evil.example, whatever it looks like.
		authority = authority[i+1:]
	}
	host, port := splitPort(authority)
	host, err := canonicalHost(host)
	if err != nil {
		return p, err
	}
	p.host = host
	if port != "" && !(p.scheme == "http" && port == "80") && !(p.scheme == "https" && port == "443") {
		p.port = port
	}

	path := rest
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		path, p.query, p.hasQuery = rest[:i], rest[i+1:], true
	}
	p.path = cleanPath(path)
	return p, nil
}

// trimControl trims characters up to and including space from both ends,
// as Safe Browsing trims leading and trailing whitespace.
func trimControl(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	return s[i:j]
}

// schemeEnd returns the index of "://" after a syntactically valid scheme,
// or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0 && strings.HasPrefix(s[i:], "://"):
			return i
		default:
			return -1
		}
	}
	return -1
}

// splitPort splits "host:port", minding IPv6 literals in brackets. A host
// name cannot hold a colon, so the host ends at the first one; what follows
// is the port when it is all digits, and is dropped otherwise ("a:b:c" is
// host "a").
func splitPort(a string) (host, port string) {
	i := strings.IndexByte(a, ':')
	if strings.HasPrefix(a, "[") {
		if end := strings.IndexByte(a, ']'); end >= 0 {
			i = strings.IndexByte(a[end:], ':')
			if i >= 0 {
				i += end
			}
		}
	}
	if i < 0 {
		return a, ""
	}
	host, port = a[:i], strings.TrimRight(a[i+1:], ".")
	for _, c := range []byte(port) {
		if c < '0' || c > '9' {
			return host, ""
		}
	}
	return host, port
}

// canonicalHost lower-cases the host, trims and collapses dots, normalises
// IPv4 notations and turns IDN into ASCII.
func canonicalHost(h string) (string, error) {
	// A colon left at either end is an empty port ("host:" or "host:.") or
	// nothing at all (":0").
	h = strings.Trim(h, ".:")
	if strings.Contains(h, "..") {
		var b strings.Builder
		for i := 0; i < len(h); i++ {
			if h[i] == '.' && i > 0 && h[i-1] == '.' {
				continue
			}
			b.WriteByte(h[i])
		}
		h = b.String()
	}
	if h == "" {
		return "", invalid("no host name")
	}
	ascii := true
	for i := 0; i < len(h); i++ {
		if h[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		// Only what could be a host name goes through IDNA; anything else
		// ("%" and other punctuation) is escaped as Safe Browsing does, or
		// IDNA could put a "%" beside hex digits and canonical forms would
		// unescape into something else.
		if utf8.ValidString(h) && hostLike(h) {
			// Mapping may turn a full-width "％" into "%": check the result too.
			a, err := idnaProfile.ToASCII(h)
			if err == nil && strings.Trim(a, ".") == "" {
				// Only characters IDNA ignores (a soft hyphen): no name
				// at all (found by fuzzing).
				return "", invalid("no host name")
			}
			if err == nil && hostLike(a) {
				h = a
			}
		}
		// Not IDN: Safe Browsing escapes the bytes instead (escapeTo).
	}
	h = lowerASCII(h)
	if ip, ok := parseIPv4(h); ok {
		return ip, nil
	}
	return h, nil
}

// hostLike reports whether the ASCII characters of h are those of host
// names.
func hostLike(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c < utf8.RuneSelf && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// idnaProfile maps Unicode host names to ASCII the way browsers look them
// up (UTS 46, non-transitional), without rejecting names the registry
// rules would, since the host may be on any network.
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false), idna.VerifyDNSLength(false))

// lowerASCII lower-cases ASCII letters only, byte by byte: strings.ToLower
// would replace invalid UTF-8 bytes, which Safe Browsing escapes instead.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// unescapeAll percent-unescapes s until no valid escape is left.
func unescapeAll(s string) string {
	for {
		u, changed := unescapeOnce(s)
		if !changed {
			return u
		}
		s = u
	}
}

func unescapeOnce(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	for i >= 0 && !(i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])) {
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			return s, false
		}
		i += 1 + j
	}
	if i < 0 {
		return s, false
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// escapeTo writes s with the characters Safe Browsing escapes (<= space,
// >= 0x7f, '#', '%') percent-escaped in upper-case hex.
func escapeTo(b *strings.Builder, s string) {
	const hexDigits = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' || c == '%' {
			b.WriteString(s[start:i])
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			start = i + 1
		}
	}
	b.WriteString(s[start:])
}

// cleanPath resolves "." and ".." segments and collapses repeated slashes.
// The result always starts with "/"; a trailing slash is kept.
func cleanPath(p string) string {
	if p == "" || p == "/" {
		return "/"
	}
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && p[0] == '/' {
		return p // the common case: nothing to clean
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "":
			trailing = last
			continue
		case ".":
			trailing = last
			continue
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			trailing = last
			continue
		}
		out = append(out, s)
		trailing = false
	}
	r := "/" + strings.Join(out, "/")
	if trailing && len(out) > 0 {
		r += "/"
	}
	return r
}

func invalid(format string, args ...any) error {
	return takedown.Errorf(takedown.EINVALID, format, args...)
}

// quote shortens input for an error message.
func quote(s string) string {
	const max = 120
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}
