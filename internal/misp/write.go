package misp

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/exchange"
)

// The JSON of what the Writer writes: what MISP needs to import an event
// ("Import from MISP JSON", or POST /events/add), no more.
type (
	mispTag struct {
		Name string `json:"name"`
	}
	mispAttribute struct {
		UUID               string    `json:"uuid"`
		Type               string    `json:"type"`
		Category           string    `json:"category"`
		Value              string    `json:"value"`
		ObjectRelation     string    `json:"object_relation,omitempty"`
		ToIDs              bool      `json:"to_ids"`
		Distribution       string    `json:"distribution"`
		Comment            string    `json:"comment"`
		Timestamp          string    `json:"timestamp"`
		FirstSeen          string    `json:"first_seen,omitempty"`
		DisableCorrelation bool      `json:"disable_correlation"`
		Deleted            bool      `json:"deleted"`
		Tag                []mispTag `json:"Tag,omitempty"`
	}
	mispObject struct {
		UUID            string          `json:"uuid"`
		Name            string          `json:"name"`
		MetaCategory    string          `json:"meta-category"`
		Description     string          `json:"description"`
		TemplateUUID    string          `json:"template_uuid"`
		TemplateVersion string          `json:"template_version"`
		Timestamp       string          `json:"timestamp"`
		Distribution    string          `json:"distribution"`
		SharingGroupID  string          `json:"sharing_group_id"`
		Comment         string          `json:"comment"`
		Deleted         bool            `json:"deleted"`
		Attribute       []mispAttribute `json:"Attribute"`
	}
	// eventHeader is the event before its objects. Its Tag comes before
	// the objects so that Read can pass each finding on as it comes.
	eventHeader struct {
		UUID             string          `json:"uuid"`
		Info             string          `json:"info"`
		Date             string          `json:"date"`
		Timestamp        string          `json:"timestamp"`
		PublishTimestamp string          `json:"publish_timestamp"`
		Published        bool            `json:"published"`
		Analysis         string          `json:"analysis"`
		ThreatLevelID    string          `json:"threat_level_id"`
		Distribution     string          `json:"distribution"`
		SharingGroupID   string          `json:"sharing_group_id"`
		Tag              []mispTag       `json:"Tag"`
		Attribute        []mispAttribute `json:"Attribute"`
	}
)

// MISP's codes for the event's settings.
const (
	distributionOrgOnly = "0" // the event: the importing organisation decides whom to share with
	distributionInherit = "5" // objects and attributes: as the event
	analysisOngoing     = "1"
	analysisComplete    = "2"
	threatUndefined     = "4" // a taxonomy tag says more, where wanted
	// categoryURL is the category of the url and domain attributes:
	// MISP's default for both, and allowed for both.
	categoryURL  = "Network activity"
	categoryText = "Other"
	categoryHash = "Payload delivery"
	maxInfo      = 256 // the RFC: info SHOULD NOT be longer
)

const objectDescription = "An online item that internet referral units reported for removal with takedown: its URL, title and the hashes of its content."

// firstSeenLayout is RFC 3339 with microseconds, as MISP stores first_seen.
const firstSeenLayout = "2006-01-02T15:04:05.000000-07:00"

// Writer writes one MISP event item by item, so that an operation of
// tens of thousands of items takes no more memory than one.
type Writer struct {
	bw     *bufio.Writer
	slug   string
	ts     string
	n      int
	err    error // the first write error; every later call returns it
	closed bool
}

