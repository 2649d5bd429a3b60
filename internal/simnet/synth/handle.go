package synth

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Platforms whose handle rules the package knows.
const (
	Telegram = "telegram"
	X        = "x"
	YouTube  = "youtube"
	Web      = "web"
)

// Platforms lists them in a fixed order, for tests and for drawing one.
var Platforms = []string{Telegram, X, YouTube, Web}

// rules are the parts of a platform's handle syntax the generators need.
type rules struct {
	name     string
	min, max int
	upper    bool   // upper-case letters allowed
	seps     string // separator characters allowed, the first preferred
}

var platformRules = []rules{
	{name: Telegram, min: 5, max: 32, upper: true, seps: "_"},
	{name: X, min: 4, max: 15, upper: true, seps: "_"},
	{name: YouTube, min: 3, max: 30, upper: true, seps: "_.-"},
	{name: Web, min: 3, max: 40, upper: false, seps: "-"},
}

func rulesFor(platform string) *rules {
	for i := range platformRules {
		if platformRules[i].name == platform {
			return &platformRules[i]
		}
	}
	panic(fmt.Sprintf("synth: unknown platform %q", platform))
}

func isLower(c byte) bool  { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isLetter(c byte) bool { return isLower(c) || isUpper(c) }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }

func toLower(c byte) byte {
	if isUpper(c) {
		return c + 'a' - 'A'
	}
	return c
}

func toUpper(c byte) byte {
	if isLower(c) {
		return c - ('a' - 'A')
	}
	return c
}

// ValidHandle reports whether h is a well-formed handle on platform:
//
//   - telegram: 5-32 of [A-Za-z0-9_], starting with a letter, no leading,
//     trailing or doubled underscore (Telegram ignores case, so upper case
//     is accepted);
//   - x: 4-15 of [A-Za-z0-9_];
//   - youtube: the part after "@", 3-30 of [A-Za-z0-9._-];
//   - web: a DNS label for a site, 3-40 of [a-z0-9-], no leading or
//     trailing hyphen and no "--" in the third and fourth places, which
//     IDNA reserves for encoded names.
//
// Unknown platforms have no valid handles.
func ValidHandle(platform, h string) bool {
	var p *rules
	for i := range platformRules {
		if platformRules[i].name == platform {
			p = &platformRules[i]
		}
	}
	if p == nil || len(h) < p.min || len(h) > p.max {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(isLower(c) || isDigit(c) || p.upper && isUpper(c) || strings.IndexByte(p.seps, c) >= 0) {
			return false
		}
	}
	switch platform {
	case Telegram:
		return isLetter(h[0]) && h[len(h)-1] != '_' && !strings.Contains(h, "__")
	case Web:
		return h[0] != '-' && h[len(h)-1] != '-' && !(len(h) >= 4 && h[2:4] == "--")
	}
	return true
}

// handleWords are what outlets add to a name to make a handle.
var handleWords = []string{"news", "media", "tv", "info", "live", "daily", "official", "channel", "press", "online"}

// genericWords are the first to go when a handle must be shortened: those
// and what successors add.
var genericWords = append(append([]string(nil), handleWords...), "backup", "new", "hub")

func generic(tok string) bool {
	l := strings.ToLower(tok)
	for _, w := range genericWords {
		if l == w {
			return true
		}
	}
	for i := 0; i < len(l); i++ {
		if !isDigit(l[i]) {
			return false
		}
	}
	return true
}

// Handle derives a handle on platform from brand: the invented name alone
// or with the brand's noun, a generic word (news, tv, media) or digits,
// joined in the ways the platform allows, shortened to fit. Each call may
// give another handle for the same brand, as real networks hold several.
// Brand may be in any script; an empty brand gets an invented name. On
// Telegram a handle never ends in "bot", which would make it a bot account.
func Handle(r *rand.Rand, brand, platform string) string {
	p := rulesFor(platform)
	toks := tokens(brand)
	if len(toks) > 1 && strings.EqualFold(toks[0], "the") {
		toks = toks[1:]
	}
	if len(toks) == 0 {
		toks = []string{strings.ToLower(invent(r))}
	}
	for range 32 {
		h := handleCandidate(r, toks, p)
		if ValidHandle(platform, h) && !denied(h) && !(platform == Telegram && botLike(h)) {
			return h
		}
	}
	// Only a brand that spells a denied word gets here: the fallback
	// does without the brand.
	return sanitize(r, strings.ToLower(invent(r)), p)
}

func botLike(h string) bool {
	return strings.HasSuffix(strings.ToLower(h), "bot")
}

