// Package exchange holds what the readers and writers of the threat-data
// exchange formats (STIX 2.1, MISP, hash lists) share: a finding read from
// a file, a record that could not be read, and an item to write out.
// Each format lives in its own package beside this one; the importer turns
// findings into submissions, so a format reader knows nothing of the
// database.
package exchange

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/takedown-project/takedown"
)

// Finding is one online thing as an exchange format carries it: what an
// import turns into one submission of the importing agency.
type Finding struct {
	// URL is what the recogniser reads (a full URL, or a bare domain for
	// a website). Required.
	URL string
	// Kind, Platform and Handle are what the file declares, "" when it
	// says nothing; Kind is one of takedown's kinds (account, channel,
	// group, post, invite, file, website) when set.
	Kind, Platform, Handle string
	Title, Notes, Language string
	Tags                   []string
	// FoundAt is when the finding was made, zero when unknown.
	FoundAt time.Time
	// Attributes keeps what the format says that takedown has no field
	// for (the object's identifier, file hashes, the source), under
	// names prefixed by the format: "stix_id", "stix_sha256", "misp_uuid".
	Attributes map[string]string
	// Where says where in the input the finding is, for people:
	// "objects[12] url--6ba7b810-…", "Attribute[3] (url)".
	Where string
}

// Problem is a record of the input that could not be read as a finding,
// and why. A reader reports it and goes on with the next record.
type Problem struct {
	Where  string // as Finding.Where
	Reason string // for people: "url observable without a value"
	Raw    string // the record's text, shortened to a few hundred bytes
}

func (p Problem) Error() string { return fmt.Sprintf("%s: %s", p.Where, p.Reason) }

// Hash is a perceptual or cryptographic hash of an item's content, as
// hash lists and STIX file objects carry them.
type Hash struct {
	Algorithm string // "pdq", "sha256", "md5", …, lower case
	Value     string // hex, lower case
	Quality   int    // PDQ quality 0-100; -1 when unknown
}

// Export describes what an export of an operation is about: written once
// at the top of a bundle or event, before its items.
type Export struct {
	Operation *takedown.Operation
	// Agencies are the operation's agencies (those whose submissions an
	// export names), by code.
	Agencies map[string]*takedown.Agency
	// Created is the time of the export: the bundle's or event's time.
	Created time.Time
}

// ExportItem is one item to write out: the item with its submissions
// (Item.Submissions, oldest first, each naming its agency's code), and
// the hashes takedown knows of its content (an avatar's PDQ hash).
type ExportItem struct {
	Item   *takedown.Item
	Hashes []Hash
}

// Shorten cuts s to at most n bytes on a rune boundary, marking the cut
// with "...": how the readers quote a bad record in a Problem.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
