package importer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/takedown-project/takedown"
)

// field is a submission field that a column (or a JSON key) can supply.
type field int8

const (
	fieldURL field = iota
	fieldKind
	fieldPlatform
	fieldHandle
	fieldTitle
	fieldNotes
	fieldTags
	fieldLanguage
	fieldFoundAt
	numFields
	noField field = -1
)

var fieldNames = [numFields]string{"url", "kind", "platform", "handle", "title", "notes", "tags", "language", "found_at"}

func (f field) String() string { return fieldNames[f] }

// Fields returns the names of the fields an import understands, in the
// order of the documentation.
func Fields() []string { return slices.Clone(fieldNames[:]) }

// columnAliases are the other names agencies give the fields in their
// exports, in normalised form (see normalizeColumn). They are matched only
// when no column has the field's own name, and two columns that both match
// one field's aliases are an error rather than a guess, so a name belongs
// here only when it almost always means that field in a referral unit's
// spreadsheet. Names that often mean something else stay out: "created_at"
// (when the content was posted, not when it was found), "website" (a URL or
// a platform), "source", "status", "user" (often the analyst), "group_name"
// (a handle or a title), "id".
var columnAliases = [numFields][]string{
	fieldURL: {"link", "uri", "address", "href", "web_address", "url_address", "links", "urls", "hyperlink",
		"permalink", "web_link", "link_url", "page_url", "post_url", "profile_url", "content_url",
		"target_url", "reported_url", "referred_url"},
	fieldKind:     {"type", "item_type", "url_type", "link_type", "object_type"},
	fieldPlatform: {"service", "network", "site", "social_network", "social_media", "platform_name", "service_name", "app"},
	fieldHandle: {"account", "username", "user_name", "screen_name", "screenname", "nickname",
		"account_name", "account_handle", "channel_name", "channel_handle", "user_handle"},
	fieldTitle: {"name", "display_name", "displayname", "channel_title", "group_title",
		"page_title", "post_title", "profile_name", "full_name"},
	fieldNotes: {"note", "comment", "comments", "remark", "remarks", "description", "details",
		"observations", "analyst_notes", "analyst_note", "analyst_comment", "analyst_comments"},
	fieldTags:     {"tag", "labels", "label", "keywords", "keyword", "categories", "category", "topics"},
	fieldLanguage: {"lang", "language_code", "lang_code", "content_language", "locale"},
	fieldFoundAt: {"found", "found_on", "found_date", "date_found", "time_found", "observed", "observed_at",
		"observed_on", "date_observed", "first_seen", "first_seen_at", "seen_at", "seen_on", "date_seen",
		"detected_at", "date_detected", "discovered_at", "date_discovered", "collected_at", "date_collected",
		"captured_at", "date", "datetime", "date_time", "timestamp"},
}

// knownField and aliasField look fields up by normalised name.
var knownField, aliasField = func() (map[string]field, map[string]field) {
	known, alias := map[string]field{}, map[string]field{}
	for f := range numFields {
		known[fieldNames[f]] = f
	}
	for f, names := range columnAliases {
		for _, n := range names {
			if n != normalizeColumn(n) {
				panic("importer: alias " + n + " is not in normalised form")
			}
			if _, ok := known[n]; ok {
				panic("importer: alias " + n + " is a field name")
			}
			if g, ok := alias[n]; ok {
				panic("importer: alias " + n + " given for " + g.String() + " and " + field(f).String())
			}
			alias[n] = field(f)
		}
	}
	return known, alias
}()

