package takedown

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The audit chain: every change is an event written in the transaction
// that makes the change, and every event carries the hash of the one
// before it, so that editing, deleting, inserting or reordering events
// breaks the chain where it was done. The newest event's hash (the head)
// can be signed and handed to a third party, who can later check a copy
// of the chain against it: that also catches events cut off the end.

// AuditEvent is one recorded change.
type AuditEvent struct {
	Seq       int64     `json:"seq"` // 1, 2, 3... without gaps
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`  // Actor.String()
	Action    string    `json:"action"` // "hold.place", "items.submit", ...
	Subject   string    `json:"subject"`
	Operation string    `json:"operation,omitempty"` // slug, when the change belongs to one
	// Details is a JSON object, hashed as stored.
	Details  json.RawMessage `json:"details"`
	PrevHash string          `json:"prev_hash"` // hex; GenesisHash for the first
	Hash     string          `json:"hash"`      // hex SHA-256
}

// GenesisHash is the "previous hash" of the first event.
var GenesisHash = strings.Repeat("0", 64)

// ComputeHash returns the hash the event must carry: SHA-256 over a
// length-prefixed encoding of every field but the hash itself, so that no
// two different events encode alike. Times count in microseconds, which
// both backends keep exactly.
func (e *AuditEvent) ComputeHash() string {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put("takedown-audit-v1")
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.At.UnixMicro()))
	h.Write(n[:])
	put(e.Actor)
	put(e.Action)
	put(e.Subject)
	put(e.Operation)
	put(string(e.Details))
	put(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// AuditRecord is a change as a store hands it to its audit chain; the
// store adds the sequence, time, actor and hashes.
type AuditRecord struct {
	Action    string
	Subject   string
	Operation string
	Details   any // encoded as a JSON object
}

// Seal turns records into the next events of a chain whose head is prev
// (seq and hash), at now, by actor.
func Seal(prev AuditHead, now time.Time, actor *Actor, recs []AuditRecord) ([]*AuditEvent, error) {
	out := make([]*AuditEvent, 0, len(recs))
	seq, hash := prev.Seq, prev.Hash
	if hash == "" {
		hash = GenesisHash
	}
	for _, r := range recs {
		details := []byte("{}")
		if r.Details != nil {
			b, err := json.Marshal(r.Details)
			if err != nil {
				return nil, fmt.Errorf("audit %s: %w", r.Action, err)
			}
			details = b
		}
		seq++
		e := &AuditEvent{Seq: seq, At: now.UTC().Truncate(time.Microsecond), Actor: actor.String(), Action: r.Action,
			Subject: r.Subject, Operation: r.Operation, Details: details, PrevHash: hash}
		e.Hash = e.ComputeHash()
		hash = e.Hash
		out = append(out, e)
	}
	return out, nil
}

// AuditHead is the newest event of a chain.
type AuditHead struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

// ChainBreak is a finding of verification: the chain is not what was
// written, at event Seq.
type ChainBreak struct {
	Seq    int64
	Reason string
}

func (b *ChainBreak) Error() string { return "audit chain broken: " + b.Reason }

func chainBreak(seq int64, format string, args ...any) error {
	return &ChainBreak{Seq: seq, Reason: fmt.Sprintf(format, args...)}
}

// ChainVerifier checks a chain event by event, in order, from the first.
type ChainVerifier struct {
	last  AuditHead
	count int64
}

// Add checks the next event and returns an error that says what is wrong
// and where: a changed event (its hash is not its content's), a gap (an
// event deleted), a repeated or out-of-order sequence number (inserted or
// reordered), or a broken link (an event between was changed, deleted or
// inserted).
func (v *ChainVerifier) Add(e *AuditEvent) error {
	want := v.last.Seq + 1
	prev := v.last.Hash
	if prev == "" {
		prev = GenesisHash
	}
	switch {
	case e.Seq > want:
		return chainBreak(want, "event %d follows event %d; %d event(s) are missing", e.Seq, v.last.Seq, e.Seq-want)
	case e.Seq < want:
		return chainBreak(e.Seq, "event %d comes after event %d; events were inserted or reordered", e.Seq, v.last.Seq)
	case e.ComputeHash() != e.Hash:
		return chainBreak(e.Seq, "event %d (%s %s at %s) does not match its hash; it was changed", e.Seq, e.Action, e.Subject, e.At.Format(time.RFC3339))
	case e.PrevHash != prev:
		return chainBreak(e.Seq, "event %d does not follow the event before it; an event before it was changed, deleted or inserted", e.Seq)
	}
	v.last = AuditHead{Seq: e.Seq, Hash: e.Hash, At: e.At}
	v.count++
	return nil
}

// Head returns the last event checked.
func (v *ChainVerifier) Head() AuditHead { return v.last }

// Count returns how many events were checked.
func (v *ChainVerifier) Count() int64 { return v.count }

// AuditFilter selects events. Without filters the chain comes whole, in
// order: the form verification needs.
type AuditFilter struct {
	AfterSeq  int64  // events after this one
	Limit     int    // at most this many; 0 means 1000
	Operation string // only events of this operation
	Subject   string // only events about this subject
}

// AuditService reads the audit chain; the other services write it.
type AuditService interface {
	// ListAudit returns the events f selects in sequence order.
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
	// AuditHead returns the head the store keeps beside the chain; a chain
	// that ends elsewhere was cut.
	AuditHead(ctx context.Context) (AuditHead, error)
}

// VerifyAudit walks a store's whole chain and checks it against the head
// the store keeps. It returns the head it verified.
func VerifyAudit(ctx context.Context, s AuditService) (AuditHead, int64, error) {
	var v ChainVerifier
	after := int64(0)
	for {
		evs, err := s.ListAudit(ctx, AuditFilter{AfterSeq: after, Limit: 5000})
		if err != nil {
			return v.Head(), v.Count(), err
		}
		for _, e := range evs {
			if err := v.Add(e); err != nil {
				return v.Head(), v.Count(), err
			}
		}
		if len(evs) == 0 {
			break
		}
		after = evs[len(evs)-1].Seq
	}
	kept, err := s.AuditHead(ctx)
	if err != nil {
		return v.Head(), v.Count(), err
	}
	if kept.Seq != v.Head().Seq || kept.Hash != v.Head().Hash {
		return v.Head(), v.Count(), chainBreak(v.Head().Seq+1, "it ends at event %d, but the recorded head is event %d; events were cut off the end or the head was changed", v.Head().Seq, kept.Seq)
	}
	return v.Head(), v.Count(), nil
}

// SignedHead is a head signed with Ed25519, to hand to a third party.
type SignedHead struct {
	Head      AuditHead `json:"head"`
	SignedAt  time.Time `json:"signed_at"`
	PublicKey string    `json:"public_key"` // base64
	Signature string    `json:"signature"`  // base64, over SignedHead.message
}

func (s *SignedHead) message() []byte {
	return fmt.Appendf(nil, "takedown-audit-head-v1\n%d\n%s\n%d\n%d\n", s.Head.Seq, s.Head.Hash, s.Head.At.UnixMicro(), s.SignedAt.UnixMicro())
}

// SignHead signs a head with key.
func SignHead(h AuditHead, now time.Time, key ed25519.PrivateKey) *SignedHead {
	s := &SignedHead{Head: h, SignedAt: now.UTC().Truncate(time.Microsecond)}
	s.PublicKey = base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	s.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, s.message()))
	return s
}

// Check verifies the signature, with the given public key when one is
// given (a third party should have its own copy), else with the one in s.
func (s *SignedHead) Check(pub ed25519.PublicKey) error {
	inHead, err := base64.StdEncoding.DecodeString(s.PublicKey)
	if err != nil || len(inHead) != ed25519.PublicKeySize {
		return fmt.Errorf("signed head: malformed public key")
	}
	if pub == nil {
		pub = inHead
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || !ed25519.Verify(pub, s.message(), sig) {
		return fmt.Errorf("signed head: the signature does not verify with the public key")
	}
	return nil
}

// Contains checks that a chain has the signed head's event unchanged:
// found is the chain's event with the head's sequence number, or nil.
func (s *SignedHead) Contains(found *AuditEvent) error {
	if found == nil {
		return chainBreak(s.Head.Seq, "it has no event %d, which the signed head of %s names; events were cut off", s.Head.Seq, s.SignedAt.Format(time.RFC3339))
	}
	if found.Hash != s.Head.Hash {
		return chainBreak(s.Head.Seq, "event %d differs from the one the head signed on %s names", s.Head.Seq, s.SignedAt.Format(time.RFC3339))
	}
	return nil
}
