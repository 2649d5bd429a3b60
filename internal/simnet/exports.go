package simnet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown/internal/simnet/synth"
)

// The exports: what each agency's analysts found, in the form the agency
// keeps it. Agencies overlap (an item is often found by several), write
// the same item in different forms (hosts, previews, tracking parameters,
// case), name and order their columns their own way, list some items twice
// and hand in a realistic share of broken rows. The ground truth of all
// this (ExportTruth) says what an import of the files must make of them.

// ExportFile is one agency's export.
type ExportFile struct {
	Agency AgencySpec `json:"agency"`
	Path   string     `json:"path"`
	Format string     `json:"format"`
	// Rows is the number of data rows; Bad of them are broken, Repeats
	// list an item the same agency listed before (Verbatim of those
	// identically).
	Rows     int `json:"rows"`
	Bad      int `json:"bad"`
	Repeats  int `json:"repeats"`
	Verbatim int `json:"verbatim"`
	// NewItems is how many items this file is the first to report when
	// the files are imported in order.
	NewItems int `json:"new_items"`
}

// ExportTruth is what the exports hold.
type ExportTruth struct {
	Files []ExportFile `json:"files"`
	// Found is the number of distinct entities in the good rows: the
	// items an import must create.
	Found int `json:"found"`
	// Rows, Bad and Submissions (good rows minus verbatim repeats) over
	// all files.
	Rows        int `json:"rows"`
	Bad         int `json:"bad"`
	Submissions int `json:"submissions"`
	// Entities are the IDs of the entities found, sorted.
	Entities []int `json:"-"`
}

// Expected returns what importing the files in order must report:
// new items, submissions merged into known items, identical submissions
// not recorded again, rejected rows.
func (f ExportFile) Expected() (newItems, merged, duplicates, rejected int) {
	good := f.Rows - f.Bad
	return f.NewItems, good - f.NewItems - f.Verbatim, f.Verbatim, f.Bad
}

// exportRow is one row before it is written in an agency's format.
type exportRow struct {
	entity                                   *Entity
	url, kind, platform, handle, title       string
	notes, language, foundAt, analyst, caseN string
	tags                                     []string
	bad                                      string // how the row is broken; "" when it is not
}

// WriteExports writes every agency's export into dir and returns the
// ground truth. The same world gives the same files.
func (w *World) WriteExports(dir string) (*ExportTruth, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("exports: %w", err)
	}
	s := w.Scenario
	n := len(s.Agencies)
	perAgency := make([][]*Entity, n)
	for _, e := range w.Entities {
		id := uint64(e.ID)
		if uniform(w.Seed, "found", id) >= s.Exports.Found {
			continue
		}
		first := int(uniform(w.Seed, "finder", id) * float64(n))
		perAgency[first] = append(perAgency[first], e)
		for a := 0; a < n; a++ {
			cov := s.Agencies[a].Coverage
			if cov == 0 {
				cov = s.Exports.Coverage
			}
			if a != first && uniform(w.Seed, "also-found", id, uint64(a)) < cov {
				perAgency[a] = append(perAgency[a], e)
			}
		}
	}
	truth := &ExportTruth{}
	seen := map[int]bool{}
	for a, spec := range s.Agencies {
		r := rng(w.Seed, "export", uint64(a))
		ents := perAgency[a]
		r.Shuffle(len(ents), func(i, j int) { ents[i], ents[j] = ents[j], ents[i] })
		f := ExportFile{Agency: spec, Format: spec.Format}
		var rows []exportRow
		for _, e := range ents {
			row := w.exportRow(r, e)
			rows = append(rows, row)
			if r.Float64() < s.Exports.Repeats {
				again := row
				f.Repeats++
				// A STIX bundle or a MISP event holds a thing once; its
				// repeats are other forms of it.
				if r.IntN(2) == 0 && !isDocument(spec.Format) {
					f.Verbatim++
				} else {
					again.notes = "again: " + row.notes
					again.url = w.urlForm(r, e)
				}
				rows = append(rows, again)
			}
		}
		// Broken rows, spread through the file.
		bad := int(float64(len(rows))*s.Exports.BadRows + 0.5)
		for i := 0; i < bad; i++ {
			at := r.IntN(len(rows) + 1)
			rows = slices.Insert(rows, at, w.badRow(r, spec.Format))
		}
		f.Rows, f.Bad = len(rows), bad
		for _, row := range rows {
			if row.bad == "" && !seen[row.entity.ID] {
				seen[row.entity.ID] = true
				f.NewItems++
			}
		}
		path, err := writeExport(dir, spec, rows)
		if err != nil {
			return nil, err
		}
		f.Path = path
		truth.Files = append(truth.Files, f)
		truth.Rows += f.Rows
		truth.Bad += f.Bad
		truth.Submissions += f.Rows - f.Bad - f.Verbatim
	}
	for id := range seen {
		truth.Entities = append(truth.Entities, id)
	}
	slices.Sort(truth.Entities)
	truth.Found = len(truth.Entities)
	return truth, nil
}

