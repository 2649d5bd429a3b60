package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/deliver"
	"github.com/takedown-project/takedown/internal/jobkinds"
	"github.com/takedown-project/takedown/internal/metrics"
	"github.com/takedown-project/takedown/internal/providerapi"
)

// Delivery is how referrals go out, built once in cmd.
type Delivery struct {
	Store takedown.Store
	// Metrics counts the deliveries' outcomes; nil keeps none.
	Metrics *metrics.Metrics
	// Mail is the outgoing mail server (in demo and tests, the
	// simulator's, through the outbound override).
	Mail deliver.MailConfig
	// Sender is the authority that sends.
	Sender deliver.Sender
	// HTTP reaches providers' webhooks and APIs (outbound.Config).
	HTTP *http.Client
	// PortalURL is takedown's own base URL, for links in messages.
	PortalURL string
	// PollInterval is how often a provider's API is asked for answers;
	// 0 means 30 s.
	PollInterval time.Duration
	// AnswerTimeout ends the asking; 0 means 14 days.
	AnswerTimeout time.Duration
	// Timeout bounds one request to a mail server, a webhook or an API;
	// 0 means 30 s. A job's time is bounded from it, and a job abandoned
	// by a process that died runs again once that time has passed.
	Timeout time.Duration
	// MaxAttempts is how often a delivery is tried before it is
	// dead-lettered; 0 means jobkinds.DefaultDeliveryAttempts.
	MaxAttempts int
	// Enqueue adds a job (the store's).
	Enqueue func(ctx context.Context, args river.JobArgs) error
	Now     func() time.Time
}

func (d *Delivery) maxAttempts(job *rivertype.JobRow) int {
	n := d.MaxAttempts
	if n <= 0 {
		n = jobkinds.DefaultDeliveryAttempts
	}
	return min(n, job.MaxAttempts)
}

func (d *Delivery) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// DeliverWorker delivers a referral on one channel. A temporary failure
// is retried by the queue with exponential backoff and jitter; a permanent
// one, or the last attempt, leaves the channel dead for a person to act.
// Sent again after a crash, a referral carries the same idempotency key,
// so the receiver sees it once.
type DeliverWorker struct {
	river.WorkerDefaults[jobkinds.DeliverArgs]
	D *Delivery
}

// jobTimeout bounds a job that makes n requests: a mail server or a
// webhook that hangs must not hold a worker.
func (d *Delivery) jobTimeout(n int) time.Duration {
	t := d.Timeout
	if t <= 0 {
		t = 30 * time.Second
	}
	return time.Duration(n)*t + 10*time.Second
}

func (w *DeliverWorker) Timeout(*river.Job[jobkinds.DeliverArgs]) time.Duration {
	return w.D.jobTimeout(1)
}

func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[jobkinds.DeliverArgs]) error {
	d, st := w.D, w.D.Store
	r, err := st.FindReferral(ctx, job.Args.ReferralID)
	if err != nil {
		return err
	}
	channel := takedown.Channel(job.Args.Channel)
	for _, del := range r.Deliveries {
		if del.Channel == channel && del.State == takedown.DeliveryDelivered {
			return nil // done before a crash cut the job short
		}
	}
	b, err := d.batch(ctx, r)
	if err != nil {
		return err
	}
	external, err := w.send(ctx, channel, b)
	now := d.now()
	if err != nil {
		permanent := deliver.Permanent(err) || providerapi.IsPermanent(err)
		state := takedown.DeliveryRetrying
		last := job.Attempt >= d.maxAttempts(job.JobRow)
		if permanent || last {
			state = takedown.DeliveryDead
		}
		if rerr := st.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: channel, State: state, Error: err.Error(), At: now}); rerr != nil {
			return errors.Join(err, rerr)
		}
		d.Metrics.Delivery(string(channel), string(state))
		if permanent || last {
			return river.JobCancel(fmt.Errorf("%s delivery of referral %d, dead after %d attempts: %w", channel, r.ID, job.Attempt, err))
		}
		return fmt.Errorf("%s delivery of referral %d: %w", channel, r.ID, err)
	}
	if err := st.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: channel, State: takedown.DeliveryDelivered, External: external, At: now}); err != nil {
		return err
	}
	d.Metrics.Delivery(string(channel), string(takedown.DeliveryDelivered))
	if channel == takedown.ChannelAPI {
		// The answers come back from the provider's API: ask for them
		// until they are all in.
		if err := d.Enqueue(ctx, jobkinds.PollArgs{ReferralID: r.ID}); err != nil {
			return fmt.Errorf("queue the reading of answers: %w", err)
		}
	}
	return nil
}

