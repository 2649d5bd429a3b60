package stix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/exchange"
)

// MaxObjectSize bounds the JSON text of one object of a bundle. A URL
// observable is a few hundred bytes and a report with thousands of
// references well under a megabyte; a larger object is reported as a
// problem, and read only as far as needed to find its end, so one
// malformed object cannot take the memory of an import. (One JSON string
// is the exception: encoding/json reads a string whole before it can be
// measured, so a single giant string costs its size once.)
const MaxObjectSize = 1 << 20

// MaxBuffered bounds how many findings and context objects Read holds
// before it hands findings on. See Read for why it holds them at all.
const MaxBuffered = 200_000

// maxRaw bounds the text of an object kept in a Problem.
const maxRaw = 300

// Read reads a STIX 2.1 bundle from r and calls found for each finding
// and bad for each object that cannot be read as one, with its position.
// It returns an error for input that is not a bundle at all (not JSON, a
// JSON array, an object of another type, a truncated file), for ctx's
// cancellation, and for an error found returns; findings handed to found
// before an error stay handed.
//
// The bundle is streamed with encoding/json's token API, one object of
// "objects" at a time, so the file is never in memory. But STIX puts no
// order on objects: the observed-data that says when a URL was seen, the
// note about it and the report it belongs to may come before or after the
// url object itself. Read therefore holds the findings (a few hundred
// bytes each) and the small context objects until the end of the bundle,
// applies the context, and only then calls found, in the order of the
// bundle. Bundles from referral units hold thousands of objects, not
// millions; should one hold more than MaxBuffered, Read hands on what it
// holds with the context known so far and says so in Summary.Flushed,
// rather than grow without bound.
//
// Mapping: url objects and domain-name objects (Kind "website") become
// findings; user-account objects become account findings on the platform
// their account_type names; file objects give their hashes to the URL
// they are observed with (a file alone is a problem: takedown tracks
// locations, not content); indicators with a pattern of url:value and
// domain-name:value equalities become one finding per value. Context:
// observed-data gives first_observed (FoundAt) and, in bundles Writer
// wrote, takedown's kind, platform, handle, title and status; notes are
// appended to Notes; report names go to Attributes["stix_report"];
// labels of any of them become Tags. STIX 2.0 bundles are read too,
// including the objects dictionary of 2.0 observed-data.
func Read(ctx context.Context, r io.Reader, found func(exchange.Finding) error, bad func(exchange.Problem)) (Summary, error) {
	rd := &reader{
		dec:   json.NewDecoder(r),
		found: found,
		bad:   bad,
	}
	rd.dec.UseNumber()
	rd.reset()
	err := rd.run(ctx)
	return rd.sum, err
}

// reader is the state of one Read.
type reader struct {
	dec   *json.Decoder
	found func(exchange.Finding) error
	bad   func(exchange.Problem)
	sum   Summary

	// Held until the end of the bundle (or MaxBuffered).
	findings []*exchange.Finding
	bySource map[string][]int // id of the object a finding came from → findings
	files    map[string]*fileObj
	fileList []string // ids of files, in bundle order
	observed map[string]*observedCtx
	obsList  []string
	notes    []refCtx
	reports  []refCtx
	held     int
}

type fileObj struct {
	hashes map[string]string
	where  string
	used   bool
}

// observedCtx is what an observed-data object says of the objects it
// refers to.
type observedCtx struct {
	refs          []string
	first         time.Time
	labels        []string
	kind          string
	platform      string
	handle        string
	title         string
	language      string
	attrs         map[string]string
	tags          []string
	embeddedFiles []string
}

// refCtx is a note or report: text or labels for the objects it names.
type refCtx struct {
	refs   []string
	text   string // note: abstract and content
	name   string // report: name
	labels []string
}

func (rd *reader) reset() {
	rd.findings = nil
	rd.bySource = map[string][]int{}
	rd.files = map[string]*fileObj{}
	rd.fileList = nil
	rd.observed = map[string]*observedCtx{}
	rd.obsList = nil
	rd.notes = nil
	rd.reports = nil
	rd.held = 0
}

