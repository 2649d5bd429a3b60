package takedown

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Evidence: before a provider removes an item it is captured, because
// once removed it is gone for the investigators too. A capture is a WARC
// file (the item's page and the resources that identify it) kept under
// its SHA-256.

// CaptureState says whether a capture preserved the item.
type CaptureState string

const (
	CaptureDone   CaptureState = "captured"
	CaptureFailed CaptureState = "failed"
)

// Why a capture failed. What was fetched before the failure is kept all
// the same (a removed channel's page documents the removal).
const (
	CaptureTimeout  = "timeout"   // the page did not come in time
	CaptureTooLarge = "too_large" // the page went on past the cap (kept, truncated)
	CaptureRemoved  = "removed"   // the item is offline already
	CaptureNetwork  = "network"   // no answer: refused, reset, DNS, TLS
	CaptureRefused  = "refused"   // the safety guard refused the address
	CaptureUnknown  = "unknown"   // an answer that proves nothing (login wall, rate limit, challenge)
)

// Capture is one preservation of an item.
type Capture struct {
	ID     int64        `json:"id"`
	ItemID int64        `json:"item_id"`
	At     time.Time    `json:"at"`
	URL    string       `json:"url"`
	State  CaptureState `json:"state"`
	Reason string       `json:"reason,omitempty"`
	Error  string       `json:"error,omitempty"`
	// Status is the page's final HTTP status (0 without an answer).
	Status int `json:"status"`
	// SHA256, Size and Location name the WARC file in the blob store;
	// empty when nothing at all was fetched.
	SHA256   string `json:"sha256,omitempty"`
	Size     int64  `json:"size"`
	Location string `json:"location,omitempty"`
	// Records is the number of WARC records, Resources the number of
	// images kept beside the page.
	Records   int `json:"records"`
	Resources int `json:"resources"`
}

// EvidenceService keeps the record of captures; the WARC files are in the
// blob store.
type EvidenceService interface {
	// RecordCapture records a capture of an item (setting its ID), and
	// in the audit chain with its hash: the chain then vouches for the
	// file.
	RecordCapture(ctx context.Context, c *Capture) error
	// ListCaptures returns an item's captures, newest first; ENOTFOUND
	// for an unknown item.
	ListCaptures(ctx context.Context, itemID int64) ([]*Capture, error)
	// DueCaptures returns up to limit items, in ID order after afterID,
	// that open operations asking for evidence still need captured: not
	// yet referred, never captured, or whose captures all failed for a
	// reason that may pass (timeout, network, unknown), fewer than
	// p.Attempts times and the last before retryBefore.
	DueCaptures(ctx context.Context, p CapturePolicy, afterID int64, limit int) ([]CaptureTarget, error)
}

// CapturePolicy is when a failed capture is tried again.
type CapturePolicy struct {
	Attempts    int       // tries in all
	RetryBefore time.Time // the last try must be older than this
}

// CaptureTarget is an item to capture.
type CaptureTarget struct {
	ItemID    int64    `json:"item_id"`
	Operation string   `json:"operation"`
	URL       string   `json:"url"`
	Platform  Platform `json:"platform"`
	Kind      Kind     `json:"kind"`
	Handle    string   `json:"handle,omitempty"`
}

// RetryableCapture says a failed capture may succeed if tried again.
func RetryableCapture(reason string) bool {
	return reason == CaptureTimeout || reason == CaptureNetwork || reason == CaptureUnknown
}

// AuditCapture records a capture with the hash of its file.
func AuditCapture(operation string, c *Capture) AuditRecord {
	d := map[string]any{"url": c.URL, "at": c.At.UTC().Format(time.RFC3339Nano), "state": c.State, "status": c.Status}
	if c.Reason != "" {
		d["reason"] = c.Reason
	}
	if c.SHA256 != "" {
		d["sha256"], d["size"], d["location"], d["records"] = c.SHA256, c.Size, c.Location, c.Records
	}
	action := "item.capture"
	if c.State == CaptureFailed {
		action = "item.capture_failed"
	}
	return AuditRecord{Action: action, Subject: "item:" + strconv.FormatInt(c.ItemID, 10), Operation: operation, Details: d}
}

// Validate reports an EINVALID error for a capture that cannot be
// recorded.
func (c *Capture) Validate() error {
	switch {
	case c.ItemID <= 0:
		return Errorf(EINVALID, "a capture needs its item")
	case c.State != CaptureDone && c.State != CaptureFailed:
		return Errorf(EINVALID, "capture state %q: want captured or failed", c.State)
	case c.State == CaptureDone && c.SHA256 == "":
		return Errorf(EINVALID, "a capture that preserved the item needs its file's SHA-256")
	case c.SHA256 != "" && (len(c.SHA256) != 64 || strings.Trim(c.SHA256, "0123456789abcdef") != ""):
		return Errorf(EINVALID, "capture SHA-256 %q: want 64 lower-case hex digits", c.SHA256)
	case c.At.IsZero():
		return Errorf(EINVALID, "a capture needs its time")
	}
	return nil
}