func (w *DeliverWorker) send(ctx context.Context, channel takedown.Channel, b deliver.Batch) (string, error) {
	d := w.D
	p := b.Provider
	switch channel {
	case takedown.ChannelEmail:
		if d.Mail.Host == "" {
			// Not the provider's fault, nor the referral's: the
			// operator has yet to name a mail server. Retried, so
			// that the batches go once it is set.
			return "", errors.New("no outgoing mail server is configured (takedown serve/worker --smtp-host)")
		}
		m, err := deliver.RenderEmail(b)
		if err != nil {
			return "", err
		}
		return deliver.SendEmail(ctx, d.Mail, m)
	case takedown.ChannelWebhook:
		if p.Contacts.Webhook == nil {
			return "", deliverPermanent("the provider has no webhook any more")
		}
		body, err := deliver.RenderWebhook(b)
		if err != nil {
			return "", err
		}
		return b.Referral.IdempotencyKey, deliver.SendWebhook(ctx, d.HTTP, p.Contacts.Webhook, b.Referral.IdempotencyKey, body, d.now())
	case takedown.ChannelAPI:
		if p.Contacts.API == nil {
			return "", deliverPermanent("the provider has no API any more")
		}
		c := &providerapi.Client{HTTP: d.HTTP, BaseURL: p.Contacts.API.URL, Token: p.Contacts.API.Token}
		s, err := c.Post(ctx, b.Referral.IdempotencyKey, providerapi.ReportFor(b.Referral, b.Items))
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}
	return "", deliverPermanent("unknown channel " + string(channel))
}

// batch is referral r as it goes to its provider, with the portal link
// that e-mails and webhooks carry.
func (d *Delivery) batch(ctx context.Context, r *takedown.Referral) (deliver.Batch, error) {
	p, err := d.Store.FindProvider(ctx, r.Provider)
	if err != nil {
		return deliver.Batch{}, err
	}
	op, err := d.Store.FindOperation(ctx, r.Operation)
	if err != nil {
		return deliver.Batch{}, err
	}
	return deliver.Batch{Referral: r, Provider: p, Operation: op, Items: r.Items, Sender: d.Sender,
		PortalURL: d.PortalURL + "/portal/referrals/" + strconv.FormatInt(r.ID, 10)}, nil
}

func deliverPermanent(msg string) error {
	return &providerapi.Error{Message: msg, Permanent: true}
}

func (d *Delivery) pollInterval() time.Duration {
	if d.PollInterval > 0 {
		return d.PollInterval
	}
	return 30 * time.Second
}

func (d *Delivery) answerTimeout() time.Duration {
	if d.AnswerTimeout > 0 {
		return d.AnswerTimeout
	}
	return 14 * 24 * time.Hour
}

// PollWorker reads a provider's answers from its API until every item has
// one, or the time to answer has passed.
type PollWorker struct {
	river.WorkerDefaults[jobkinds.PollArgs]
	D *Delivery
}

func (w *PollWorker) Timeout(*river.Job[jobkinds.PollArgs]) time.Duration { return w.D.jobTimeout(1) }

