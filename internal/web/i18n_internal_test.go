package web

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"text/template/parse"
	"unicode"

	"golang.org/x/net/html"

	"github.com/takedown-project/takedown/internal/web/locale"
)

// The templates say nothing themselves: every word a person reads comes
// from the catalog through t. This test reads each template's source and
// fails on a letter left outside {{…}}:
//
//   - in text between tags (in <caption>, <label>, <legend>, <option>,
//     <title>, <button> and every other element alike; entities are
//     decoded first, so &nbsp; is a space);
//   - in the attributes people read: placeholder, title, alt, label,
//     summary and the aria- attributes that are text (aria-label,
//     aria-placeholder, aria-roledescription, aria-valuetext), and value
//     where it is a button's caption (<input type=submit|button|reset>);
//   - in a string constant inside an action that contains a space, for
//     a phrase written as {{or .X "none found"}} or passed to dict is as
//     much a literal as text between tags.
//
// Punctuation, digits, whitespace and symbols (·, →, —, …) are not
// letters and may stay. The exceptions, and why:
//
//   - the content of <code>: commands, paths and identifiers a person
//     types as they are ("takedown import", "/api/v1/operations/SLUG");
//     a translation must not change them;
//   - attributes nobody reads: class, id, name, href, type, rel, accept,
//     pattern, autocomplete, content of <meta>, and the value of a
//     <button> or of any other input (what the form sends, not what it
//     shows: <button value="confirmed">);
//   - the text of actions and template comments ({{/* … */}}), which is
//     code; single-word string constants in actions are names of things
//     (eq .State "dead", dict "From" "referral"), not phrases.
func TestTemplatesHoldNoText(t *testing.T) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, n := range names {
		src, err := fs.ReadFile(templateFS, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range literalText(string(src)) {
			t.Errorf("%s:%s", n, problem)
		}
		for _, problem := range phraseConstants(n, string(src)) {
			t.Errorf("%s: %s", n, problem)
		}
	}
}

// actionMark stands for an action in a template's source: not a letter.
const actionMark = "\uFFFC"

// blankActions replaces every {{…}} of a template's source with
// actionMark, keeping its line breaks so that lines still count.
func blankActions(src string) string {
	var b strings.Builder
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			b.WriteString(src)
			return b.String()
		}
		b.WriteString(src[:i])
		j := actionEnd(src[i:])
		b.WriteString(actionMark + strings.Repeat("\n", strings.Count(src[i:i+j], "\n")))
		src = src[i+j:]
	}
}

// actionEnd returns the length of the action at the start of s, skipping
// "}}" inside its strings and comments.
func actionEnd(s string) int {
	i := 2
	body := strings.TrimLeft(strings.TrimPrefix(s[2:], "-"), " ")
	if strings.HasPrefix(body, "/*") {
		if j := strings.Index(s, "*/"); j >= 0 {
			i = j + 2
		}
	}
	for i < len(s) {
		switch s[i] {
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '`':
			for i++; i < len(s) && s[i] != '`'; i++ {
			}
		case '}':
			if strings.HasPrefix(s[i:], "}}") {
				return i + 2
			}
		}
		i++
	}
	return len(s)
}

// readAttributes are the attributes whose values people read.
var readAttributes = []string{"placeholder", "title", "alt", "label", "summary", "aria-label", "aria-placeholder", "aria-roledescription", "aria-valuetext"}

// literalText returns the letters left in a template's text and read
// attributes, as "line: what".
func literalText(src string) []string {
	var problems []string
	z := html.NewTokenizer(strings.NewReader(blankActions(src)))
	line, code := 1, 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return problems
		}
		raw := string(z.Raw())
		tok := z.Token()
		switch tt {
		case html.TextToken:
			if code == 0 && strings.ContainsFunc(tok.Data, unicode.IsLetter) {
				problems = append(problems, fmt.Sprintf("%d: text %q", line+leadingLines(raw), strings.TrimSpace(strings.ReplaceAll(tok.Data, actionMark, "{{…}}"))))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			if tok.Data == "code" && tt == html.StartTagToken {
				code++
			}
			typ := ""
			for _, a := range tok.Attr {
				if a.Key == "type" {
					typ = a.Val
				}
			}
			for _, a := range tok.Attr {
				read := slices.Contains(readAttributes, a.Key) ||
					(a.Key == "value" && tok.Data == "input" && (typ == "submit" || typ == "button" || typ == "reset"))
				if read && strings.ContainsFunc(a.Val, unicode.IsLetter) {
					problems = append(problems, fmt.Sprintf("%d: <%s %s=%q>", line, tok.Data, a.Key, strings.ReplaceAll(a.Val, actionMark, "{{…}}")))
				}
			}
		case html.EndTagToken:
			if tok.Data == "code" && code > 0 {
				code--
			}
		}
		line += strings.Count(raw, "\n")
	}
}

// leadingLines counts the line breaks before a text's first letter.
func leadingLines(raw string) int {
	i := strings.IndexFunc(raw, unicode.IsLetter)
	if i < 0 {
		return 0
	}
	return strings.Count(raw[:i], "\n")
}

