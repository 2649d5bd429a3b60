package simnet

import (
	"strings"
	"time"
)

// Reminders: when a removal order's hour has passed with URLs unanswered,
// takedown reminds the provider on its e-mail and webhook channels, under
// the order's key and with the unanswered URLs only. The mailboxes and the
// webhook receivers recognise a reminder by its subject or its type,
// record it, and count it on the order's report; it makes no report of
// its own, so the liaison, who answers each URL of a report once when its
// decision falls due, does not answer again.

// ReminderType is the type of takedown's reminder webhook.
const ReminderType = "takedown.referral.reminder"

// ReminderSubjectPrefix begins the subject of takedown's reminder mail.
const ReminderSubjectPrefix = "Reminder:"

// Reminder is one reminder a provider received.
type Reminder struct {
	ID       int    `json:"id"`
	Provider string `json:"provider"`
	// Channel is how it arrived: "mail" or "webhook".
	Channel string `json:"channel"`
	// IdempotencyKey is takedown's key of the order reminded of, from the
	// mail's subject or the webhook's body; ReferralID the referral it
	// names.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	ReferralID     int64  `json:"referral_id,omitempty"`
	// MessageID and WebhookID are the reminder's own.
	MessageID string   `json:"message_id,omitempty"`
	WebhookID string   `json:"webhook_id,omitempty"`
	URLs      []string `json:"urls"`
	// ReportID is the report of the order reminded of; "" when the
	// provider has none under the key.
	ReportID string `json:"report_id,omitempty"`
	// Duplicate marks a reminder whose Message-ID or webhook-id the
	// provider had seen: a sender's retry, recorded but not counted on
	// the report again.
	Duplicate  bool      `json:"duplicate,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// Reminders returns every reminder the providers received.
func (s *Server) Reminders() []Reminder {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Reminder(nil), s.reminders...)
}

// isReminderSubject reports whether a mail's subject is a reminder's.
func isReminderSubject(subject string) bool {
	subject = strings.TrimSpace(subject)
	return len(subject) >= len(ReminderSubjectPrefix) && strings.EqualFold(subject[:len(ReminderSubjectPrefix)], ReminderSubjectPrefix)
}

// remindLocked records a reminder, under id (its Message-ID or
// webhook-id), and counts it on the report of its key; s.mu is held.
func (s *Server) remindLocked(rm Reminder, id string) Reminder {
	seen := rm.Channel + "\x00" + rm.Provider + "\x00" + id
	if id != "" && s.reminderSeen[seen] {
		rm.Duplicate = true
	} else if id != "" {
		s.reminderSeen[seen] = true
	}
	if rep := s.reportOfLocked(rm.Provider, rm.IdempotencyKey, rm.Channel); rep != nil {
		rm.ReportID = rep.ID
		if !rm.Duplicate {
			rep.Reminders++
		}
	}
	rm.ID = len(s.reminders) + 1
	s.reminders = append(s.reminders, rm)
	return rm
}

// reportOfLocked returns the provider's report under takedown's key: the
// first that came on channel, else the first on any; nil if none did.
// s.mu is held.
func (s *Server) reportOfLocked(platform, key, channel string) *Report {
	if key == "" {
		return nil
	}
	var first *Report
	for _, rep := range s.reports {
		if rep.Provider != platform || rep.IdempotencyKey != key {
			continue
		}
		if rep.Channel == channel {
			return rep
		}
		if first == nil {
			first = rep
		}
	}
	return first
}
