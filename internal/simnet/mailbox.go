package simnet

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// The abuse mailboxes: one SMTP server (emersion/go-smtp) takes mail for
// every provider's abuse address, records each message, and reads the
// URLs in it as a report: a removal order when the subject says so, a
// referral otherwise; or, when the subject starts with "Reminder:", as
// the reminder of an order (reminders.go).

// Mail is one message an abuse mailbox received.
type Mail struct {
	ID        int      `json:"id"`
	Provider  string   `json:"provider"`
	From      string   `json:"from"`
	To        []string `json:"to"`
	Subject   string   `json:"subject"`
	MessageID string   `json:"message_id,omitempty"`
	Text      string   `json:"text"`
	URLs      []string `json:"urls"`
	// ReferralID is takedown's referral named in the subject's bracketed
	// key, [takedown-OPERATION-referral-ID]; zero when there is none.
	ReferralID int64 `json:"referral_id,omitempty"`
	// ReportID is the report the message made, or for a duplicate the one
	// the first message with its Message-ID made.
	ReportID string `json:"report_id,omitempty"`
	// Duplicate marks a message whose Message-ID the mailbox had seen: a
	// sender's retry, recorded but not reported again.
	Duplicate bool `json:"duplicate,omitempty"`
	// Reminder marks a reminder of an overdue removal order: it makes no
	// report, and ReportID is the order's, if the provider has it.
	Reminder   bool      `json:"reminder,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	Size       int       `json:"size"`
}

// maxMailBytes bounds one message.
const maxMailBytes = 10 << 20

type smtpBackend struct{ s *Server }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: b.s}, nil
}

type smtpSession struct {
	s    *Server
	from string
	to   []string
	// provider is the platform whose mailbox the recipients name.
	provider string
}

func (ss *smtpSession) Reset()        { ss.from, ss.to, ss.provider = "", nil, "" }
func (ss *smtpSession) Logout() error { return nil }

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	platform := ""
	for _, p := range PlatformKeys {
		if strings.EqualFold(to, AbuseAddress(p)) {
			platform = p
		}
	}
	if platform == "" {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here: " + to}
	}
	if ss.provider != "" && ss.provider != platform {
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3}, Message: "one provider per message, please"}
	}
	ss.provider = platform
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, maxMailBytes+1))
	if err != nil {
		return err
	}
	if len(raw) > maxMailBytes {
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "message too big"}
	}
	m := Mail{Provider: ss.provider, From: ss.from, To: ss.to, Size: len(raw)}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "cannot read the message: " + err.Error()}
	}
	dec := new(mime.WordDecoder)
	m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		m.Subject = msg.Header.Get("Subject")
	}
	m.MessageID = strings.TrimSpace(msg.Header.Get("Message-Id"))
	var listed []string
	m.Text, listed = messageText(msg)
	// The attachment lists every item, the text the first few (and links
	// that are no items, such as the sender's portal): a provider's desk
	// works from the list when there is one.
	m.URLs = listed
	if len(m.URLs) == 0 {
		m.URLs = urlsIn(m.Text)
	}
	key, referral := takedownKeyIn(m.Subject)
	m.ReferralID = referral
	s := ss.s
	m.ReceivedAt = s.clock.Now()
	// Checking the Message-ID and making the report under one lock keeps
	// two copies arriving at once from making two reports.
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := ss.provider + "\x00" + m.MessageID
	if isReminderSubject(m.Subject) {
		// A reminder is never a new report, whatever its Message-ID.
		rm := s.remindLocked(Reminder{Provider: ss.provider, Channel: "mail", IdempotencyKey: key, ReferralID: referral,
			MessageID: m.MessageID, URLs: m.URLs, ReceivedAt: m.ReceivedAt}, m.MessageID)
		m.Reminder, m.ReportID, m.Duplicate = true, rm.ReportID, rm.Duplicate
	} else if id, ok := s.mailSeen[seen]; ok && m.MessageID != "" {
		m.Duplicate, m.ReportID = true, id
	} else if len(m.URLs) > 0 {
		basis := BasisReferral
		if strings.Contains(strings.ToLower(m.Subject), "removal order") {
			basis = BasisRemovalOrder
		}
		req := reportRequest{LegalBasis: basis, Reference: referenceIn(m.Subject), URLs: m.URLs}
		rc := receipt{channel: "mail", from: ss.from, idemKey: key, messageID: m.MessageID, referralID: referral}
		m.ReportID = s.receiveLocked(ss.provider, rc, req, m.ReceivedAt).ID
	}
	if m.MessageID != "" && !m.Duplicate && !m.Reminder {
		s.mailSeen[seen] = m.ReportID
	}
	m.ID = len(s.mails) + 1
	s.mails = append(s.mails, m)
	if d := time.Duration(s.smtpLag.Load()); d > 0 {
		// Taken, and confirmed late: outside the lock.
		s.mu.Unlock()
		time.Sleep(d)
		s.mu.Lock()
	}
	return nil
}

// messageText returns the text of a message (its text/plain parts, or its
// body when it has no MIME structure) and the URLs of the url column of
// its text/csv attachments.
func messageText(msg *mail.Message) (string, []string) {
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(decodeTransfer(msg.Header.Get("Content-Transfer-Encoding"), msg.Body))
		return string(b), nil
	}
	var out strings.Builder
	var listed []string
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch pt {
		case "", "text/plain":
			// multipart.Reader already undoes quoted-printable.
			b, _ := io.ReadAll(decodeTransfer(p.Header.Get("Content-Transfer-Encoding"), p))
			out.Write(b)
			out.WriteByte('\n')
		case "text/csv":
			listed = append(listed, csvURLs(decodeTransfer(p.Header.Get("Content-Transfer-Encoding"), p))...)
		}
	}
	return out.String(), listed
}

// csvURLs reads the url column of a CSV list of items, each URL once.
func csvURLs(r io.Reader) []string {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil
	}
	col := slices.IndexFunc(header, func(h string) bool { return strings.EqualFold(strings.TrimSpace(h), "url") })
	if col < 0 {
		return nil
	}
	var out []string
	for len(out) < maxReportURLs {
		rec, err := cr.Read()
		if err != nil {
			break
		}
		if col < len(rec) {
			if u := strings.TrimSpace(rec[col]); urlPattern.MatchString(u) && !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"')\]]+`)

