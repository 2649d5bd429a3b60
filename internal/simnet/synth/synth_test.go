package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5e17)) }

// world draws one of everything the package makes, in a fixed order.
func world(r *rand.Rand) []string {
	var out []string
	add := func(s string, ops []string) {
		out = append(out, s)
		out = append(out, ops...)
	}
	brand := BrandName(r)
	out = append(out, brand)
	for _, lang := range Languages {
		title := Title(r, brand, lang)
		out = append(out, title, Description(r, lang))
		post := PostText(r, lang, []string{"https://t.me/example_chan/12", "https://site-one.example/a"})
		out = append(out, post)
		add(MutateTitle(r, title))
		add(EditText(r, post))
	}
	for _, p := range Platforms {
		h := Handle(r, brand, p)
		out = append(out, h)
		add(MutateHandle(r, h, p))
		for _, to := range Platforms {
			add(MutateHandleCrossPlatform(r, h, p, to))
		}
	}
	return out
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	for seed := range uint64(50) {
		a, b := world(newRand(seed)), world(newRand(seed))
		if d := cmp.Diff(a, b); d != "" {
			t.Fatalf("seed %d: two runs differ (-first +second):\n%s", seed, d)
		}
		if c := world(newRand(seed + 1000)); cmp.Equal(a, c) {
			t.Fatalf("seeds %d and %d give the same world", seed, seed+1000)
		}
	}
}

func TestValidHandle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		platform, h string
		want        bool
	}{
		{"telegram", "velmora", true},
		{"telegram", "Velmora_News24", true},
		{"telegram", "vel_mora_tv", true},
		{"telegram", "velm", false},
		{"telegram", strings.Repeat("a", 32), true},
		{"telegram", strings.Repeat("a", 33), false},
		{"telegram", "1velmora", false},
		{"telegram", "_velmora", false},
		{"telegram", "velmora_", false},
		{"telegram", "vel__mora", false},
		{"telegram", "vel-mora", false},
		{"telegram", "velmorа", false}, // Cyrillic а
		{"x", "Velm", true},
		{"x", "vel", false},
		{"x", "_1velmora_", true},
		{"x", "VelmoraDispatch", true},
		{"x", "VelmoraDispatch1", false},
		{"x", "vel.mora", false},
		{"youtube", "vel", true},
		{"youtube", "Vel.mora-news_24", true},
		{"youtube", "ve", false},
		{"youtube", strings.Repeat("v", 31), false},
		{"youtube", "@velmora", false},
		{"web", "velmora-dispatch", true},
		{"web", "v24", true},
		{"web", "Velmora", false},
		{"web", "-velmora", false},
		{"web", "velmora-", false},
		{"web", "ve--lmora", false},
		{"web", "vel--mora", true},
		{"web", "vel_mora", false},
		{"web", strings.Repeat("w", 41), false},
		{"myspace", "velmora", false},
	}
	for _, tt := range tests {
		if got := ValidHandle(tt.platform, tt.h); got != tt.want {
			t.Errorf("ValidHandle(%q, %q) = %v, want %v", tt.platform, tt.h, got, tt.want)
		}
	}
}

// blocklist are words that must never appear in anything generated.
var blocklist = []string{"jihad", "caliphate", "isis", "daesh", "martyr", "kill", "attack", "bomb", "weapon"}

func checkClean(t *testing.T, what, s string) {
	t.Helper()
	l := strings.ToLower(s)
	for _, w := range blocklist {
		if strings.Contains(l, w) {
			t.Errorf("%s %q contains %q", what, s, w)
		}
	}
}