// phraseConstants returns the string constants of a template's actions
// that are phrases: a space and a letter.
func phraseConstants(name, src string) []string {
	funcs := template.FuncMap{}
	for k, v := range baseFuncs {
		funcs[k] = v
	}
	for k, v := range (&Server{}).localFuncs(nil, nil) {
		funcs[k] = v
	}
	trees, err := parse.Parse(name, src, "{{", "}}", funcs, builtinFuncs())
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.StringNode:
			if strings.ContainsFunc(n.Text, unicode.IsSpace) && strings.ContainsFunc(n.Text, unicode.IsLetter) {
				problems = append(problems, fmt.Sprintf("a phrase in an action: %s", n.Quoted))
			}
		}
	}
	for _, tr := range trees {
		walk(tr.Root)
	}
	return problems
}

// builtinFuncs names text/template's own functions for parse.Parse.
func builtinFuncs() map[string]any {
	m := map[string]any{}
	for _, n := range []string{"and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "call", "html", "js", "urlquery"} {
		m[n] = fmt.Sprint
	}
	return m
}

// The rules of the literal test catch what they are meant to: a word
// between tags, in a read attribute, in an action's phrase; and let pass
// what they are meant to.
func TestLiteralTextRules(t *testing.T) {
	for src, want := range map[string]bool{
		`<p>{{t "a.b"}}</p>`:                                        false,
		`<p>Hello</p>`:                                              true,
		`<caption>{{.N}} items</caption>`:                           true,
		`<option value="x">any</option>`:                            true,
		`<p>{{.A}} · {{.B}} &nbsp;→ (1–2)…</p>`:                     false,
		`<input placeholder="t.me/x">`:                              true,
		`<input placeholder="{{t "a.b"}}">`:                         false,
		`<button aria-label="Send">{{t "a.b"}}</button>`:            true,
		`<input type="submit" value="Go">`:                          true,
		`<input type="hidden" name="x" value="referral">`:           false,
		`<button name="state" value="confirmed">{{t "a.b"}}`:        false,
		`<img alt="Image {{.N}}">`:                                  true,
		`<p>{{/* a comment, with "}}" */}}</p>`:                     false,
		`<code>takedown import</code>`:                              false,
		`<p><code>x</code> and</p>`:                                 true,
		`<a href="/operations/x?a=b&amp;c=d" class="url">{{.}}</a>`: false,
	} {
		if got := len(literalText(src)) > 0; got != want {
			t.Errorf("%s: literal text found %v, want %v (%v)", src, got, want, literalText(src))
		}
	}
	if len(phraseConstants("x", `{{or .P "none found"}}`)) == 0 {
		t.Error("a phrase in an action passed")
	}
	if p := phraseConstants("x", `{{if eq .State "dead"}}{{template "d" (dict "From" "referral")}}{{end}}`); len(p) > 0 {
		t.Errorf("names in actions refused: %v", p)
	}
}

// templateCopy is the templates as a file system a test may change.
func templateCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		data, _ := fs.ReadFile(templateFS, n)
		m[n] = &fstest.MapFile{Data: data}
	}
	return m
}

// parseWith parses templates against the embedded catalogs and extra.
func parseWith(t *testing.T, fsys fs.FS, extra fs.FS) error {
	t.Helper()
	b, err := locale.Load(extra)
	if err != nil {
		return err
	}
	s := &Server{locales: b}
	return s.parsePages(fsys)
}

