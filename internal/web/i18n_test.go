package web_test

import (
	"encoding/json"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/web"
)

// pseudoTag is the pseudo-locale of the tests: CLDR's "accented English".
const pseudoTag = "en-XA"

var accents = strings.NewReplacer(
	"a", "á", "b", "ƀ", "c", "ç", "d", "ď", "e", "é", "f", "ƒ", "g", "ĝ", "h", "ĥ", "i", "í", "j", "ĵ", "k", "ķ", "l", "ļ", "m", "ṁ",
	"n", "ñ", "o", "ó", "p", "þ", "q", "ǫ", "r", "ŕ", "s", "š", "t", "ţ", "u", "ú", "v", "ṽ", "w", "ŵ", "x", "ẋ", "y", "ý", "z", "ž",
	"A", "Á", "B", "Ɓ", "C", "Ç", "D", "Ď", "E", "É", "F", "Ƒ", "G", "Ĝ", "H", "Ĥ", "I", "Í", "J", "Ĵ", "K", "Ķ", "L", "Ļ", "M", "Ṁ",
	"N", "Ñ", "O", "Ó", "P", "Þ", "Q", "Ǫ", "R", "Ŕ", "S", "Š", "T", "Ţ", "U", "Ú", "V", "Ṽ", "W", "Ŵ", "X", "Ẋ", "Y", "Ý", "Z", "Ž")

var (
	placeholder = regexp.MustCompile(`\{[a-z][a-z0-9_]*\}`)
	svg         = regexp.MustCompile(`(?s)<svg.*?</svg>`)
)