func handleCandidate(r *rand.Rand, toks []string, p *rules) string {
	name := strings.ToLower(toks[0])
	parts := []string{name}
	digits := func() string {
		switch r.IntN(4) {
		case 0:
			return "24"
		case 1:
			return strconv.Itoa(1 + r.IntN(9))
		}
		return strconv.Itoa(10 + r.IntN(90))
	}
	switch r.IntN(6) {
	case 1:
		for _, t := range toks[1:] {
			parts = append(parts, strings.ToLower(t))
		}
	case 2:
		parts = append(parts, handleWords[r.IntN(len(handleWords))])
	case 3:
		parts = append(parts, digits())
	case 4:
		if len(toks) > 1 {
			parts = append(parts, strings.ToLower(toks[1]))
		}
		parts = append(parts, digits())
	case 5:
		if len(toks) > 1 {
			parts = []string{strings.ToLower(toks[len(toks)-1]), name}
		} else {
			parts = append(parts, "tv")
		}
	}
	sep := ""
	if r.IntN(2) == 0 {
		sep = string(p.seps[r.IntN(len(p.seps))])
	}
	camel := p.upper && p.name != Telegram && r.IntN(2) == 0
	return sanitize(r, fitTokens(parts, sep, camel, p), p)
}

// maxName bounds how much of a brand or handle tokens reads: names are
// short, and fitTokens is quadratic in the number of words.
const maxName = 256

// tokens splits a name into its words: at separators and spaces, between
// letters and digits and at lower-to-upper case changes, after folding it
// to ASCII.
func tokens(s string) []string {
	if len(s) > 4*maxName {
		s = s[:4*maxName] // a rune cut in two is dropped by foldASCII
	}
	a := foldASCII(s)
	if len(a) > maxName {
		a = a[:maxName]
	}
	var out []string
	start := -1
	for i := 0; i <= len(a); i++ {
		boundary := i == len(a) || !isAlnum(a[i])
		if !boundary && start >= 0 {
			prev := a[i-1]
			boundary = isDigit(prev) != isDigit(a[i]) || isLower(prev) && isUpper(a[i])
			if boundary {
				out = append(out, a[start:i])
				start = i
				continue
			}
		}
		if boundary {
			if start >= 0 {
				out = append(out, a[start:i])
			}
			start = -1
		} else if start < 0 {
			start = i
		}
	}
	return out
}

// fitTokens joins toks into at most p.max bytes: with sep, then without,
// then dropping trailing generic words and digits, then cutting the last
// word to no less than three letters, then keeping the first word and the
// initials of the rest, then cutting the whole.
func fitTokens(toks []string, sep string, camel bool, p *rules) string {
	join := func(ts []string, sep string) string {
		var b strings.Builder
		for i, t := range ts {
			if i > 0 {
				b.WriteString(sep)
			}
			if camel && t != "" {
				b.WriteByte(toUpper(t[0]))
				b.WriteString(t[1:])
			} else {
				b.WriteString(t)
			}
		}
		return b.String()
	}
	ts := toks
	for {
		if c := join(ts, sep); len(c) <= p.max {
			return c
		}
		if c := join(ts, ""); len(c) <= p.max {
			return c
		}
		if len(ts) > 1 && generic(ts[len(ts)-1]) {
			ts = ts[:len(ts)-1]
			continue
		}
		break
	}
	if n := len(ts); n > 1 {
		for _, s := range []string{sep, ""} {
			room := p.max - len(join(ts[:n-1], s)) - len(s)
			if room >= 3 && room < len(ts[n-1]) {
				cut := append(append([]string(nil), ts[:n-1]...), ts[n-1][:room])
				return join(cut, s)
			}
		}
		ini := make([]string, len(ts))
		ini[0] = ts[0]
		for i, t := range ts[1:] {
			ini[i+1] = t[:1]
		}
		if c := join(ini, ""); len(c) <= p.max {
			return c
		}
	}
	return join(ts, "")[:p.max]
}

// sanitize turns any string into a valid handle on p that keeps as much of
// it as it can: characters folded to ASCII, everything else made the
// platform's separator, case lowered where it must be, rules on first and
// last characters applied, cut to length and padded with digits.
func sanitize(r *rand.Rand, h string, p *rules) string {
	a := foldASCII(h)
	b := make([]byte, 0, len(a))
	for i := 0; i < len(a); i++ {
		c := a[i]
		switch {
		case isLower(c) || isDigit(c):
		case isUpper(c):
			if !p.upper {
				c = toLower(c)
			}
		case strings.IndexByte(p.seps, c) >= 0:
		default:
			// Dropping it could join two words into one that means
			// something: a separator keeps them apart.
			c = p.seps[0]
		}
		b = append(b, c)
	}
	switch p.name {
	case Telegram:
		for len(b) > 0 && !isLetter(b[0]) {
			b = b[1:]
		}
		b = collapse(b, '_')
	case Web:
		for len(b) > 0 && b[0] == '-' {
			b = b[1:]
		}
		b = collapse(b, '-')
	}
	if len(b) == 0 {
		b = append(b, strings.ToLower(invent(r))...)
	}
	if len(b) > p.max {
		b = b[:p.max]
	}
	if p.name == Telegram || p.name == Web {
		for len(b) > 0 && b[len(b)-1] == p.seps[0] {
			b = b[:len(b)-1]
		}
	}
	for len(b) < p.min {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}

// collapse replaces runs of c by one c.
func collapse(b []byte, c byte) []byte {
	out := b[:0]
	for i := 0; i < len(b); i++ {
		if b[i] == c && len(out) > 0 && out[len(out)-1] == c {
			continue
		}
		out = append(out, b[i])
	}
	return out
}
