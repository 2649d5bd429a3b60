// Package locale holds the words of takedown's web UI: one catalog per
// language, each a JSON file named by the language's BCP 47 tag (en.json,
// de.json, pt-BR.json) that maps a message's key to its text. English is
// the catalog every other is checked against and falls back to: a key
// missing from a translation is said in English.
//
// A message is either a string or, where it counts something, an object
// of CLDR plural forms ("one", "other"; "few", "many" and so on in the
// languages that have them), chosen by the argument named count:
//
//	"holds.title": "Holds · {operation}",
//	"delivery.attempts": {"one": "{count} attempt", "other": "{count} attempts"}
//
// Placeholders are named, {operation}, and filled by this package's small
// formatter rather than by golang.org/x/text/message's Printf verbs, for
// three reasons. A translator reads "{agency}" and knows what goes there,
// where "%[2]s" says nothing; a name can be moved anywhere in the
// sentence without renumbering. Every call names its arguments, so a
// template's call is checked against the catalog when the server starts
// (the same names, no more, no fewer), and an English sentence that is
// reordered cannot swap two values. And Printf localises the numbers it
// formats (1834 becomes "1,834" in English), which would change the pages;
// values are written here as the templates always wrote them. Plural forms
// follow CLDR's rules through golang.org/x/text/feature/plural.
//
// The catalogs hold plain text. Localizer.HTML escapes it (and every value
// put into it) for the page; only a value that the template itself made
// as template.HTML, from escaped parts, is inserted as it is.
package locale

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

//go:embed *.json
var embedded embed.FS

// English is the language every catalog is checked against and falls
// back to; its catalog, en.json, holds every message the UI shows.
var English = language.English

// Key names a message that Go code says (a label, an error, a notice),
// with the names of its placeholders in the order T takes their values.
// Make keys with NewKey, as package variables: the program checks them
// all against the English catalog when it starts.
type Key struct {
	id    string
	names []string
}

// NewKey returns the key of message id, whose placeholders are names.
func NewKey(id string, names ...string) Key { return Key{id: id, names: names} }

// ID is the message's key in the catalogs.
func (k Key) ID() string { return k.id }

// Names are the placeholders, in the order T takes their values.
func (k Key) Names() []string { return slices.Clone(k.names) }

// Bundle is the catalogs of every available language. It does not change
// once loaded, so any number of requests may use it at once.
type Bundle struct {
	catalogs []*catalog // English first
	matcher  language.Matcher
}

type catalog struct {
	tag  language.Tag
	msgs map[string]*message
	keys []string // in the file's order
}

// message is one message of a catalog: its text, or its plural forms,
// cut into literal text and placeholders.
type message struct {
	plural bool
	forms  map[plural.Form][]segment // plural.Other alone for a plain message
	names  []string                  // the placeholders of all forms, sorted
}

// segment is literal text, or the placeholder name when name is set.
type segment struct {
	text, name string
}

var (
	keyPattern  = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	formNames   = map[string]plural.Form{"zero": plural.Zero, "one": plural.One, "two": plural.Two, "few": plural.Few, "many": plural.Many, "other": plural.Other}
)

// countName is the placeholder whose value chooses a plural form.
const countName = "count"

// NameKey is the message that names a catalog's language in itself
// ("English", "Deutsch"), for the language chooser: every translation
// must have it, even one that translates little else.
const NameKey = "language.name"

// Load reads the embedded catalogs and, when extra is not nil, the
// catalogs in it (xx.json at its root; one of a language already embedded
// replaces it). Every catalog is checked against the English one: the
// same placeholders in each message, the plural forms its language has,
// and no key English does not have.
func Load(extra fs.FS) (*Bundle, error) {
	files := map[string][]byte{}
	for _, fsys := range []fs.FS{embedded, extra} {
		if fsys == nil {
			continue
		}
		names, err := fs.Glob(fsys, "*.json")
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			data, err := fs.ReadFile(fsys, n)
			if err != nil {
				return nil, err
			}
			files[n] = data
		}
	}
	en, ok := files["en.json"]
	if !ok {
		return nil, errors.New("locale: no English catalog (en.json)")
	}
	english, err := parseCatalog(English, en)
	if err != nil {
		return nil, fmt.Errorf("locale: en.json: %w", err)
	}
	b := &Bundle{catalogs: []*catalog{english}}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if n == "en.json" {
			continue
		}
		base := strings.TrimSuffix(path.Base(n), ".json")
		tag, err := language.Parse(base)
		if err != nil || tag.String() != base {
			return nil, fmt.Errorf("locale: %s: want a file named by a BCP 47 language tag, such as de.json or pt-BR.json", n)
		}
		c, err := parseCatalog(tag, files[n])
		if err == nil {
			err = english.check(c)
		}
		if err == nil && c.msgs[NameKey] == nil {
			err = fmt.Errorf("no %q: a catalog names its language in itself, for the language chooser", NameKey)
		}
		if err != nil {
			return nil, fmt.Errorf("locale: %s: %w", n, err)
		}
		b.catalogs = append(b.catalogs, c)
	}
	tags := make([]language.Tag, len(b.catalogs))
	for i, c := range b.catalogs {
		tags[i] = c.tag
	}
	b.matcher = language.NewMatcher(tags)
	return b, nil
}

