package synth

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// MutateHandle makes the handle an adversary registers after h was removed
// from platform: one or two of adding digits or incrementing a trailing
// number, adding a suffix (_official, _news, _backup), swapping two adjacent
// letters, an ASCII look-alike (l/1, o/0, rn/m), doubling a letter, dropping
// or adding a separator, and a respelling (c/k, ph/f, ou/u).
//
// The result is valid on platform, differs from h ignoring case (as every
// platform here does), spells no denylisted word h (made valid) did not,
// and on Telegram ends in "bot" only if h did. The second result says what
// was done, one entry per step in the order applied (a later step may cut
// what an earlier one added), each "kind: detail" with kind one of
// normalize, digits, suffix, swap, lookalike, double, separator, respell.
// A handle not valid on platform is first normalised to one that is, and
// that is recorded too.
func MutateHandle(r *rand.Rand, h, platform string) (string, []string) {
	p := rulesFor(platform)
	base := sanitize(r, h, p)
	var pre []string
	if base != h {
		pre = []string{fmt.Sprintf("normalize: %.64q -> %q", h, base)}
	}
	return mutate(r, h, base, pre, 1+r.IntN(2), p)
}

// MutateHandleCrossPlatform makes the handle an adversary registers on
// platform to for what was h on platform from: h adapted to the rules of
// to (separators swapped, generic words dropped or the rest abbreviated
// where it is too long, case lowered for the web), then in half the cases
// mutated once more as by MutateHandle. The result is valid on to but may
// equal h, as many networks keep one name everywhere. The first op is
// always "adapt: ..."; from == to is MutateHandle.
func MutateHandleCrossPlatform(r *rand.Rand, h, from, to string) (string, []string) {
	rulesFor(from)
	if from == to {
		return MutateHandle(r, h, to)
	}
	p := rulesFor(to)
	toks := tokens(h)
	lower := true
	for _, t := range toks {
		lower = lower && strings.ToLower(t) == t
	}
	sep := string(p.seps[0])
	if p.name == YouTube && r.IntN(2) == 0 {
		sep = "" // YouTube handles mostly run the words together
	}
	camel := lower && p.upper && p.name != Telegram && r.IntN(2) == 0
	adapted := sanitize(r, fitTokens(toks, sep, camel, p), p)
	if introduces(h, adapted) {
		// Words run together spelled something; keep h's own characters.
		adapted = sanitize(r, h, p)
	}
	ops := []string{fmt.Sprintf("adapt: %.64q -> %q", h, adapted)}
	if r.IntN(2) == 0 {
		return mutate(r, adapted, adapted, ops, 1, p)
	}
	return adapted, ops
}

// mutate applies n mutations to base, a valid handle on p, drawing again
// until the result is an acceptable successor of orig.
func mutate(r *rand.Rand, orig, base string, pre []string, n int, p *rules) (string, []string) {
	for range 32 {
		s := []byte(base)
		ops := append([]string(nil), pre...)
		for applied, tries := 0, 0; applied < n && tries < 16; tries++ {
			out, op, ok := handleMutations[r.IntN(len(handleMutations))](r, s, p)
			if ok {
				s, ops = out, append(ops, op)
				applied++
			}
		}
		if c := string(s); successor(orig, base, c, p) {
			return c, ops
		}
	}
	// Handles so short or so odd that nothing above fits: a digit at the
	// end always makes a valid successor.
	d := byte('1' + r.IntN(9))
	for range 9 {
		d = '1' + (d-'0')%9
		s := []byte(base)
		if len(s) < p.max {
			s = append(s, d)
		} else {
			s[len(s)-1] = d
		}
		if c := string(s); successor(orig, base, c, p) {
			return c, append(append([]string(nil), pre...), fmt.Sprintf("digits: %q", string(d)))
		}
	}
	// At most one digit can make base equal orig, and a digit spells no
	// word base did not, so one of the nine above is a successor.
	panic(fmt.Sprintf("synth: no successor for %q on %s", orig, p.name))
}

// successor reports whether c may follow orig on p. Denied words and a bot
// ending count as given if base, orig made valid, has them: normalising
// can join letters, and no mutation can take them out again.
func successor(orig, base, c string, p *rules) bool {
	given := orig + "\x00" + base
	return ValidHandle(p.name, c) && !strings.EqualFold(orig, c) && !introduces(given, c) &&
		!(p.name == Telegram && botLike(c) && !botLike(orig) && !botLike(base))
}

