package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/deliver"
	"github.com/takedown-project/takedown/internal/jobkinds"
	"github.com/takedown-project/takedown/internal/jobs"
	"github.com/takedown-project/takedown/internal/outbound"
)

// deliveryOptions are how referrals reach providers: the outgoing mail
// server, who sends, where the portal is, and how hard to try. serve and
// worker share them; each process that works jobs needs them.
type deliveryOptions struct {
	smtpHost     string
	smtpPort     int
	smtpUser     string
	smtpPassword string
	smtpTLS      string
	heloName     string

	senderName  string
	senderEmail string
	senderOrg   string

	portalURL    string
	timeout      time.Duration
	attempts     int
	pollInterval time.Duration
	answerWithin time.Duration

	// simnet, when set, names a simulator description (simnet.json):
	// every outgoing connection then goes to the simulated internet, and
	// nothing leaves the machine.
	simnet string
	// outbound, when set, is used instead of simnet (the demo's
	// simulator, in process).
	outbound *outbound.Config
}

func (o *deliveryOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.smtpHost, "smtp-host", "", "outgoing mail server for referrals by e-mail (none: e-mail deliveries wait and are retried)")
	f.IntVar(&o.smtpPort, "smtp-port", 587, "its port (submission with STARTTLS)")
	f.StringVar(&o.smtpUser, "smtp-user", "", "its user name, if it wants one")
	f.StringVar(&o.smtpPassword, "smtp-password", "", "its password (better in TAKEDOWN_SMTP_PASSWORD)")
	f.StringVar(&o.smtpTLS, "smtp-tls", "mandatory", "STARTTLS: mandatory, opportunistic or none (none only for a relay on the same machine)")
	f.StringVar(&o.heloName, "smtp-helo", "", "the name takedown gives in HELO (default: the machine's)")
	f.StringVar(&o.senderName, "sender-name", "takedown", "who referrals come from: a person's or a unit's name")
	f.StringVar(&o.senderEmail, "sender-email", "", "the address referrals come from, where providers reply")
	f.StringVar(&o.senderOrg, "sender-organisation", "", "the authority that sends the referrals")
	f.StringVar(&o.portalURL, "portal-url", "", "takedown's public base URL, for the portal links in referrals (default: http://LISTEN)")
	f.DurationVar(&o.timeout, "delivery-timeout", 30*time.Second, "how long one try at a mail server, a webhook or an API may take")
	f.IntVar(&o.attempts, "delivery-attempts", jobkinds.DefaultDeliveryAttempts, "tries of a delivery, with growing pauses, before it is dead-lettered for a person to act")
	f.DurationVar(&o.pollInterval, "poll-interval", 30*time.Second, "how often a provider's API is asked for its answers")
	f.DurationVar(&o.answerWithin, "answer-within", 14*24*time.Hour, "how long a provider's API is asked for answers before the items are left to people")
	f.StringVar(&o.simnet, "simnet", "", "simulator description (simnet.json): send everything to the simulated internet instead")
}

// build makes the delivery configuration the workers use.
func (o *deliveryOptions) build(db database, listen string) (*jobs.Delivery, error) {
	if o.attempts < 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "--delivery-attempts %d: want 1 or more (0: the default)", o.attempts)
	}
	switch o.smtpTLS {
	case "", "mandatory", "opportunistic", "none":
	default:
		return nil, takedown.Errorf(takedown.EINVALID, "--smtp-tls %q: want mandatory, opportunistic or none", o.smtpTLS)
	}
	portal := strings.TrimSuffix(o.portalURL, "/")
	if portal == "" {
		portal = "http://" + listen
	} else if u, err := url.Parse(portal); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, takedown.Errorf(takedown.EINVALID, "--portal-url %q: want an http(s) URL such as https://takedown.example.org", o.portalURL)
	}
	timeout := o.timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	out := o.outbound
	if out == nil && o.simnet != "" {
		var err error
		if out, err = outbound.LoadSimnet(o.simnet); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = &outbound.Config{}
	}
	out.UserAgent = outbound.DefaultUserAgent
	mail := deliver.MailConfig{Host: o.smtpHost, Port: o.smtpPort, Username: o.smtpUser, Password: o.smtpPassword, TLS: o.smtpTLS,
		HeloName: o.heloName, Dial: out.DialContext, TLSConfig: out.TLSConfig(), Timeout: timeout}
	if out.Simulated && mail.Host == "" {
		// The simulator takes mail for every provider on its one port.
		mail.Host, mail.Port, mail.TLS = "smtp.takedown.example", 587, "mandatory"
	}
	sender := deliver.Sender{Name: o.senderName, Email: o.senderEmail, Organisation: o.senderOrg}
	if sender.Email == "" {
		sender.Email = "referrals@takedown.invalid"
	}
	return &jobs.Delivery{
		Store: db, Mail: mail, Sender: sender, HTTP: webhookClient(out, timeout), PortalURL: portal,
		PollInterval: o.pollInterval, AnswerTimeout: o.answerWithin, MaxAttempts: o.attempts, Timeout: timeout,
		Enqueue: db.Enqueue,
	}, nil
}

// webhookClient is the client for providers' webhooks and APIs: the
// outbound configuration, a bounded time per request, and redirects left
// to the caller (deliver follows only safe ones).
func webhookClient(out *outbound.Config, timeout time.Duration) *http.Client {
	c := out.HTTPClient(timeout)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// describe says where deliveries go, for the log.
func (o *deliveryOptions) describe() string {
	switch {
	case o.outbound != nil && o.outbound.Simulated, o.simnet != "":
		return "the simulated internet"
	case o.smtpHost == "":
		return "webhooks and APIs; no mail server (--smtp-host), e-mail deliveries wait"
	}
	return fmt.Sprintf("webhooks, APIs and mail via %s:%d", o.smtpHost, o.smtpPort)
}