// parseCatalog reads a catalog: a JSON object whose values are strings or
// objects of plural forms. A key given twice is an error (encoding/json
// would keep the last without a word).
func parseCatalog(tag language.Tag, data []byte) (*catalog, error) {
	c := &catalog{tag: tag, msgs: map[string]*message{}}
	forms := pluralForms(tag)
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("want a JSON object of messages")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := t.(string)
		if !keyPattern.MatchString(key) {
			return nil, fmt.Errorf("key %q: want lower-case words joined by dots, such as holds.title", key)
		}
		if _, dup := c.msgs[key]; dup {
			return nil, fmt.Errorf("key %q is given twice", key)
		}
		m := &message{forms: map[plural.Form][]segment{}}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		var text string
		var byForm map[string]string
		switch {
		case json.Unmarshal(raw, &text) == nil:
			segs, err := parseText(text)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			m.forms[plural.Other] = segs
		case json.Unmarshal(raw, &byForm) == nil:
			m.plural = true
			for name, text := range byForm {
				f, ok := formNames[name]
				if !ok {
					return nil, fmt.Errorf("%s: %q is no plural form (want zero, one, two, few, many or other)", key, name)
				}
				if !slices.Contains(forms, f) {
					return nil, fmt.Errorf("%s: %s has no plural form %q", key, tag, name)
				}
				segs, err := parseText(text)
				if err != nil {
					return nil, fmt.Errorf("%s, form %s: %w", key, name, err)
				}
				m.forms[f] = segs
			}
			for _, f := range forms {
				if _, ok := m.forms[f]; !ok {
					return nil, fmt.Errorf("%s: lacks the plural form %q that %s needs", key, formName(f), tag)
				}
			}
		default:
			return nil, fmt.Errorf("%s: want a string or an object of plural forms", key)
		}
		if err := m.settle(); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		c.msgs[key] = m
		c.keys = append(c.keys, key)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the object of messages")
	}
	return c, nil
}

// parseText cuts a message's text into literal text and {name}
// placeholders. A brace that does not make a placeholder is an error, so
// that a mistyped one fails at start-up instead of showing on a page.
func parseText(s string) ([]segment, error) {
	var segs []segment
	for s != "" {
		i := strings.IndexAny(s, "{}")
		if i < 0 {
			segs = append(segs, segment{text: s})
			break
		}
		if i > 0 {
			segs = append(segs, segment{text: s[:i]})
		}
		if s[i] == '}' {
			return nil, fmt.Errorf("a } that closes no placeholder in %q", s)
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 || !namePattern.MatchString(s[i+1:i+j]) {
			return nil, fmt.Errorf("a { that opens no placeholder (want {name}, lower case) in %q", s)
		}
		segs = append(segs, segment{name: s[i+1 : i+j]})
		s = s[i+j+1:]
	}
	return segs, nil
}

// settle works out the message's placeholders and checks that its forms
// agree: each has them all, except that a form may leave out the count
// (English "one" may say "a single item", Arabic's "zero" no number).
func (m *message) settle() error {
	all := map[string]bool{}
	for _, segs := range m.forms {
		for _, s := range segs {
			if s.name != "" {
				all[s.name] = true
			}
		}
	}
	m.names = sortedKeys(all)
	if m.plural && !all[countName] {
		return fmt.Errorf("a plural message must say {%s} in at least one form", countName)
	}
	for f, segs := range m.forms {
		has := map[string]bool{}
		for _, s := range segs {
			if s.name != "" {
				has[s.name] = true
			}
		}
		for _, n := range m.names {
			if !has[n] && (n != countName || !m.plural) {
				return fmt.Errorf("the form %q lacks {%s}", formName(f), n)
			}
		}
	}
	return nil
}

// check checks a translation against English (the receiver).
func (en *catalog) check(c *catalog) error {
	for _, k := range c.keys {
		want, ok := en.msgs[k]
		if !ok {
			return fmt.Errorf("key %q is not in the English catalog (gone from it, or mistyped)", k)
		}
		got := c.msgs[k]
		if got.plural != want.plural {
			return fmt.Errorf("%s: plural forms in one catalog and not in the other", k)
		}
		if !slices.Equal(got.names, want.names) {
			return fmt.Errorf("%s: placeholders %v, English has %v", k, braced(got.names), braced(want.names))
		}
	}
	return nil
}

// pluralForms are the forms whole numbers take in a language, by CLDR,
// and "other" always: it is every message's fallback, and the form of
// fractions in languages whose whole numbers never take it (Polish).
func pluralForms(tag language.Tag) []plural.Form {
	seen := map[plural.Form]bool{plural.Other: true}
	for n := range 1000 {
		seen[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)] = true
	}
	var out []plural.Form
	for _, f := range []plural.Form{plural.Zero, plural.One, plural.Two, plural.Few, plural.Many, plural.Other} {
		if seen[f] {
			out = append(out, f)
		}
	}
	return out
}

