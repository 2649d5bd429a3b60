package web

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template/parse"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/web/locale"
)

// The UI's words are in the catalogs of package locale (locale/en.json
// and, one day, its translations). Templates say them with the function
// t, Go code with a Key and Localizer.T; the request's language is chosen
// by localizer. New checks, before it serves anything, that every key a
// template or Go code uses is in the English catalog with the same
// placeholders, and that the English catalog has no key nothing uses: the
// catalog is the one list of what the UI says.

// goKeys are the keys Go code says, made by key as package variables.
var goKeys []locale.Key

// key makes the key of a message that Go code says, with the names of
// its placeholders in the order Localizer.T takes their values, and
// registers it for New's check. Call it only for package variables.
func key(id string, names ...string) locale.Key {
	k := locale.NewKey(id, names...)
	goKeys = append(goKeys, k)
	return k
}

// langCookie keeps the language a person chose; without it the browser's
// Accept-Language decides.
const langCookie = "lang"

var msgLanguageName = key("language.name")

// localizer returns the request's language: the lang cookie's if it names
// an available one, else the best match of Accept-Language, else English.
func (s *Server) localizer(r *http.Request) *locale.Localizer {
	cookie := ""
	if c, err := r.Cookie(langCookie); err == nil {
		cookie = c.Value
	}
	return s.locales.Choose(cookie, r.Header.Get("Accept-Language"))
}

// langChoice is one entry of the footer's language chooser.
type langChoice struct {
	Tag, Name string
	Current   bool
}

// languages lists the available languages for the chooser, each named in
// itself; nil when there is only one, and no choice to make.
func (s *Server) languages(current *locale.Localizer) []langChoice {
	all := s.locales.Localizers()
	if len(all) < 2 {
		return nil
	}
	out := make([]langChoice, len(all))
	for i, l := range all {
		out[i] = langChoice{Tag: l.Tag().String(), Name: l.T(msgLanguageName), Current: l.Tag() == current.Tag()}
	}
	return out
}

// here is where the language chooser sends the browser back to: the page
// itself, or for a page that answers a form, the page the form was on
// (when the browser says so and it is this site's).
func here(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return localPath(r.URL.RequestURI())
	}
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host {
		return localPath(u.RequestURI())
	}
	return "/"
}

var msgNoLanguage = key("error.no_language", "language")

// setLanguage keeps the language chosen in the footer in a cookie and
// sends the browser back to the page it was on (a path of this site only:
// localPath). It needs no sign-in: the login page has the chooser too.
// Like every POST it is behind the server's cross-origin protection.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	l, ok := s.locales.Available(r.PostForm.Get("lang"))
	if !ok {
		return uiErrorf(takedown.EINVALID, msgNoLanguage, r.PostForm.Get("lang"))
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l.Tag().String(), Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
		HttpOnly: true, Secure: s.hsts || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.PostForm.Get("next")), http.StatusSeeOther)
	return nil
}

// uiError is an error a handler returns for the error page, whose message
// is said in the language of the request that shows it. It wraps a
// takedown.Error with its code and the English message, so that
// takedown.ErrorCode and ErrorMessage work as for any other.
type uiError struct {
	err  *takedown.Error
	key  locale.Key
	args []any
}

func (e *uiError) Error() string { return e.err.Error() }
func (e *uiError) Unwrap() error { return e.err }

// uiErrorf returns an error with code whose message is k's.
func uiErrorf(code string, k locale.Key, args ...any) error {
	msg := k.ID()
	if b, err := embeddedCatalogs(); err == nil {
		msg = b.English().T(k, args...)
	}
	return &uiError{err: &takedown.Error{Code: code, Message: msg}, key: k, args: args}
}

// errorMessage says err's message in l's language: a uiError's from the
// catalog, any other's as the error has it (the domain's messages are
// English).
func errorMessage(l *locale.Localizer, err error) string {
	var ue *uiError
	if errors.As(err, &ue) {
		return l.T(ue.key, ue.args...)
	}
	if takedown.ErrorCode(err) == takedown.EINTERNAL {
		return l.T(msgInternal)
	}
	return takedown.ErrorMessage(err)
}