// errNotBundle prefixes the errors for input that is not a STIX bundle.
var errNotBundle = errors.New("not a STIX bundle")

func (rd *reader) run(ctx context.Context) error {
	tok, err := rd.dec.Token()
	if err != nil {
		return inputError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if d, ok := tok.(json.Delim); ok && d == '[' {
			return fmt.Errorf("%w: the input is a JSON array; want a bundle object {\"type\": \"bundle\", \"objects\": [...]}", errNotBundle)
		}
		return fmt.Errorf("%w: the input is not a JSON object", errNotBundle)
	}
	var typ, id string
	sawObjects := false
	for rd.dec.More() {
		tok, err := rd.dec.Token()
		if err != nil {
			return inputError(err)
		}
		key, _ := tok.(string)
		switch key {
		case "type", "id", "spec_version":
			tok, err := rd.dec.Token()
			if err != nil {
				return inputError(err)
			}
			s, ok := tok.(string)
			if !ok {
				return fmt.Errorf("%w: the bundle's %q is not a string", errNotBundle, key)
			}
			switch key {
			case "type":
				typ = s
				if typ != "bundle" {
					return fmt.Errorf("%w: the input is a STIX object of type %s; want a bundle", errNotBundle, quote(typ, 60))
				}
			case "id":
				id = s
			case "spec_version":
				// STIX 2.0 bundles carry a spec_version; 2.1 bundles
				// do not. 2.0 objects differ little in what takedown
				// reads, so both are read.
				if s != "2.0" && s != "2.1" {
					return fmt.Errorf("bundle has spec_version %s: only STIX 2.1 and 2.0 are read", quote(s, 20))
				}
			}
		case "objects":
			tok, err := rd.dec.Token()
			if err != nil {
				return inputError(err)
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return fmt.Errorf("%w: \"objects\" is not an array", errNotBundle)
			}
			sawObjects = true
			if err := rd.objects(ctx); err != nil {
				return err
			}
		default:
			if err := rd.skipValue(); err != nil {
				return err
			}
		}
	}
	if _, err := rd.dec.Token(); err != nil { // the closing '}'
		return inputError(err)
	}
	if _, err := rd.dec.Token(); err != io.EOF {
		if err != nil {
			return inputError(err)
		}
		return fmt.Errorf("unexpected data after the bundle")
	}
	if typ == "" {
		return fmt.Errorf("%w: the object has no \"type\": \"bundle\"", errNotBundle)
	}
	if msg := validID("bundle", id); msg != "" && id != "" {
		return fmt.Errorf("%w: %s", errNotBundle, msg)
	}
	if !sawObjects {
		return nil // an empty bundle may leave out "objects"
	}
	return rd.flush()
}

// inputError words a decoding error of input that cannot be read on.
func inputError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the input ends before the bundle does (truncated?): %w", io.ErrUnexpectedEOF)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not JSON at byte %d: %w", se.Offset, err)
	}
	return fmt.Errorf("read bundle: %w", err)
}

// objects reads the elements of the "objects" array, its '[' read.
func (rd *reader) objects(ctx context.Context) error {
	for n := 0; rd.dec.More(); n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, size, err := rd.readBounded()
		if err != nil {
			return err
		}
		rd.sum.Objects++
		if raw == nil {
			rd.problem(fmt.Sprintf("objects[%d]", n), fmt.Sprintf("object is %d bytes or more, more than the %d read", size, MaxObjectSize), "")
			continue
		}
		if err := rd.object(n, raw); err != nil {
			return err
		}
		if rd.held >= MaxBuffered {
			n := int64(len(rd.findings))
			if err := rd.flush(); err != nil {
				return err
			}
			rd.sum.Flushed += n
			rd.reset()
		}
	}
	if _, err := rd.dec.Token(); err != nil { // the closing ']'
		return inputError(err)
	}
	return nil
}

