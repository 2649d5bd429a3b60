// Package jobkinds holds the arguments of the job kinds that storage
// backends insert in their own transactions (a referral's deliveries with
// the referral). It depends on nothing but River, so a backend importing it
// cannot pull in the workers and what they depend on.
package jobkinds

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// DeliverArgs asks for a referral to be delivered on one channel. The
// store inserts one per channel in the transaction that creates the
// referral, so a referral exists exactly when its deliveries are queued.
type DeliverArgs struct {
	ReferralID int64  `json:"referral_id"`
	Channel    string `json:"channel"`
}

func (DeliverArgs) Kind() string { return "referral.deliver" }

// InsertOpts: one delivery per referral and channel at a time; once it
// has ended, a person may queue another (a dead letter sent again).
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: DefaultDeliveryAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: Unfinished}}
}

// Unfinished are the states of a job not yet ended: a kind unique over
// them runs once at a time, and may be queued again once it has ended.
var Unfinished = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled}

// DefaultDeliveryAttempts is how often a delivery is tried before it is
// dead-lettered: with the backoff, about a day and a half.
const DefaultDeliveryAttempts = 12

// PollArgs asks for the answers of a referral delivered to a provider's
// API to be read back.
type PollArgs struct {
	ReferralID int64 `json:"referral_id"`
}

func (PollArgs) Kind() string { return "referral.poll" }

// InsertOpts: one poller per referral; it snoozes between reads until
// every answer is in.
func (PollArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: Unfinished}}
}

// RemindArgs asks for the provider of an overdue removal order to be
// reminded on its e-mail and webhook channels. The store inserts it in the
// transaction that escalates the order, so every escalation reminds once.
type RemindArgs struct {
	ReferralID int64 `json:"referral_id"`
}

func (RemindArgs) Kind() string { return "referral.remind" }

func (RemindArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: DefaultDeliveryAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: Unfinished}}
}

// DeadlinesArgs asks for overdue removal orders to be escalated; it runs
// periodically.
type DeadlinesArgs struct{}

func (DeadlinesArgs) Kind() string { return "referral.deadlines" }
