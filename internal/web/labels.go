package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/web/locale"
)

// What the pages call things. The domain's names (removal_order,
// need_info, force_majeure) are for programs; people read these. Each
// names its message in the catalog (locale/en.json), for the pages and
// the handlers alike.

var basisLabels = map[takedown.LegalBasis]locale.Key{
	takedown.BasisReferral:     key("basis.referral"),
	takedown.BasisRemovalOrder: key("basis.removal_order"),
}

var outcomeLabels = map[takedown.Outcome]locale.Key{
	takedown.OutcomePending:  key("outcome.pending"),
	takedown.OutcomeRemoved:  key("outcome.removed"),
	takedown.OutcomeDisabled: key("outcome.disabled"),
	takedown.OutcomeRejected: key("outcome.rejected"),
	takedown.OutcomeNotFound: key("outcome.not_found"),
	takedown.OutcomeNeedInfo: key("outcome.need_info"),
	takedown.OutcomeNoAnswer: key("outcome.no_answer"),
}

// answeredLabels name an outcome once given: the "(reason required)" of
// the form is no help there.
var answeredLabels = map[takedown.Outcome]locale.Key{
	takedown.OutcomeRejected: key("outcome.answered.rejected"),
	takedown.OutcomeNeedInfo: key("outcome.answered.need_info"),
}

var cannotComplyLabels = map[string]locale.Key{
	"force_majeure":            key("cannot_comply.force_majeure"),
	"technical":                key("cannot_comply.technical"),
	"manifest_error":           key("cannot_comply.manifest_error"),
	"insufficient_information": key("cannot_comply.insufficient_information"),
}

var feedbackActionLabels = map[string]locale.Key{
	"removed":  key("feedback_action.removed"),
	"disabled": key("feedback_action.disabled"),
}

// statusLabels say what an item's status means. Only "confirmed offline"
// counts as taken offline.
var statusLabels = map[takedown.ItemStatus]locale.Key{
	takedown.ItemCandidate:  key("item_status.candidate"),
	takedown.ItemSubmitted:  key("item_status.submitted"),
	takedown.ItemReferred:   key("item_status.referred"),
	takedown.ItemOnline:     key("item_status.online"),
	takedown.ItemOffline:    key("item_status.offline"),
	takedown.ItemConfirmed:  key("item_status.confirmed_offline"),
	takedown.ItemReinstated: key("item_status.reinstated"),
}

// matchStateLabels name a match's state where a sentence says it ("open
// matches of rad-1").
var matchStateLabels = map[takedown.MatchState]locale.Key{
	takedown.MatchOpen:      key("match_state.open"),
	takedown.MatchConfirmed: key("match_state.confirmed"),
	takedown.MatchRejected:  key("match_state.rejected"),
}

// tokenStateLabels name an API token's state.
var tokenStateLabels = map[string]locale.Key{
	"active":  key("token_state.active"),
	"revoked": key("token_state.revoked"),
	"expired": key("token_state.expired"),
}

// dimensionLabels name the dimensions of an operation's breakdown, in
// its tables' heads, and dimensionTitles its tables.
var (
	dimensionLabels = map[string]locale.Key{
		"kind": key("dimension.kind"), "platform": key("dimension.platform"), "agency": key("dimension.agency"), "provider": key("dimension.provider"),
	}
	dimensionTitles = map[string]locale.Key{
		"kind": key("operation.by_kind"), "platform": key("operation.by_platform"), "agency": key("operation.by_agency"), "provider": key("operation.by_provider"),
	}
)

// doneMessages are what a page says after a form sent the browser back to
// it (?done=KEY): fixed texts, so the query cannot put words on the page.
var doneMessages = map[string]locale.Key{
	"acknowledged": key("done.acknowledged"),
	"answered":     key("done.answered"),
	"redelivered":  key("done.redelivered"),
	"attributed":   key("done.attributed"),
	"saved":        key("done.saved"),
	"confirmed":    key("done.confirmed"),
	"rejected":     key("done.rejected"),
	"held":         key("done.held"),
	"released":     key("done.released"),
}

// done says the request's ?done= message, "" for none.
func (s *Server) done(r *http.Request) string {
	k, ok := doneMessages[r.URL.Query().Get("done")]
	if !ok {
		return ""
	}
	return s.localizer(r).T(k)
}