// readBounded reads the next JSON value through the token API and returns
// its text, re-encoded, or nil and the size reached when it is larger than
// MaxObjectSize: then the rest of the value is read and dropped, token by
// token, without being kept.
func (rd *reader) readBounded() (json.RawMessage, int64, error) {
	var buf bytes.Buffer
	type frame struct {
		obj bool
		n   int
	}
	var stack []frame
	over := false
	start := rd.dec.InputOffset()
	for {
		tok, err := rd.dec.Token()
		if err != nil {
			return nil, 0, inputError(err)
		}
		if rd.dec.InputOffset()-start > MaxObjectSize {
			over = true
			buf.Reset()
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if !over {
				buf.WriteByte(byte(d))
			}
			if len(stack) == 0 {
				break
			}
			continue
		}
		if !over {
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				if top.obj {
					if top.n%2 == 0 {
						if top.n > 0 {
							buf.WriteByte(',')
						}
					} else {
						buf.WriteByte(':')
					}
				} else if top.n > 0 {
					buf.WriteByte(',')
				}
				top.n++
			}
			if err := writeToken(&buf, tok); err != nil {
				return nil, 0, err
			}
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{obj: d == '{'})
			continue
		}
		if len(stack) == 0 {
			break // a scalar element
		}
	}
	if over {
		return nil, rd.dec.InputOffset() - start, nil
	}
	return buf.Bytes(), 0, nil
}

// writeToken writes one token of the token API back as JSON text.
func writeToken(b *bytes.Buffer, tok json.Token) error {
	switch v := tok.(type) {
	case json.Delim:
		b.WriteByte(byte(v))
	case string:
		enc, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(enc)
	case json.Number:
		b.WriteString(v.String())
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case nil:
		b.WriteString("null")
	default:
		return fmt.Errorf("unexpected JSON token %T", tok)
	}
	return nil
}

// skipValue reads and drops the next value.
func (rd *reader) skipValue() error {
	tok, err := rd.dec.Token()
	if err != nil {
		return inputError(err)
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return rd.skipRest()
	}
	return nil
}

// skipRest drops the rest of an object or array whose opening delimiter
// was read.
func (rd *reader) skipRest() error {
	for depth := 1; depth > 0; {
		tok, err := rd.dec.Token()
		if err != nil {
			return inputError(err)
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func (rd *reader) problem(where, reason, raw string) {
	rd.sum.Problems++
	if rd.bad != nil {
		rd.bad(exchange.Problem{Where: where, Reason: reason, Raw: shorten(strings.ToValidUTF8(raw, "\uFFFD"), maxRaw)})
	}
}

// obj is one decoded STIX object with typed accessors that report a
// property of the wrong JSON type.
type obj map[string]json.RawMessage

// str returns a string property; "" when absent or null.
func (o obj) str(key string) (string, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s is not a string", key)
	}
	return s, nil
}

// strs returns a list-of-strings property.
func (o obj) strs(key string) ([]string, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var s []string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s is not a list of strings", key)
	}
	return s, nil
}

// time returns a timestamp property; zero when absent.
func (o obj) time(key string) (time.Time, error) {
	s, err := o.str(key)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, ok := parseTime(s)
	if !ok {
		return time.Time{}, fmt.Errorf("%s %s is not a timestamp", key, quote(s, 40))
	}
	return t, nil
}

// object handles the n-th object of the bundle.
func (rd *reader) object(n int, raw json.RawMessage) error {
	var o obj
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		rd.problem(fmt.Sprintf("objects[%d]", n), "not a JSON object", string(raw))
		return nil
	}
	typ, err := o.str("type")
	if err != nil || typ == "" {
		rd.problem(fmt.Sprintf("objects[%d]", n), "object without a type", string(raw))
		return nil
	}
	id, err := o.str("id")
	where := fmt.Sprintf("objects[%d] %s", n, shorten(typ, 60))
	if err != nil || id == "" {
		rd.problem(where, typ+" object without an id", string(raw))
		return nil
	}
	if msg := validID(typ, id); msg != "" {
		rd.problem(where, msg, string(raw))
		return nil
	}
	where = fmt.Sprintf("objects[%d] %s", n, id)
	if v, err := o.str("spec_version"); err != nil {
		rd.problem(where, err.Error(), string(raw))
		return nil
	} else if v != "" && v != "2.1" && v != "2.0" {
		rd.problem(where, "spec_version "+quote(v, 20)+": only 2.1 is read", string(raw))
		return nil
	}
	switch typ {
	case "url", "domain-name", "user-account", "file":
		if msg := rd.observable(typ, id, id, o, where); msg != "" {
			rd.problem(where, msg, string(raw))
		}
	case "indicator":
		if msg := rd.indicator(id, o, where); msg != "" {
			rd.problem(where, msg, string(raw))
		}
	case "observed-data":
		if msg := rd.observedData(id, o, where); msg != "" {
			rd.problem(where, msg, string(raw))
		}
	case "note", "report":
		if msg := rd.refObject(typ, o); msg != "" {
			rd.problem(where, msg, string(raw))
		}
	default:
		rd.sum.Ignored++
	}
	return nil
}

