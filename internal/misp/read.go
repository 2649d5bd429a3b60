package misp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/exchange"
)

// Options configure a read.
type Options struct {
	// Hash receives each PDQ hash that belongs to no finding (see the
	// package documentation), with where it is in the input. Nil drops
	// them; they are counted either way.
	Hash func(h exchange.Hash, where string)
}

const (
	// MaxAttributeBytes bounds one attribute's JSON. A url attribute with
	// its tags is a few kilobytes; a longer one (an attachment carrying
	// a file) is reported as a Problem if takedown would have read it,
	// counted as ignored if not, and skipped either way.
	MaxAttributeBytes = 1 << 20
	// MaxValueBytes bounds any one JSON value the reader holds at once:
	// to step over an attribute the decoder must hold all of it, so an
	// attachment of more than this stops the read with an error rather
	// than filling memory.
	MaxValueBytes = 64 << 20
	// maxEventFindings bounds the findings one event may hold back until
	// its end (see Read): hundreds of megabytes at most.
	maxEventFindings = 200_000
)

// maxValueBytes is MaxValueBytes, lowered by tests.
var maxValueBytes int64 = MaxValueBytes

// ErrNoEvent is returned for JSON without a MISP event in it (including
// a search answer without results): most likely the wrong file.
var ErrNoEvent = errors.New("misp: no MISP event in the input")

// Summary counts what a read did.
type Summary struct {
	Events     int64 `json:"events"`
	Attributes int64 `json:"attributes"`  // read, in objects or not
	Findings   int64 `json:"findings"`    // passed to found
	Hashes     int64 `json:"hashes"`      // PDQ hashes of no finding, passed to Options.Hash
	EventNotes int64 `json:"event_notes"` // text and comment attributes at event level, left out
	Deleted    int64 `json:"deleted"`     // attributes marked deleted, and those of deleted objects
	Ignored    int64 `json:"ignored"`     // attributes of types takedown has no use for
	Problems   int64 `json:"problems"`
}

// Read reads MISP events from r (see the package documentation for the
// forms and what becomes what) and calls found for each finding, and bad
// (which may be nil) for each attribute that cannot be read, with its
// position and the reason, going on with the next.
//
// The decoder reads one attribute at a time, but a finding cannot always
// go out as soon as its attribute is read: the event's tags apply to it,
// and MISP writes an event's Tag after its Attribute and Object arrays.
// So Read holds back the findings of one event until the event's end,
// or, when the event's uuid and Tag came before its attributes (as the
// Writer writes them), passes each on at once. An event is thousands of
// attributes, not millions, which one read holds easily; it holds at
// most 200,000 findings back, and fails beyond.
//
// Read returns an error for input that is not JSON, holds no event
// (ErrNoEvent) or ends in the middle (the findings of the unfinished
// event are dropped: its tags may be missing), for a value larger than
// MaxValueBytes, for ctx ending and for an error from found, which stops
// it. Findings of events before the error have been passed on.
func Read(ctx context.Context, r io.Reader, opts Options, found func(exchange.Finding) error, bad func(exchange.Problem)) (Summary, error) {
	in := &capReader{r: r}
	p := &reader{ctx: ctx, in: in, dec: json.NewDecoder(in), opts: opts, found: found, bad: bad}
	for {
		p.in.limit = p.dec.InputOffset() + maxValueBytes
		tok, err := p.dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p.sum, p.inputError(err)
		}
		switch tok {
		case json.Delim('{'):
			err = p.container(false)
		case json.Delim('['):
			err = p.list()
		default:
			return p.sum, fmt.Errorf("misp: the input is %s, not a MISP event", describe(tok))
		}
		if err != nil {
			return p.sum, err
		}
	}
	if p.sum.Events == 0 {
		return p.sum, ErrNoEvent
	}
	return p.sum, nil
}

// capReader fails a read past limit, which bounds how much the decoder
// buffers for one value.
type capReader struct {
	r        io.Reader
	n, limit int64
}

var errTooLarge = errors.New("value too large")