// pseudo translates a message of en.json into the pseudo-locale: its
// letters accented, its placeholders kept, the whole in ⟦…⟧ so that a page
// shows where each message begins and ends, and text that is not wrapped
// did not come from the catalog.
func pseudo(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range placeholder.FindAllStringIndex(s, -1) {
		b.WriteString(accents.Replace(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(accents.Replace(s[last:]))
	return "⟦" + b.String() + "⟧"
}

// fill puts values (pairs of a placeholder's name and its value) into a
// message.
func fill(msg string, kv ...string) string {
	for i := 0; i < len(kv); i += 2 {
		msg = strings.ReplaceAll(msg, "{"+kv[i]+"}", kv[i+1])
	}
	return msg
}

// english reads the English catalog: plain messages by key, and plural
// messages by key and form.
func english(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("locale/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for k, v := range raw {
		var s string
		var forms map[string]string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else if err := json.Unmarshal(v, &forms); err == nil {
			out[k] = forms
		} else {
			t.Fatalf("%s: %v", k, err)
		}
	}
	return out
}

// pseudoCatalogs is en-XA.json, made from en.json, for Config.Catalogs.
func pseudoCatalogs(t *testing.T) fs.FS {
	t.Helper()
	out := map[string]any{}
	for k, v := range english(t) {
		switch v := v.(type) {
		case string:
			out[k] = pseudo(v)
		case map[string]string:
			forms := map[string]string{}
			for f, s := range v {
				forms[f] = pseudo(s)
			}
			out[k] = forms
		}
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return fstest.MapFS{pseudoTag + ".json": {Data: data}}
}

// inLanguage makes a request as user ("" for nobody) with the headers
// given (Accept-Language, Cookie, Sec-Fetch-Site).
func inLanguage(t *testing.T, base, user, tokenOf, method, path string, form url.Values, headers map[string]string) page {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+tokenOf)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return do(t, http.DefaultClient, req)
}

// Every page reads in the request's language: with Accept-Language set to
// the pseudo-locale, the pages' words are the pseudo-locale's (the
// layout's, the templates', and those Go code says: labels, clocks,
// notices, errors), <html lang> says so, no placeholder is left unfilled
// and no sentence of the English catalog is left on the page. A language
// without a catalog (German) falls back to English.
func TestPseudoLocale(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(c *web.Config) { c.Catalogs = pseudoCatalogs(t) })
	en := english(t)
	// The English sentences: a page in the pseudo-locale shows none.
	var sentences []string
	for _, v := range en {
		if s, ok := v.(string); ok && !strings.Contains(s, "{") && strings.Count(s, " ") >= 2 {
			sentences = append(sentences, s)
		}
	}
	xa := map[string]string{"Accept-Language": pseudoTag + ",en;q=0.5"}
	for _, c := range []struct {
		user, path string
		status     int
		want       []string
	}{
		{"", "/login", 200, []string{pseudo("Sign in"), pseudo("User name")}},
		{"ana", "/", 200, []string{pseudo("Operations"), pseudo("Skip to content"), pseudo("Sign out")}},
		{"ana", "/operations/rad-1", 200, []string{pseudo("Time to removal"), pseudo("By provider"), pseudo("kind"), fill(pseudo("Taken offline: {count}"), "count", "0")}},
		{"ana", "/operations/rad-1/items", 200, []string{pseudo("referred, not probed since")}},
		{"ana", "/operations/rad-1/items/" + b.item("one"), 200, []string{pseudo("Verification"), pseudo("Not probed yet.")}},
		{"ana", "/operations/rad-1/holds", 200, []string{pseudo("Deconfliction holds"), `placeholder="` + html.EscapeString(pseudo("t.me/example_*")) + `"`}},
		{"ana", "/operations/rad-1/matches", 200, []string{pseudo("open")}},
		{"ana", "/operations/rad-1/import", 200, []string{pseudo("Import your agency's findings")}},
		{"coord", "/operations/rad-1/referrals", 200, []string{pseudo("DEAD"), fill(pseudo("OVERDUE by {span}"), "span", fill(pseudo("{hours}h{minutes}m"), "hours", "1", "minutes", "05"))}},
		{"coord", "/operations/rad-1/referrals/" + b.id("order"), 200, []string{pseudo("Removal order (Annex I of Regulation (EU) 2021/784)"), pseudo("removal order")}},
		{"coord", "/operations/rad-1/unattributed", 200, []string{pseudo("Items no provider was found for")}},
		{"liaison-a", "/portal", 200, []string{fill(pseudo("Batches addressed to {provider}, newest first"), "provider", "chanhost"), fill(pseudo("{span} left"), "span", fill(pseudo("{minutes} min"), "minutes", "42"))}},
		{"liaison-a", "/portal/referrals/" + b.id("order"), 200, []string{pseudo("force majeure"), pseudo("access disabled"), pseudo("(no answer now)")}},
		{"adm", "/users", 200, []string{pseudo("Add a user")}},
		{"adm", "/users/ana", 200, []string{pseudo("active"), pseudo("Create a token")}},
		{"adm", "/providers/webhost", 200, []string{pseudo("Bearer token (currently set; leave empty to keep it for the same URL)")}},
		{"aud", "/audit", 200, []string{pseudo("The audit chain")}},
		{"ana", "/operations/nope", 404, []string{pseudo("Not Found"), fill(pseudo(`no operation "{operation}"`), "operation", "nope")}},
		{"ana", "/operations/rad-1/referrals", 403, []string{pseudo("Forbidden"), pseudo("referrals are the operation's coordinators' (and auditors', to read)")}},
		{"liaison-a", "/portal/referrals/" + b.id("plain") + "?done=acknowledged", 200, []string{html.EscapeString(pseudo("Receipt acknowledged."))}},
	} {
		p := inLanguage(t, b.base, c.user, b.tokens[c.user], "GET", c.path, nil, xa)
		what := c.user + " " + c.path
		wantStatus(t, p, c.status, what)
		wantIn(t, p, what, `<html lang="en-XA">`, "⟦")
		for _, w := range c.want {
			if !strings.Contains(p.body, w) && !strings.Contains(p.body, html.EscapeString(w)) {
				t.Errorf("%s: the page lacks %q", what, w)
			}
		}
		if m := placeholder.FindString(p.body); m != "" {
			t.Errorf("%s: a placeholder is left unfilled: %s", what, m)
		}
		// The charts (SVG drawn by package chart) are not the UI's words.
		words := svg.ReplaceAllString(p.body, "")
		for _, s := range sentences {
			if strings.Contains(words, s) || strings.Contains(words, html.EscapeString(s)) {
				t.Errorf("%s: English on a page in the pseudo-locale: %q", what, s)
			}
		}
	}

	// A form sent back with an error says it in the pseudo-locale too.
	p := inLanguage(t, b.base, "liaison-a", b.tokens["liaison-a"], "POST", "/portal/referrals/"+b.id("plain")+"/answers", url.Values{"item": {b.item("one")}}, xa)
	wantStatus(t, p, http.StatusBadRequest, "an empty answer form")
	wantIn(t, p, "an empty answer form", html.EscapeString(pseudo("choose an outcome for at least one item; nothing was recorded")))

	// The chooser is in the footer: both languages, the current one chosen.
	p = inLanguage(t, b.base, "ana", b.tokens["ana"], "GET", "/operations/rad-1?live=0", nil, xa)
	wantIn(t, p, "the footer", `<form class="language" method="post" action="/language">`, `name="next" value="/operations/rad-1?live=0"`,
		`<option value="en" lang="en">English</option>`, `<option value="en-XA" lang="en-XA" selected>`+pseudo("English")+`</option>`)

	// German has no catalog: English; so has a language nobody asked for.
	for _, al := range []string{"de-DE,de;q=0.9", "", "fr", "*", "not a language;q=x"} {
		p := inLanguage(t, b.base, "ana", b.tokens["ana"], "GET", "/operations/rad-1", nil, map[string]string{"Accept-Language": al})
		what := "Accept-Language " + al
		wantIn(t, p, what, `<html lang="en">`, "Skip to content", "Time to removal", `<option value="en" lang="en" selected>English</option>`)
		// Only the chooser names the pseudo-locale, in itself.
		if main, _, _ := strings.Cut(p.body, "<footer>"); strings.Contains(main, "⟦") {
			t.Errorf("%s: pseudo-locale text on an English page", what)
		}
	}
	// The cookie wins over Accept-Language; one naming no catalog is
	// ignored.
	p = inLanguage(t, b.base, "ana", b.tokens["ana"], "GET", "/", nil, map[string]string{"Accept-Language": "de", "Cookie": "lang=" + pseudoTag})
	wantIn(t, p, "the cookie's language", `<html lang="en-XA">`, pseudo("Operations"))
	p = inLanguage(t, b.base, "ana", b.tokens["ana"], "GET", "/", nil, map[string]string{"Accept-Language": pseudoTag, "Cookie": "lang=de"})
	wantIn(t, p, "a cookie of no catalog", `<html lang="en-XA">`)
	p = inLanguage(t, b.base, "ana", b.tokens["ana"], "GET", "/", nil, map[string]string{"Accept-Language": pseudoTag, "Cookie": "lang=en"})
	wantIn(t, p, "the cookie's English", `<html lang="en">`, "Skip to content")
}

// A language written from right to left sets dir="rtl"; a catalog may be
// partial, and what it lacks is said in English.
func TestRightToLeftAndPartialCatalog(t *testing.T) {
	t.Parallel()
	ar := fstest.MapFS{"ar.json": {Data: []byte(`{"language.name": "العربية", "layout.skip": "انتقل إلى المحتوى"}`)}}
	b := setupWith(t, func(c *web.Config) { c.Catalogs = ar })
	p := inLanguage(t, b.base, "ana", b.tokens["ana"], "GET", "/", nil, map[string]string{"Accept-Language": "ar-EG,ar;q=0.9"})
	wantIn(t, p, "an Arabic page", `<html lang="ar" dir="rtl">`, "انتقل إلى المحتوى", "Sign out", `<option value="ar" lang="ar" selected>العربية</option>`)
	p = inLanguage(t, b.base, "ana", b.tokens["ana"], "GET", "/", nil, map[string]string{"Accept-Language": "en"})
	wantIn(t, p, "an English page", `<html lang="en">`)
	wantNotIn(t, p, "an English page", `dir="rtl"`)
}

// The chooser's form keeps the language in a cookie and goes back to the
// page it was on, but never to another site; it takes only an available
// language; and like every POST it is refused from another site (behind
// net/http's CrossOriginProtection, as the server wires it).
func TestLanguageChooser(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(c *web.Config) { c.Catalogs = pseudoCatalogs(t) })
	post := func(form url.Values) page {
		return inLanguage(t, b.base, "", "", "POST", "/language", form, nil)
	}
	p := post(url.Values{"lang": {pseudoTag}, "next": {"/operations/rad-1?live=0"}})
	if p.status != http.StatusSeeOther || p.loc != "/operations/rad-1?live=0" {
		t.Fatalf("choose a language: %d to %q", p.status, p.loc)
	}
	cookies := (&http.Response{Header: p.header}).Cookies()
	if len(cookies) != 1 || cookies[0].Name != "lang" || cookies[0].Value != pseudoTag || cookies[0].Path != "/" || !cookies[0].HttpOnly ||
		cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].MaxAge <= 0 {
		t.Errorf("the language's cookie: %v", p.header.Values("Set-Cookie"))
	}
	// Never to another site: only a path of this one.
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "evil.example", ""} {
		p := post(url.Values{"lang": {"en"}, "next": {next}})
		if p.status != http.StatusSeeOther || p.loc != "/" {
			t.Errorf("next %q: %d to %q, want /", next, p.status, p.loc)
		}
	}
	// Only a language there is a catalog for.
	for _, lang := range []string{"de", "", "en-XA-x-evil", "en;evil"} {
		p := post(url.Values{"lang": {lang}, "next": {"/"}})
		wantStatus(t, p, http.StatusBadRequest, "language "+lang)
		if len(p.header.Values("Set-Cookie")) > 0 {
			t.Errorf("language %q set a cookie: %v", lang, p.header.Values("Set-Cookie"))
		}
	}

	// Cross-site: refused as every other POST is, by the protection the
	// server puts in front of the UI.
	ui, err := web.New(web.Config{Store: b.db, Auth: auth.New(auth.Config{Users: b.db}), Catalogs: pseudoCatalogs(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.NewCrossOriginProtection().Handler(ui))
	defer srv.Close()
	form := url.Values{"lang": {pseudoTag}, "next": {"/"}}
	wantStatus(t, inLanguage(t, srv.URL, "", "", "POST", "/language", form, map[string]string{"Sec-Fetch-Site": "cross-site"}), http.StatusForbidden, "a cross-site language post")
	wantStatus(t, inLanguage(t, srv.URL, "", "", "POST", "/language", form, map[string]string{"Sec-Fetch-Site": "same-origin"}), http.StatusSeeOther, "a same-origin language post")

	// With English alone there is nothing to choose: no footer.
	one := setup(t)
	p = inLanguage(t, one.base, "", "", "GET", "/login", nil, map[string]string{"Accept-Language": pseudoTag})
	wantIn(t, p, "the login page in English alone", `<html lang="en">`, "Sign in")
	wantNotIn(t, p, "the login page in English alone", "<footer", `action="/language"`)
}