func formName(f plural.Form) string {
	for n, g := range formNames {
		if g == f {
			return n
		}
	}
	return strconv.Itoa(int(f))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func braced(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{" + n + "}"
	}
	return out
}

// Keys are the keys of the English catalog, in its order.
func (b *Bundle) Keys() []string { return slices.Clone(b.catalogs[0].keys) }

// Lookup tells whether the English catalog has message id, its
// placeholders (sorted) and whether it has plural forms.
func (b *Bundle) Lookup(id string) (names []string, isPlural, ok bool) {
	m, ok := b.catalogs[0].msgs[id]
	if !ok {
		return nil, false, false
	}
	return slices.Clone(m.names), m.plural, true
}

// Check checks a Go key against the English catalog: the message exists
// and has exactly the key's placeholders.
func (b *Bundle) Check(k Key) error {
	names, _, ok := b.Lookup(k.id)
	if !ok {
		return fmt.Errorf("no message %q in the English catalog", k.id)
	}
	got := slices.Sorted(slices.Values(k.names))
	if !slices.Equal(got, names) {
		return fmt.Errorf("message %q: the Go key names %v, the English catalog has %v", k.id, braced(k.names), braced(names))
	}
	return nil
}

// Localizers are the available languages, English first.
func (b *Bundle) Localizers() []*Localizer {
	out := make([]*Localizer, len(b.catalogs))
	for i, c := range b.catalogs {
		out[i] = &Localizer{b: b, c: c}
	}
	return out
}

// English says things in English.
func (b *Bundle) English() *Localizer { return &Localizer{b: b, c: b.catalogs[0]} }

// Available returns the language of tag if there is a catalog for exactly
// it (a cookie's or a form's value).
func (b *Bundle) Available(tag string) (*Localizer, bool) {
	t, err := language.Parse(tag)
	if err != nil {
		return nil, false
	}
	for _, c := range b.catalogs {
		if c.tag == t {
			return &Localizer{b: b, c: c}, true
		}
	}
	return nil, false
}

// Choose picks a request's language: the one its cookie names if
// available, else the best match of its Accept-Language header among the
// available languages, else English.
func (b *Bundle) Choose(cookie, acceptLanguage string) *Localizer {
	if l, ok := b.Available(cookie); ok && cookie != "" {
		return l
	}
	if acceptLanguage != "" {
		if prefs, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(prefs) > 0 {
			if _, i, conf := b.matcher.Match(prefs...); conf != language.No {
				return &Localizer{b: b, c: b.catalogs[i]}
			}
		}
	}
	return b.English()
}

// Localizer says messages in one language, falling back to English for a
// message its catalog lacks.
type Localizer struct {
	b *Bundle
	c *catalog
}

// Tag is the language's BCP 47 tag, for <html lang>.
func (l *Localizer) Tag() language.Tag { return l.c.tag }

