package stix

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown/internal/exchange"
)

// Writer writes an operation's items as one STIX 2.1 bundle, streaming:
// each Write adds the item's objects to the output, so an export of any
// size needs the memory of one item. Close ends the bundle; a bundle
// without Close is not valid JSON.
//
// Per item it writes a url object (its identifier derived from the URL as
// the specification demands, so that every producer names the same URL
// alike), a file object with the item's content hashes when it has any,
// an observed-data object that says who reported it (created_by_ref, the
// first submitting agency's identity), when (first_observed,
// last_observed), how often (number_observed) and, in x_takedown_
// properties, takedown's view of it (status, kind, platform, identity,
// provider), the tags as labels, and one note per submission with notes.
// Identities come first: takedown as the producer, then each agency.
//
// Identifiers of takedown's own objects are UUIDv5 of the operation and
// the item's identity, so that exporting again writes the same bundle and
// a receiving platform updates rather than duplicates. Whoever calls
// Write decides what may leave: Writer writes the notes it is given, so
// redact submissions (takedown.Actor.Redact) before exporting them.
type Writer struct {
	w          *bufio.Writer
	exp        exchange.Export
	slug       string
	created    time.Time
	producer   string
	identities map[string]string // agency code → identity id
	n          int               // objects written
	closed     bool
	err        error
}

// Agency identities are organisations of this sector of the STIX
// industry-sector-ov vocabulary: police and security services serve the
// public as part of government.
const agencySector = "government-public-services"

// NewWriter starts a bundle for exp on w: it writes the bundle's opening
// and the identities of takedown and of exp.Agencies.
func NewWriter(w io.Writer, exp exchange.Export) (*Writer, error) {
	if exp.Operation == nil {
		return nil, errors.New("stix: export without an operation")
	}
	wr := &Writer{
		w:          bufio.NewWriter(w),
		exp:        exp,
		slug:       exp.Operation.Slug,
		created:    exp.Created.UTC(),
		identities: map[string]string{},
	}
	if wr.created.IsZero() {
		wr.created = time.Now().UTC()
	}
	bundleID := "bundle--" + uuid5(takedownNamespace, "bundle\x00"+wr.slug+"\x00"+stixTime(wr.created))
	fmt.Fprintf(wr.w, `{"type":"bundle","id":%q,"objects":[`, bundleID)

	wr.producer = "identity--" + uuid5(takedownNamespace, "identity\x00takedown")
	wr.object(identity{
		Type: "identity", SpecVersion: "2.1", ID: wr.producer,
		Created: stixTime(wr.created), Modified: stixTime(wr.created),
		Name:          "takedown",
		Description:   "takedown, the referral tool of operation " + exp.Operation.Name + " (" + wr.slug + "): online locations of terrorist content, reported by internet referral units",
		IdentityClass: "system",
	})
	codes := make([]string, 0, len(exp.Agencies))
	for code := range exp.Agencies {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		wr.agency(code)
	}
	if wr.err != nil {
		return nil, wr.err
	}
	return wr, nil
}

// agency returns the identity id of the agency with the given code,
// writing its identity object the first time.
func (wr *Writer) agency(code string) string {
	if id, ok := wr.identities[code]; ok {
		return id
	}
	id := "identity--" + uuid5(takedownNamespace, "identity\x00agency\x00"+code)
	wr.identities[code] = id
	obj := identity{
		Type: "identity", SpecVersion: "2.1", ID: id, CreatedByRef: wr.producer,
		Created: stixTime(wr.created), Modified: stixTime(wr.created),
		Name: code, IdentityClass: "organization", Sectors: []string{agencySector},
		XCode: code,
	}
	if a := wr.exp.Agencies[code]; a != nil {
		if a.Name != "" {
			obj.Name = a.Name
		}
		obj.XCountry = a.Country
		if !a.CreatedAt.IsZero() && !a.CreatedAt.After(wr.created) {
			obj.Created = stixTime(a.CreatedAt)
		}
	}
	wr.object(obj)
	return id
}

