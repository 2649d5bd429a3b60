package takedown

import "time"

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
