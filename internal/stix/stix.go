// Package stix reads and writes STIX 2.1 bundles, the format threat
// intelligence platforms (OpenCTI, MISP's STIX export, TAXII feeds) use to
// exchange observables. Read turns the URLs, domains and accounts of a
// bundle into exchange.Findings for the importer; Writer exports an
// operation's items so that another unit's platform can load them.
//
// Only what takedown needs is mapped: it tracks online locations, so a
// bundle's URLs, domain names, social media accounts and the simplest
// indicator patterns become findings; notes, reports and observed-data
// add context to them; everything else is counted and left alone.
package stix

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"time"

	"github.com/takedown-project/takedown/internal/exchange"
)

// Summary counts what Read did with a bundle's objects. Objects = the
// objects read; each is a finding source, context, a problem or ignored,
// and one object can yield several Findings (an indicator with an OR).
type Summary struct {
	Objects  int64 `json:"objects"`
	Findings int64 `json:"findings"`
	Problems int64 `json:"problems"`
	Ignored  int64 `json:"ignored"`
	// Flushed counts findings that were handed on before the end of the
	// bundle because more than MaxBuffered objects were held: context
	// (notes, reports, observed-data) that came after them in the file
	// could not be applied to them.
	Flushed int64 `json:"flushed,omitempty"`
}

// stixNamespace is the namespace the STIX 2.1 specification (section
// 2.9) fixes for the deterministic identifiers of cyber-observable
// objects: the same URL gets the same url--ID in every producer's bundle.
var stixNamespace = mustUUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

// takedownNamespace is takedown's own UUIDv5 namespace for the identifiers
// of the objects it creates (identities, observed-data, notes, bundles), so
// that exporting the same operation twice writes the same identifiers and
// a receiving platform updates its objects instead of duplicating them.
// It is a random UUID chosen once; never change it.
var takedownNamespace = mustUUID("6f0c8a55-3b0e-4e57-9a43-2d8f5e1c7b19")

// mustUUID parses a UUID in its canonical text form.
func mustUUID(s string) [16]byte {
	var u [16]byte
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("stix: bad UUID " + s)
	}
	copy(u[:], b)
	return u
}

// uuid5 returns the name-based UUID (RFC 9562 version 5, SHA-1) of name
// in namespace ns, in canonical text form. Written here rather than
// taken from a library because it is a dozen lines and the STIX
// identifiers depend on every byte of it.
func uuid5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	sum := h.Sum(nil)
	var u [16]byte
	copy(u[:], sum[:16])
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// canonicalString writes s as RFC 8785 (JSON Canonicalization Scheme)
// serialises a string: the form the STIX specification hashes for the
// identifier of a cyber-observable. encoding/json differs from it (it
// escapes <, > and & and U+2028), hence this.
func canonicalString(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				const hexdigits = "0123456789abcdef"
				b.WriteString(`\u00`)
				b.WriteByte(hexdigits[r>>4])
				b.WriteByte(hexdigits[r&0xf])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// scoID returns the deterministic identifier the STIX 2.1 specification
// gives a cyber-observable whose ID contributing properties are one string
// property (url and domain-name: "value").
func scoID(typ, prop, value string) string {
	return typ + "--" + uuid5(stixNamespace, "{"+canonicalString(prop)+":"+canonicalString(value)+"}")
}

// stixTime formats t as STIX timestamps are written: RFC 3339 in UTC with
// exactly millisecond precision, which the specification requires of
// created and modified.
func stixTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// parseTime reads a STIX timestamp. The specification demands UTC with a
// "Z"; producers also write offsets, which are read as well.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// validID reports whether id is "TYPE--UUID" for the given type.
func validID(typ, id string) string {
	rest, ok := strings.CutPrefix(id, typ+"--")
	if !ok {
		return "id " + quote(id, 80) + " does not start with " + quote(typ+"--", 80)
	}
	if !isUUID(rest) {
		return "id " + quote(id, 80) + " does not end in a UUID"
	}
	return ""
}

// isUUID reports whether s is a UUID in canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// shorten cuts s to at most n bytes on a rune boundary.
func shorten(s string, n int) string { return exchange.Shorten(s, n) }

// quote quotes s for a message, shortened to about n bytes.
func quote(s string, n int) string {
	return `"` + strings.ToValidUTF8(shorten(s, n), "\uFFFD") + `"`
}
