package web

import (
	"fmt"
	"time"

	"github.com/takedown-project/takedown"
)

// What the referral pages call things. The domain's names (removal_order,
// need_info, force_majeure) are for programs; people read these. Kept
// here, in one place, for the pages and the handlers alike.

var basisLabels = map[takedown.LegalBasis]string{
	takedown.BasisReferral:     "referral",
	takedown.BasisRemovalOrder: "removal order",
}

var outcomeLabels = map[takedown.Outcome]string{
	takedown.OutcomePending:  "pending",
	takedown.OutcomeRemoved:  "removed",
	takedown.OutcomeDisabled: "disabled in the EU only",
	takedown.OutcomeRejected: "rejected (reason required)",
	takedown.OutcomeNotFound: "not found",
	takedown.OutcomeNeedInfo: "need more information (reason required)",
	takedown.OutcomeNoAnswer: "no answer in time",
}

// answeredLabels name an outcome once given: the "(reason required)" of
// the form is no help there.
var answeredLabels = map[takedown.Outcome]string{
	takedown.OutcomeRejected: "rejected",
	takedown.OutcomeNeedInfo: "more information asked",
}

var cannotComplyLabels = map[string]string{
	"force_majeure":            "force majeure",
	"technical":                "technical impossibility",
	"manifest_error":           "manifest error",
	"insufficient_information": "insufficient information",
}

var feedbackActionLabels = map[string]string{
	"removed":  "removed",
	"disabled": "access disabled",
}

// statusLabels say what an item's status means. Only "confirmed offline"
// counts as taken offline.
var statusLabels = map[takedown.ItemStatus]string{
	takedown.ItemCandidate:  "found by the watch, not submitted",
	takedown.ItemSubmitted:  "submitted, not referred",
	takedown.ItemReferred:   "referred, not probed since",
	takedown.ItemOnline:     "still online",
	takedown.ItemOffline:    "seen offline, not yet confirmed",
	takedown.ItemConfirmed:  "confirmed offline",
	takedown.ItemReinstated: "reinstated after removal",
}

// doneMessages are what a page says after a form sent the browser back to
// it (?done=KEY): fixed texts, so the query cannot put words on the page.
var doneMessages = map[string]string{
	"acknowledged": "Receipt acknowledged.",
	"answered":     "Your answers are recorded.",
	"redelivered":  "The delivery is queued again.",
	"attributed":   "The item is attributed; it has left the queue.",
	"saved":        "The provider is saved.",
	"confirmed":    "The match is confirmed: the candidate is linked to the removed item as its successor.",
	"rejected":     "The match is rejected.",
	"held":         "The hold is placed: nothing it covers is referred while it runs.",
	"released":     "The hold is released: what it covered may be referred again.",
}

const (
	msgPortalOnly       = "the portal is for the liaisons of online service providers"
	msgCoordinatorsOnly = "referrals are the operation's coordinators' (and auditors', to read)"
	msgReadOnly         = "only the operation's coordinators change referrals and attributions; auditors read"
	msgAdminsOnly       = "the provider directory is managed by administrators"
	msgNothingAnswered  = "choose an outcome for at least one item; nothing was recorded"
	msgRowsInvalid      = "some answers need attention (marked below); nothing was recorded"
	msgChooseOutcome    = "choose an outcome, or leave the whole row empty"
	msgActedAt          = "acted at: want a date and time such as 2026-11-24T10:15 (UTC)"
	msgAnalystsHold     = "holds are placed by the analysts and coordinators of the operation's agencies"
	msgHolderReleases   = "a hold is released by its agency or the operation's coordinators"
	msgAnalystsImport   = "files are imported by the analysts and coordinators of the operation's agencies"
	msgAnalystsReview   = "matches are reviewed by the analysts and coordinators of the operation's agencies"
	msgAuditorsOnly     = "the audit chain is for auditors"
	msgUploadTooLarge   = "the file is larger than 64 MB: import it with `takedown import` or the API's batches"
	msgChooseFile       = "choose a file to import"
	msgHoldDays         = "a hold runs from 1 to 180 days"
)

func labelOf[K comparable](m map[K]string, k K) string {
	if l, ok := m[k]; ok {
		return l
	}
	return fmt.Sprint(k)
}

// answeredLabel names an outcome that was given.
func answeredLabel(o takedown.Outcome) string {
	if l, ok := answeredLabels[o]; ok {
		return l
	}
	return labelOf(outcomeLabels, o)
}

// span writes a duration the way people on a clock say it: "42 min",
// "1h05m", rounded down to the minute.
func span(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Truncate(time.Minute)
	switch {
	case d < time.Minute:
		return "less than 1 min"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// clock is where a removal order's hour stands, for people.
type clock struct {
	Text    string
	Overdue bool
}

// clockOf tells the time left of a removal order at now; the zero clock
// for a voluntary referral, which has no deadline.
func clockOf(r *takedown.Referral, now time.Time) clock {
	if r.LegalBasis != takedown.BasisRemovalOrder {
		return clock{}
	}
	switch {
	case r.Deadline == nil:
		return clock{Text: "the hour starts on receipt"}
	case r.Overdue(now):
		return clock{Text: "OVERDUE by " + span(r.TimeLeft(now)), Overdue: true}
	case r.Counts[takedown.OutcomePending] > 0:
		return clock{Text: span(r.TimeLeft(now)) + " left"}
	case r.Counts[takedown.OutcomeNeedInfo] > 0:
		return clock{Text: "stopped: more information asked"}
	}
	return clock{Text: "answered"}
}
