package canon

import (
	"net/netip"
	"strings"

	"github.com/takedown-project/takedown"
)

// Recognize canonicalises raw and recognises the item it points at. The
// URL must be http or https (or have no scheme, which means http) and name a
// real host: a DNS name with at least two labels or an IP address. Beyond
// Canonicalize, it keeps a non-default port (a canonical URL must still
// reach the same server), drops tracking parameters, and applies the rules
// of the platform the host belongs to. Returns EINVALID, with a message
// that quotes the input, for anything that is not such a URL.
func Recognize(raw string) (takedown.Recognition, error) {
	if strings.HasPrefix(raw, "tg:") || strings.HasPrefix(raw, "TG:") {
		return recognizeTG(raw)
	}
	if scheme, ok := opaqueScheme(raw); ok {
		return takedown.Recognition{}, invalid("not a web URL: %s has scheme %q; only http and https are taken", quote(raw), scheme)
	}
	p, err := split(raw)
	if err != nil {
		return takedown.Recognition{}, invalid("not a URL: %s: %s", quote(raw), takedown.ErrorMessage(err))
	}
	if p.scheme != "http" && p.scheme != "https" {
		return takedown.Recognition{}, invalid("not a web URL: %s has scheme %q; only http and https are taken", quote(raw), p.scheme)
	}
	if msg := checkHost(p.host); msg != "" {
		return takedown.Recognition{}, invalid("not a URL: %s %s", quote(raw), msg)
	}
	if p.hasQuery {
		p.query, p.hasQuery = dropParams(p.query, genericTracking)
	}
	if r, ok := recognizePlatform(&p); ok {
		return r, nil
	}
	return website(&p), nil
}

// opaqueScheme finds a scheme without "//" such as "mailto:" or
// "javascript:", which Safe Browsing would read as a host name. A host with
// a port ("example.org:8080/") has a dot before the colon; a scheme has not.
func opaqueScheme(raw string) (string, bool) {
	s := trimControl(raw)
	i := strings.IndexByte(s, ':')
	if i <= 0 || strings.HasPrefix(s[i:], "://") || strings.IndexByte(s[:i], '.') >= 0 {
		return "", false
	}
	if schemeEnd(s[:i]+"://") != i {
		return "", false
	}
	return strings.ToLower(s[:i]), true
}

// checkHost says what is wrong with a host name, or "" if it may be a real
// host: an IP address, or a DNS name of at least two labels of letters,
// digits and hyphens (IDN already turned into punycode).
func checkHost(h string) string {
	if strings.HasPrefix(h, "[") {
		if a, err := netip.ParseAddr(strings.TrimPrefix(strings.TrimSuffix(h, "]"), "[")); err == nil && a.Is6() && strings.HasSuffix(h, "]") {
			return ""
		}
		return "has a malformed IPv6 address"
	}
	if _, ok := parseIPv4(h); ok {
		return ""
	}
	if len(h) > 253 {
		return "has a host name longer than 253 characters"
	}
	labels := 0
	start := 0
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			c := h[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "has no valid host name"
			}
			continue
		}
		l := h[start:i]
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "has no valid host name"
		}
		labels++
		start = i + 1
	}
	if labels < 2 {
		return "has no host name with a domain (such as example.org)"
	}
	tld := h[strings.LastIndexByte(h, '.')+1:]
	if !strings.HasPrefix(tld, "xn--") {
		for i := 0; i < len(tld); i++ {
			if tld[i] < 'a' || tld[i] > 'z' {
				return "has no valid top-level domain"
			}
		}
	}
	return ""
}

// genericTracking are query parameters that only say where a click came
// from, on any site.
var genericTracking = paramSet{
	prefixes: []string{"utm_"},
	names:    []string{"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "ref_src"},
}

type paramSet struct {
	prefixes []string
	names    []string
}

func (ps paramSet) has(key string) bool {
	for _, n := range ps.names {
		if key == n {
			return true
		}
	}
	for _, p := range ps.prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// dropParams removes the parameters in ps from a query, keeping the order
// of the others. hasQuery is false when nothing is left.
func dropParams(q string, ps paramSet) (string, bool) {
	if q == "" {
		return "", false
	}
	// Fast path: nothing to drop.
	drop := false
	for rest := q; rest != ""; {
		kv, tail, _ := strings.Cut(rest, "&")
		k, _, _ := strings.Cut(kv, "=")
		if ps.has(strings.ToLower(k)) {
			drop = true
			break
		}
		rest = tail
	}
	if !drop {
		return q, true
	}
	var b strings.Builder
	for rest := q; rest != ""; {
		kv, tail, _ := strings.Cut(rest, "&")
		rest = tail
		k, _, _ := strings.Cut(kv, "=")
		if kv == "" || ps.has(strings.ToLower(k)) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv)
	}
	return b.String(), b.Len() > 0
}

// param returns the value of the first query parameter named key.
func param(q, key string) string {
	for rest := q; rest != ""; {
		kv, tail, _ := strings.Cut(rest, "&")
		rest = tail
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			return v
		}
	}
	return ""
}

// website recognises what no platform rule claims: a website, or a file
// when the path ends in a download's extension. http and https, and a
// leading "www.", do not make two items.
func website(p *parts) takedown.Recognition {
	canonical := p.String()
	kind := takedown.KindWebsite
	if isFilePath(p.path) {
		kind = takedown.KindFile
	}
	id := canonical[len(p.scheme)+3:]
	id = strings.TrimPrefix(id, "www.")
	return takedown.Recognition{Identity: "web:" + id, Canonical: canonical, Platform: takedown.PlatformWeb, Kind: kind}
}

var fileExtensions = map[string]bool{
	"pdf": true, "zip": true, "rar": true, "7z": true, "tar": true, "gz": true, "tgz": true, "apk": true, "exe": true, "msi": true, "dmg": true,
	"mp4": true, "mp3": true, "m4a": true, "mkv": true, "avi": true, "mov": true, "wmv": true, "webm": true, "flv": true, "ogg": true, "wav": true, "3gp": true,
	"doc": true, "docx": true, "xls": true, "xlsx": true, "ppt": true, "pptx": true, "epub": true, "txt": true, "rtf": true, "odt": true,
	"jpg": true, "jpeg": true, "png": true, "gif": true, "webp": true, "bmp": true, "tif": true, "tiff": true, "svg": true,
}

func isFilePath(path string) bool {
	seg := path[strings.LastIndexByte(path, '/')+1:]
	i := strings.LastIndexByte(seg, '.')
	if i <= 0 || i == len(seg)-1 || len(seg)-i > 6 {
		return false
	}
	ext := seg[i+1:]
	if fileExtensions[ext] {
		return true
	}
	return fileExtensions[strings.ToLower(ext)]
}

// segments splits a path into its non-empty segments.
func segments(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// PostsURL is the page that shows an item's recent posts when its own
// page does not: a Telegram channel's public preview. "" when the item's
// page is the one.
func PostsURL(t takedown.Platform, k takedown.Kind, handle string) string {
	if t == takedown.PlatformTelegram && k == takedown.KindChannel && handle != "" {
		return "https://t.me/s/" + handle
	}
	return ""
}