// accountURL maps a user-account's account_type to the URL of a login on
// that platform, and the platform's name in takedown.
var accountURL = map[string]struct {
	prefix   string
	platform takedown.Platform
}{
	"telegram":  {"https://t.me/", takedown.PlatformTelegram},
	"x":         {"https://x.com/", takedown.PlatformX},
	"twitter":   {"https://x.com/", takedown.PlatformX},
	"facebook":  {"https://www.facebook.com/", takedown.PlatformFacebook},
	"instagram": {"https://www.instagram.com/", takedown.PlatformInstagram},
	"youtube":   {"https://www.youtube.com/@", takedown.PlatformYouTube},
	"tiktok":    {"https://www.tiktok.com/@", takedown.PlatformTikTok},
}

// observable reads a cyber-observable object; it returns why it cannot be
// read, or "". key identifies the object for references: its id, or for
// the embedded objects of STIX 2.0 observed-data, which have none, a key
// made of the observed-data's id; stixID is the id, or "".
func (rd *reader) observable(typ, key, stixID string, o obj, where string) string {
	f := exchange.Finding{Where: where}
	switch typ {
	case "url", "domain-name":
		v, err := o.str("value")
		if err != nil {
			return typ + " " + err.Error()
		}
		v = strings.TrimSpace(v)
		if v == "" {
			return typ + " without a value"
		}
		f.URL = v
		if typ == "domain-name" {
			f.Kind = string(takedown.KindWebsite)
		}
	case "user-account":
		login, err := o.str("account_login")
		if err != nil {
			return "user-account " + err.Error()
		}
		if login == "" {
			if login, err = o.str("user_id"); err != nil {
				return "user-account " + err.Error()
			}
		}
		login = strings.TrimSpace(login)
		accType, err := o.str("account_type")
		if err != nil {
			return "user-account " + err.Error()
		}
		display, err := o.str("display_name")
		if err != nil {
			return "user-account " + err.Error()
		}
		if login == "" {
			return "user-account without account_login or user_id"
		}
		f.Kind, f.Title = string(takedown.KindAccount), display
		if strings.HasPrefix(login, "https://") || strings.HasPrefix(login, "http://") {
			f.URL = login
			break
		}
		m, ok := accountURL[strings.ToLower(strings.TrimSpace(accType))]
		if !ok {
			if accType == "" {
				return "user-account without account_type: takedown cannot tell which platform " + quote(login, 60) + " is on"
			}
			return "user-account of account_type " + quote(accType, 40) + ": takedown knows no URL for it (telegram, x, twitter, facebook, instagram, youtube, tiktok)"
		}
		h := strings.TrimPrefix(login, "@")
		if h == "" || strings.ContainsAny(h, "/?# ") {
			return "user-account login " + quote(login, 60) + " is not a handle"
		}
		f.URL, f.Platform, f.Handle = m.prefix+h, string(m.platform), h
	case "file":
		hashes, msg := readHashes(o)
		if msg != "" {
			return msg
		}
		u, err := o.str("x_takedown_url")
		if err != nil {
			return "file " + err.Error()
		}
		if u = strings.TrimSpace(u); u == "" {
			if rd.files[key] == nil {
				rd.files[key] = &fileObj{hashes: hashes, where: where}
				rd.fileList = append(rd.fileList, key)
				rd.held++
			}
			return ""
		}
		f.URL, f.Kind = u, string(takedown.KindFile)
		for k, v := range hashes {
			setAttr(&f, k, v)
		}
	}
	if len(f.URL) > takedown.MaxRawInputLength {
		return fmt.Sprintf("%s value is %d bytes long, more than the %d takedown takes", typ, len(f.URL), takedown.MaxRawInputLength)
	}
	labels, err := o.strs("labels")
	if err != nil {
		return typ + " " + err.Error()
	}
	f.Tags = labels
	rd.readTakedownProps(&f, o)
	if stixID != "" {
		setAttr(&f, "stix_id", stixID)
	}
	rd.add(key, &f)
	return ""
}