// NewWriter starts the event of an export: its UUID is derived from the
// operation's slug (so an export again updates the same MISP event), its
// info is the operation's name, its date and timestamp the export's time,
// and its one tag takedown:operation="SLUG". It is unpublished and
// shared with the importing organisation only, which decides whom to
// share it with; its analysis is "ongoing" for an open operation and
// "complete" for a closed one.
func NewWriter(w io.Writer, exp exchange.Export) (*Writer, error) {
	op := exp.Operation
	if op == nil || op.Slug == "" {
		return nil, errors.New("misp: an export needs its operation")
	}
	if exp.Created.IsZero() {
		return nil, errors.New("misp: an export needs its time")
	}
	created := exp.Created.UTC()
	mw := &Writer{bw: bufio.NewWriter(w), slug: op.Slug, ts: strconv.FormatInt(created.Unix(), 10)}
	analysis := analysisOngoing
	if op.Status == takedown.OperationClosed {
		analysis = analysisComplete
	}
	hdr := eventHeader{
		UUID:             newUUID("event", op.Slug),
		Info:             eventInfo(op),
		Date:             created.Format(time.DateOnly),
		Timestamp:        mw.ts,
		PublishTimestamp: "0",
		Analysis:         analysis,
		ThreatLevelID:    threatUndefined,
		Distribution:     distributionOrgOnly,
		SharingGroupID:   "0",
		Tag:              []mispTag{{machineTag(predOperation, op.Slug)}},
		Attribute:        []mispAttribute{},
	}
	b, err := marshal(hdr)
	if err != nil {
		return nil, err
	}
	mw.write(`{"Event":`)
	mw.write(string(b[:len(b)-1])) // without its '}': the objects follow
	mw.write(`,"Object":[`)
	if mw.err != nil {
		return nil, mw.err
	}
	return mw, nil
}

func (w *Writer) write(s string) {
	if w.err == nil {
		_, w.err = w.bw.WriteString(s)
	}
}

// Write adds one item as an object. An item that cannot be written (no
// URL, a hash that is not what its algorithm says) is an error that
// writes nothing, and the event goes on; a write error is returned by
// this and every later call.
//
// The object's url attribute carries the item's tags: those of its
// submissions, then takedown:kind, takedown:platform, takedown:status
// and one takedown:agency per submitting agency; its comment is the
// submissions' notes, each after its agency's code, cut to
// takedown.MaxNotesLength. Notes are written as given: the caller
// redacts them for the export's audience first (Actor.Redact), and
// redacted submissions' are left out. Hashes of other algorithms than
// pdq, md5, sha1 and sha256 have no MISP type and are left out.
func (w *Writer) Write(it exchange.ExportItem) error {
	switch {
	case w.closed:
		return errors.New("misp: write after close")
	case w.err != nil:
		return w.err
	}
	obj, err := w.object(it)
	if err != nil {
		return err
	}
	b, err := marshal(obj)
	if err != nil {
		return err
	}
	if w.n > 0 {
		w.write(",")
	}
	w.write("\n")
	w.write(string(b))
	w.n++
	return w.err
}

// Close ends the event and flushes it; it does not close the underlying
// writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	w.write("\n]}}\n")
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	return w.err
}

