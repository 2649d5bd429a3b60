package synth

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// FuzzMutateHandle: whatever the input, the successor is valid on the
// platform and differs from it, and a cross-platform successor is valid on
// its target.
func FuzzMutateHandle(f *testing.F) {
	for i, h := range []string{"velmora_news", "VelmoraDispatch", "vel.mora-24", "velmora-dispatch",
		"", "a", "____", "1234", "ÄÖÜß", "velmorabot", strings.Repeat("z", 40), "x--y", "Вел мора", "a\xffb"} {
		f.Add(h, uint8(i), uint8(i+1), uint64(i))
	}
	f.Fuzz(func(t *testing.T, h string, platform, to uint8, seed uint64) {
		p := Platforms[int(platform)%len(Platforms)]
		m, ops := MutateHandle(newRand(seed), h, p)
		if !ValidHandle(p, m) || strings.EqualFold(m, h) || len(ops) == 0 {
			t.Fatalf("MutateHandle(%q, %s) = %q, %q: want a valid, different handle and ops", h, p, m, ops)
		}
		q := Platforms[int(to)%len(Platforms)]
		if c, ops := MutateHandleCrossPlatform(newRand(seed), h, p, q); !ValidHandle(q, c) || len(ops) == 0 {
			t.Fatalf("MutateHandleCrossPlatform(%q, %s, %s) = %q, %q: not valid", h, p, q, c, ops)
		}
	})
}

// FuzzTransliterate: no panic and valid UTF-8 out, in every script.
func FuzzTransliterate(f *testing.F) {
	for _, s := range []string{"Velmora Dispatch", "Shchara Kholm", "Météo 24", "Велмора", "شامس", "a\xffb", "", "Y", "ayy"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, script := range []string{Latin, Cyrillic, Arabic} {
			if out := Transliterate(s, script); !utf8.ValidString(out) {
				t.Fatalf("Transliterate(%q, %s) = %q: not valid UTF-8", s, script, out)
			}
		}
	})
}

// FuzzEditText: no panic; an edit is reported exactly when the text
// changes; links (words with "://") and line breaks survive; valid UTF-8
// stays valid.
func FuzzEditText(f *testing.F) {
	for _, s := range []string{"", "river", "Rain market 12. Bridge tea!\n\nhttps://t.me/velmora/1",
		"a\nb\nc", "  x ,y . z... https://a.example www.b.example\r\n", "سوق، نهر 12. شاي.", "a\xffb c"} {
		f.Add(s, uint64(len(s)))
	}
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		out, ops := EditText(newRand(seed), text)
		if (out != text) != (len(ops) > 0) {
			t.Fatalf("EditText(%q) = %q, %q: ops do not match the change", text, out, ops)
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("EditText(%q) = %q: not valid UTF-8", text, out)
		}
		if strings.Count(text, "\n") != strings.Count(out, "\n") {
			t.Fatalf("EditText(%q) = %q: line breaks changed", text, out)
		}
		links := func(s string) map[string]int {
			m := map[string]int{}
			for _, f := range strings.Fields(s) {
				if strings.Contains(f, "://") {
					m[f]++
				}
			}
			return m
		}
		if d := cmp.Diff(links(text), links(out)); d != "" {
			t.Fatalf("EditText(%q) = %q: links changed (-before +after):\n%s", text, out, d)
		}
	})
}