func (c *capReader) Read(b []byte) (int, error) {
	if c.n >= c.limit {
		return 0, errTooLarge
	}
	if room := c.limit - c.n; int64(len(b)) > room {
		b = b[:room]
	}
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

type reader struct {
	ctx   context.Context
	in    *capReader
	dec   *json.Decoder
	opts  Options
	found func(exchange.Finding) error
	bad   func(exchange.Problem)
	sum   Summary
	depth int // of wrappers and lists, see nest
}

// inputError says why the JSON could not be read.
func (p *reader) inputError(err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("misp: a JSON value after byte %d is larger than the %d bytes read at once: %w", p.dec.InputOffset(), maxValueBytes, err)
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("misp: the input ends inside the JSON after %d bytes (truncated?): %w", p.in.n, io.ErrUnexpectedEOF)
	case errors.As(err, &syntax):
		return fmt.Errorf("misp: not valid JSON at byte %d: %w", syntax.Offset, err)
	}
	return fmt.Errorf("misp: %w", err)
}

// token, decode and more are the decoder's, with the value bound set
// from where the decoder is.
func (p *reader) token() (json.Token, error) {
	p.in.limit = p.dec.InputOffset() + maxValueBytes
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.inputError(err)
	}
	return tok, nil
}

func (p *reader) decode(v any) error {
	p.in.limit = p.dec.InputOffset() + maxValueBytes
	if err := p.dec.Decode(v); err != nil {
		return p.inputError(err)
	}
	return nil
}

func (p *reader) more() bool {
	p.in.limit = p.dec.InputOffset() + maxValueBytes
	return p.dec.More()
}

// skip consumes the rest of the value tok starts, token by token, so that
// no more than one scalar is held at a time.
func (p *reader) skip(tok json.Token) error {
	if d, ok := tok.(json.Delim); !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

func (p *reader) skipValue() error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	return p.skip(tok)
}

func (p *reader) problem(where, reason string, raw []byte) {
	p.sum.Problems++
	if p.bad != nil {
		p.bad(exchange.Problem{Where: where, Reason: reason, Raw: shorten(string(raw), 300)})
	}
}

// maxNesting bounds how deep wrappers and lists of events may nest: MISP
// nests two deep ({"response": [{"Event": ...}]}), and reading them
// recurses, which endless nesting must not turn into a crash.
const maxNesting = 16

func (p *reader) nest() error {
	if p.depth++; p.depth > maxNesting {
		return fmt.Errorf("misp: events nested more than %d deep at byte %d", maxNesting, p.dec.InputOffset())
	}
	return nil
}

// eventKeys are the keys that make an object an event when no "Event"
// wraps it.
var eventKeys = map[string]bool{"uuid": true, "info": true, "date": true, "timestamp": true, "Tag": true, "Attribute": true, "Object": true}

// container reads an object whose '{' was read: a wrapper holding
// "Event" or "response", or a bare event. A bare event in the attribute
// search's {"response": {"Attribute": [...]}} (searchResult) has no tags
// or UUID of its own to wait for: each attribute carries its event's
// UUID and its tags, so its findings go out as they come.
func (p *reader) container(searchResult bool) error {
	if err := p.nest(); err != nil {
		return err
	}
	defer func() { p.depth-- }()
	var bare *event
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			break
		}
		switch key, _ := tok.(string); {
		case key == "Event":
			err = p.eventValue()
		case key == "response":
			err = p.responseValue()
		case eventKeys[key]:
			if bare == nil {
				bare = p.newEvent()
				bare.sawUUID, bare.sawTags = searchResult, searchResult
			}
			err = p.eventKey(bare, key)
		default:
			err = p.skipValue()
		}
		if err != nil {
			return err
		}
	}
	if bare != nil {
		return p.finish(bare)
	}
	return nil
}

// list reads an array of events (or wrappers) whose '[' was read.
func (p *reader) list() error {
	if err := p.nest(); err != nil {
		return err
	}
	defer func() { p.depth-- }()
	for i := 0; p.more(); i++ {
		tok, err := p.token()
		if err != nil {
			return err
		}
		if tok == json.Delim('{') {
			err = p.container(false)
		} else {
			p.problem(fmt.Sprintf("response[%d]", i), "not an event but "+describe(tok), nil)
			err = p.skip(tok)
		}
		if err != nil {
			return err
		}
	}
	_, err := p.token() // ']'
	return err
}

func (p *reader) eventValue() error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		p.problem(fmt.Sprintf("Event[%d]", p.sum.Events), "the event is "+describe(tok)+", not an object", nil)
		return p.skip(tok)
	}
	ev := p.newEvent()
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			return p.finish(ev)
		}
		key, _ := tok.(string)
		if err := p.eventKey(ev, key); err != nil {
			return err
		}
	}
}