// A handleMutation returns s changed and what it did, or false if it does
// not apply to s. It never changes s itself.
type handleMutation func(r *rand.Rand, s []byte, p *rules) ([]byte, string, bool)

var handleMutations = []handleMutation{addDigits, addSuffix, swapLetters, lookalike, doubleLetter, separator, respell}

func splice(s []byte, i, j int, repl string) []byte {
	out := make([]byte, 0, len(s)-(j-i)+len(repl))
	out = append(out, s[:i]...)
	out = append(out, repl...)
	return append(out, s[j:]...)
}

func isSep(p *rules, c byte) bool { return strings.IndexByte(p.seps, c) >= 0 }

// appendFit appends suffix to s, cutting s to make room; an adversary
// keeps the recognisable start of the name and the new ending.
func appendFit(s []byte, suffix string, p *rules, kind string) ([]byte, string, bool) {
	keep := min(len(s), p.max-len(suffix))
	if keep < 3 {
		return nil, "", false
	}
	base := s[:keep]
	for keep < len(s) && len(base) > 0 && isSep(p, base[len(base)-1]) {
		base = base[:len(base)-1]
	}
	if len(base) > 0 && isSep(p, base[len(base)-1]) && isSep(p, suffix[0]) {
		base = base[:len(base)-1]
	}
	if len(base) == 0 {
		return nil, "", false
	}
	desc := fmt.Sprintf("%s: %q", kind, suffix)
	if len(base) < len(s) {
		desc += fmt.Sprintf(" (cut to %q)", string(base))
	}
	return splice(base, len(base), len(base), suffix), desc, true
}

func addDigits(r *rand.Rand, s []byte, p *rules) ([]byte, string, bool) {
	i := len(s)
	for i > 0 && isDigit(s[i-1]) {
		i--
	}
	if i > 0 && i < len(s) && len(s)-i <= 4 && r.IntN(2) == 0 {
		old := string(s[i:])
		n, _ := strconv.Atoi(old)
		next := fmt.Sprintf("%0*d", len(old), n+1+r.IntN(3))
		if out := splice(s, i, len(s), next); len(out) <= p.max {
			return out, fmt.Sprintf("digits: %q -> %q", old, next), true
		}
		return nil, "", false
	}
	var d string
	switch r.IntN(4) {
	case 0:
		d = "24"
	case 1:
		d = strconv.Itoa(10 + r.IntN(90))
	default:
		d = strconv.Itoa(1 + r.IntN(9))
	}
	if r.IntN(3) == 0 {
		d = string(p.seps[r.IntN(len(p.seps))]) + d
	}
	return appendFit(s, d, p, "digits")
}

var suffixes = []string{"_official", "_news", "news2", "_backup", "_tv", "_new", "_live", "_info", "_media", "tv"}

func addSuffix(r *rand.Rand, s []byte, p *rules) ([]byte, string, bool) {
	sfx := suffixes[r.IntN(len(suffixes))]
	word := strings.TrimPrefix(sfx, "_")
	if strings.HasSuffix(strings.ToLower(string(s)), word) {
		return nil, "", false
	}
	if word != sfx {
		sfx = string(p.seps[r.IntN(len(p.seps))]) + word
	}
	return appendFit(s, sfx, p, "suffix")
}