func (w *PollWorker) Work(ctx context.Context, job *river.Job[jobkinds.PollArgs]) error {
	d, st := w.D, w.D.Store
	r, err := st.FindReferral(ctx, job.Args.ReferralID)
	if err != nil {
		return err
	}
	var report string
	for _, del := range r.Deliveries {
		if del.Channel == takedown.ChannelAPI && del.State == takedown.DeliveryDelivered {
			report = del.External
		}
	}
	if report == "" || r.Status == takedown.ReferralAnswered {
		return nil
	}
	p, err := st.FindProvider(ctx, r.Provider)
	if err != nil {
		return err
	}
	if p.Contacts.API == nil {
		return nil // the API is gone from the directory: answers come otherwise
	}
	c := &providerapi.Client{HTTP: d.HTTP, BaseURL: p.Contacts.API.URL, Token: p.Contacts.API.Token}
	s, err := c.Get(ctx, report)
	if err != nil {
		if providerapi.IsPermanent(err) {
			return river.JobCancel(err)
		}
		return err
	}
	if answers := s.Answers(); len(answers) > 0 {
		if r, err = st.AnswerReferral(ctx, r.ID, answers, "provider "+p.Code+" via its API"); err != nil {
			return err
		}
	}
	if r.Status == takedown.ReferralAnswered {
		return nil
	}
	if r.ReceivedAt != nil && d.now().Sub(*r.ReceivedAt) > d.answerTimeout() {
		return nil // no answer in time: the items stay unanswered, for people to pursue
	}
	// A little jitter spreads the polls of many referrals delivered
	// together.
	return river.JobSnooze(d.pollInterval() + time.Duration(rand.Int64N(int64(d.pollInterval()/5)+1)))
}

// RemindWorker reminds the provider of an overdue removal order, on its
// e-mail and webhook channels (an API provider is asked for its answers
// anyway, and its liaisons see the order flagged in the portal). A resent
// reminder carries the same Message-ID and webhook ID, so the provider sees
// it once.
type RemindWorker struct {
	river.WorkerDefaults[jobkinds.RemindArgs]
	D *Delivery
}

func (w *RemindWorker) Timeout(*river.Job[jobkinds.RemindArgs]) time.Duration {
	return w.D.jobTimeout(2)
}

func (w *RemindWorker) Work(ctx context.Context, job *river.Job[jobkinds.RemindArgs]) error {
	d, st := w.D, w.D.Store
	r, err := st.FindReferral(ctx, job.Args.ReferralID)
	if err != nil {
		return err
	}
	if r.Counts[takedown.OutcomePending] == 0 {
		return nil // answered since the escalation
	}
	b, err := d.batch(ctx, r)
	if err != nil {
		return err
	}
	b.Reminder = true
	p := b.Provider
	var errs []error
	if p.Contacts.AbuseEmail != "" || p.Contacts.OrderEmail != "" {
		m, err := deliver.RenderEmail(b)
		if err == nil {
			_, err = deliver.SendEmail(ctx, d.Mail, m)
		}
		errs = append(errs, err)
	}
	if p.Contacts.Webhook != nil {
		body, err := deliver.RenderWebhook(b)
		if err == nil {
			err = deliver.SendWebhook(ctx, d.HTTP, p.Contacts.Webhook, deliver.ReminderID(r.IdempotencyKey), body, d.now())
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		if deliver.Permanent(err) {
			return river.JobCancel(fmt.Errorf("reminder of referral %d: %w", r.ID, err))
		}
		return fmt.Errorf("reminder of referral %d: %w", r.ID, err)
	}
	return nil
}

// DeadlinesWorker escalates the removal orders whose hour has passed with
// items unanswered: the store flags each once, tells the coordinators and
// queues the provider's reminder in one transaction.
type DeadlinesWorker struct {
	river.WorkerDefaults[jobkinds.DeadlinesArgs]
	D *Delivery
}

func (w *DeadlinesWorker) Work(ctx context.Context, job *river.Job[jobkinds.DeadlinesArgs]) error {
	st := w.D.Store
	overdue, err := st.ListReferrals(ctx, takedown.ReferralFilter{OverdueAt: w.D.now()})
	if err != nil {
		return err
	}
	for _, r := range overdue {
		if r.EscalatedAt != nil {
			continue
		}
		if _, err := st.EscalateReferral(ctx, r.ID); err != nil {
			return fmt.Errorf("escalate referral %d: %w", r.ID, err)
		}
	}
	return nil
}

// DeadlinesInterval is how often removal orders are checked for their
// deadline: an order is escalated at most this long after its hour.
const DeadlinesInterval = 30 * time.Second

func deadlinesPeriodically() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(DeadlinesInterval),
		func() (river.JobArgs, *river.InsertOpts) { return jobkinds.DeadlinesArgs{}, nil },
		&river.PeriodicJobOpts{ID: "referral.deadlines"})
}
