package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
)

// confusables maps Latin letters to Cyrillic and Greek letters drawn the
// same in common fonts, after Unicode's confusables list.
var confusables = map[rune][]rune{
	'a': {'\u0430'}, 'c': {'\u0441', '\u03f2'}, 'e': {'\u0435'}, 'h': {'\u04bb'},
	'i': {'\u0456'}, 'j': {'\u0458'}, 'o': {'\u043e', '\u03bf'}, 'p': {'\u0440', '\u03c1'},
	's': {'\u0455'}, 'x': {'\u0445'}, 'y': {'\u0443'},
	'A': {'\u0410', '\u0391'}, 'B': {'\u0412', '\u0392'}, 'C': {'\u0421'}, 'E': {'\u0415', '\u0395'},
	'H': {'\u041d', '\u0397'}, 'I': {'\u0406', '\u0399'}, 'J': {'\u0408'}, 'K': {'\u041a', '\u039a'},
	'M': {'\u041c', '\u039c'}, 'N': {'\u039d'}, 'O': {'\u041e', '\u039f'}, 'P': {'\u0420', '\u03a1'},
	'S': {'\u0405'}, 'T': {'\u0422', '\u03a4'}, 'X': {'\u0425', '\u03a7'}, 'Y': {'\u04ae', '\u03a5'},
	'Z': {'\u0396'},
}

// Markers an adversary adds to a successor's name. The Latin ones are only
// used on Latin titles.
var (
	latinMarkers  = []string{" 2", " Official", " | backup", " ★", "★ ", " (new)", " | Official", " 2.0", " – reserve", " ✓"}
	symbolMarkers = []string{" 2", " ★", "★ ", " ✓", " | 2", " •", " II"}
)

// MutateTitle makes the display name of a successor channel: one or two of
// a marker (" 2", " Official", " | backup", " ★"), Unicode confusables
// (some Latin letters replaced by Cyrillic or Greek ones drawn the same),
// and transliteration of a Latin title into Cyrillic or Arabic script.
// Confusables and transliteration are not combined. The result always
// differs from title. Ops are "kind: detail" with kind one of marker,
// confusable, transliterate; confusable details list each replacement as
// letter->U+XXXX at rune index.
func MutateTitle(r *rand.Rand, title string) (string, []string) {
	kinds := []string{"marker"}
	for _, c := range title {
		if _, ok := confusables[c]; ok {
			kinds = append(kinds, "confusable")
			break
		}
	}
	if mostlyLatin(title) && Transliterate(title, Cyrillic) != title {
		kinds = append(kinds, "transliterate")
	}
	first := kinds[r.IntN(len(kinds))]
	chosen := []string{first}
	if r.IntN(2) == 0 {
		var rest []string
		for _, k := range kinds {
			if k != first && (k == "marker" || first == "marker") {
				rest = append(rest, k)
			}
		}
		if len(rest) > 0 {
			chosen = append(chosen, rest[r.IntN(len(rest))])
		}
	}
	out := title
	var ops []string
	for _, k := range chosen {
		var op string
		switch k {
		case "marker":
			markers := symbolMarkers
			if mostlyLatin(out) {
				markers = latinMarkers
			}
			m := markers[r.IntN(len(markers))]
			if strings.HasSuffix(m, " ") {
				out = m + out
			} else {
				out += m
			}
			op = fmt.Sprintf("marker: %q", m)
		case "confusable":
			out, op = confuse(r, out)
		case "transliterate":
			script := Cyrillic
			if r.IntN(2) == 0 {
				script = Arabic
			}
			out = Transliterate(out, script)
			op = "transliterate: " + script
		}
		ops = append(ops, op)
	}
	return out, ops
}

// mostlyLatin reports whether at least half the letters of s, and at least
// one, are Latin.
func mostlyLatin(s string) bool {
	latin, letters := 0, 0
	for _, c := range s {
		if unicode.IsLetter(c) {
			letters++
			if unicode.Is(unicode.Latin, c) {
				latin++
			}
		}
	}
	return latin > 0 && 2*latin >= letters
}

// confuse replaces about a third of the letters that have confusables, and
// at least one.
func confuse(r *rand.Rand, s string) (string, string) {
	rs := []rune(s)
	var at []int
	for i, c := range rs {
		if _, ok := confusables[c]; ok {
			at = append(at, i)
		}
	}
	var pick []int
	for _, i := range at {
		if r.IntN(3) == 0 {
			pick = append(pick, i)
		}
	}
	if len(pick) == 0 {
		pick = []int{at[r.IntN(len(at))]}
	}
	var desc []string
	for _, i := range pick {
		alts := confusables[rs[i]]
		c := alts[r.IntN(len(alts))]
		desc = append(desc, fmt.Sprintf("%c->U+%04X at %d", rs[i], c, i))
		rs[i] = c
	}
	return string(rs), "confusable: " + strings.Join(desc, ", ")
}