// responseValue reads a REST search's "response": a list of events, or
// the attribute search's object of attributes.
func (p *reader) responseValue() error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		return p.list()
	case json.Delim('{'):
		return p.container(true)
	}
	p.problem("response", "the response is "+describe(tok)+", neither a list nor an object", nil)
	return p.skip(tok)
}

// event is what an event gives its findings, and the findings held back
// until its end.
type event struct {
	index            int64
	uuid             string
	tags             []string
	sawUUID, sawTags bool
	pending          []pending
}

// pending is a finding before its event's tags and UUID apply.
type pending struct {
	f         exchange.Finding
	notes     []string
	tags      []string
	eventUUID string // the attribute's event_uuid, for attribute search results
}

func (p *reader) newEvent() *event {
	ev := &event{index: p.sum.Events}
	p.sum.Events++
	return ev
}

func (ev *event) where(obj *object, m int) string {
	if obj == nil {
		return fmt.Sprintf("Event[%d] Attribute[%d]", ev.index, m)
	}
	return fmt.Sprintf("Event[%d] Object[%d] Attribute[%d]", ev.index, obj.index, m)
}

// eventKey reads the value of one key of an event.
func (p *reader) eventKey(ev *event, key string) error {
	switch key {
	case "uuid":
		tok, err := p.token()
		if err != nil {
			return err
		}
		if s, ok := tok.(string); ok {
			ev.uuid, ev.sawUUID = strings.TrimSpace(s), true
		}
		return p.skip(tok)
	case "Tag":
		tags, err := p.tagList()
		ev.tags, ev.sawTags = append(ev.tags, tags...), true
		return err
	case "Attribute":
		return p.attributes(ev, nil)
	case "Object":
		return p.objects(ev)
	}
	return p.skipValue()
}

// tagList reads a Tag array, token by token: the names of its tags.
func (p *reader) tagList() ([]string, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, p.skip(tok)
	}
	var names []string
	for p.more() {
		tok, err := p.token()
		if err != nil {
			return names, err
		}
		if tok != json.Delim('{') {
			if err := p.skip(tok); err != nil {
				return names, err
			}
			continue
		}
		for {
			tok, err := p.token()
			if err != nil {
				return names, err
			}
			if tok == json.Delim('}') {
				break
			}
			if tok != "name" {
				if err := p.skipValue(); err != nil {
					return names, err
				}
				continue
			}
			if tok, err = p.token(); err != nil {
				return names, err
			}
			if s, ok := tok.(string); ok && strings.TrimSpace(s) != "" {
				names = append(names, strings.TrimSpace(s))
			}
			if err := p.skip(tok); err != nil {
				return names, err
			}
		}
	}
	_, err = p.token() // ']'
	return names, err
}

// object is one MISP object while its attributes are read: its findings
// wait for its end, since its comment, notes and hashes may come later.
type object struct {
	index     int
	name      string
	comment   string
	deleted   bool
	collected int64 // attributes kept for the end
	findings  []pending
	notes     []string
	title     string
	hashes    []exchange.Hash
	hashWhere []string
}

func (p *reader) objects(ev *event) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		p.problem(fmt.Sprintf("Event[%d] Object", ev.index), "Object is "+describe(tok)+", not a list", nil)
		return p.skip(tok)
	}
	for k := 0; p.more(); k++ {
		tok, err := p.token()
		if err != nil {
			return err
		}
		if tok != json.Delim('{') {
			p.problem(fmt.Sprintf("Event[%d] Object[%d]", ev.index, k), "the object is "+describe(tok), nil)
			if err := p.skip(tok); err != nil {
				return err
			}
			continue
		}
		obj := &object{index: k}
		for {
			tok, err := p.token()
			if err != nil {
				return err
			}
			if tok == json.Delim('}') {
				break
			}
			switch tok {
			case "name", "comment", "deleted":
				v, err := p.token()
				if err != nil {
					return err
				}
				switch s, _ := v.(string); tok {
				case "name":
					obj.name = strings.TrimSpace(s)
				case "comment":
					obj.comment = strings.TrimSpace(s)
				case "deleted":
					obj.deleted = truthy(v)
				}
				err = p.skip(v)
			case "Attribute":
				err = p.attributes(ev, obj)
			default:
				err = p.skipValue()
			}
			if err != nil {
				return err
			}
		}
		if err := p.resolve(ev, obj); err != nil {
			return err
		}
	}
	_, err = p.token() // ']'
	return err
}