// The catalog is the one list of the UI's words: New refuses a key a
// template uses that English lacks, a key English has that nothing uses,
// a template's placeholder names that are not the message's, a call of
// t without a constant key, and a Go key whose placeholders differ.
func TestCatalogConsistency(t *testing.T) {
	if err := parseWith(t, templateCopy(t), nil); err != nil {
		t.Fatalf("the shipped templates and catalog: %v", err)
	}
	en, err := fs.ReadFile(os.DirFS("locale"), "en.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what, file, old, new, want string
	}{
		{"an unknown key", "templates/audit.html", `{{t "audit.verify"}}`, `{{t "audit.verify.now"}}`, `no message "audit.verify.now"`},
		{"an unused key", "templates/audit.html", `{{t "audit.verify"}}`, `-`, "nothing uses (remove them, or use them): audit.verify"},
		{"a missing placeholder", "templates/holds.html", `{{t "holds.intro.own" "agency" .Agency}}`, `{{t "holds.intro.own"}}`, `message "holds.intro.own": the template names [], the English catalog has [agency]`},
		{"a wrong placeholder", "templates/holds.html", `{{t "holds.intro.own" "agency" .Agency}}`, `{{t "holds.intro.own" "agent" .Agency}}`, `the template names [agent]`},
		{"a plural without its count", "templates/referral.html", `{{t "referral.items.caption" "count" (len $ref.Items) "batch" $ref.ID}}`, `{{t "referral.items.caption" "batch" $ref.ID}}`, `the English catalog has [batch count]`},
		{"a key that is no constant", "templates/audit.html", `{{t "audit.verify"}}`, `{{t (print "audit.verify")}}`, "a string constant, first"},
		{"t in a pipeline", "templates/audit.html", `{{t "audit.verify"}}`, `{{t "audit.verify"}}{{"audit.verify" | t}}`, "not from a pipeline"},
		{"markup of no template", "templates/home.html", `(markup "home/api" .)`, `(markup "home/nothing" .)`, `no template "home/nothing"`},
	} {
		fsys := templateCopy(t)
		src := string(fsys[c.file].Data)
		if !strings.Contains(src, c.old) {
			t.Fatalf("%s: %s has no %s", c.what, c.file, c.old)
		}
		fsys[c.file] = &fstest.MapFile{Data: []byte(strings.Replace(src, c.old, c.new, 1))}
		if err := parseWith(t, fsys, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.what, err, c.want)
		}
	}

	// A Go key must name a message of the catalog, with its placeholders.
	b, err := locale.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]bool{}
	for _, k := range b.Keys() {
		all[k] = true
	}
	if err := checkCatalog(b, all, goKeys); err != nil {
		t.Errorf("the shipped Go keys: %v", err)
	}
	for _, c := range []struct {
		key  locale.Key
		want string
	}{
		{locale.NewKey("holds.intro.own", "agent"), `message "holds.intro.own": the Go key names [{agent}]`},
		{locale.NewKey("holds.intro.own"), `the Go key names [], the English catalog has [{agency}]`},
		{locale.NewKey("no.such.message"), `no message "no.such.message"`},
	} {
		if err := checkCatalog(b, all, append(slices.Clone(goKeys), c.key)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Go key %s %v: %v, want an error with %q", c.key.ID(), c.key.Names(), err, c.want)
		}
	}

	// A translation: no key English lacks, the same placeholders, the
	// plural forms of its language.
	for _, c := range []struct{ what, json, want string }{
		{"an extra key", `{"no.such.key": "x"}`, `"no.such.key" is not in the English catalog`},
		{"a wrong placeholder", `{"holds.intro.own": "Ihre Agentur ({agentur})"}`, "placeholders [{agentur}], English has [{agency}]"},
		{"a missing plural form", `{"delivery.attempts": {"other": "{count} Versuche"}}`, `lacks the plural form "one"`},
		{"a plural form German has not", `{"delivery.attempts": {"one": "{count} Versuch", "few": "{count}", "other": "{count} Versuche"}}`, `has no plural form "few"`},
		{"a plain text for a plural", `{"delivery.attempts": "{count} Versuche"}`, "plural forms in one catalog and not in the other"},
		{"a stray brace", `{"holds.intro.own": "Ihre Agentur {agency"}`, "opens no placeholder"},
	} {
		err := parseWith(t, templateCopy(t), fstest.MapFS{"de.json": {Data: []byte(c.json)}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("a translation with %s: %v, want an error with %q", c.what, err, c.want)
		}
	}
	// English itself: a key given twice, a plural without {count}.
	for _, c := range []struct{ what, old, new, want string }{
		{"a key given twice", `"app.name": "takedown",`, `"app.name": "takedown", "app.name": "takedown",`, `"app.name" is given twice`},
		{"a plural without its count", `"delivery.attempts": {"one": "{count} attempt", "other": "{count} attempts"}`, `"delivery.attempts": {"one": "an attempt", "other": "attempts"}`, "must say {count}"},
	} {
		if !bytes.Contains(en, []byte(c.old)) {
			t.Fatalf("%s: en.json has no %s", c.what, c.old)
		}
		bad := bytes.Replace(en, []byte(c.old), []byte(c.new), 1)
		if err := parseWith(t, templateCopy(t), fstest.MapFS{"en.json": {Data: bad}}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("English with %s: %v, want an error with %q", c.what, err, c.want)
		}
	}
}

// Go code says the catalog's messages through keys made by key: every
// key is a package variable (made before New checks them all), and every
// such variable is used, so that a message kept for a variable nobody
// reads does not pass New's "unused" check.
func TestGoKeysUsed(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]token.Position{}
	uses := map[string]int{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		// key(...) only in package-level var declarations.
		for _, d := range f.Decls {
			gd, isVar := d.(*ast.GenDecl)
			ast.Inspect(d, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "key" && (!isVar || gd.Tok != token.VAR) {
					t.Errorf("%s: key(…) outside a package variable: New cannot check it", fset.Position(call.Pos()))
				}
				return true
			})
			if isVar && gd.Tok == token.VAR {
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					makesKey := false
					ast.Inspect(vs, func(n ast.Node) bool {
						if call, ok := n.(*ast.CallExpr); ok {
							if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "key" {
								makesKey = true
							}
						}
						return true
					})
					if makesKey {
						for _, n := range vs.Names {
							declared[n.Name] = fset.Position(n.Pos())
						}
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				uses[id.Name]++
			}
			return true
		})
	}
	if len(declared) < 10 {
		t.Fatalf("found only %d key variables: the test reads the wrong files", len(declared))
	}
	for name, pos := range declared {
		if uses[name] < 2 { // its declaration, and one use at least
			t.Errorf("%s: %s is declared with key(…) and never used", pos, name)
		}
	}
}