// embeddedCatalogs loads the embedded catalogs once, for uiErrorf's
// English message.
var embeddedCatalogs = sync.OnceValues(func() (*locale.Bundle, error) { return locale.Load(nil) })

// --- the templates' functions ---

// wrapPattern is what wrap takes: an element, and a class.
var wrapPattern = regexp.MustCompile(`^(strong|em|code|span)(\.[a-z][a-z-]*)?$`)

// wrap puts a value in an element (and class): "strong", "span.url". It
// is how a sentence of the catalog gets emphasis or a styled value: the
// template passes the result as a placeholder's value. A template.HTML
// (what t returns) goes in as it is, anything else escaped.
func wrap(spec string, v any) (template.HTML, error) {
	m := wrapPattern.FindStringSubmatch(spec)
	if m == nil {
		return "", fmt.Errorf("wrap: %q: want strong, em, code or span, with a class after a dot", spec)
	}
	open := "<" + m[1]
	if m[2] != "" {
		open += ` class="` + m[2][1:] + `"`
	}
	inner, ok := v.(template.HTML)
	if !ok {
		inner = template.HTML(locale.EscapeValue(v))
	}
	return template.HTML(open+">") + inner + template.HTML("</"+m[1]+">"), nil
}

// localFuncs are the functions that speak the page's language: t says a
// message, markup runs a part of the page (a link inside a sentence) to
// pass it as a placeholder's value, and the label functions name the
// domain's values. set is the page's templates, known once parsed.
func (s *Server) localFuncs(l *locale.Localizer, set **template.Template) template.FuncMap {
	return template.FuncMap{
		"t": l.HTML,
		"markup": func(name string, data any) (template.HTML, error) {
			var b strings.Builder
			if err := (*set).ExecuteTemplate(&b, name, data); err != nil {
				return "", err
			}
			return template.HTML(b.String()), nil
		},
		"wrap":           wrap,
		"seconds":        func(n int64) string { return seconds(l, n) },
		"status":         func(st takedown.ItemStatus) string { return labelOf(l, statusLabels, st) },
		"basis":          func(b takedown.LegalBasis) string { return labelOf(l, basisLabels, b) },
		"outcome":        func(o takedown.Outcome) string { return labelOf(l, outcomeLabels, o) },
		"answered":       func(o takedown.Outcome) string { return answeredLabel(l, o) },
		"cannotComply":   func(c string) string { return labelOf(l, cannotComplyLabels, c) },
		"feedbackAction": func(a string) string { return labelOf(l, feedbackActionLabels, a) },
		"matchState":     func(st any) string { return labelOf(l, matchStateLabels, takedown.MatchState(fmt.Sprint(st))) },
	}
}

// checkCalls walks a page's parsed templates and checks every call of the
// functions that take constant names: t's key is in the English catalog
// and its placeholder names are exactly the message's; markup's template
// is one of the page's; wrap's element is one it makes. It adds the keys
// to used. A mistake here fails New, at start-up, not a page later.
func checkCalls(set *template.Template, b *locale.Bundle, used map[string]bool) error {
	var errs []error
	var walk func(n parse.Node, where string)
	walk = func(n parse.Node, where string) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c, where)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe, where)
		case *parse.IfNode:
			walk(n.Pipe, where)
			walk(n.List, where)
			walk(n.ElseList, where)
		case *parse.RangeNode:
			walk(n.Pipe, where)
			walk(n.List, where)
			walk(n.ElseList, where)
		case *parse.WithNode:
			walk(n.Pipe, where)
			walk(n.List, where)
			walk(n.ElseList, where)
		case *parse.TemplateNode:
			walk(n.Pipe, where)
		case *parse.ChainNode:
			walk(n.Node, where)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for i, c := range n.Cmds {
				if id, ok := c.Args[0].(*parse.IdentifierNode); ok && i > 0 && (id.Ident == "t" || id.Ident == "markup" || id.Ident == "wrap") {
					errs = append(errs, fmt.Errorf("%s: %s: %s takes its arguments in the call, not from a pipeline", where, c, id.Ident))
				}
				walk(c, where)
			}
		case *parse.CommandNode:
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok {
				if err := checkCall(id.Ident, n, set, b, used); err != nil {
					errs = append(errs, fmt.Errorf("%s: %s: %w", where, n, err))
				}
			}
			for _, a := range n.Args {
				walk(a, where)
			}
		}
	}
	for _, t := range set.Templates() {
		if t.Tree != nil {
			walk(t.Tree.Root, t.Name())
		}
	}
	return errors.Join(errs...)
}