// resolve gives an object's findings its context and hashes, or passes
// its hashes on alone when it has no finding.
func (p *reader) resolve(ev *event, obj *object) error {
	if obj.deleted {
		p.sum.Deleted += obj.collected
		return nil
	}
	if len(obj.findings) == 0 {
		for i, h := range obj.hashes {
			if h.Algorithm == "pdq" {
				p.hash(h, obj.hashWhere[i])
			} else {
				p.sum.Ignored++
			}
		}
		p.sum.Ignored += int64(len(obj.notes))
		if obj.title != "" {
			p.sum.Ignored++
		}
		return nil
	}
	for _, pd := range obj.findings {
		pd.notes = append(append(pd.notes, obj.comment), obj.notes...)
		if pd.f.Title == "" {
			pd.f.Title = obj.title
		}
		if obj.name != "" {
			pd.f.Attributes[attrPrefix+"object"] = obj.name
		}
		for _, h := range obj.hashes {
			addHash(pd.f.Attributes, h)
		}
		if err := p.add(ev, pd); err != nil {
			return err
		}
	}
	return nil
}

func (p *reader) attributes(ev *event, obj *object) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		where := fmt.Sprintf("Event[%d] Attribute", ev.index)
		if obj != nil {
			where = fmt.Sprintf("Event[%d] Object[%d] Attribute", ev.index, obj.index)
		}
		p.problem(where, "Attribute is "+describe(tok)+", not a list", nil)
		return p.skip(tok)
	}
	for m := 0; p.more(); m++ {
		if err := p.attribute(ev, obj, m); err != nil {
			return err
		}
	}
	_, err = p.token() // ']'
	return err
}

// What an attribute is to takedown.
type role int

const (
	roleNone     role = iota
	roleURL           // url, link
	roleHost          // domain, hostname
	roleNote          // text, comment
	roleTitle         // text of relation title
	rolePDQ           // relation pdq, or type pdq
	roleFileHash      // md5, sha1, sha256
)

func roleOf(typ, relation string) role {
	switch {
	case typ == "pdq" || relation == relationPDQ:
		return rolePDQ
	case typ == "url" || typ == "link":
		return roleURL
	case typ == "domain" || typ == "hostname":
		return roleHost
	case typ == "text" && relation == relationTitle:
		return roleTitle
	case typ == "text" || typ == "comment":
		return roleNote
	case typ == "md5" || typ == "sha1" || typ == "sha256":
		return roleFileHash
	}
	return roleNone
}

