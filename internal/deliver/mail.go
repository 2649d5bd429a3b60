package deliver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/takedown-project/takedown"
)

//go:embed templates/email.*.txt
var templateFS embed.FS

// templates are the e-mail bodies by language (ISO 639-1).
var templates = loadTemplates()

// DefaultLanguage is the language of a provider that reads none takedown
// has a template for.
const DefaultLanguage = "en"

func loadTemplates() map[string]*template.Template {
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		lang := strings.TrimSuffix(strings.TrimPrefix(n.Name(), "email."), ".txt")
		out[lang] = template.Must(template.New(n.Name()).Option("missingkey=error").ParseFS(templateFS, path.Join("templates", n.Name())))
	}
	if out[DefaultLanguage] == nil {
		panic("deliver: no template for the default language")
	}
	return out
}

// Languages returns the languages e-mails can be written in.
func Languages() []string {
	var out []string
	for l := range templates {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Message is a rendered e-mail.
type Message struct {
	From    mail.Address // the sender, also the envelope sender
	To      string
	Subject string
	// MessageID is "<KEY@takedown.invalid>": every send of the same batch
	// carries it, so a receiver can tell a resend. A reminder's is
	// "<KEY.reminder@takedown.invalid>" (ReminderID).
	MessageID string
	// Date is when the referral was made, not when it is sent, for the
	// same reason; a reminder's is when the order was escalated.
	Date         time.Time
	Organisation string
	Language     string // of Text
	Text         string
	// CSV is the items.csv attachment: item_id,url,reason, every item
	// (of a reminder, every item still pending).
	CSV []byte
	// Key is the referral's idempotency key.
	Key string
}

// ReminderSubject begins the subject of an overdue removal order's
// reminder, "Reminder: removal order overdue: OPERATION [KEY]".
const ReminderSubject = "Reminder: removal order overdue"

// MessageIDDomain is the right-hand side of the Message-IDs takedown
// writes: reserved, so that no real host's IDs can collide with them.
const MessageIDDomain = "takedown.invalid"

// RenderEmail renders a batch as an e-mail to the provider, in the first of
// its languages that has a template.
func RenderEmail(b Batch) (*Message, error) {
	items, err := b.check()
	if err != nil {
		return nil, err
	}
	r, p := b.Referral, b.Provider
	to := p.Contacts.AbuseEmail
	if r.LegalBasis == takedown.BasisRemovalOrder && p.Contacts.OrderEmail != "" {
		to = p.Contacts.OrderEmail
	}
	if to == "" {
		return nil, fmt.Errorf("provider %s has no e-mail address", p.Code)
	}
	if b.Sender.Email == "" {
		return nil, errors.New("the batch has no sender address")
	}
	lang := DefaultLanguage
	for _, l := range p.Languages {
		if templates[l] != nil {
			lang = l
			break
		}
	}
	kind := "Referral"
	if r.LegalBasis == takedown.BasisRemovalOrder {
		kind = "Removal order"
	}
	m := &Message{
		From: mail.Address{Name: b.Sender.Name, Address: b.Sender.Email},
		To:   to,
		// In English whatever the body's language: providers' mail rules
		// (and the simulator) sort on it, and the key in brackets is what
		// a reply quotes.
		Subject:      fmt.Sprintf("%s: %s [%s]", kind, b.operation(), r.IdempotencyKey),
		MessageID:    "<" + r.IdempotencyKey + "@" + MessageIDDomain + ">",
		Date:         r.CreatedAt.UTC().Truncate(time.Second),
		Organisation: b.Sender.Organisation,
		Language:     lang,
		Key:          r.IdempotencyKey,
	}
	if b.Reminder {
		// check made sure it is an escalated order. The same key in
		// brackets ties the reminder to the order; its own Message-ID
		// keeps a receiver from taking it for a resend of the order.
		m.Subject = fmt.Sprintf("%s: %s [%s]", ReminderSubject, b.operation(), r.IdempotencyKey)
		m.MessageID = "<" + ReminderID(r.IdempotencyKey) + "@" + MessageIDDomain + ">"
		m.Date = r.EscalatedAt.UTC().Truncate(time.Second)
	}
	var text bytes.Buffer
	if err := templates[lang].Execute(&text, emailData(b, items)); err != nil {
		return nil, fmt.Errorf("rendering the %s e-mail: %w", lang, err)
	}
	m.Text = text.String()
	if m.CSV, err = itemsCSV(items); err != nil {
		return nil, err
	}
	return m, nil
}

// bodyData is what the templates see.
type bodyData struct {
	Sender               Sender
	Provider             string
	Operation            string
	Key                  string
	ReferralID           int64
	Order                *orderData    // nil for a voluntary referral
	Reminder             *reminderData // nil but for a reminder
	Count                int
	URLs                 []string // the first MaxBodyURLs
	More                 int      // how many the text leaves to the attachment
	PortalURL            string
	Acknowledge, Answers string
}

type orderData struct {
	IssuingAuthority, Reference, Contact, LegalBasis, Reasons, Redress string
	IssuedAt                                                           string
	DisclosureRestricted                                               bool
	RestrictedUntil                                                    string // "" when no end is set
	DeadlineMinutes                                                    int
}

// reminderData is what a reminder adds: when the order was received and
// its hour ran out. The items are then the pending ones only.
type reminderData struct {
	ReceivedAt, Deadline string
}

// timeFormat writes times the same in every language.
const timeFormat = "2006-01-02 15:04:05 UTC"

func emailData(b Batch, items []takedown.ReferralItem) bodyData {
	r := b.Referral
	d := bodyData{
		Sender: b.Sender, Provider: b.providerName(), Operation: b.operationName(), Key: r.IdempotencyKey,
		ReferralID: r.ID, Count: len(items), PortalURL: b.PortalURL,
		Acknowledge: answerPath(AcknowledgePath, r.ID), Answers: answerPath(AnswersPath, r.ID),
	}
	for i, it := range items {
		if i == MaxBodyURLs {
			d.More = len(items) - i
			break
		}
		d.URLs = append(d.URLs, it.URL)
	}
	if o := r.Order; r.LegalBasis == takedown.BasisRemovalOrder && o != nil {
		d.Order = &orderData{
			IssuingAuthority: o.IssuingAuthority, Reference: o.Reference, Contact: o.Contact,
			LegalBasis: o.LegalBasis, Reasons: o.Reasons, Redress: o.Redress,
			IssuedAt:             o.IssuedAt.UTC().Format(timeFormat),
			DisclosureRestricted: o.DisclosureRestricted,
			DeadlineMinutes:      int(takedown.OrderDeadline / time.Minute),
		}
		if o.RestrictedUntil != nil {
			d.Order.RestrictedUntil = o.RestrictedUntil.UTC().Format(timeFormat)
		}
	}
	if b.Reminder {
		d.Reminder = &reminderData{ReceivedAt: r.ReceivedAt.UTC().Format(timeFormat), Deadline: r.Deadline.UTC().Format(timeFormat)}
	}
	return d
}

// itemsCSV writes the items as CSV with a header, lines ending in CRLF
// (RFC 4180).
func itemsCSV(items []takedown.ReferralItem) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write([]string{"item_id", "url", "reason"})
	for _, it := range items {
		w.Write([]string{strconv.FormatInt(it.ItemID, 10), defuse(it.URL), defuse(it.Reason)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("writing items.csv: %w", err)
	}
	return buf.Bytes(), nil
}

// defuse keeps a spreadsheet from running a cell as a formula: the
// provider's staff open the attachment, and reasons are free text.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// goMail builds the message for go-mail. The boundary comes from the
// content, so that the same message writes the same bytes, and no text in
// it can contain its own boundary.
func (m *Message) goMail() (*gomail.Msg, error) {
	h := sha256.New()
	io.WriteString(h, m.Text)
	h.Write(m.CSV)
	msg := gomail.NewMsg(gomail.WithBoundary("takedown-"+hex.EncodeToString(h.Sum(nil))[:32]), gomail.WithNoDefaultUserAgent())
	if err := msg.From(m.From.String()); err != nil {
		return nil, fmt.Errorf("sender %q: %w", m.From.String(), err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetGenHeader(gomail.HeaderMessageID, m.MessageID)
	msg.SetDateWithValue(m.Date)
	if m.Organisation != "" {
		msg.SetOrganization(m.Organisation)
	}
	msg.SetUserAgent("takedown")
	// A person answers; an out-of-office robot should not (RFC 3834).
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderContentLang, m.Language)
	msg.SetGenHeader("X-Takedown-Key", m.Key)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if err := msg.AttachReader("items.csv", bytes.NewReader(m.CSV), gomail.WithFileContentType("text/csv; charset=utf-8; header=present")); err != nil {
		return nil, fmt.Errorf("attaching items.csv: %w", err)
	}
	return msg, nil
}

// WriteTo writes the message in Internet Message Format: the same message,
// the same bytes.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	msg, err := m.goMail()
	if err != nil {
		return 0, err
	}
	return msg.WriteTo(w)
}

// MailConfig is how e-mail leaves: the SMTP server that relays it.
type MailConfig struct {
	Host               string
	Port               int // 0 means 587, the submission port
	Username, Password string
	// TLS is "mandatory" (STARTTLS or nothing; the default),
	// "opportunistic" (STARTTLS when offered) or "none".
	TLS string
	// Dial connects; outbound.Config.DialContext, so that simulator mode
	// reaches the simulator. nil means a plain dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig is the client TLS configuration (outbound.Config's, for
	// its roots); its ServerName defaults to Host.
	TLSConfig *tls.Config
	// HeloName is the name said in EHLO; "" means the machine's.
	HeloName string
	// Timeout bounds each stage of the exchange (connecting up to EHLO,
	// STARTTLS and AUTH; then sending the message); 0 means go-mail's
	// 15 s. The context bounds the whole.
	Timeout time.Duration
}

// SendEmail sends m through cfg's server and returns its Message-ID.
func SendEmail(ctx context.Context, cfg MailConfig, m *Message) (messageID string, err error) {
	const ch = takedown.ChannelEmail
	// go-mail heeds the context while dialling only, and leaves a
	// connection open when the greeting or EHLO fails: closing every
	// connection made ends the exchange when the caller gives up, and
	// leaks none.
	conns := &connSet{}
	defer conns.close()
	defer context.AfterFunc(ctx, conns.close)()
	opts, err := cfg.options(conns)
	if err != nil {
		return "", permanent(ch, err)
	}
	msg, err := m.goMail()
	if err != nil {
		return "", permanent(ch, err)
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return "", permanent(ch, fmt.Errorf("smtp client: %w", err))
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return "", smtpError(ctx, fmt.Errorf("smtp %s: %w", c.ServerAddr(), err))
	}
	if err := c.SendWithSMTPClient(sc, msg); err != nil {
		return "", smtpError(ctx, fmt.Errorf("smtp %s: sending to %s: %w", c.ServerAddr(), m.To, err))
	}
	// The server has taken the message: a failed QUIT changes nothing,
	// and reporting it would only have the message sent twice.
	c.CloseWithSMTPClient(sc)
	return m.MessageID, nil
}

func (cfg *MailConfig) options(conns *connSet) ([]gomail.Option, error) {
	if cfg.Host == "" {
		return nil, errors.New("no SMTP host configured")
	}
	var policy gomail.TLSPolicy
	switch cfg.TLS {
	case "", "mandatory":
		policy = gomail.TLSMandatory
	case "opportunistic":
		policy = gomail.TLSOpportunistic
	case "none":
		policy = gomail.NoTLS
	default:
		return nil, fmt.Errorf("SMTP TLS %q: want mandatory, opportunistic or none", cfg.TLS)
	}
	port := cfg.Port
	if port == 0 {
		port = 587
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	opts := []gomail.Option{
		gomail.WithPort(port), gomail.WithTLSPolicy(policy), gomail.WithTLSConfig(tc),
		gomail.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if !conns.add(conn) {
				return nil, errors.New("the exchange was given up")
			}
			return conn, nil
		}),
	}
	if cfg.Timeout > 0 {
		opts = append(opts, gomail.WithTimeout(cfg.Timeout))
	}
	if cfg.HeloName != "" {
		opts = append(opts, gomail.WithHELO(cfg.HeloName))
	}
	if cfg.Username != "" {
		// The strongest mechanism the server offers; plain-text ones only
		// over TLS.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return opts, nil
}

// connSet holds the connections of one exchange.
type connSet struct {
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

// add keeps conn, or closes it if the exchange is over.
func (s *connSet) add(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		conn.Close()
		return false
	}
	s.conns = append(s.conns, conn)
	return true
}

func (s *connSet) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// smtpError classifies a failed exchange: a 5xx reply is a refusal for
// good, anything else (a 4xx reply, a refused, broken or timed-out
// connection, a failed TLS handshake) may pass later.
func smtpError(ctx context.Context, err error) error {
	e := &Error{Channel: takedown.ChannelEmail, Code: smtpCode(err), Err: err}
	if ctx.Err() != nil {
		e.Err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
	}
	e.Permanent = e.Code >= 500 && e.Code < 600
	return e
}

// smtpCode finds the server's reply code in an error from go-mail: on a
// SendError, or on the reply itself from the greeting, EHLO, STARTTLS or
// AUTH. A 5xx wins over a 4xx, as the refusal the retry would meet again.
func smtpCode(err error) int {
	code := 0
	visit := func(c int) {
		if c >= 500 || code == 0 {
			code = max(code, c)
		}
	}
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
			return
		case *gomail.SendError:
			visit(e.ErrorCode())
			return
		case *textproto.Error:
			visit(e.Code)
			return
		case interface{ Unwrap() []error }:
			for _, err := range e.Unwrap() {
				walk(err)
			}
			return
		}
		walk(errors.Unwrap(err))
	}
	walk(err)
	return code
}
