package takedown

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Platform is the online service an item lives on.
type Platform string

const (
	PlatformTelegram  Platform = "telegram"
	PlatformX         Platform = "x"
	PlatformFacebook  Platform = "facebook"
	PlatformInstagram Platform = "instagram"
	PlatformYouTube   Platform = "youtube"
	PlatformTikTok    Platform = "tiktok"
	// PlatformWeb is any website the recogniser has no platform rules for.
	PlatformWeb Platform = "web"
)

// Platforms lists the platforms the recogniser knows, in display order.
var Platforms = []Platform{PlatformTelegram, PlatformX, PlatformFacebook, PlatformInstagram, PlatformYouTube, PlatformTikTok, PlatformWeb}

// Kind is what sort of online thing an item is.
type Kind string

const (
	KindAccount Kind = "account" // a user profile
	KindChannel Kind = "channel" // a broadcast channel
	KindGroup   Kind = "group"   // a group chat or community
	KindPost    Kind = "post"    // one message, post or video
	KindInvite  Kind = "invite"  // an invite link to a private channel or group
	KindFile    Kind = "file"    // a downloadable file
	KindWebsite Kind = "website" // a page or site without platform rules
)

// Kinds lists every kind, in display order.
var Kinds = []Kind{KindAccount, KindChannel, KindGroup, KindPost, KindInvite, KindFile, KindWebsite}

// ValidKind reports whether k is one of Kinds.
func ValidKind(k Kind) bool { return slices.Contains(Kinds, k) }

// ValidPlatform reports whether p is one of Platforms.
func ValidPlatform(p Platform) bool { return slices.Contains(Platforms, p) }

// ItemStatus is where an item stands in the flow. Later stages of the flow
// (deconfliction, referral, verification) add their statuses here.
type ItemStatus string

const (
	// ItemSubmitted: recognised and recorded, nothing done to it yet.
	ItemSubmitted ItemStatus = "submitted"
)

// ItemStatuses lists every status, in flow order (the verification
// statuses are in verification.go).
var ItemStatuses = []ItemStatus{ItemCandidate, ItemSubmitted, ItemReferred, ItemOnline, ItemOffline, ItemConfirmed, ItemReinstated}

// Recognition is what the recogniser makes of a URL: the item's canonical
// identity and what it is.
type Recognition struct {
	// Identity is the deduplication key: two inputs with the same identity
	// are the same item, e.g. "telegram:some_channel" for every form of a
	// Telegram channel link, or the canonical URL for a plain website.
	Identity  string   `json:"identity"`
	Canonical string   `json:"canonical"` // canonical URL
	Platform  Platform `json:"platform"`
	Kind      Kind     `json:"kind"`
	Handle    string   `json:"handle,omitempty"` // as the platform compares it; "" if none
}

// Item is one online thing under its canonical identity, within one
// operation. An item has one or more submissions.
type Item struct {
	ID          int64      `json:"id"`
	OperationID int64      `json:"-"`
	Identity    string     `json:"identity"`
	URL         string     `json:"url"` // canonical URL
	Platform    Platform   `json:"platform"`
	Kind        Kind       `json:"kind"`
	Handle      string     `json:"handle,omitempty"`
	Title       string     `json:"title,omitempty"` // the first title any submission gave
	Status      ItemStatus `json:"status"`
	// Provider is the provider the item was attributed to, "" while it
	// is not (yet): the unattributed queue. Attribution says how.
	Provider    string `json:"provider,omitempty"`
	Attribution string `json:"attribution,omitempty"`
	// Verification is where the item stands in verification, for a
	// single item's readers (not in lists).
	Verification *Verification `json:"verification,omitempty"`

	SubmissionCount  int       `json:"submission_count"`
	FirstSubmittedAt time.Time `json:"first_submitted_at"`
	LastSubmittedAt  time.Time `json:"last_submitted_at"`

	// Submissions are filled by FindItem, oldest first; nil in lists.
	Submissions []*Submission `json:"submissions,omitempty"`
	// Hold says whether a deconfliction hold covers the item now, and,
	// to those who may know, which; nil when none does.
	Hold *HoldNotice `json:"hold,omitempty"`
}