// attribute reads one attribute: decoded whole, as it is small, then
// taken apart field by field so that a field of an unexpected JSON type
// spoils the attribute only if takedown needs the field.
func (p *reader) attribute(ev *event, obj *object, m int) error {
	if err := p.ctx.Err(); err != nil {
		return fmt.Errorf("misp: %w", err)
	}
	var raw json.RawMessage
	if err := p.decode(&raw); err != nil {
		return err
	}
	p.sum.Attributes++
	where := ev.where(obj, m)
	var fields map[string]json.RawMessage
	if len(raw) > MaxAttributeBytes {
		// Look at no more than needs be: type and deleted.
		var head struct {
			Type    json.RawMessage `json:"type"`
			Deleted json.RawMessage `json:"deleted"`
		}
		json.Unmarshal(raw, &head)
		typ, _ := str(head.Type)
		switch {
		case truthyJSON(head.Deleted):
			p.sum.Deleted++
		case roleOf(typ, "") == roleNone:
			p.sum.Ignored++
		default:
			p.problem(where+" ("+typ+")", fmt.Sprintf("the attribute is %d bytes long, more than the %d read", len(raw), MaxAttributeBytes), raw)
		}
		return nil
	}
	if raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		p.problem(where, "the attribute is not a JSON object", raw)
		return nil
	}
	if truthyJSON(fields["deleted"]) {
		p.sum.Deleted++
		return nil
	}
	rawType, present := fields["type"]
	typ, ok := str(rawType)
	switch {
	case present && string(rawType) != "null" && !ok:
		p.problem(where, "the type is not a string", raw)
		return nil
	case strings.TrimSpace(typ) == "":
		p.problem(where, "the attribute has no type", raw)
		return nil
	}
	typ = strings.TrimSpace(typ)
	where += " (" + typ + ")"
	relation, _ := str(fields["object_relation"])
	r := roleOf(typ, strings.TrimSpace(relation))
	if r == roleNone {
		p.sum.Ignored++
		return nil
	}
	rawValue, present := fields["value"]
	if !present || string(rawValue) == "null" {
		p.problem(where, "the attribute has no value", raw)
		return nil
	}
	value, ok := str(rawValue)
	if !ok {
		p.problem(where, "the value is not a string", raw)
		return nil
	}
	value = strings.TrimSpace(value)
	comment, _ := str(fields["comment"])
	comment = strings.TrimSpace(comment)

	if obj == nil && (r == roleNote || r == roleTitle) {
		p.sum.EventNotes++
		return nil
	}
	if obj == nil && r == roleFileHash {
		p.sum.Ignored++
		return nil
	}
	switch r {
	case roleNote:
		if value != "" {
			obj.notes = append(obj.notes, value)
			obj.collected++
		}
		return nil
	case roleTitle:
		if obj.title == "" {
			obj.title = value
		}
		obj.collected++
		return nil
	case rolePDQ, roleFileHash:
		alg := typ
		if r == rolePDQ {
			alg = "pdq"
		}
		v := strings.ToLower(value)
		if !isHex(v, hexLength(alg)) {
			p.problem(where, fmt.Sprintf("the value is no %s hash: want %d hex digits", alg, hexLength(alg)), raw)
			return nil
		}
		h := exchange.Hash{Algorithm: alg, Value: v, Quality: -1}
		if alg == "pdq" {
			h.Quality = qualityIn(comment)
		}
		if obj == nil {
			p.hash(h, where)
			return nil
		}
		obj.hashes, obj.hashWhere = append(obj.hashes, h), append(obj.hashWhere, where)
		obj.collected++
		return nil
	}

	// roleURL, roleHost: a finding.
	if value == "" {
		p.problem(where, "the "+typ+" attribute's value is blank", raw)
		return nil
	}
	pd := pending{f: exchange.Finding{URL: value, Where: where, Attributes: map[string]string{}}}
	if r == roleHost {
		pd.f.Kind = string(takedown.KindWebsite)
	}
	pd.notes = []string{comment}
	firstSeen, _ := str(fields["first_seen"])
	pd.f.FoundAt = foundAt(firstSeen, fields["timestamp"])
	if s, _ := str(fields["uuid"]); strings.TrimSpace(s) != "" {
		pd.f.Attributes[attrPrefix+"uuid"] = strings.TrimSpace(s)
	}
	if s, _ := str(fields["category"]); strings.TrimSpace(s) != "" {
		pd.f.Attributes[attrPrefix+"category"] = strings.TrimSpace(s)
	}
	pd.eventUUID, _ = str(fields["event_uuid"])
	pd.eventUUID = strings.TrimSpace(pd.eventUUID)
	pd.tags = tagNames(fields["Tag"])
	if obj != nil {
		obj.findings = append(obj.findings, pd)
		obj.collected++
		return nil
	}
	return p.add(ev, pd)
}

// add passes a finding on if its event's tags are known, else holds it
// back until the event's end.
func (p *reader) add(ev *event, pd pending) error {
	if ev.sawUUID && ev.sawTags {
		return p.emit(ev.complete(pd))
	}
	if len(ev.pending) >= maxEventFindings {
		return fmt.Errorf("misp: %s: the event has more than %d findings before its Tag, more than one read holds back", pd.f.Where, maxEventFindings)
	}
	ev.pending = append(ev.pending, pd)
	return nil
}

// finish passes on what an event held back.
func (p *reader) finish(ev *event) error {
	for _, pd := range ev.pending {
		if err := p.emit(ev.complete(pd)); err != nil {
			return err
		}
	}
	ev.pending = nil
	return nil
}

func (p *reader) emit(f exchange.Finding) error {
	p.sum.Findings++
	if p.found == nil {
		return nil
	}
	if err := p.found(f); err != nil {
		return fmt.Errorf("misp: %s: %w", f.Where, err)
	}
	return nil
}

func (p *reader) hash(h exchange.Hash, where string) {
	p.sum.Hashes++
	if p.opts.Hash != nil {
		p.opts.Hash(h, where)
	}
}

