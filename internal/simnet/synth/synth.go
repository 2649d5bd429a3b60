// Package synth invents the content of the simulated media network: outlet
// names, channel titles, handles on each platform, descriptions and posts in
// several languages and scripts, and the small changes an adversary makes
// when it re-creates a removed channel or reposts a text.
//
// Everything it produces is synthetic and neutral: names are made of
// invented syllables and bland nouns (Dispatch, Relay, Bulletin), texts are
// lorem-ipsum-like strings of everyday words (weather, market, river,
// morning). No real organisation, outlet, person or slogan is ever named,
// and generated names that happen to spell a word on an internal denylist
// are thrown away and drawn again.
//
// Every generator takes the *rand.Rand to draw from and uses nothing else that
// varies (no global source, no map iteration order), so the same seed gives
// the same network. Functions given an unknown language, platform or script
// panic: those are programming errors in the simulator, not data.
package synth

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Scripts, as returned by Script and accepted by Transliterate.
const (
	Latin    = "latin"
	Cyrillic = "cyrillic"
	Arabic   = "arabic"
)

// Languages are the language codes the text generators know, Latin script
// first, then Cyrillic (ru), then Arabic script (ar, fa, ps).
var Languages = []string{"en", "fr", "de", "es", "tr", "ru", "ar", "fa", "ps"}

// Script reports the script lang is written in: Latin, Cyrillic or Arabic.
func Script(lang string) string {
	return lexiconFor(lang).script
}

// syllables make invented names. They are Latin-European in flavour and
// contain no q, so names do not drift towards the Arabic-script outlet names
// of the real propaganda networks this simulation stands in for.
var syllables = []string{
	"vel", "mo", "ra", "tor", "lin", "ka", "sen", "dri", "pa", "lu", "ne", "ri",
	"sol", "ta", "ven", "ba", "co", "fa", "gre", "hal", "jo", "mar", "nor", "os",
	"pel", "sta", "tre", "ul", "vin", "wes", "yar", "zel", "dor", "fin", "gal",
	"kel", "lor", "mir", "nel", "or", "pra", "sil", "tam", "ber", "cal", "el",
	"bel", "ro", "sa", "ti", "ve", "den", "fen", "lo", "ru", "te", "vo", "ni", "da",
}

// brandNouns are what outlets call themselves; all of them neutral.
var brandNouns = []string{
	"Dispatch", "Relay", "Bulletin", "Echo", "Herald", "Wire", "Media", "Voice",
	"Review", "Courier", "Digest", "Gazette", "Chronicle", "Journal", "Post",
	"Signal", "Beacon", "Lantern", "Compass", "Observer", "Ledger", "Press",
	"Studio", "Network",
}

// brandQualifiers go before a noun in three-word names ("Velmora News Relay").
var brandQualifiers = []string{"News", "Media", "Radio", "Daily", "Weekly", "Morning", "Evening"}

// denylist holds words no generated name, handle or text may contain, even
// by accident of syllables, respelling or look-alike substitution. Compared
// against the lower-cased output as substrings.
var denylist = []string{
	"jihad", "mujahid", "caliph", "khalif", "isis", "isil", "daesh", "qaeda",
	"amaq", "taliban", "hamas", "nazi", "hitler", "martyr", "shahid", "kafir",
	"kufr", "infidel", "crusade", "emir", "ummah", "sharia", "koran", "quran",
	"allah", "islam", "jesus", "christ", "bible", "torah", "church", "mosque",
	"satan", "god", "jew", "kill", "attack", "bomb", "weapon", "terror", "death",
	"blood", "shoot", "enemy", "rebel", "osama",
}