func TestHandles(t *testing.T) {
	t.Parallel()
	for _, p := range Platforms {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			kinds := map[string]int{}
			for seed := range uint64(3000) {
				r := newRand(seed)
				brand := BrandName(r)
				h := Handle(r, brand, p)
				if !ValidHandle(p, h) {
					t.Fatalf("seed %d: Handle(%q, %s) = %q, not valid", seed, brand, p, h)
				}
				checkClean(t, "handle", h)
				if p == Telegram && strings.HasSuffix(h, "bot") {
					t.Errorf("seed %d: Handle(%q, telegram) = %q, a bot name", seed, brand, h)
				}
				m, ops := MutateHandle(r, h, p)
				if !ValidHandle(p, m) || strings.EqualFold(m, h) || len(ops) == 0 {
					t.Fatalf("seed %d: MutateHandle(%q, %s) = %q, %q: want a valid, different handle and ops", seed, h, p, m, ops)
				}
				checkClean(t, "mutated handle", m)
				for _, op := range ops {
					kind, _, ok := strings.Cut(op, ": ")
					if !ok {
						t.Fatalf("op %q is not kind: detail", op)
					}
					kinds[kind]++
				}
				for _, to := range Platforms {
					c, ops := MutateHandleCrossPlatform(r, h, p, to)
					if !ValidHandle(to, c) || len(ops) == 0 {
						t.Fatalf("seed %d: MutateHandleCrossPlatform(%q, %s, %s) = %q, %q: not valid", seed, h, p, to, c, ops)
					}
					checkClean(t, "cross-platform handle", c)
				}
			}
			// Every kind of mutation happens, and nothing needs normalising
			// when the input came from Handle.
			want := []string{"digits", "suffix", "swap", "lookalike", "double", "separator", "respell"}
			for _, k := range want {
				if kinds[k] == 0 {
					t.Errorf("no %s mutation in 3000 handles", k)
				}
			}
			if kinds["normalize"] != 0 {
				t.Errorf("%d generated handles needed normalising", kinds["normalize"])
			}
		})
	}
}

func TestHandleVariety(t *testing.T) {
	t.Parallel()
	r := newRand(7)
	brand := "Velmora Dispatch"
	for _, p := range Platforms {
		seen := map[string]bool{}
		for range 30 {
			h := Handle(r, brand, p)
			if !strings.Contains(strings.ToLower(h), "vel") && !strings.Contains(strings.ToLower(h), "disp") {
				t.Errorf("Handle(%q, %s) = %q: nothing of the brand in it", brand, p, h)
			}
			seen[strings.ToLower(h)] = true
		}
		if len(seen) < 5 {
			t.Errorf("%s: only %d different handles for one brand in 30 draws: %v", p, len(seen), seen)
		}
	}
}

func TestHandleBrands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		brand, platform string
	}{
		{"", "telegram"},
		{"The", "x"},
		{"★★★", "web"},
		{"Velmora★News", "telegram"},
		{"Велмора Диспетч", "telegram"},
		{"فيلمورا", "youtube"},
		{"Bücher Straße Ölmühle Übersicht Zeitung", "x"},
		{"24 7", "telegram"},
		{strings.Repeat("Abcdefghij ", 10), "web"},
	}
	for _, tt := range tests {
		for seed := range uint64(200) {
			if h := Handle(newRand(seed), tt.brand, tt.platform); !ValidHandle(tt.platform, h) {
				t.Errorf("Handle(%q, %s) = %q, not valid", tt.brand, tt.platform, h)
			}
		}
	}
}

func TestMutateHandleOddInputs(t *testing.T) {
	t.Parallel()
	inputs := []string{"", "a", "ab", "____", "-", "1234", "ÄÖÜ", "Velm", "velmorabot",
		strings.Repeat("z", 32), strings.Repeat("Zz", 40), "a_b", "a-b-c", "x--y", "@velmora", "вел мора", "a\xffb"}
	for _, p := range Platforms {
		for _, h := range inputs {
			for seed := range uint64(100) {
				m, ops := MutateHandle(newRand(seed), h, p)
				if !ValidHandle(p, m) || strings.EqualFold(m, h) || len(ops) == 0 {
					t.Fatalf("MutateHandle(%q, %s) = %q, %q", h, p, m, ops)
				}
				if p == Telegram && strings.HasSuffix(strings.ToLower(m), "bot") && !strings.HasSuffix(h, "bot") {
					t.Errorf("MutateHandle(%q, telegram) = %q: a bot name", h, m)
				}
			}
		}
	}
}

func TestMutateHandleCrossPlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		h, from, to string
		prefix      string // what the result starts with, ignoring case
		maxLen      int
	}{
		{"velmora_dispatch_news", "telegram", "x", "velmora", 15},
		{"velmora_dispatch_official", "telegram", "x", "velmora", 15},
		{"kelnortravinaseldor_media", "telegram", "x", "kelnor", 15},
		{"VelmoraDispatch", "x", "web", "velmora", 40},
		{"vel.mora.tv", "youtube", "telegram", "vel", 32},
		{"24velmora", "x", "telegram", "velmora", 32},
		{"velmora-dispatch", "web", "x", "velmora", 15},
	}
	for _, tt := range tests {
		for seed := range uint64(50) {
			got, ops := MutateHandleCrossPlatform(newRand(seed), tt.h, tt.from, tt.to)
			if !ValidHandle(tt.to, got) || len(got) > tt.maxLen {
				t.Fatalf("MutateHandleCrossPlatform(%q, %s, %s) = %q, not valid", tt.h, tt.from, tt.to, got)
			}
			if !strings.HasPrefix(ops[0], "adapt: ") {
				t.Errorf("first op %q, want adapt", ops[0])
			}
			// The adaptation keeps the name's start; a following mutation
			// may touch it, so look at the adapted form.
			adapted := ops[0][strings.LastIndex(ops[0], " -> ")+4:]
			if !strings.HasPrefix(strings.ToLower(adapted), `"`+tt.prefix) {
				t.Errorf("MutateHandleCrossPlatform(%q, %s, %s): adapted to %s, want it to start with %q", tt.h, tt.from, tt.to, adapted, tt.prefix)
			}
		}
	}
}

// scriptShare is the share of the letters of s in table.
func scriptShare(s string, table *unicode.RangeTable) float64 {
	in, all := 0, 0
	for _, c := range s {
		if unicode.IsLetter(c) {
			all++
			if unicode.Is(table, c) {
				in++
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(in) / float64(all)
}

func TestScripts(t *testing.T) {
	t.Parallel()
	tables := map[string]*unicode.RangeTable{Latin: unicode.Latin, Cyrillic: unicode.Cyrillic, Arabic: unicode.Arabic}
	tests := []struct {
		lang, script string
	}{
		{"en", Latin}, {"fr", Latin}, {"de", Latin}, {"es", Latin}, {"tr", Latin},
		{"ru", Cyrillic}, {"ar", Arabic}, {"fa", Arabic}, {"ps", Arabic},
	}
	if len(tests) != len(Languages) {
		t.Fatalf("test covers %d languages, package has %d", len(tests), len(Languages))
	}
	for _, tt := range tests {
		if got := Script(tt.lang); got != tt.script {
			t.Errorf("Script(%s) = %s, want %s", tt.lang, got, tt.script)
		}
		for seed := range uint64(300) {
			r := newRand(seed)
			texts := map[string]string{
				"title":       Title(r, BrandName(r), tt.lang),
				"description": Description(r, tt.lang),
				"post":        PostText(r, tt.lang, nil),
			}
			for what, s := range texts {
				if share := scriptShare(s, tables[tt.script]); share < 0.9 {
					t.Errorf("%s %s %q: %.0f%% of letters in %s script", tt.lang, what, s, 100*share, tt.script)
				}
				if !utf8.ValidString(s) || s != strings.TrimSpace(s) {
					t.Errorf("%s %s %q: not valid UTF-8 or not trimmed", tt.lang, what, s)
				}
			}
			if n := strings.Count(texts["description"], "."); n < 1 || n > 3 {
				t.Errorf("%s description %q: %d sentences, want 1-3", tt.lang, texts["description"], n)
			}
			if n := strings.Count(texts["post"], "."); n < 1 || n > 4 {
				t.Errorf("%s post %q: %d sentences, want 1-4", tt.lang, texts["post"], n)
			}
		}
	}
}

func TestPostTextLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		links []string
	}{
		{"none", nil},
		{"one", []string{"https://t.me/velmora_news/42"}},
		{"three", []string{"https://t.me/velmora_news/42", "https://velmora-dispatch.example/2026/11/a.html", "https://youtu.be/AbCdEfGhIjK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, lang := range Languages {
				for seed := range uint64(200) {
					p := PostText(newRand(seed), lang, tt.links)
					for _, l := range tt.links {
						if strings.Count(p, l) != 1 {
							t.Fatalf("%s post %q: link %q not in it once", lang, p, l)
						}
					}
				}
			}
		})
	}
}

