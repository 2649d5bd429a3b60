// Package misp reads findings from MISP events and writes an operation out
// as one MISP event, in the MISP core format (the JSON of MISP's REST API
// and its event export, described in the misp-rfc Internet-Draft).
//
// # Reading
//
// Read takes one event ({"Event": {...}}), a bare event object, a REST
// search answer ({"response": [{"Event": ...}, ...]}, or the attribute
// search's {"response": {"Attribute": [...]}}), a JSON array of events,
// or several of these one after the other. What becomes what:
//
//   - Attributes of type url and link are findings of their URL; domain
//     and hostname ones are findings of the name, of kind website.
//   - An attribute's comment is the finding's notes, its Tag names and
//     the event's are its tags (as they are: tlp:amber,
//     misp-galaxy:...). Tags of takedown's own namespace are read back
//     into fields instead: takedown:kind and takedown:platform into Kind
//     and Platform, takedown:status, takedown:agency and
//     takedown:operation into the Attributes misp_takedown_status,
//     misp_takedown_agency (codes joined by ",") and
//     misp_takedown_operation.
//   - first_seen, else the attribute's timestamp, is FoundAt.
//   - The Attributes misp_uuid, misp_event and misp_category keep the
//     attribute's UUID, its event's UUID and its category; misp_object
//     the name of the object the attribute is in.
//   - Inside an object, text and comment attributes (and the object's
//     comment) are context: appended to the notes of the object's
//     findings; a text attribute of relation "title" is their title. A
//     PDQ hash (an attribute of relation "pdq", or of type "pdq", which
//     MISP itself does not define) and md5, sha1 and sha256 attributes
//     belong to the object's findings: see Hashes.
//   - A PDQ hash outside any object with a URL (at event level, or in an
//     image object without one) is no finding, as takedown tracks online
//     locations, not content; it goes to Options.Hash, where it can seed
//     resurgence matching.
//   - text and comment attributes at event level belong to no finding in
//     particular; applying them to all would bury each finding's notes
//     under the event's, so they are left out and counted
//     (Summary.EventNotes).
//   - Deleted attributes and objects are skipped and counted; attributes
//     of any other type are ignored and counted; to_ids is ignored.
//
// # Writing
//
// NewWriter and Writer write an operation as one MISP event. MISP has no
// PDQ attribute type, so each item is an object of the template
// "takedown-item" (ObjectName, which MISP imports without knowing it):
// its url attribute (or domain, for an item that is a bare host), a text
// attribute of relation "title", one text attribute of relation "pdq" per
// PDQ hash, its quality in the comment ("quality=87"), and md5, sha1 and
// sha256 attributes. Putting every item in an object, not only those with
// hashes, lets the writer stream: the event's attributes and its objects
// are two arrays, and an item cannot wait for the end of the first. Read
// gives an export back as the findings it was written from.
package misp

import (
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/takedown-project/takedown/internal/exchange"
)

// Namespace is the name space of the version-5 UUIDs takedown gives the
// events, objects and attributes it writes. Exporting an operation again
// gives the same UUIDs, so that MISP updates the event and its attributes
// rather than adding a second copy of each.
var Namespace = uuid.MustParse("5f766ddd-f291-44b0-9326-27b93eb62389")

// ObjectName is the name of the MISP object each exported item is.
const ObjectName = "takedown-item"

// Tag namespace and predicates of takedown's machine tags.
const (
	tagNamespace    = "takedown"
	predKind        = "kind"
	predPlatform    = "platform"
	predStatus      = "status"
	predAgency      = "agency"
	predOperation   = "operation"
	relationPDQ     = "pdq"
	relationTitle   = "title"
	qualityPrefix   = "quality="
	attrPrefix      = "misp_"
	attrTakedownPre = attrPrefix + "takedown_"
)

// machineTag returns the tag takedown:PREDICATE="VALUE".
func machineTag(pred, value string) string {
	return tagNamespace + ":" + pred + "=" + strconv.Quote(value)
}

// takedownTag splits a tag of takedown's namespace into its predicate and
// value; ok is false for any other tag.
func takedownTag(tag string) (pred, value string, ok bool) {
	rest, ok := strings.CutPrefix(tag, tagNamespace+":")
	if !ok {
		return "", "", false
	}
	pred, value, ok = strings.Cut(rest, "=")
	if !ok || pred == "" {
		return "", "", false
	}
	if v, err := strconv.Unquote(value); err == nil {
		value = v
	}
	return pred, value, value != ""
}

// hashAlgorithms are the algorithms an exported item carries and a read
// finding gives back, with the length of their hex digests.
var hashAlgorithms = []struct {
	name string
	hex  int
}{{"pdq", 64}, {"md5", 32}, {"sha1", 40}, {"sha256", 64}}

func hexLength(alg string) int {
	for _, a := range hashAlgorithms {
		if a.name == alg {
			return a.hex
		}
	}
	return 0
}

// Hashes returns the hashes a finding read from a MISP object carries:
// the Attributes misp_pdq, misp_md5, misp_sha1 and misp_sha256, each a
// list of lower-case hex digests separated by ",", a PDQ hash followed by
// ":" and its quality when known.
func Hashes(f exchange.Finding) []exchange.Hash {
	var hs []exchange.Hash
	for _, a := range hashAlgorithms {
		for v := range strings.SplitSeq(f.Attributes[attrPrefix+a.name], ",") {
			h := exchange.Hash{Algorithm: a.name, Quality: -1}
			hexv, q, hasQ := strings.Cut(v, ":")
			if !isHex(hexv, a.hex) {
				continue
			}
			h.Value = hexv
			if hasQ {
				n, err := strconv.Atoi(q)
				if err != nil || n < 0 || n > 100 {
					continue
				}
				h.Quality = n
			}
			hs = append(hs, h)
		}
	}
	return hs
}

// addHash adds a hash to a finding's Attributes as Hashes reads them.
func addHash(attrs map[string]string, h exchange.Hash) {
	v := h.Value
	if h.Algorithm == "pdq" && h.Quality >= 0 {
		v += ":" + strconv.Itoa(h.Quality)
	}
	k := attrPrefix + h.Algorithm
	if attrs[k] != "" {
		v = attrs[k] + "," + v
	}
	attrs[k] = v
}

// isHex reports whether s is n lower-case hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