// constant returns a command's argument i as a string constant.
func constant(n *parse.CommandNode, i int) (string, bool) {
	if i >= len(n.Args) {
		return "", false
	}
	s, ok := n.Args[i].(*parse.StringNode)
	if !ok {
		return "", false
	}
	return s.Text, true
}

func checkCall(fn string, n *parse.CommandNode, set *template.Template, b *locale.Bundle, used map[string]bool) error {
	switch fn {
	case "t":
		id, ok := constant(n, 1)
		if !ok {
			return errors.New("t wants a message's key, a string constant, first")
		}
		want, _, ok := b.Lookup(id)
		if !ok {
			return fmt.Errorf("no message %q in the English catalog", id)
		}
		used[id] = true
		var got []string
		for i := 2; i < len(n.Args); i += 2 {
			name, ok := constant(n, i)
			if !ok || i+1 >= len(n.Args) {
				return fmt.Errorf("message %q: want pairs of a placeholder's name (a string constant) and its value", id)
			}
			got = append(got, name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("message %q: the template names %v, the English catalog has %v", id, got, want)
		}
	case "markup":
		name, ok := constant(n, 1)
		if !ok || len(n.Args) != 3 {
			return errors.New("markup wants a template's name, a string constant, and a value")
		}
		if set.Lookup(name) == nil {
			return fmt.Errorf("markup: no template %q", name)
		}
	case "wrap":
		spec, ok := constant(n, 1)
		if !ok || len(n.Args) != 3 || !wrapPattern.MatchString(spec) {
			return errors.New("wrap wants an element (strong, em, code or span, with a class after a dot), a string constant, and a value")
		}
	}
	return nil
}

// checkCatalog checks the Go keys against the English catalog, and that
// every key of the catalog is used by a template (used) or by Go code.
func checkCatalog(b *locale.Bundle, used map[string]bool, keys []locale.Key) error {
	var errs []error
	for _, k := range keys {
		if err := b.Check(k); err != nil {
			errs = append(errs, fmt.Errorf("Go key: %w", err))
		}
		used[k.ID()] = true
	}
	var unused []string
	for _, k := range b.Keys() {
		if !used[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		errs = append(errs, fmt.Errorf("the English catalog has messages nothing uses (remove them, or use them): %s", strings.Join(unused, ", ")))
	}
	return errors.Join(errs...)
}

// parsePages parses the page templates of fsys once per language, each
// set with that language's functions, and checks the calls of t.
func (s *Server) parsePages(fsys fs.FS) error {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return err
	}
	// Files whose names start with "_" hold parts that every page may
	// use; they are no pages themselves.
	shared := []string{"templates/layout.html"}
	for _, n := range names {
		if strings.HasPrefix(n, "templates/_") {
			shared = append(shared, n)
		}
	}
	used := map[string]bool{}
	var errs []error
	s.pages = map[string]map[string]*template.Template{}
	for i, l := range s.locales.Localizers() {
		pages := map[string]*template.Template{}
		for _, n := range names {
			page := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
			if page == "layout" || strings.HasPrefix(page, "_") {
				continue
			}
			set := new(*template.Template)
			t, err := template.New("layout.html").Funcs(baseFuncs).Funcs(s.localFuncs(l, set)).ParseFS(fsys, append(shared[:len(shared):len(shared)], n)...)
			if err != nil {
				return fmt.Errorf("web: template %s: %w", n, err)
			}
			*set = t
			if i == 0 { // the same templates in every language: check once
				if err := checkCalls(t, s.locales, used); err != nil {
					errs = append(errs, fmt.Errorf("web: template %s: %w", n, err))
				}
			}
			pages[page] = t
		}
		s.pages[l.Tag().String()] = pages
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := checkCatalog(s.locales, used, goKeys); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	return nil
}