// exportRow describes an entity the way an analyst would.
func (w *World) exportRow(r *rand.Rand, e *Entity) exportRow {
	row := exportRow{entity: e, url: w.urlForm(r, e), language: e.Language}
	if r.IntN(4) != 0 {
		row.kind = e.Kind
	}
	if r.IntN(3) == 0 {
		row.platform = map[string]string{Telegram: "telegram", X: "x", YouTube: "youtube", FileHost: "web", WebHost: "web"}[e.Platform]
	}
	if e.Handle != "" && r.IntN(3) == 0 {
		row.handle = "@" + e.Handle
	}
	if e.Title != "" && r.IntN(2) == 0 {
		row.title = e.Title
	}
	row.notes = synth.Description(r, "en")
	row.tags = [][]string{{"media"}, {"media", "relay"}, {"amplifier"}, {"archive", "mirror"}, {"video"}, nil}[r.IntN(6)]
	row.foundAt = w.Scenario.Start.Add(-time.Duration(r.IntN(72*60)) * time.Minute).Format(time.RFC3339)
	row.analyst = string(rune('A'+r.IntN(26))) + string(rune('A'+r.IntN(26)))
	row.caseN = fmt.Sprintf("CASE-%04d", r.IntN(10000))
	return row
}

// urlForm writes an entity's address in one of the forms people copy it
// in: other hosts of the same service, preview pages, tracking
// parameters, another case where the service ignores case, no scheme.
func (w *World) urlForm(r *rand.Rand, e *Entity) string {
	pick := func(ss ...string) string { return ss[r.IntN(len(ss))] }
	track := func() string {
		if r.IntN(4) != 0 {
			return ""
		}
		return pick("?utm_source=share", "?utm_source=tg&utm_medium=post", "?fbclid=IwAR0synthetic", "?si=synthetic123")
	}
	switch {
	case e.Platform == Telegram && e.Kind == KindInvite:
		return pick("https://t.me/+", "https://t.me/joinchat/", "https://telegram.me/joinchat/", "t.me/+") + e.Code
	case e.Platform == Telegram && e.Kind == KindPost:
		return pick("https://t.me/", "https://t.me/s/", "t.me/", "https://telegram.me/") + caseForm(r, e.Handle) + "/" + strconv.Itoa(e.Number) + pick("", "", "?single", track())
	case e.Platform == Telegram:
		return pick("https://t.me/", "https://t.me/s/", "https://telegram.me/", "http://www.telegram.dog/", "t.me/", "https://t.me/") + caseForm(r, e.Handle) + track()
	case e.Platform == X && e.Kind == KindPost:
		return pick("https://x.com/", "https://twitter.com/", "https://mobile.twitter.com/", "x.com/") + caseForm(r, e.Handle) + "/status/" + e.Code + pick("", "?s=20", "?s=46&t=synthetic")
	case e.Platform == X:
		return pick("https://x.com/", "https://twitter.com/", "https://mobile.twitter.com/", "x.com/", "https://www.x.com/") + caseForm(r, e.Handle) + pick("", "", "?lang=en", track())
	case e.Platform == YouTube && e.Kind == KindPost:
		return pick("https://www.youtube.com/watch?v="+e.Code+pick("", "&si=synthetic"), "https://youtu.be/"+e.Code+pick("", "?si=synthetic"),
			"https://m.youtube.com/watch?feature=share&v="+e.Code, "https://www.youtube.com/shorts/"+e.Code)
	case e.Platform == YouTube:
		return pick("https://www.youtube.com/@", "https://youtube.com/@", "https://m.youtube.com/@") + caseForm(r, e.Handle) + track()
	}
	// Files and web pages: the host's case and a www. may vary, the
	// path may not.
	host := e.Host
	if r.IntN(4) == 0 {
		host = "www." + host
	}
	if r.IntN(5) == 0 {
		host = strings.ToUpper(host[:1]) + host[1:]
	}
	suffix := pick("", "", "", "#top", "?utm_campaign=synthetic")
	return pick("https://", "https://", "http://") + host + e.Path + suffix
}