// readTakedownProps reads the custom properties Writer puts on objects.
func (rd *reader) readTakedownProps(f *exchange.Finding, o obj) {
	if v, _ := o.str("x_takedown_kind"); v != "" && takedown.ValidKind(takedown.Kind(v)) {
		f.Kind = v
	}
	if v, _ := o.str("x_takedown_platform"); v != "" {
		f.Platform = v
	}
	if tags, _ := o.strs("x_takedown_tags"); len(tags) > 0 {
		f.Tags = append(f.Tags, tags...)
	}
}

// readHashes reads the hashes of a file object as Attributes keys.
func readHashes(o obj) (map[string]string, string) {
	raw, ok := o["hashes"]
	if !ok || string(raw) == "null" {
		return nil, ""
	}
	var h map[string]string
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, "file hashes is not a dictionary of strings"
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if k == "" || v == "" {
			continue
		}
		out["stix_"+hashKey(k)] = hashValue(v)
	}
	return out, ""
}

// hashKey normalises a STIX hash algorithm name for Attributes: lower
// case, "SHA-256" → "sha256", "SHA3-256" → "sha3_256".
func hashKey(k string) string {
	k = strings.ToLower(strings.TrimSpace(k))
	if rest, ok := strings.CutPrefix(k, "sha-"); ok {
		k = "sha" + rest
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return '_'
		}
		return r
	}, k)
}

// hashValue lower-cases a hash written in hex and leaves other encodings
// (ssdeep, TLSH) as they are.
func hashValue(v string) string {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return v
		}
	}
	return strings.ToLower(v)
}

func setAttr(f *exchange.Finding, k, v string) {
	if f.Attributes == nil {
		f.Attributes = map[string]string{}
	}
	if len(f.Attributes) >= takedown.MaxAttributes {
		return
	}
	f.Attributes[k] = shorten(v, takedown.MaxAttributeValue-3)
}

// add holds a finding made from the object with the given id.
func (rd *reader) add(source string, f *exchange.Finding) {
	rd.findings = append(rd.findings, f)
	if source != "" {
		rd.bySource[source] = append(rd.bySource[source], len(rd.findings)-1)
	}
	rd.held++
}

// indicator reads an indicator whose pattern names URLs or domains.
func (rd *reader) indicator(id string, o obj, where string) string {
	pt, err := o.str("pattern_type")
	if err != nil {
		return "indicator " + err.Error()
	}
	if pt != "" && pt != "stix" {
		return "pattern_type " + quote(pt, 30) + ": only STIX patterns are read"
	}
	pattern, err := o.str("pattern")
	if err != nil {
		return "indicator " + err.Error()
	}
	if strings.TrimSpace(pattern) == "" {
		return "indicator without a pattern"
	}
	terms, err := parsePattern(pattern)
	if err != nil {
		return err.Error()
	}
	name, err := o.str("name")
	if err != nil {
		return "indicator " + err.Error()
	}
	desc, err := o.str("description")
	if err != nil {
		return "indicator " + err.Error()
	}
	from, err := o.time("valid_from")
	if err != nil {
		return "indicator " + err.Error()
	}
	labels, err := o.strs("labels")
	if err != nil {
		return "indicator " + err.Error()
	}
	var made []*exchange.Finding
	for _, t := range terms {
		v := strings.TrimSpace(t.Value)
		if v == "" {
			return "pattern compares " + t.Type + ":value with an empty string"
		}
		if len(v) > takedown.MaxRawInputLength {
			return fmt.Sprintf("pattern value is %d bytes long, more than the %d takedown takes", len(v), takedown.MaxRawInputLength)
		}
		f := &exchange.Finding{URL: v, Title: name, Notes: desc, FoundAt: from, Tags: slices.Clone(labels), Where: where}
		if t.Type == "domain-name" {
			f.Kind = string(takedown.KindWebsite)
		}
		rd.readTakedownProps(f, o)
		setAttr(f, "stix_id", id)
		made = append(made, f)
	}
	for _, f := range made {
		rd.add(id, f)
	}
	return ""
}