// urlsIn returns the URLs in a text, each once, in order.
func urlsIn(text string) []string {
	var out []string
	for _, u := range urlPattern.FindAllString(text, maxReportURLs) {
		u = strings.TrimRight(u, ".,;:")
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// decodeTransfer undoes a Content-Transfer-Encoding.
func decodeTransfer(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r) // it skips line breaks
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

var referencePattern = regexp.MustCompile(`\[([A-Za-z0-9._/-]{3,80})\]`)

// referenceIn finds a sender's reference written in brackets in a subject.
func referenceIn(subject string) string {
	if m := referencePattern.FindStringSubmatch(subject); m != nil {
		return m[1]
	}
	return ""
}

// newSMTPServer returns the abuse mailboxes' server.
func (s *Server) newSMTPServer() *smtp.Server {
	srv := smtp.NewServer(smtpBackend{s})
	srv.Domain = "mx.provider.example"
	srv.MaxMessageBytes = maxMailBytes
	srv.MaxRecipients = 50
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.TLSConfig = s.tlsConfig()
	srv.ErrorLog = smtpLogger{s}
	return srv
}

type smtpLogger struct{ s *Server }

func (l smtpLogger) Printf(format string, v ...any) { l.s.log.Debug(fmt.Sprintf(format, v...)) }
func (l smtpLogger) Println(v ...any)               { l.s.log.Debug(fmt.Sprintln(v...)) }