// Submission is one agency's report of an item: who, when, with what raw
// input, notes and tags.
type Submission struct {
	ID       int64  `json:"id"`
	ItemID   int64  `json:"item_id"`
	AgencyID int64  `json:"-"`
	Agency   string `json:"agency"` // agency code, filled when read

	RawInput string `json:"raw_input"` // the URL exactly as submitted

	// What the submitter declared, which may differ from what the
	// recogniser found; empty when not declared.
	DeclaredKind     string `json:"declared_kind,omitempty"`
	DeclaredPlatform string `json:"declared_platform,omitempty"`
	DeclaredHandle   string `json:"declared_handle,omitempty"`

	Title      string            `json:"title,omitempty"`
	Notes      string            `json:"notes,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Language   string            `json:"language,omitempty"`
	FoundAt    *time.Time        `json:"found_at,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"` // unknown import columns, kept

	Source      string    `json:"source"` // "api", "import:FILE", ...
	SubmittedAt time.Time `json:"submitted_at"`

	// Shared lets every agency of the operation read the notes and
	// attributes; otherwise only the submitting agency, the coordinators
	// and the auditors do. It is no part of the fingerprint: sharing is
	// who may read, not what was reported.
	Shared bool `json:"shared"`
	// Redacted says that notes and attributes were withheld from the
	// reader (Actor.Redact).
	Redacted bool `json:"redacted,omitempty"`
}

// Fingerprint identifies a submission's content: the same agency reporting
// the same input with the same details twice (re-importing a file) yields the
// same fingerprint, and so no second submission. Source and time are left
// out on purpose: they differ between two imports of one file.
func (s *Submission) Fingerprint() string {
	tags := slices.Clone(s.Tags)
	slices.Sort(tags)
	var found string
	if s.FoundAt != nil {
		found = s.FoundAt.UTC().Format(time.RFC3339Nano)
	}
	// encoding/json sorts map keys, so the encoding is deterministic.
	b, _ := json.Marshal([]any{
		s.AgencyID, s.RawInput, s.DeclaredKind, s.DeclaredPlatform, s.DeclaredHandle,
		s.Title, s.Notes, tags, s.Language, found, s.Attributes,
	})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// NewSubmission is a submission to record together with what the recogniser
// made of its input.
type NewSubmission struct {
	Item       Recognition
	Submission Submission

	// fingerprint caches Submission.Fingerprint once Prepare has run.
	fingerprint string
}

// Prepare validates n and computes its submission's fingerprint ahead of
// Submit, so that a producer on another goroutine (the importer's parser)
// takes that work off the single database writer. n must not change
// afterwards.
func (n *NewSubmission) Prepare() error {
	if err := n.Validate(); err != nil {
		return err
	}
	n.fingerprint = n.Submission.Fingerprint()
	return nil
}

// Fingerprint returns the fingerprint of n's submission: the one Prepare
// computed, else a fresh one.
func (n *NewSubmission) Fingerprint() string {
	if n.fingerprint != "" {
		return n.fingerprint
	}
	return n.Submission.Fingerprint()
}

// SubmitOutcome says what recording one submission did.
type SubmitOutcome string

const (
	SubmitNewItem   SubmitOutcome = "new_item"  // a new item was created
	SubmitMerged    SubmitOutcome = "merged"    // a new submission joined an existing item
	SubmitDuplicate SubmitOutcome = "duplicate" // this submission was known already; nothing changed
)

// SubmitResult is the outcome of recording one submission.
type SubmitResult struct {
	ItemID  int64         `json:"item_id"`
	Outcome SubmitOutcome `json:"outcome"`
}

// ItemFilter selects items of one operation. Empty fields do not filter.
type ItemFilter struct {
	OperationID int64
	Platform    Platform
	Kind        Kind
	Agency      string     // items with at least one submission by this agency code
	Status      ItemStatus //
	Text        string     // case-insensitive substring of handle, URL or title
	Provider    string     // items attributed to this provider
	// Unattributed selects items attributed to no provider: the queue
	// an operator resolves by hand.
	Unattributed bool
	Cursor       string // from a previous page's NextCursor
	Limit        int    // 1..MaxPageSize; 0 means DefaultPageSize
}

const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// ItemPage is one page of items, newest first.
type ItemPage struct {
	Items      []*Item `json:"items"`
	NextCursor string  `json:"next_cursor,omitempty"` // "" on the last page
}

// EachItem calls each for every item f selects, newest first, a page of
// MaxPageSize at a time (f's Cursor and Limit are its own); it stops at
// the first error, each's or the store's.
func EachItem(ctx context.Context, st interface {
	ListItems(ctx context.Context, f ItemFilter) (*ItemPage, error)
}, f ItemFilter, each func(*Item) error) error {
	f.Cursor, f.Limit = "", MaxPageSize
	for {
		page, err := st.ListItems(ctx, f)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := each(it); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

// ItemService records submissions and reads items.
type ItemService interface {
	// Submit records subs in the operation in one transaction: each creates
	// the item of its identity if the operation has none, and adds its
	// submission unless one with the same fingerprint exists. Results are
	// in the order of subs. Returns ENOTFOUND for an unknown operation,
	// EINVALID for an agency that does not take part in the operation or a
	// submission that fails validation, ECONFLICT for a closed operation;
	// on error nothing is recorded.
	Submit(ctx context.Context, operationID int64, subs []NewSubmission) ([]SubmitResult, error)

	// FindItem returns an item with its submissions and the notice of
	// the holds that cover it now, unredacted. Returns ENOTFOUND if there
	// is none.
	FindItem(ctx context.Context, id int64) (*Item, error)

	// ListItems returns a page of items of f.OperationID, newest first,
	// each with the notice of the holds that cover it now. Returns
	// EINVALID for a malformed cursor or filter.
	ListItems(ctx context.Context, f ItemFilter) (*ItemPage, error)

	// SetAttributions records which provider each item goes to ("" for
	// none found: the item joins the unattributed queue) and how.
	// Returns EINVALID for an unknown provider.
	SetAttributions(ctx context.Context, as []ItemAttribution) error

	// IndexSearch adds up to limit items to the search index behind the
	// item list's text search, and indexes again those whose title was
	// given since; it returns how many it indexed. A backend that searches
	// without an index returns 0.
	IndexSearch(ctx context.Context, limit int) (int, error)
}

// ItemAttribution is the provider an item goes to, and how that was found:
// "platform", "domain example.org", "network AS64500", "by hand", or, with
// no provider, "none: " and why.
type ItemAttribution struct {
	ItemID   int64  `json:"item_id"`
	Provider string `json:"provider"`
	Via      string `json:"via"`
}

// Stored returns the attribution as stored: never an empty Via, which
// means "not yet attributed".
func (a ItemAttribution) Stored() ItemAttribution {
	switch {
	case a.Provider == "" && !strings.HasPrefix(a.Via, "none"):
		a.Via = "none"
	case a.Provider != "" && a.Via == "":
		a.Via = "by hand"
	}
	return a
}

// Store is everything a storage backend provides. Every change it makes
// is recorded in the audit chain, in the same transaction, as done by the
// Actor in the context (ActorFrom).
type Store interface {
	OperationService
	AgencyService
	ItemService
	UserService
	ProviderService
	HoldService
	ReferralService
	AuditService
	NotificationService
	VerificationService
	EvidenceService
	ResurgenceService
	SeedService
	ReportSnapshotService
	Close() error
}

// MaxRawInputLength bounds a submitted URL; browsers and platforms refuse
// longer ones, and an endless line must not reach the database.
const MaxRawInputLength = 8192

// Validate reports an EINVALID error for a submission that cannot be stored.
func (n *NewSubmission) Validate() error {
	s, r := &n.Submission, &n.Item
	switch {
	case s.AgencyID == 0:
		return Errorf(EINVALID, "submission has no agency")
	case s.RawInput == "":
		return Errorf(EINVALID, "submission has no URL")
	case len(s.RawInput) > MaxRawInputLength:
		return Errorf(EINVALID, "URL is %d bytes long, more than the %d allowed", len(s.RawInput), MaxRawInputLength)
	case r.Identity == "" || r.Canonical == "":
		return Errorf(EINVALID, "submission of %q was not recognised", s.RawInput)
	case !ValidPlatform(r.Platform):
		return Errorf(EINVALID, "unknown platform %q", r.Platform)
	case !ValidKind(r.Kind):
		return Errorf(EINVALID, "unknown kind %q", r.Kind)
	}
	return s.validateSizes()
}

// Bounds on a submission's free text: generous for what analysts write,
// small enough that no field can bloat the database or a page.
const (
	MaxTitleLength      = 1000
	MaxNotesLength      = 10000
	MaxTags             = 50
	MaxTagLength        = 100
	MaxAttributes       = 100
	MaxAttributeKey     = 100
	MaxAttributeValue   = 10000
	MaxShortFieldLength = 200 // declared handle, platform, kind, language
)

func (s *Submission) validateSizes() error {
	tooLong := func(field string, n, max int) error {
		return Errorf(EINVALID, "%s is %d characters long, more than the %d allowed", field, n, max)
	}
	switch {
	case len(s.Title) > MaxTitleLength:
		return tooLong("title", len(s.Title), MaxTitleLength)
	case len(s.Notes) > MaxNotesLength:
		return tooLong("notes", len(s.Notes), MaxNotesLength)
	case len(s.Tags) > MaxTags:
		return Errorf(EINVALID, "%d tags, more than the %d allowed", len(s.Tags), MaxTags)
	case len(s.Attributes) > MaxAttributes:
		return Errorf(EINVALID, "%d attributes, more than the %d allowed", len(s.Attributes), MaxAttributes)
	}
	for field, v := range map[string]string{"declared handle": s.DeclaredHandle, "declared platform": s.DeclaredPlatform, "declared kind": s.DeclaredKind, "language": s.Language} {
		if len(v) > MaxShortFieldLength {
			return tooLong(field, len(v), MaxShortFieldLength)
		}
	}
	for _, t := range s.Tags {
		if len(t) > MaxTagLength {
			return tooLong("a tag", len(t), MaxTagLength)
		}
	}
	for k, v := range s.Attributes {
		if len(k) > MaxAttributeKey {
			return tooLong("an attribute's name", len(k), MaxAttributeKey)
		}
		if len(v) > MaxAttributeValue {
			return tooLong("attribute "+k, len(v), MaxAttributeValue)
		}
	}
	return nil
}

// EncodeCursor and DecodeCursor turn the ID of the last item of a page into
// an opaque cursor and back; every backend pages by descending item ID.
func EncodeCursor(lastID int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("i" + strconv.FormatInt(lastID, 10)))
}

// DecodeCursor returns the item ID a cursor stands for. Returns EINVALID for
// a cursor EncodeCursor did not make.
func DecodeCursor(cursor string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < 2 || b[0] != 'i' {
		return 0, Errorf(EINVALID, "malformed cursor %q", cursor)
	}
	id, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || id <= 0 {
		return 0, Errorf(EINVALID, "malformed cursor %q", cursor)
	}
	return id, nil
}

// Refine returns r with its kind replaced by a declared one where the URL
// alone cannot tell: a t.me name may be a channel, a group or an account,
// and only the submitter knows which. Elsewhere the recogniser's kind
// stands, and the declared one is kept on the submission only.
func (r Recognition) Refine(declared Kind) Recognition {
	ambiguous := []Kind{KindChannel, KindGroup, KindAccount}
	if r.Platform == PlatformTelegram && slices.Contains(ambiguous, r.Kind) && slices.Contains(ambiguous, declared) {
		r.Kind = declared
	}
	return r
}

// PageSize returns the page size f asks for: DefaultPageSize for 0.
// Returns EINVALID for a size out of range.
func (f ItemFilter) PageSize() (int, error) {
	switch {
	case f.Limit == 0:
		return DefaultPageSize, nil
	case f.Limit < 0 || f.Limit > MaxPageSize:
		return 0, Errorf(EINVALID, "page size %d is not between 1 and %d", f.Limit, MaxPageSize)
	}
	return f.Limit, nil
}