func (w *Writer) object(it exchange.ExportItem) (mispObject, error) {
	item := it.Item
	if item == nil {
		return mispObject{}, errors.New("misp: an export item without its item")
	}
	if strings.TrimSpace(item.URL) == "" {
		return mispObject{}, fmt.Errorf("misp: item %d has no URL", item.ID)
	}
	key := w.slug + "\x00" + cmp.Or(item.Identity, item.URL)
	typ, value := "url", item.URL
	if host := bareHost(item.URL); host != "" {
		typ, value = "domain", host
	}
	main := mispAttribute{
		UUID: newUUID("attribute", key), Type: typ, Category: categoryURL, Value: value,
		ObjectRelation: typ, Distribution: distributionInherit, Comment: itemNotes(item),
		Timestamp: w.ts, Tag: itemTags(item),
	}
	if !item.FirstSubmittedAt.IsZero() {
		main.FirstSeen = item.FirstSubmittedAt.UTC().Format(firstSeenLayout)
	}
	attrs := []mispAttribute{main}
	if t := strings.TrimSpace(item.Title); t != "" {
		attrs = append(attrs, mispAttribute{
			UUID: newUUID("title", key), Type: "text", Category: categoryText, Value: t,
			ObjectRelation: relationTitle, Distribution: distributionInherit, Timestamp: w.ts,
			DisableCorrelation: true,
		})
	}
	var seen []string
	for _, h := range it.Hashes {
		alg, v := strings.ToLower(h.Algorithm), strings.ToLower(strings.TrimSpace(h.Value))
		n := hexLength(alg)
		switch {
		case n == 0:
			continue
		case !isHex(v, n):
			return mispObject{}, fmt.Errorf("misp: item %s: the %s hash %q is not %d hex digits", item.URL, alg, h.Value, n)
		case h.Quality < -1 || h.Quality > 100:
			return mispObject{}, fmt.Errorf("misp: item %s: hash quality %d is neither unknown (-1) nor from 0 to 100", item.URL, h.Quality)
		case slices.Contains(seen, alg+":"+v):
			continue
		}
		seen = append(seen, alg+":"+v)
		a := mispAttribute{
			UUID: newUUID("hash", key+"\x00"+alg+":"+v), Type: alg, Category: categoryHash, Value: v,
			ObjectRelation: alg, Distribution: distributionInherit, Timestamp: w.ts,
		}
		if alg == "pdq" {
			// MISP has no pdq type: a text attribute of relation pdq.
			a.Type, a.Category = "text", categoryText
			if h.Quality >= 0 {
				a.Comment = qualityPrefix + strconv.Itoa(h.Quality)
			}
		}
		attrs = append(attrs, a)
	}
	return mispObject{
		UUID: newUUID("object", key), Name: ObjectName, MetaCategory: "network",
		Description: objectDescription, TemplateUUID: newUUID("object-template", ObjectName),
		TemplateVersion: "1", Timestamp: w.ts, Distribution: distributionInherit,
		SharingGroupID: "0", Attribute: attrs,
	}, nil
}

// newUUID is the UUID of a thing the Writer writes, the same in every
// export.
func newUUID(kind, key string) string {
	return uuid.NewSHA1(Namespace, []byte("misp-"+kind+":"+key)).String()
}

// eventInfo is the operation's name as MISP wants an event's info: one
// line of at most 256 bytes.
func eventInfo(op *takedown.Operation) string {
	info := strings.Join(strings.Fields(cmp.Or(op.Name, op.Slug)), " ")
	return cut(info, maxInfo)
}

// itemTags are the tags of an item's url attribute.
func itemTags(item *takedown.Item) []mispTag {
	var names []string
	add := func(t string) {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	for _, s := range item.Submissions {
		for _, t := range s.Tags {
			add(t)
		}
	}
	if item.Kind != "" {
		add(machineTag(predKind, string(item.Kind)))
	}
	if item.Platform != "" {
		add(machineTag(predPlatform, string(item.Platform)))
	}
	if item.Status != "" {
		add(machineTag(predStatus, string(item.Status)))
	}
	for _, s := range item.Submissions {
		if s.Agency != "" {
			add(machineTag(predAgency, s.Agency))
		}
	}
	tags := make([]mispTag, len(names))
	for i, n := range names {
		tags[i] = mispTag{n}
	}
	return tags
}

// itemNotes joins the notes of an item's submissions, each after its
// agency's code, once each.
func itemNotes(item *takedown.Item) string {
	var parts []string
	for _, s := range item.Submissions {
		n := strings.TrimSpace(s.Notes)
		if n == "" || s.Redacted {
			continue
		}
		if s.Agency != "" {
			n = s.Agency + ": " + n
		}
		if !slices.Contains(parts, n) {
			parts = append(parts, n)
		}
	}
	return strings.TrimSpace(cut(strings.Join(parts, "\n\n"), takedown.MaxNotesLength))
}

// bareHost returns the host of a URL that is nothing but an http or
// https scheme and a domain name ("https://example.org/"), lower case,
// and "" for any other: that item is a domain attribute, which MISP
// correlates with other events' domains, and its value has no scheme.
func bareHost(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/") ||
		u.Port() != "" || u.Opaque != "" {
		return ""
	}
	h := strings.ToLower(u.Hostname())
	if !strings.Contains(h, ".") || net.ParseIP(h) != nil || strings.ContainsAny(h, "[]%") {
		return ""
	}
	return h
}

// marshal encodes v without escaping <, > and &, which URLs hold.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("misp: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// cut cuts s to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