// RTL reports whether the language is written from right to left (Arabic,
// Hebrew, Persian, Urdu and the other languages of those scripts).
func (l *Localizer) RTL() bool {
	script, _ := l.c.tag.Script()
	switch script.String() {
	case "Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand", "Samr":
		return true
	}
	return false
}

// message returns message id in the language, or in English.
func (l *Localizer) message(id string) (*message, language.Tag, bool) {
	if m, ok := l.c.msgs[id]; ok {
		return m, l.c.tag, true
	}
	m, ok := l.b.catalogs[0].msgs[id]
	return m, English, ok
}

// T says the message of k as plain text, its placeholders filled with
// args in the order of k's names. It is for Go code (labels, errors,
// notices); html/template escapes the result where a page shows it. A
// placeholder without a value is left as {name}, for a test to find.
func (l *Localizer) T(k Key, args ...any) string {
	m, tag, ok := l.message(k.id)
	if !ok {
		return k.id
	}
	vals := map[string]any{}
	for i, n := range k.names {
		if i < len(args) {
			vals[n] = args[i]
		}
	}
	var b strings.Builder
	for _, s := range m.pick(tag, vals[countName]) {
		switch v, ok := vals[s.name]; {
		case s.name == "":
			b.WriteString(s.text)
		case ok:
			b.WriteString(stringify(v))
		default:
			b.WriteString("{" + s.name + "}")
		}
	}
	return b.String()
}

// HTML says message id for a page: its text escaped, its placeholders
// filled from pairs of a name and a value. A value of type template.HTML
// (made by the template from escaped parts: a link, an emphasis) goes in
// as it is; any other is escaped as html/template escapes a value. The
// catalog's quotes are left as typed, as the templates' own text always
// was: they are harmless between tags, and html/template escapes them
// where the result lands in an attribute.
func (l *Localizer) HTML(id string, pairs ...any) (template.HTML, error) {
	m, tag, ok := l.message(id)
	if !ok {
		return "", fmt.Errorf("no message %q in the English catalog", id)
	}
	if len(pairs)%2 != 0 {
		return "", fmt.Errorf("message %q: want pairs of a placeholder's name and its value", id)
	}
	vals := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		n, ok := pairs[i].(string)
		if !ok {
			return "", fmt.Errorf("message %q: placeholder name %v is no string", id, pairs[i])
		}
		vals[n] = pairs[i+1]
	}
	if len(vals) != len(m.names) {
		return "", fmt.Errorf("message %q: given %d values for the placeholders %v", id, len(vals), braced(m.names))
	}
	for _, n := range m.names {
		if _, ok := vals[n]; !ok {
			return "", fmt.Errorf("message %q: no value for {%s}", id, n)
		}
	}
	var b strings.Builder
	for _, s := range m.pick(tag, vals[countName]) {
		if s.name == "" {
			b.WriteString(escapeText(s.text))
			continue
		}
		if h, ok := vals[s.name].(template.HTML); ok {
			b.WriteString(string(h))
		} else {
			b.WriteString(EscapeValue(vals[s.name]))
		}
	}
	return template.HTML(b.String()), nil
}

// pick returns the form of the message for count (any integer).
func (m *message) pick(tag language.Tag, count any) []segment {
	if !m.plural {
		return m.forms[plural.Other]
	}
	n, _ := integer(count)
	if n < 0 {
		n = -n
	}
	if segs, ok := m.forms[plural.Cardinal.MatchPlural(tag, int(n), 0, 0, 0, 0)]; ok {
		return segs
	}
	return m.forms[plural.Other]
}

func integer(v any) (int64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return int64(rv.Uint()), true
	}
	return 0, false
}

// stringify writes a value as text/template does: pointers followed,
// nothing for nil.
func stringify(v any) string {
	if v == nil {
		return ""
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() && !rv.Type().Implements(stringerType) && !rv.Type().Implements(errorType) {
		rv = rv.Elem()
	}
	return fmt.Sprint(rv.Interface())
}

var (
	stringerType = reflect.TypeFor[fmt.Stringer]()
	errorType    = reflect.TypeFor[error]()
)

// textEscaper escapes a catalog's text for HTML: what would start a tag or
// an entity.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\x00", "\uFFFD")

// valueEscaper escapes a value exactly as html/template escapes one in
// text, so that a page reads byte for byte as before.
var valueEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

func escapeText(s string) string { return textEscaper.Replace(s) }

// EscapeValue writes a value as html/template would write it in text.
func EscapeValue(v any) string { return valueEscaper.Replace(stringify(v)) }