// complete applies the event's UUID and tags to a finding, and reads
// takedown's machine tags into fields.
func (ev *event) complete(pd pending) exchange.Finding {
	f := pd.f
	if u := cmp.Or(ev.uuid, pd.eventUUID); u != "" {
		f.Attributes[attrPrefix+"event"] = u
	}
	var notes []string
	for _, n := range pd.notes {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(notes, n) {
			notes = append(notes, n)
		}
	}
	f.Notes = strings.Join(notes, "\n\n")
	var agencies []string
	kindSet, platformSet := false, false
	seen := map[string]bool{}
	for _, t := range slices.Concat(pd.tags, ev.tags) {
		if seen[t] {
			continue
		}
		seen[t] = true
		pred, v, ok := takedownTag(t)
		switch {
		case ok && pred == predKind && takedown.ValidKind(takedown.Kind(v)):
			if !kindSet {
				f.Kind, kindSet = v, true
			}
		case ok && pred == predPlatform && takedown.ValidPlatform(takedown.Platform(v)):
			if !platformSet {
				f.Platform, platformSet = v, true
			}
		case ok && (pred == predStatus || pred == predOperation):
			if k := attrTakedownPre + pred; f.Attributes[k] == "" {
				f.Attributes[k] = v
			}
		case ok && pred == predAgency:
			if !slices.Contains(agencies, v) {
				agencies = append(agencies, v)
			}
		default:
			f.Tags = append(f.Tags, t)
		}
	}
	if len(agencies) > 0 {
		f.Attributes[attrTakedownPre+predAgency] = strings.Join(agencies, ",")
	}
	if len(f.Attributes) == 0 {
		f.Attributes = nil
	}
	return f
}

// str returns a JSON string's value; ok is false for anything else,
// null and absence included.
func str(raw json.RawMessage) (s string, ok bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	return s, json.Unmarshal(raw, &s) == nil
}

// truthyJSON reads MISP's booleans, which some exports write as "1" or 1.
func truthyJSON(raw json.RawMessage) bool {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return false
	}
	return truthy(v)
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case float64:
		return v != 0
	case json.Number:
		return v.String() != "0"
	case string:
		v = strings.TrimSpace(v)
		return v == "1" || strings.EqualFold(v, "true")
	}
	return false
}

// tagNames reads an attribute's Tag list: the names of its tags, as
// MISP writes them ({"name": ...}); anything else in it is passed over.
func tagNames(raw json.RawMessage) []string {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var names []string
	for _, t := range list {
		var tag struct {
			Name json.RawMessage `json:"name"`
		}
		if json.Unmarshal(t, &tag) != nil {
			continue
		}
		if s, ok := str(tag.Name); ok && strings.TrimSpace(s) != "" {
			names = append(names, strings.TrimSpace(s))
		}
	}
	return names
}

// firstSeenLayouts are the forms of first_seen: MISP writes RFC 3339
// with microseconds.
var firstSeenLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05", "2006-01-02T15:04:05", time.DateOnly}

// foundAt is first_seen, else the attribute's timestamp (Unix seconds,
// as a string or a number); zero when neither can be read.
func foundAt(firstSeen string, timestamp json.RawMessage) time.Time {
	if firstSeen = strings.TrimSpace(firstSeen); firstSeen != "" {
		for _, l := range firstSeenLayouts {
			if t, err := time.Parse(l, firstSeen); err == nil {
				return t.UTC()
			}
		}
	}
	s, ok := str(timestamp)
	if !ok {
		s = string(timestamp)
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n > 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}

// qualityIn reads "quality=N" (or "quality N", "quality: N") from a PDQ
// attribute's comment, as the Writer writes it; -1 when there is none.
func qualityIn(comment string) int {
	i := strings.Index(strings.ToLower(comment), "quality")
	if i < 0 {
		return -1
	}
	rest := strings.TrimLeft(comment[i+len("quality"):], " =:")
	end := 0
	for end < len(rest) && end < 4 && '0' <= rest[end] && rest[end] <= '9' {
		end++
	}
	q, err := strconv.Atoi(rest[:end])
	if err != nil || q > 100 {
		return -1
	}
	return q
}

// describe names a token for an error message.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a number"
}

// shorten cuts s to at most n bytes on a rune boundary, valid UTF-8.
func shorten(s string, n int) string { return exchange.Shorten(strings.ToValidUTF8(s, "\uFFFD"), n) }
