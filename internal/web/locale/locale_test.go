package locale

import (
	"html/template"
	"strings"
	"testing"
	"testing/fstest"
)

func load(t *testing.T, files map[string]string) *Bundle {
	t.Helper()
	fsys := fstest.MapFS{}
	for n, s := range files {
		fsys[n] = &fstest.MapFile{Data: []byte(s)}
	}
	b, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const testEnglish = `{
  "language.name": "English",
  "x.hello": "Hello, {name}!",
  "x.items": {"one": "{count} item of {owner}", "other": "{count} items of {owner}"},
  "x.quote": "Tom's <b>bold</b> & \"quoted\" {value}"
}`

// Plural forms follow each language's CLDR rules; T fills placeholders
// in the key's order, and leaves one without a value visible.
func TestPluralAndPlaceholders(t *testing.T) {
	b := load(t, map[string]string{
		"en.json": testEnglish,
		"pl.json": `{"language.name": "Polski", "x.items": {"one": "{count} element {owner}", "few": "{count} elementy {owner}", "many": "{count} elementów {owner}", "other": "{count} elementu {owner}"}}`,
	})
	items := NewKey("x.items", "count", "owner")
	en := b.English()
	for n, want := range map[int]string{0: "0 items of ana", 1: "1 item of ana", 2: "2 items of ana", 21: "21 items of ana"} {
		if got := en.T(items, n, "ana"); got != want {
			t.Errorf("English %d: %q, want %q", n, got, want)
		}
	}
	pl, ok := b.Available("pl")
	if !ok {
		t.Fatal("no Polish")
	}
	for n, want := range map[int64]string{1: "1 element ana", 3: "3 elementy ana", 5: "5 elementów ana", 22: "22 elementy ana", 25: "25 elementów ana"} {
		if got := pl.T(items, n, "ana"); got != want {
			t.Errorf("Polish %d: %q, want %q", n, got, want)
		}
	}
	// Polish lacks x.hello: English.
	if got := pl.T(NewKey("x.hello", "name"), "ana"); got != "Hello, ana!" {
		t.Errorf("the English fallback: %q", got)
	}
	if got := en.T(NewKey("x.hello", "name")); got != "Hello, {name}!" {
		t.Errorf("a missing value: %q", got)
	}
	if err := b.Check(NewKey("x.items", "owner", "count")); err != nil {
		t.Errorf("a key with its names in another order: %v", err)
	}
	if err := b.Check(NewKey("x.items", "owner")); err == nil {
		t.Error("a key without the count passed")
	}
}

// HTML escapes the catalog's text and the values put into it, inserts a
// template.HTML as it is, and wants exactly the message's placeholders.
func TestHTML(t *testing.T) {
	en := load(t, map[string]string{"en.json": testEnglish}).English()
	got, err := en.HTML("x.quote", "value", `<i>'+'</i>`)
	if want := template.HTML(`Tom's &lt;b&gt;bold&lt;/b&gt; &amp; "quoted" &lt;i&gt;&#39;&#43;&#39;&lt;/i&gt;`); err != nil || got != want {
		t.Errorf("HTML: %q, %v\nwant %q", got, err, want)
	}
	got, err = en.HTML("x.quote", "value", template.HTML(`<a href="/">x</a>`))
	if err != nil || !strings.HasSuffix(string(got), `<a href="/">x</a>`) {
		t.Errorf("HTML with markup: %q, %v", got, err)
	}
	for _, args := range [][]any{{}, {"value"}, {"other", 1}, {"value", 1, "other", 2}, {1, 2}} {
		if _, err := en.HTML("x.quote", args...); err == nil {
			t.Errorf("HTML with %v: no error", args)
		}
	}
	if _, err := en.HTML("x.nothing"); err == nil {
		t.Error("HTML of no message: no error")
	}
}

// A request's language: its cookie if available, else Accept-Language
// matched against the catalogs, else English; and its direction.
func TestChoose(t *testing.T) {
	b := load(t, map[string]string{"en.json": testEnglish, "de.json": `{"language.name": "Deutsch"}`, "fa.json": `{"language.name": "فارسی"}`})
	for _, c := range []struct{ cookie, accept, want string }{
		{"", "", "en"},
		{"", "de-AT,de;q=0.9,en;q=0.8", "de"},
		{"", "fr, en;q=0.1", "en"},
		{"", "fr", "en"},
		{"", "fa-IR", "fa"},
		{"de", "fa", "de"},
		{"xx", "fa", "fa"},
		{"de-AT", "", "en"},
		{"", "de;q=x", "en"},
	} {
		if got := b.Choose(c.cookie, c.accept).Tag().String(); got != c.want {
			t.Errorf("cookie %q, Accept-Language %q: %s, want %s", c.cookie, c.accept, got, c.want)
		}
	}
	for tag, rtl := range map[string]bool{"en": false, "de": false, "fa": true} {
		l, _ := b.Available(tag)
		if l.RTL() != rtl {
			t.Errorf("%s: right to left %v", tag, l.RTL())
		}
	}
	ar := load(t, map[string]string{"ar.json": `{"language.name": "العربية"}`, "he.json": `{"language.name": "עברית"}`, "ur.json": `{"language.name": "اردو"}`})
	for _, tag := range []string{"ar", "he", "ur"} {
		if l, _ := ar.Available(tag); !l.RTL() {
			t.Errorf("%s is written right to left", tag)
		}
	}
}

// What Load refuses.
func TestLoadRefuses(t *testing.T) {
	for what, files := range map[string]map[string]string{
		"a file not named by a tag": {"english.json": `{}`},
		"a tag not canonical":       {"pt-br.json": `{}`},
		"a key given twice":         {"en.json": `{"x.a": "1", "x.a": "2"}`},
		"a key not dotted":          {"en.json": `{"hello": "1"}`},
		"a stray }":                 {"en.json": `{"x.a": "a}b"}`},
		"an upper-case placeholder": {"en.json": `{"x.a": "{Name}"}`},
		"an unknown plural form":    {"en.json": `{"x.a": {"single": "{count}", "other": "{count}"}}`},
		"a form lacking a name":     {"en.json": `{"x.a": {"one": "{count}", "other": "{count} of {owner}"}}`},
		"not an object":             {"en.json": `["x"]`},
		"a number":                  {"en.json": `{"x.a": 1}`},
		"text after the object":     {"en.json": `{} {}`},
		"a translation unnamed":     {"de.json": `{"app.name": "takedown"}`},
	} {
		fsys := fstest.MapFS{}
		for n, s := range files {
			fsys[n] = &fstest.MapFile{Data: []byte(s)}
		}
		if _, err := Load(fsys); err == nil {
			t.Errorf("%s: loaded", what)
		}
	}
}

// The shipped English catalog loads.
func TestEmbedded(t *testing.T) {
	b, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Keys()) < 100 || len(b.Localizers()) != 1 {
		t.Errorf("%d messages, %d languages", len(b.Keys()), len(b.Localizers()))
	}
}