// caseForm changes the case of some letters, as people retype names.
func caseForm(r *rand.Rand, s string) string {
	if r.IntN(3) != 0 {
		return s
	}
	b := []byte(s)
	for i := r.IntN(2); i < len(b); i += 2 + r.IntN(3) {
		if 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		} else if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// Ways rows break, as they do in real exports.
const (
	badNotURL      = "not a URL"
	badEmptyURL    = "no URL"
	badKind        = "unknown kind"
	badDate        = "bad date"
	badColumnCount = "wrong column count"
	badUTF8        = "bad UTF-8"
	badJSON        = "truncated JSON"
)

func (w *World) badRow(r *rand.Rand, format string) exportRow {
	row := exportRow{notes: synth.Description(r, "en"), foundAt: w.Scenario.Start.Format(time.RFC3339), kind: "channel", analyst: "ZZ", caseN: "CASE-0000"}
	row.url = "https://t.me/placeholder_" + strconv.Itoa(r.IntN(1000))
	kinds := []string{badNotURL, badEmptyURL, badUTF8}
	if isDocument(format) {
		// Their writers write JSON, valid UTF-8 and whole objects, and
		// typed timestamps: only the URL can be wrong.
		row.bad = kinds[r.IntN(2)]
		if row.bad == badNotURL {
			row.url = []string{"see attached screenshot", "screenshot only (no link)", "channel name only", "n/a"}[r.IntN(4)]
		} else {
			row.url = ""
		}
		return row
	}
	if hasColumn(format, "date") {
		kinds = append(kinds, badDate)
	}
	if hasColumn(format, "kind") {
		kinds = append(kinds, badKind)
	}
	if strings.HasPrefix(format, "csv") {
		kinds = append(kinds, badColumnCount)
	} else if !isDocument(format) {
		kinds = append(kinds, badJSON)
	}
	row.bad = kinds[r.IntN(len(kinds))]
	switch row.bad {
	case badNotURL:
		row.url = []string{"see attached screenshot", "screenshot only (no link)", "channel name only", "n/a"}[r.IntN(4)]
	case badEmptyURL:
		row.url = ""
	case badKind:
		row.kind = []string{"chanel", "profile page", "tweet?"}[r.IntN(3)]
	case badDate:
		row.foundAt = []string{"yesterday evening", "31/02/2026", "sometime in November"}[r.IntN(3)]
	case badUTF8:
		row.notes = "r\xe9sum\xe9 of the channel " + row.notes // Latin-1 bytes in a UTF-8 file
	}
	return row
}

// exportColumns are each format's columns, in order, with the field they
// carry.
var exportColumns = map[string][][2]string{
	"csv":           {{"url", "url"}, {"kind", "kind"}, {"platform", "platform"}, {"handle", "handle"}, {"title", "title"}, {"notes", "notes"}, {"tags", "tags"}, {"language", "language"}, {"found_at", "found_at"}, {"case_ref", "case"}},
	"csv-semicolon": {{"Link", "url"}, {"Type", "kind"}, {"Account", "handle"}, {"Comment", "notes"}, {"Date found", "found_at"}, {"Analyst", "analyst"}},
	"csv-tab":       {{"URL", "url"}, {"Platform", "platform"}, {"Title", "title"}, {"Remarks", "notes"}, {"Labels", "tags"}, {"First seen", "found_at"}},
	"csv-reordered": {{"found_at", "found_at"}, {"notes", "notes"}, {"url", "url"}, {"tags", "tags"}, {"language", "language"}, {"title", "title"}, {"source_tool", "analyst"}},
	"jsonl":         {{"url", "url"}, {"kind", "kind"}, {"platform", "platform"}, {"handle", "handle"}, {"title", "title"}, {"notes", "notes"}, {"tags", "tags"}, {"language", "language"}, {"found_at", "found_at"}},
	"jsonl-aliases": {{"link", "url"}, {"type", "kind"}, {"comment", "notes"}, {"labels", "tags"}, {"first_seen", "found_at"}, {"lang", "language"}, {"case", "case"}},
	// The documents: what their writers (writeSTIX, writeMISP) carry.
	"stix": {{"value", "url"}, {"labels", "tags"}, {"first_observed", "found_at"}, {"note", "notes"}},
	"misp": {{"value", "url"}, {"Tag", "tags"}, {"first_seen", "found_at"}, {"comment", "notes"}},
}

// isDocument says whether an export format is one document (a STIX 2.1
// bundle, a MISP event) rather than a table of rows.
func isDocument(format string) bool { return format == "stix" || format == "misp" }

func hasColumn(format, field string) bool {
	if field == "date" {
		field = "found_at"
	}
	for _, c := range exportColumns[format] {
		if c[1] == field {
			return true
		}
	}
	return false
}

func (row *exportRow) field(name string) string {
	switch name {
	case "url":
		return row.url
	case "kind":
		return row.kind
	case "platform":
		return row.platform
	case "handle":
		return row.handle
	case "title":
		return row.title
	case "notes":
		return row.notes
	case "tags":
		return strings.Join(row.tags, ";")
	case "language":
		return row.language
	case "found_at":
		return row.foundAt
	case "analyst":
		return row.analyst
	case "case":
		return row.caseN
	}
	return ""
}

// writeExport writes rows in an agency's format and returns the path.
func writeExport(dir string, a AgencySpec, rows []exportRow) (string, error) {
	cols := exportColumns[a.Format]
	ext := map[string]string{"csv": ".csv", "csv-semicolon": ".csv", "csv-tab": ".tsv", "csv-reordered": ".csv", "jsonl": ".jsonl", "jsonl-aliases": ".ndjson",
		"stix": ".stix.json", "misp": ".misp.json"}[a.Format]
	path := filepath.Join(dir, a.Code+"-export"+ext)
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("exports: %w", err)
	}
	bw := bufio.NewWriter(f)
	switch {
	case strings.HasPrefix(a.Format, "csv"):
		err = writeCSV(bw, a.Format, cols, rows)
	case a.Format == "stix":
		err = writeSTIX(bw, a, rows)
	case a.Format == "misp":
		err = writeMISP(bw, a, rows)
	default:
		err = writeJSONL(bw, a.Format, cols, rows)
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("exports: write %s: %w", path, err)
	}
	return path, nil
}