// jaccard is the Jaccard similarity of the word-bigram sets of a and b,
// words lower-cased with punctuation at their ends removed.
func jaccard(a, b string) float64 {
	set := func(s string) map[string]bool {
		var ws []string
		for _, f := range strings.Fields(s) {
			f = strings.TrimFunc(strings.ToLower(f), func(c rune) bool { return unicode.IsPunct(c) || unicode.IsSymbol(c) })
			if f != "" {
				ws = append(ws, f)
			}
		}
		m := map[string]bool{}
		for i := 0; i+1 < len(ws); i++ {
			m[ws[i]+"\x00"+ws[i+1]] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	common := 0
	for k := range sa {
		if sb[k] {
			common++
		}
	}
	return float64(common) / float64(len(sa)+len(sb)-common)
}

func TestEditText(t *testing.T) {
	t.Parallel()
	links := []string{"https://t.me/velmora_news/42", "www.velmora-dispatch.example/a"}
	kinds := map[string]int{}
	for _, lang := range Languages {
		for seed := range uint64(1000) {
			r := newRand(seed)
			text := PostText(r, lang, links)
			if seed%3 == 0 {
				text = Description(r, lang)
			}
			out, ops := EditText(r, text)
			if out == text || len(ops) == 0 {
				t.Fatalf("%s: EditText(%q) = %q, %q: nothing changed", lang, text, out, ops)
			}
			for _, op := range ops {
				kind, _, _ := strings.Cut(op, ": ")
				kinds[kind]++
			}
			if len(strings.Fields(text)) >= 10 {
				if j := jaccard(text, out); j < 0.5 {
					t.Errorf("%s: EditText(%q) = %q (%q): similarity %.2f", lang, text, out, ops, j)
				}
			}
			for _, l := range links {
				if strings.Count(text, l) != strings.Count(out, l) {
					t.Errorf("%s: EditText(%q) = %q: link %q lost", lang, text, out, l)
				}
			}
			if strings.Count(text, "\n") != strings.Count(out, "\n") {
				t.Errorf("%s: EditText(%q) = %q: line breaks changed", lang, text, out)
			}
			checkClean(t, "edited text", out)
		}
	}
	for _, k := range []string{"swap", "drop", "insert", "punctuation", "reorder", "number"} {
		if kinds[k] == 0 {
			t.Errorf("no %s edit in all those texts", k)
		}
	}
}

func TestEditTextSmall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text    string
		changed bool
	}{
		{"", false},
		{"  \n ", false},
		{"https://t.me/velmora", false},
		{"★ — ★", false},
		{"river", true},
		{"river market", true},
		{"  River, market 12.\n\nhttps://t.me/velmora ", true},
		{"Rain.", true},
	}
	for _, tt := range tests {
		for seed := range uint64(100) {
			out, ops := EditText(newRand(seed), tt.text)
			if changed := out != tt.text; changed != tt.changed || changed != (len(ops) > 0) {
				t.Fatalf("EditText(%q) = %q, %q; want changed %v", tt.text, out, ops, tt.changed)
			}
			if strings.Contains(tt.text, "https://t.me/velmora") && !strings.Contains(out, "https://t.me/velmora") {
				t.Errorf("EditText(%q) = %q: link lost", tt.text, out)
			}
		}
	}
}

// skeleton maps the confusables MutateTitle may use back to Latin.
func skeleton(s string) string {
	back := map[rune]rune{
		'а': 'a', 'с': 'c', 'ϲ': 'c', 'е': 'e', 'һ': 'h', 'і': 'i', 'ј': 'j', 'о': 'o', 'ο': 'o',
		'р': 'p', 'ρ': 'p', 'ѕ': 's', 'х': 'x', 'у': 'y',
		'А': 'A', 'Α': 'A', 'В': 'B', 'Β': 'B', 'С': 'C', 'Е': 'E', 'Ε': 'E', 'Н': 'H', 'Η': 'H',
		'І': 'I', 'Ι': 'I', 'Ј': 'J', 'К': 'K', 'Κ': 'K', 'М': 'M', 'Μ': 'M', 'Ν': 'N', 'О': 'O',
		'Ο': 'O', 'Р': 'P', 'Ρ': 'P', 'Ѕ': 'S', 'Т': 'T', 'Τ': 'T', 'Х': 'X', 'Χ': 'X', 'Ү': 'Y',
		'Υ': 'Y', 'Ζ': 'Z',
	}
	return strings.Map(func(c rune) rune {
		if l, ok := back[c]; ok {
			return l
		}
		return c
	}, s)
}