// normalizeColumn gives the form in which column names are compared: lower
// case, with runs of spaces, hyphens, dots and underscores as one
// underscore and none at the ends, and camelCase split ("foundAt" is
// found_at), so that "Date found", "date-found" and "dateFound" are one name.
func normalizeColumn(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	sep, prevLower := false, false
	for _, r := range s {
		if r == '_' || r == '-' || r == '.' || unicode.IsSpace(r) {
			sep, prevLower = b.Len() > 0, false
			continue
		}
		if prevLower && unicode.IsUpper(r) {
			sep = true
		}
		if sep {
			b.WriteByte('_')
			sep = false
		}
		b.WriteRune(unicode.ToLower(r))
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	return b.String()
}

// match says how surely a column supplies a field. For each field the
// highest match wins; two columns with the same highest match are an
// error, because picking one would silently lose the other's data.
type match int8

const (
	matchNone       match = iota
	matchAlias            // an alias of the field's name
	matchExact            // the field's name
	matchMapped           // the name given with --columns, once normalised
	matchMappedText       // the name given with --columns, as written but for outer space
)

// columnMap is a validated Options.Columns.
type columnMap struct {
	given [numFields]string // as written, "" when the field is not mapped
	norm  [numFields]string
}

func newColumnMap(cols map[string]string) (columnMap, error) {
	var m columnMap
	// Sorted, so that the error about a bad mapping is always the same one.
	for _, k := range slices.Sorted(maps.Keys(cols)) {
		name := strings.TrimSpace(cols[k])
		f, ok := knownField[normalizeColumn(k)]
		if !ok {
			return m, takedown.Errorf(takedown.EINVALID, "--columns: unknown field %q; the fields are %s", k, strings.Join(fieldNames[:], ", "))
		}
		if m.given[f] != "" {
			return m, takedown.Errorf(takedown.EINVALID, "--columns: %s is given twice", f)
		}
		if name == "" {
			return m, takedown.Errorf(takedown.EINVALID, "--columns: no column name for %s; want %s=COLUMN", f, f)
		}
		m.given[f], m.norm[f] = name, normalizeColumn(name)
	}
	for f := range numFields {
		for g := f + 1; g < numFields; g++ {
			if m.given[g] != "" && m.same(f, m.given[g]) != matchNone {
				return m, takedown.Errorf(takedown.EINVALID, "--columns: %s and %s are both given the column %q; one column supplies one field", f, g, m.given[f])
			}
		}
	}
	return m, nil
}

// mapped reports whether any field is mapped explicitly.
func (m *columnMap) mapped() bool { return m.given != [numFields]string{} }

// flag shows field f's mapping the way it is written on the command line.
func (m *columnMap) flag(f field) string {
	return fmt.Sprintf("--columns %s=%s", f, quoteIfNeeded(m.given[f]))
}

// same reports how name matches the column mapped to field f. A name of
// only separators ("-") normalises to nothing and is matched as text.
func (m *columnMap) same(f field, name string) match {
	switch {
	case m.given[f] == "":
		return matchNone
	case strings.TrimSpace(name) == m.given[f]:
		return matchMappedText
	case m.norm[f] != "" && normalizeColumn(name) == m.norm[f]:
		return matchMapped
	}
	return matchNone
}

// classify says which field a column named name supplies, and how surely.
// A field mapped with --columns takes no column by its name or an alias:
// the mapping is there because those would be wrong.
func (m *columnMap) classify(name string) (field, match) {
	for f := range numFields {
		if how := m.same(f, name); how != matchNone {
			return f, how
		}
	}
	n := normalizeColumn(name)
	if f, ok := knownField[n]; ok && m.given[f] == "" {
		return f, matchExact
	}
	if f, ok := aliasField[n]; ok && m.given[f] == "" {
		return f, matchAlias
	}
	return noField, matchNone
}

// ambiguity is two columns (or keys) that supply one field equally well.
type ambiguity struct {
	field field
	how   match
	a, b  string
}

// describe says what is wrong, for a header ("column") or a JSON object
// ("key").
func (a ambiguity) describe(m *columnMap, what string) string {
	a.a, a.b = shorten(a.a, maxNameInMessage), shorten(a.b, maxNameInMessage)
	switch a.how {
	case matchAlias:
		return fmt.Sprintf("%ss %q and %q both look like the %s %s; use --columns to say which", what, a.a, a.b, a.field, what)
	case matchExact:
		return fmt.Sprintf("%ss %q and %q are both the %s %s; rename one or use --columns to say which", what, a.a, a.b, a.field, what)
	}
	return fmt.Sprintf("%s matches both %ss %q and %q; write the name exactly as in the file", m.flag(a.field), what, a.a, a.b)
}

// ParseColumns reads --columns values: FIELD=COLUMN pairs separated by
// commas. A column name with a comma, an equals sign or a quote is
// quoted as in CSV: notes="Remarks, analyst". Each value may hold several
// pairs; a field may be given once.
func ParseColumns(values []string) (map[string]string, error) {
	cols := map[string]string{}
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		pieces, ok := splitOutsideQuotes(v, ',')
		if !ok {
			return nil, takedown.Errorf(takedown.EINVALID, "--columns %q: a quote is not closed", v)
		}
		for _, piece := range pieces {
			if strings.TrimSpace(piece) == "" {
				return nil, takedown.Errorf(takedown.EINVALID, "--columns %q: an empty pair between commas", v)
			}
			k, name, err := parseColumnPair(piece)
			if err != nil {
				return nil, err
			}
			f, ok := knownField[normalizeColumn(k)]
			if !ok {
				return nil, takedown.Errorf(takedown.EINVALID, "--columns: unknown field %q in %q; the fields are %s", k, strings.TrimSpace(piece), strings.Join(fieldNames[:], ", "))
			}
			if _, dup := cols[f.String()]; dup {
				return nil, takedown.Errorf(takedown.EINVALID, "--columns: %s is given twice", f)
			}
			cols[f.String()] = name
		}
	}
	if _, err := newColumnMap(cols); err != nil {
		return nil, err
	}
	return cols, nil
}