// The handlers' messages: refusals shown on the error page, and what a
// form sent back with an error says.
var (
	msgPortalOnly       = key("error.portal_only")
	msgCoordinatorsOnly = key("error.coordinators_only")
	msgReadOnly         = key("error.read_only")
	msgAdminsOnly       = key("error.admins_only")
	msgNothingAnswered  = key("error.nothing_answered")
	msgRowsInvalid      = key("error.rows_invalid")
	msgNotRecorded      = key("error.not_recorded", "error")
	msgChooseOutcome    = key("error.choose_outcome")
	msgActedAt          = key("error.acted_at")
	msgAnalystsHold     = key("error.analysts_hold")
	msgHolderReleases   = key("error.holder_releases")
	msgAnalystsImport   = key("error.analysts_import")
	msgAnalystsReview   = key("error.analysts_review")
	msgAuditorsOnly     = key("error.auditors_only")
	msgUploadTooLarge   = key("error.upload_too_large")
	msgCannotReadUpload = key("error.cannot_read_upload", "error")
	msgChooseFile       = key("error.choose_file")
	msgFileError        = key("error.file", "file", "error")
	msgHoldDays         = key("error.hold_days")
	msgCannotReadForm   = key("error.cannot_read_form", "error")
	msgNoOperation      = key("error.no_operation", "operation")
	msgNoItem           = key("error.no_item", "item", "operation")
	msgNoCapture        = key("error.no_capture")
	msgCaptureNoFile    = key("error.capture_no_file", "capture", "reason")
	msgNoEvidenceStore  = key("error.no_evidence_store")
	msgNoCaptureOfItem  = key("error.no_capture_of_item", "capture", "item")
	msgNoImage          = key("error.no_image", "image")
	msgNoMatch          = key("error.no_match", "match")
	msgNoMatchIn        = key("error.no_match_in", "match", "operation")
	msgMatchState       = key("error.match_state", "state")
	msgMatchError       = key("error.match", "match", "error")
	msgNoHold           = key("error.no_hold", "hold")
	msgNoHoldIn         = key("error.no_hold_in", "hold", "operation")
	msgNoReferral       = key("error.no_referral", "referral")
	msgNoReferralIn     = key("error.no_referral_in", "referral", "operation")
	msgNotInReferral    = key("error.not_in_referral", "referral", "item")
	msgNetwork          = key("error.network", "provider", "network")
	msgChooseQueueItem  = key("error.choose_queue_item")
	msgNoQueueItem      = key("error.no_queue_item", "item")
	msgChooseProvider   = key("error.choose_provider", "item")
	msgNoProvider       = key("error.no_provider", "provider")
	msgAuditAfter       = key("error.audit_after", "after")
	msgNoOIDC           = key("error.no_oidc")
	msgNoOIDCCallback   = key("error.no_oidc_callback")
	msgNoNotice         = key("error.no_notice", "notice")
	msgAdminRole        = key("error.admin_role")
	msgNoUser           = key("error.no_user", "user")
	msgTokenDays        = key("error.token_days")
	msgNoToken          = key("error.no_token", "token")
	msgDisableSelf      = key("error.disable_self")
)

func labelOf[K comparable](l *locale.Localizer, m map[K]locale.Key, k K) string {
	if key, ok := m[k]; ok {
		return l.T(key)
	}
	return fmt.Sprint(k)
}

// answeredLabel names an outcome that was given.
func answeredLabel(l *locale.Localizer, o takedown.Outcome) string {
	if k, ok := answeredLabels[o]; ok {
		return l.T(k)
	}
	return labelOf(l, outcomeLabels, o)
}

var (
	msgSpanUnderMinute = key("span.under_minute")
	msgSpanMinutes     = key("span.minutes", "minutes")
	msgSpanHours       = key("span.hours", "hours", "minutes")
)

// span writes a duration the way people on a clock say it: "42 min",
// "1h05m", rounded down to the minute.
func span(l *locale.Localizer, d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Truncate(time.Minute)
	switch {
	case d < time.Minute:
		return l.T(msgSpanUnderMinute)
	case d < time.Hour:
		return l.T(msgSpanMinutes, int(d/time.Minute))
	}
	return l.T(msgSpanHours, int(d/time.Hour), fmt.Sprintf("%02d", int(d%time.Hour/time.Minute)))
}

// clock is where a removal order's hour stands, for people.
type clock struct {
	Text    string
	Overdue bool
}

var (
	msgClockNotStarted = key("clock.not_started")
	msgClockOverdue    = key("clock.overdue", "span")
	msgClockLeft       = key("clock.left", "span")
	msgClockStopped    = key("clock.stopped")
	msgClockAnswered   = key("clock.answered")
)

// clockOf tells the time left of a removal order at now; the zero clock
// for a voluntary referral, which has no deadline.
func clockOf(l *locale.Localizer, r *takedown.Referral, now time.Time) clock {
	if r.LegalBasis != takedown.BasisRemovalOrder {
		return clock{}
	}
	switch {
	case r.Deadline == nil:
		return clock{Text: l.T(msgClockNotStarted)}
	case r.Overdue(now):
		return clock{Text: l.T(msgClockOverdue, span(l, r.TimeLeft(now))), Overdue: true}
	case r.Counts[takedown.OutcomePending] > 0:
		return clock{Text: l.T(msgClockLeft, span(l, r.TimeLeft(now)))}
	case r.Counts[takedown.OutcomeNeedInfo] > 0:
		return clock{Text: l.T(msgClockStopped)}
	}
	return clock{Text: l.T(msgClockAnswered)}
}