func TestMutateTitle(t *testing.T) {
	t.Parallel()
	kinds := map[string]int{}
	confusableOnly := 0
	for _, lang := range Languages {
		for seed := range uint64(1000) {
			r := newRand(seed)
			title := Title(r, BrandName(r), lang)
			out, ops := MutateTitle(r, title)
			if out == title || len(ops) == 0 || len(ops) > 2 {
				t.Fatalf("MutateTitle(%q) = %q, %q", title, out, ops)
			}
			checkClean(t, "title", out)
			has := map[string]bool{}
			for _, op := range ops {
				kind, _, _ := strings.Cut(op, ": ")
				kinds[kind]++
				has[kind] = true
			}
			switch {
			case has["confusable"] && has["transliterate"]:
				t.Errorf("MutateTitle(%q): %q: confusables and transliteration together", title, ops)
			case has["confusable"] && len(ops) == 1:
				confusableOnly++
				if skeleton(out) != title {
					t.Errorf("MutateTitle(%q) = %q (%q): skeleton %q", title, out, ops, skeleton(out))
				}
			case has["confusable"]:
				if !strings.Contains(skeleton(out), title) {
					t.Errorf("MutateTitle(%q) = %q (%q): skeleton %q does not hold the title", title, out, ops, skeleton(out))
				}
			case has["transliterate"]:
				if scriptShare(out, unicode.Latin) > 0.5 {
					t.Errorf("MutateTitle(%q) = %q (%q): still Latin", title, out, ops)
				}
			}
			if Script(lang) != Latin && (has["confusable"] || has["transliterate"]) {
				t.Errorf("MutateTitle(%q) = %q: %q on a %s title", title, out, ops, Script(lang))
			}
		}
	}
	if confusableOnly == 0 || kinds["marker"] == 0 || kinds["transliterate"] == 0 {
		t.Errorf("kinds of title mutation seen: %v, %d with only confusables", kinds, confusableOnly)
	}
}

func TestTransliterate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, script, want string
	}{
		{"Velmora Dispatch", Cyrillic, "Велмора Диспатч"},
		{"Shelkov Yard", Cyrillic, "Шелков Ярд"},
		{"Maya Kholm", Cyrillic, "Мая Холм"},
		{"Météo 24", Cyrillic, "Метео 24"},
		{"Velmora", Arabic, "فيلمورا"},
		{"Shams Kalor", Arabic, "شامس كالور"},
		{"Velmora | 2", Arabic, "فيلمورا | 2"},
		{"Велмора Холм", Latin, "Velmora Kholm"},
		{"شامس", Latin, "shams"},
		{"Weather already Latin", Latin, "Weather already Latin"},
		{"Велмора", Cyrillic, "Велмора"},
		{"", Arabic, ""},
		{"a\xffb", Cyrillic, "а\uFFFDб"},
	}
	for _, tt := range tests {
		if got := Transliterate(tt.in, tt.script); got != tt.want {
			t.Errorf("Transliterate(%q, %s) = %q, want %q", tt.in, tt.script, got, tt.want)
		}
	}
}

func TestBlocklist(t *testing.T) {
	t.Parallel()
	for seed := range uint64(2000) {
		for i, s := range world(newRand(seed)) {
			checkClean(t, fmt.Sprintf("seed %d item %d", seed, i), s)
		}
	}
}

func TestUnknownNamesPanic(t *testing.T) {
	t.Parallel()
	r := newRand(1)
	tests := []struct {
		name string
		f    func()
	}{
		{"Handle", func() { Handle(r, "Velmora", "myspace") }},
		{"MutateHandle", func() { MutateHandle(r, "velmora", "myspace") }},
		{"MutateHandleCrossPlatform from", func() { MutateHandleCrossPlatform(r, "velmora", "myspace", "x") }},
		{"MutateHandleCrossPlatform to", func() { MutateHandleCrossPlatform(r, "velmora", "x", "myspace") }},
		{"Title", func() { Title(r, "Velmora", "xx") }},
		{"Description", func() { Description(r, "EN") }},
		{"PostText", func() { PostText(r, "", nil) }},
		{"Script", func() { Script("klingon") }},
		{"Transliterate", func() { Transliterate("Velmora", "greek") }},
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tt.name)
				}
			}()
			tt.f()
		}()
	}
}