// parseColumnPair splits FIELD=COLUMN at the first '=' outside quotes.
func parseColumnPair(piece string) (k, name string, err error) {
	bad := func() error {
		return takedown.Errorf(takedown.EINVALID, "--columns: %q is not FIELD=COLUMN; write pairs like url=Link,notes=\"Analyst comment\" with the fields %s", strings.TrimSpace(piece), strings.Join(fieldNames[:], ", "))
	}
	parts, _ := splitOutsideQuotes(piece, '=')
	if len(parts) < 2 {
		// A whole pair may be quoted, as encoding/csv would allow.
		p := strings.TrimSpace(piece)
		u, ok := unquote(p)
		if !ok || u == p || !strings.Contains(u, "=") {
			return "", "", bad()
		}
		k, name, _ = strings.Cut(u, "=")
		k, name = strings.TrimSpace(k), strings.TrimSpace(name)
	} else {
		var ok bool
		if k, ok = unquote(strings.TrimSpace(parts[0])); !ok {
			return "", "", bad()
		}
		rest := strings.TrimSpace(piece[len(parts[0])+1:])
		if name, ok = unquote(rest); !ok {
			return "", "", takedown.Errorf(takedown.EINVALID, "--columns: stray quote in %q; quote the whole column name and double quotes inside it: notes=\"say \"\"hi\"\"\"", strings.TrimSpace(piece))
		}
		name = strings.TrimSpace(name)
	}
	if k == "" {
		return "", "", bad()
	}
	if name == "" {
		return "", "", takedown.Errorf(takedown.EINVALID, "--columns: no column name in %q; want FIELD=COLUMN", strings.TrimSpace(piece))
	}
	return k, name, nil
}

// splitOutsideQuotes splits s at each sep that is not between double
// quotes; ok is false when a quote is left open.
func splitOutsideQuotes(s string, sep byte) (parts []string, ok bool) {
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:]), !quoted
}

// unquote undoes CSV quoting of a whole value; an unquoted value must have
// no quote in it, so that a typo is not taken for part of a name.
func unquote(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		inner := s[1 : len(s)-1]
		if strings.Contains(strings.ReplaceAll(inner, `""`, ""), `"`) {
			return "", false
		}
		return strings.ReplaceAll(inner, `""`, `"`), true
	}
	return s, !strings.Contains(s, `"`)
}

// quoteIfNeeded writes a column name so that ParseColumns reads it back.
func quoteIfNeeded(s string) string {
	if strings.ContainsAny(s, `",= `) {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// AliasHelp lists the other names of each field, one field a paragraph
// indented by two spaces and wrapped for a terminal, for help texts.
func AliasHelp() string {
	var b strings.Builder
	for f := range numFields {
		line := "  " + f.String() + ":"
		for i, a := range columnAliases[f] {
			if i < len(columnAliases[f])-1 {
				a += ","
			}
			if len(line)+1+len(a) > 78 {
				b.WriteString(line + "\n")
				line = "   "
			}
			line += " " + a
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// columnList shows names for an error message, not all of a very wide header.
func columnList(names []string) string {
	const most = 20
	var b strings.Builder
	for i, n := range names {
		if i == most {
			fmt.Fprintf(&b, " and %d more", len(names)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", shorten(n, maxNameInMessage))
	}
	return b.String()
}

// maxNameInMessage bounds one column name in an error message: a header
// line may be a megabyte long.
const maxNameInMessage = 60

// urlHint says how to name the url column, for the errors about its absence.
func urlHint(what string) string {
	return fmt.Sprintf("name it url (or %s), or say which %s it is with --columns url=NAME", strings.Join(columnAliases[fieldURL][:4], ", ")+", ...", what)
}