// Write adds one item to the bundle.
func (wr *Writer) Write(it exchange.ExportItem) error {
	if wr.closed {
		return errors.New("stix: write to a closed writer")
	}
	if wr.err != nil {
		return wr.err
	}
	item := it.Item
	if item == nil || strings.TrimSpace(item.URL) == "" {
		return errors.New("stix: item without a URL")
	}
	key := wr.slug + "\x00" + item.Identity
	if item.Identity == "" {
		key = wr.slug + "\x00" + item.URL
	}

	// The agencies first: an object's created_by_ref must name an
	// identity the bundle has.
	var reporter string
	for _, s := range item.Submissions {
		if s == nil || s.Agency == "" {
			continue
		}
		id := wr.agency(s.Agency)
		if reporter == "" {
			reporter = id
		}
	}
	if reporter == "" {
		reporter = wr.producer
	}

	urlID := scoID("url", "value", item.URL)
	wr.object(urlObject{Type: "url", SpecVersion: "2.1", ID: urlID, Value: item.URL})
	refs := []string{urlID}

	var pdq string
	hashes := map[string]string{}
	for _, h := range it.Hashes {
		alg := strings.ToLower(strings.TrimSpace(h.Algorithm))
		v := strings.TrimSpace(h.Value)
		if alg == "" || v == "" {
			continue
		}
		if alg == "pdq" {
			// A perceptual hash of an avatar is no file hash: STIX has
			// no place for it, so it is takedown's own property.
			if pdq == "" {
				pdq = strings.ToLower(v)
			}
			continue
		}
		hashes[stixHashName(alg)] = v
	}
	if len(hashes) > 0 {
		fileID := fileSCOID(hashes)
		wr.object(fileObject{Type: "file", SpecVersion: "2.1", ID: fileID, Hashes: hashes})
		refs = append(refs, fileID)
	}

	first, last := item.FirstSubmittedAt, item.LastSubmittedAt
	if first.IsZero() {
		first = wr.created
	}
	if last.IsZero() || last.Before(first) {
		last = first
	}
	modified := wr.created
	if modified.Before(last) {
		modified = last
	}
	count := item.SubmissionCount
	if count < 1 {
		count = max(1, len(item.Submissions))
	}
	count = min(count, 999_999_999)

	var tags, agencies []string
	var language string
	for _, s := range item.Submissions {
		if s == nil {
			continue
		}
		for _, t := range s.Tags {
			if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		if s.Agency != "" && !slices.Contains(agencies, s.Agency) {
			agencies = append(agencies, s.Agency)
		}
		if language == "" {
			language = s.Language
		}
	}
	observedID := "observed-data--" + uuid5(takedownNamespace, "observed-data\x00"+key)
	wr.object(observedData{
		Type: "observed-data", SpecVersion: "2.1", ID: observedID, CreatedByRef: reporter,
		Created: stixTime(first), Modified: stixTime(modified),
		FirstObserved: stixTime(first), LastObserved: stixTime(last), NumberObserved: count,
		ObjectRefs: refs, Labels: tags,
		XStatus: string(item.Status), XKind: string(item.Kind), XPlatform: string(item.Platform),
		XHandle: item.Handle, XTitle: item.Title, XIdentity: item.Identity,
		XProvider: item.Provider, XLanguage: language, XAgencies: agencies, XAvatarPDQ: pdq,
	})

	for i, s := range item.Submissions {
		if s == nil || strings.TrimSpace(s.Notes) == "" {
			continue
		}
		by := wr.producer
		if s.Agency != "" {
			by = wr.agency(s.Agency)
		}
		at := s.SubmittedAt
		if at.IsZero() {
			at = first
		}
		sub := strconv.FormatInt(s.ID, 10)
		if s.ID == 0 {
			sub = "#" + strconv.Itoa(i)
		}
		wr.object(note{
			Type: "note", SpecVersion: "2.1",
			ID:           "note--" + uuid5(takedownNamespace, "note\x00"+key+"\x00"+sub),
			CreatedByRef: by, Created: stixTime(at), Modified: stixTime(at),
			Content: s.Notes, ObjectRefs: []string{observedID},
		})
	}
	return wr.err
}

// Close ends the bundle and flushes it to the underlying writer. It does
// not close that writer.
func (wr *Writer) Close() error {
	if wr.closed {
		return wr.err
	}
	wr.closed = true
	if wr.err != nil {
		return wr.err
	}
	if wr.n > 0 {
		wr.w.WriteString("\n")
	}
	wr.w.WriteString("]}\n")
	if err := wr.w.Flush(); err != nil {
		wr.err = fmt.Errorf("stix: write bundle: %w", err)
	}
	return wr.err
}

// object writes one object of the bundle, one a line.
func (wr *Writer) object(v any) {
	if wr.err != nil {
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		wr.err = fmt.Errorf("stix: encode object: %w", err)
		return
	}
	if wr.n > 0 {
		wr.w.WriteByte(',')
	}
	wr.w.WriteByte('\n')
	wr.w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	wr.n++
	if wr.w.Buffered() > 64<<10 {
		if err := wr.w.Flush(); err != nil {
			wr.err = fmt.Errorf("stix: write bundle: %w", err)
		}
	}
}

// stixHashName maps takedown's lower-case algorithm names to the names of
// the STIX hash-algorithm-ov vocabulary; others are written in upper case
// as custom hash names.
func stixHashName(alg string) string {
	switch alg {
	case "md5":
		return "MD5"
	case "sha1", "sha-1":
		return "SHA-1"
	case "sha256", "sha-256":
		return "SHA-256"
	case "sha512", "sha-512":
		return "SHA-512"
	case "sha3_256", "sha3-256":
		return "SHA3-256"
	case "sha3_512", "sha3-512":
		return "SHA3-512"
	case "ssdeep":
		return "SSDEEP"
	case "tlsh":
		return "TLSH"
	}
	return strings.ToUpper(alg)
}

// fileSCOID is the deterministic identifier of a file object with only
// hashes: the specification hashes {"hashes": {ALG: VALUE}} with one hash
// chosen in the order MD5, SHA-1, SHA-256, SHA-512, else the first name.
func fileSCOID(hashes map[string]string) string {
	alg := ""
	for _, a := range []string{"MD5", "SHA-1", "SHA-256", "SHA-512"} {
		if _, ok := hashes[a]; ok {
			alg = a
			break
		}
	}
	if alg == "" {
		names := make([]string, 0, len(hashes))
		for a := range hashes {
			names = append(names, a)
		}
		sort.Strings(names)
		alg = names[0]
	}
	name := "{" + canonicalString("hashes") + ":{" + canonicalString(alg) + ":" + canonicalString(hashes[alg]) + "}}"
	return "file--" + uuid5(stixNamespace, name)
}

// The objects Writer writes, fields in the order the specification lists
// them, so that a bundle reads well.

type identity struct {
	Type          string   `json:"type"`
	SpecVersion   string   `json:"spec_version"`
	ID            string   `json:"id"`
	CreatedByRef  string   `json:"created_by_ref,omitempty"`
	Created       string   `json:"created"`
	Modified      string   `json:"modified"`
	Name          string   `json:"name"`
	Description   string   `json:"description,omitempty"`
	IdentityClass string   `json:"identity_class"`
	Sectors       []string `json:"sectors,omitempty"`
	XCode         string   `json:"x_takedown_code,omitempty"`
	XCountry      string   `json:"x_takedown_country,omitempty"`
}

type urlObject struct {
	Type        string `json:"type"`
	SpecVersion string `json:"spec_version"`
	ID          string `json:"id"`
	Value       string `json:"value"`
}

type fileObject struct {
	Type        string            `json:"type"`
	SpecVersion string            `json:"spec_version"`
	ID          string            `json:"id"`
	Hashes      map[string]string `json:"hashes"`
}

type observedData struct {
	Type           string   `json:"type"`
	SpecVersion    string   `json:"spec_version"`
	ID             string   `json:"id"`
	CreatedByRef   string   `json:"created_by_ref"`
	Created        string   `json:"created"`
	Modified       string   `json:"modified"`
	FirstObserved  string   `json:"first_observed"`
	LastObserved   string   `json:"last_observed"`
	NumberObserved int      `json:"number_observed"`
	ObjectRefs     []string `json:"object_refs"`
	Labels         []string `json:"labels,omitempty"`
	XStatus        string   `json:"x_takedown_status,omitempty"`
	XKind          string   `json:"x_takedown_kind,omitempty"`
	XPlatform      string   `json:"x_takedown_platform,omitempty"`
	XHandle        string   `json:"x_takedown_handle,omitempty"`
	XTitle         string   `json:"x_takedown_title,omitempty"`
	XIdentity      string   `json:"x_takedown_identity,omitempty"`
	XProvider      string   `json:"x_takedown_provider,omitempty"`
	XLanguage      string   `json:"x_takedown_language,omitempty"`
	XAgencies      []string `json:"x_takedown_agencies,omitempty"`
	XAvatarPDQ     string   `json:"x_takedown_avatar_pdq,omitempty"`
}

type note struct {
	Type         string   `json:"type"`
	SpecVersion  string   `json:"spec_version"`
	ID           string   `json:"id"`
	CreatedByRef string   `json:"created_by_ref"`
	Created      string   `json:"created"`
	Modified     string   `json:"modified"`
	Content      string   `json:"content"`
	ObjectRefs   []string `json:"object_refs"`
}