func swapLetters(r *rand.Rand, s []byte, p *rules) ([]byte, string, bool) {
	var at []int
	for i := 0; i+1 < len(s); i++ {
		if isLetter(s[i]) && isLetter(s[i+1]) && toLower(s[i]) != toLower(s[i+1]) {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil, "", false
	}
	i := at[r.IntN(len(at))]
	a, b := s[i+1], s[i]
	if isUpper(s[i]) != isUpper(s[i+1]) { // "Sa" becomes "As", not "aS"
		a, b = toLower(a), toLower(b)
		if isUpper(s[i]) {
			a = toUpper(a)
		} else {
			b = toUpper(b)
		}
	}
	out := splice(s, i, i+2, string([]byte{a, b}))
	return out, fmt.Sprintf("swap: %q -> %q at %d", s[i:i+2], out[i:i+2], i), true
}

// lookalikes are ASCII substitutions that read the same at a glance. An
// upper-case from matches only itself; a lower-case one either case.
var lookalikes = []struct{ from, to string }{
	{"l", "1"}, {"1", "l"}, {"o", "0"}, {"0", "o"}, {"i", "l"}, {"i", "1"},
	{"e", "3"}, {"a", "4"}, {"s", "5"}, {"rn", "m"}, {"m", "rn"}, {"vv", "w"},
	{"w", "vv"}, {"l", "I"}, {"I", "l"}, {"cl", "d"},
}

// respellings are how a name changes when it passes through another
// language's spelling.
var respellings = []struct{ from, to string }{
	{"c", "k"}, {"k", "c"}, {"k", "q"}, {"ph", "f"}, {"f", "ph"}, {"ou", "u"},
	{"u", "ou"}, {"ks", "x"}, {"x", "ks"}, {"y", "i"}, {"i", "y"}, {"v", "w"},
	{"w", "v"}, {"s", "z"}, {"z", "s"},
}

func matchAt(s []byte, i int, from string) bool {
	if i+len(from) > len(s) {
		return false
	}
	for k := 0; k < len(from); k++ {
		if c := from[k]; isUpper(c) && s[i+k] != c || !isUpper(c) && toLower(s[i+k]) != c {
			return false
		}
	}
	return true
}

// substitute applies one of table at a random place where it fits p.
func substitute(r *rand.Rand, s []byte, p *rules, table []struct{ from, to string }, kind string) ([]byte, string, bool) {
	type hit struct{ e, i int }
	var hits []hit
	for e, t := range table {
		if !p.upper && strings.ToLower(t.to) != t.to || len(s)-len(t.from)+len(t.to) > p.max {
			continue
		}
		for i := 0; i < len(s); i++ {
			if matchAt(s, i, t.from) && !(i == 0 && p.name == Telegram && !isLetter(t.to[0])) {
				hits = append(hits, hit{e, i})
			}
		}
	}
	if len(hits) == 0 {
		return nil, "", false
	}
	h := hits[r.IntN(len(hits))]
	t := table[h.e]
	to := t.to
	if isUpper(s[h.i]) && !isUpper(t.from[0]) && p.upper {
		to = string(toUpper(to[0])) + to[1:] // keep "Kel" looking like a capital
	}
	from := string(s[h.i : h.i+len(t.from)])
	return splice(s, h.i, h.i+len(t.from), to), fmt.Sprintf("%s: %q -> %q at %d", kind, from, to, h.i), true
}

func lookalike(r *rand.Rand, s []byte, p *rules) ([]byte, string, bool) {
	return substitute(r, s, p, lookalikes, "lookalike")
}

func respell(r *rand.Rand, s []byte, p *rules) ([]byte, string, bool) {
	return substitute(r, s, p, respellings, "respell")
}

func doubleLetter(r *rand.Rand, s []byte, p *rules) ([]byte, string, bool) {
	if len(s) >= p.max {
		return nil, "", false
	}
	var at []int
	for i, c := range s {
		if isLetter(c) {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil, "", false
	}
	i := at[r.IntN(len(at))]
	// The copy goes after the letter, in lower case: "Kel" becomes "Kkel".
	c := string(toLower(s[i]))
	return splice(s, i+1, i+1, c), fmt.Sprintf("double: %q at %d", c, i), true
}

func separator(r *rand.Rand, s []byte, p *rules) ([]byte, string, bool) {
	var drops, adds []int
	for i, c := range s {
		if isSep(p, c) {
			drops = append(drops, i)
		}
	}
	if len(s) < p.max {
		for i := 1; i < len(s); i++ {
			if isAlnum(s[i-1]) && isAlnum(s[i]) {
				adds = append(adds, i)
			}
		}
	}
	if len(drops) > 0 && (len(adds) == 0 || r.IntN(2) == 0) {
		i := drops[r.IntN(len(drops))]
		return splice(s, i, i+1, ""), fmt.Sprintf("separator: drop %q at %d", string(s[i]), i), true
	}
	if len(adds) == 0 {
		return nil, "", false
	}
	i := adds[r.IntN(len(adds))]
	c := string(p.seps[r.IntN(len(p.seps))])
	return splice(s, i, i, c), fmt.Sprintf("separator: add %q at %d", c, i), true
}