// observedData holds what an observed-data object says of its objects.
func (rd *reader) observedData(id string, o obj, where string) string {
	c := &observedCtx{attrs: map[string]string{}}
	var err error
	if c.refs, err = o.strs("object_refs"); err != nil {
		return "observed-data " + err.Error()
	}
	if c.first, err = o.time("first_observed"); err != nil {
		return "observed-data " + err.Error()
	}
	if c.labels, err = o.strs("labels"); err != nil {
		return "observed-data " + err.Error()
	}
	for _, p := range []struct {
		key string
		dst *string
	}{
		{"x_takedown_kind", &c.kind}, {"x_takedown_platform", &c.platform},
		{"x_takedown_handle", &c.handle}, {"x_takedown_title", &c.title},
		{"x_takedown_language", &c.language},
	} {
		if *p.dst, err = o.str(p.key); err != nil {
			return "observed-data " + err.Error()
		}
	}
	for key, attr := range map[string]string{
		"x_takedown_status":     "stix_takedown_status",
		"x_takedown_identity":   "stix_takedown_identity",
		"x_takedown_provider":   "stix_takedown_provider",
		"x_takedown_avatar_pdq": "stix_pdq",
	} {
		v, err := o.str(key)
		if err != nil {
			return "observed-data " + err.Error()
		}
		if v != "" {
			if attr == "stix_pdq" {
				v = hashValue(v)
			}
			c.attrs[attr] = v
		}
	}
	if c.tags, err = o.strs("x_takedown_tags"); err != nil {
		return "observed-data " + err.Error()
	}
	// STIX 2.0: the observed objects are embedded, keyed "0", "1", ….
	if raw, ok := o["objects"]; ok && string(raw) != "null" {
		var embedded map[string]json.RawMessage
		if err := json.Unmarshal(raw, &embedded); err != nil {
			return "observed-data objects is not a dictionary"
		}
		keys := make([]string, 0, len(embedded))
		for k := range embedded {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var e obj
			ew := where + " objects." + shorten(k, 40)
			if err := json.Unmarshal(embedded[k], &e); err != nil || e == nil {
				rd.problem(ew, "embedded object is not a JSON object", string(embedded[k]))
				continue
			}
			typ, err := e.str("type")
			if err != nil || typ == "" {
				rd.problem(ew, "embedded object without a type", string(embedded[k]))
				continue
			}
			switch typ {
			case "url", "domain-name", "user-account", "file":
			default:
				continue
			}
			key := id + "/objects/" + k
			if msg := rd.observable(typ, key, "", e, ew+" ("+typ+")"); msg != "" {
				rd.problem(ew, msg, string(embedded[k]))
				continue
			}
			c.refs = append(c.refs, key)
		}
	}
	if rd.observed[id] == nil {
		rd.obsList = append(rd.obsList, id)
	}
	rd.observed[id] = c
	rd.held++
	return ""
}

// refObject holds a note or a report.
func (rd *reader) refObject(typ string, o obj) string {
	refs, err := o.strs("object_refs")
	if err != nil {
		return typ + " " + err.Error()
	}
	labels, err := o.strs("labels")
	if err != nil {
		return typ + " " + err.Error()
	}
	c := refCtx{refs: refs, labels: labels}
	if typ == "note" {
		content, err := o.str("content")
		if err != nil {
			return "note " + err.Error()
		}
		abstract, err := o.str("abstract")
		if err != nil {
			return "note " + err.Error()
		}
		c.text = strings.TrimSpace(content)
		if a := strings.TrimSpace(abstract); a != "" && a != c.text {
			c.text = strings.TrimSpace(a + "\n" + c.text)
		}
		rd.notes = append(rd.notes, c)
	} else {
		if c.name, err = o.str("name"); err != nil {
			return "report " + err.Error()
		}
		rd.reports = append(rd.reports, c)
	}
	rd.held++
	return ""
}