// denied reports whether s contains a denylisted word.
func denied(s string) bool {
	l := strings.ToLower(s)
	for _, w := range denylist {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// introduces reports whether out contains a denylisted word that in does
// not: a mutation may keep what it was given but must not add to it.
func introduces(in, out string) bool {
	li, lo := strings.ToLower(in), strings.ToLower(out)
	for _, w := range denylist {
		if strings.Contains(lo, w) && !strings.Contains(li, w) {
			return true
		}
	}
	return false
}

// invent makes a capitalised name of two or three syllables.
func invent(r *rand.Rand) string {
	for {
		n := 2
		if r.IntN(3) == 0 {
			n = 3
		}
		var b strings.Builder
		for range n {
			b.WriteString(syllables[r.IntN(len(syllables))])
		}
		s := b.String()
		if len(s) >= 4 && len(s) <= 11 && !denied(s) {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
}

// BrandName invents the name of an outlet, such as "Velmora Dispatch",
// "The Kelnor Herald" or "Dritavin News Relay", always in Latin script.
func BrandName(r *rand.Rand) string {
	name := invent(r)
	noun := brandNouns[r.IntN(len(brandNouns))]
	switch r.IntN(10) {
	case 0, 1:
		return "The " + name + " " + noun
	case 2:
		q := brandQualifiers[r.IntN(len(brandQualifiers))]
		if q == noun {
			return name + " " + noun
		}
		return name + " " + q + " " + noun
	}
	return name + " " + noun
}

// Title makes the display name of a channel or account of brand in lang:
// the brand alone or with a tagline in that language ("Velmora Dispatch |
// Morning Bulletin"). For Cyrillic and Arabic-script languages the brand,
// expected in Latin script, is transliterated, as outlets localise their
// names. An empty brand gets an invented one.
func Title(r *rand.Rand, brand, lang string) string {
	lx := lexiconFor(lang)
	if brand == "" {
		brand = BrandName(r)
	}
	if lx.script != Latin {
		brand = Transliterate(brand, lx.script)
	}
	tag := lx.taglines[r.IntN(len(lx.taglines))]
	switch r.IntN(5) {
	case 0, 1:
		return brand
	case 2:
		return brand + " | " + tag
	case 3:
		return brand + " – " + tag
	}
	return tag + " · " + brand
}

// Description makes one to three sentences of filler in lang, for a
// channel's about text.
func Description(r *rand.Rand, lang string) string {
	lx := lexiconFor(lang)
	n := 1 + r.IntN(3)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		lx.sentence(r, &b)
	}
	return b.String()
}

// PostText makes one to four sentences of filler in lang with every one of
// links in it, verbatim: some after a sentence, the rest on lines of their
// own at the end, as channels post them.
func PostText(r *rand.Rand, lang string, links []string) string {
	lx := lexiconFor(lang)
	n := 1 + r.IntN(4)
	after := make([][]string, n) // links that follow sentence i
	var tail []string
	for _, l := range links {
		if r.IntN(2) == 0 {
			tail = append(tail, l)
		} else {
			i := r.IntN(n)
			after[i] = append(after[i], l)
		}
	}
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		lx.sentence(r, &b)
		for _, l := range after[i] {
			b.WriteByte(' ')
			b.WriteString(l)
		}
	}
	if len(tail) > 0 {
		b.WriteString("\n")
		for _, l := range tail {
			b.WriteString("\n")
			b.WriteString(l)
		}
	}
	return b.String()
}

// sentence appends five to eleven filler words, sometimes with a number
// (a time, a temperature) and a comma, then a full stop.
func (lx *lexicon) sentence(r *rand.Rand, b *strings.Builder) {
	n := 5 + r.IntN(7)
	comma := -1
	if n > 6 && r.IntN(2) == 0 {
		comma = 2 + r.IntN(n-4)
	}
	number := -1
	if r.IntN(3) == 0 {
		number = 1 + r.IntN(n-1)
	}
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		var w string
		if i == number {
			w = strconv.Itoa(1 + r.IntN(30))
		} else {
			w = lx.words[r.IntN(len(lx.words))]
		}
		if i == 0 && lx.script != Arabic {
			w = capitalise(w)
		}
		b.WriteString(w)
		if i == comma {
			b.WriteString(lx.comma)
		}
	}
	b.WriteByte('.')
}

func capitalise(w string) string {
	c, size := utf8.DecodeRuneInString(w)
	if c == utf8.RuneError {
		return w
	}
	return string(unicode.ToUpper(c)) + w[size:]
}

func lexiconFor(lang string) *lexicon {
	lx, ok := lexicons[lang]
	if !ok {
		panic(fmt.Sprintf("synth: unknown language %q", lang))
	}
	return lx
}