func writeCSV(bw *bufio.Writer, format string, cols [][2]string, rows []exportRow) error {
	cw := csv.NewWriter(bw)
	cw.Comma = map[string]rune{"csv-semicolon": ';', "csv-tab": '\t'}[format]
	if cw.Comma == 0 {
		cw.Comma = ','
	}
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c[0]
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for _, row := range rows {
		rec = rec[:len(cols)]
		for i, c := range cols {
			rec[i] = row.field(c[1])
		}
		if row.bad == badColumnCount {
			rec = rec[:len(rec)-1]
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeJSONL(bw *bufio.Writer, format string, cols [][2]string, rows []exportRow) error {
	for _, row := range rows {
		obj := make(map[string]any, len(cols))
		for _, c := range cols {
			v := row.field(c[1])
			if v == "" {
				continue
			}
			if c[1] == "tags" && format == "jsonl" {
				obj[c[0]] = row.tags
				continue
			}
			obj[c[0]] = v
		}
		var line []byte
		switch row.bad {
		case badJSON:
			b, _ := json.Marshal(obj)
			line = b[:len(b)/2]
		case badUTF8:
			// encoding/json would replace the bad bytes; write them raw,
			// as a broken exporter does.
			b, _ := json.Marshal(map[string]string{cols[0][0]: "https://t.me/placeholder", "notes": "\x00"})
			line = bytes.Replace(b, []byte(`\u0000`), []byte(row.notes), 1)
		default:
			b, err := json.Marshal(obj)
			if err != nil {
				return err
			}
			line = b
		}
		bw.Write(line)
		bw.WriteByte('\n')
	}
	return nil
}

// docUUID is a random version 4 UUID from r: the identifiers agencies'
// tools give the objects they write.
func docUUID(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// stixTime is a time as STIX writes it, or "" for a row without one.
func stixTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// writeSTIX writes rows as a STIX 2.1 bundle, as a referral unit's
// threat-intelligence platform exports one: per row a url observable,
// an observed-data saying when it was seen with the row's tags as
// labels, and a note with the analyst's remarks. Identifiers are random,
// as such tools make them; the agency's identity comes first.
func writeSTIX(bw *bufio.Writer, a AgencySpec, rows []exportRow) error {
	r := rand.New(rand.NewPCG(uint64(len(rows)), uint64(len(a.Code))))
	created := "2026-01-01T00:00:00.000Z"
	identity := "identity--" + docUUID(r)
	objects := []map[string]any{{"type": "identity", "spec_version": "2.1", "id": identity, "created": created, "modified": created,
		"name": a.Name, "identity_class": "organization"}}
	for _, row := range rows {
		urlID := "url--" + docUUID(r)
		objects = append(objects, map[string]any{"type": "url", "spec_version": "2.1", "id": urlID, "value": row.url})
		seen := stixTime(row.foundAt)
		if seen == "" {
			seen = created
		}
		od := map[string]any{"type": "observed-data", "spec_version": "2.1", "id": "observed-data--" + docUUID(r), "created_by_ref": identity,
			"created": seen, "modified": seen, "first_observed": seen, "last_observed": seen, "number_observed": 1, "object_refs": []string{urlID}}
		if len(row.tags) > 0 {
			od["labels"] = row.tags
		}
		objects = append(objects, od)
		if row.notes != "" {
			objects = append(objects, map[string]any{"type": "note", "spec_version": "2.1", "id": "note--" + docUUID(r), "created_by_ref": identity,
				"created": seen, "modified": seen, "content": row.notes, "object_refs": []string{urlID}})
		}
	}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	return enc.Encode(map[string]any{"type": "bundle", "id": "bundle--" + docUUID(r), "objects": objects})
}

// writeMISP writes rows as one MISP event, as an agency's MISP instance
// exports it: a url attribute per row with the analyst's remark as its
// comment, the row's tags as its tags and when it was found as its
// first_seen.
func writeMISP(bw *bufio.Writer, a AgencySpec, rows []exportRow) error {
	r := rand.New(rand.NewPCG(uint64(len(rows)), uint64(len(a.Code))+1))
	attrs := make([]map[string]any, 0, len(rows))
	for _, row := range rows {
		at := map[string]any{"uuid": docUUID(r), "type": "url", "category": "Network activity", "to_ids": false, "value": row.url, "comment": row.notes}
		if t, err := time.Parse(time.RFC3339, row.foundAt); err == nil {
			at["first_seen"] = t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
			at["timestamp"] = strconv.FormatInt(t.Unix(), 10)
		}
		if len(row.tags) > 0 {
			tags := make([]map[string]string, len(row.tags))
			for i, t := range row.tags {
				tags[i] = map[string]string{"name": t}
			}
			at["Tag"] = tags
		}
		attrs = append(attrs, at)
	}
	event := map[string]any{"uuid": docUUID(r), "info": "Findings of " + a.Name, "date": "2026-01-01", "threat_level_id": "1",
		"analysis": "2", "distribution": "0", "published": false, "Orgc": map[string]string{"name": a.Name}, "Attribute": attrs,
		"Tag": []map[string]string{{"name": "tlp:amber"}}}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	return enc.Encode(map[string]any{"Event": event})
}