// targets returns the findings an object reference leads to: the findings
// made from the object, or, for an observed-data, those made from the
// objects it refers to. Each finding once, in order.
func (rd *reader) targets(refs []string) []int {
	var out []int
	seen := map[int]bool{}
	addAll := func(ref string) {
		for _, i := range rd.bySource[ref] {
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	for _, ref := range refs {
		addAll(ref)
		if c := rd.observed[ref]; c != nil {
			for _, r := range c.refs {
				addAll(r)
			}
		}
	}
	sort.Ints(out)
	return out
}

// flush applies the context held to the findings held, reports the files
// that belong to no URL, and hands the findings on.
func (rd *reader) flush() error {
	for _, oid := range rd.obsList {
		c := rd.observed[oid]
		var hashes map[string]string
		for _, ref := range c.refs {
			if fo := rd.files[ref]; fo != nil {
				fo.used = true
				for k, v := range fo.hashes {
					if hashes == nil {
						hashes = map[string]string{}
					}
					hashes[k] = v
				}
			}
		}
		for _, i := range rd.targets([]string{oid}) {
			f := rd.findings[i]
			if !c.first.IsZero() && (f.FoundAt.IsZero() || c.first.Before(f.FoundAt)) {
				f.FoundAt = c.first
			}
			if c.kind != "" && takedown.ValidKind(takedown.Kind(c.kind)) {
				f.Kind = c.kind
			}
			if c.platform != "" {
				f.Platform = c.platform
			}
			if c.handle != "" {
				f.Handle = c.handle
			}
			if c.title != "" && f.Title == "" {
				f.Title = c.title
			}
			if c.language != "" && f.Language == "" {
				f.Language = c.language
			}
			f.Tags = append(f.Tags, c.labels...)
			f.Tags = append(f.Tags, c.tags...)
			for _, k := range sortedKeys(c.attrs) {
				setAttr(f, k, c.attrs[k])
			}
			for _, k := range sortedKeys(hashes) {
				setAttr(f, k, hashes[k])
			}
		}
	}
	for _, n := range rd.notes {
		if n.text == "" {
			continue
		}
		for _, i := range rd.targets(n.refs) {
			f := rd.findings[i]
			if f.Notes == "" {
				f.Notes = n.text
			} else if !strings.Contains(f.Notes, n.text) {
				f.Notes += "\n\n" + n.text
			}
			f.Tags = append(f.Tags, n.labels...)
		}
	}
	for _, rp := range rd.reports {
		for _, i := range rd.targets(rp.refs) {
			f := rd.findings[i]
			f.Tags = append(f.Tags, rp.labels...)
			if name := strings.TrimSpace(rp.name); name != "" {
				if old := f.Attributes["stix_report"]; old == "" {
					setAttr(f, "stix_report", name)
				} else if !slices.Contains(strings.Split(old, "; "), name) {
					setAttr(f, "stix_report", old+"; "+name)
				}
			}
		}
	}
	for _, id := range rd.fileList {
		if fo := rd.files[id]; !fo.used {
			rd.problem(fo.where, "file without a URL: takedown tracks online locations", "")
		}
	}
	for _, f := range rd.findings {
		f.Tags = cleanTags(f.Tags)
		if f.URL == "" { // cannot happen; a finding always has a URL
			continue
		}
		rd.sum.Findings++
		if rd.found != nil {
			if err := rd.found(*f); err != nil {
				return err
			}
		}
	}
	return nil
}

// cleanTags drops empty and repeated tags, keeping the first of each, and
// bounds them as a submission does.
func cleanTags(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] || len(t) > takedown.MaxTagLength {
			continue
		}
		seen[t] = true
		out = append(out, t)
		if len(out) == takedown.MaxTags {
			break
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
