package deliver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http/httptest"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/simnet"
)

func render(t *testing.T, b Batch) *Message {
	t.Helper()
	m, err := RenderEmail(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func raw(t *testing.T, m *Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRenderEmailHeaders(t *testing.T) {
	t.Parallel()
	m := render(t, referralBatch(3))
	if want := "Referral: rad-2026-11 [takedown-rad-2026-11-referral-12]"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if want := "<takedown-rad-2026-11-referral-12@takedown.invalid>"; m.MessageID != want {
		t.Errorf("Message-ID %q, want %q", m.MessageID, want)
	}
	if m.To != "abuse@telegram.provider.example" || m.Language != "en" {
		t.Errorf("to %q in %q, want the abuse address in en", m.To, m.Language)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]string{
		"Subject":        m.Subject,
		"Message-Id":     m.MessageID,
		"To":             "<abuse@telegram.provider.example>",
		"From":           `"EU IRU Coordination Desk" <coordination@iru.example>`,
		"Date":           "Thu, 12 Nov 2026 09:30:00 +0000",
		"Organization":   "European Internet Referral Unit",
		"Auto-Submitted": "auto-generated",
		"X-Takedown-Key": "takedown-rad-2026-11-referral-12",
	} {
		if got := msg.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}

	order := render(t, orderBatch(3))
	if want := "Removal order: rad-2026-11 [takedown-rad-2026-11-referral-12]"; order.Subject != want {
		t.Errorf("subject %q, want %q", order.Subject, want)
	}
	if order.To != "orders@telegram.provider.example" {
		t.Errorf("a removal order goes to %q, want the order address", order.To)
	}
	b := orderBatch(3)
	b.Provider.Contacts.OrderEmail = ""
	if m := render(t, b); m.To != "abuse@telegram.provider.example" {
		t.Errorf("a removal order without an order address goes to %q, want the abuse address", m.To)
	}
	b = referralBatch(3)
	b.Provider.Contacts.OrderEmail = "orders@telegram.provider.example"
	if m := render(t, b); m.To != "abuse@telegram.provider.example" {
		t.Errorf("a referral goes to %q, want the abuse address", m.To)
	}
}

// TestRenderEmailLanguages holds every template to the same content: what
// the batch says must come through in each.
func TestRenderEmailLanguages(t *testing.T) {
	t.Parallel()
	if got := Languages(); !slices.Contains(got, "en") || !slices.Contains(got, "de") || !slices.Contains(got, "fr") {
		t.Fatalf("languages %v, want at least en, de, fr", got)
	}
	for _, lang := range Languages() {
		for _, b := range []Batch{referralBatch(3, lang), orderBatch(3, lang)} {
			name := lang + "/" + string(b.Referral.LegalBasis)
			m := render(t, b)
			if m.Language != lang {
				t.Errorf("%s: rendered in %q", name, m.Language)
			}
			want := []string{
				"Telegram FZ-LLC", "EU IRU Coordination Desk", "European Internet Referral Unit", "coordination@iru.example",
				"Referral Action Day November 2026 (rad-2026-11)", "takedown-rad-2026-11-referral-12",
				"https://takedown.example/portal/referrals/12", "items.csv",
				"POST /api/v1/referrals/12/acknowledge", "POST /api/v1/referrals/12/answers",
				"2021/784", " 3.",
			}
			for _, it := range b.Items {
				want = append(want, "\n"+it.URL+"\n")
			}
			if o := b.Referral.Order; o != nil {
				want = append(want, o.IssuingAuthority, o.Reference, o.Contact, o.LegalBasis, o.Reasons, o.Redress,
					"2026-11-12 08:15:00 UTC", "2026-12-31 23:00:00 UTC", "(60 ", "11", "Annex II", "Article 3(7)")
			}
			for _, w := range want {
				w = localise(lang, w)
				if !strings.Contains(m.Text, w) {
					t.Errorf("%s: the text lacks %q:\n%s", name, w, m.Text)
				}
			}
			if strings.Contains(m.Text, "<no value>") {
				t.Errorf("%s: a field is missing:\n%s", name, m.Text)
			}
		}
	}
}

// localise turns the few fixed words TestRenderEmailLanguages looks for
// into the template's language.
func localise(lang, s string) string {
	words := map[string]map[string]string{
		"de": {"Annex II": "Anhang II", "Article 3(7)": "Artikel 3 Absätze 7", " 3.": " 3.", "(60 ": "(60 ",
			"still without an answer: 4": "weiterhin ohne Antwort: 4"},
		"fr": {"Annex II": "annexe II", "Article 3(7)": "article 3, paragraphes 7", " 3.": " 3.", "(60 ": "(60 ",
			"still without an answer: 4": "toujours sans réponse : 4"},
	}
	if w, ok := words[lang][s]; ok {
		return w
	}
	return s
}

func TestRenderEmailDisclosure(t *testing.T) {
	t.Parallel()
	restricted := render(t, orderBatch(1)).Text
	b := orderBatch(1)
	b.Referral.Order.DisclosureRestricted, b.Referral.Order.RestrictedUntil = false, nil
	open := render(t, b).Text
	if !strings.Contains(restricted, "RESTRICTED. Do not inform the content provider") || strings.Contains(open, "RESTRICTED") {
		t.Errorf("disclosure: restricted order says\n%s\nunrestricted one says\n%s", restricted, open)
	}
	if !strings.Contains(open, "not restricted") {
		t.Errorf("an unrestricted order does not say so:\n%s", open)
	}
	if ref := render(t, referralBatch(1)).Text; strings.Contains(ref, "Redress") || !strings.Contains(ref, "not a removal order") {
		t.Errorf("a referral reads like an order:\n%s", ref)
	}
}

func TestRenderEmailFallback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		langs []string
		want  string
	}{
		{nil, "en"},
		{[]string{"xx"}, "en"},
		{[]string{"it", "de", "fr"}, "de"},
		{[]string{"fr", "en"}, "fr"},
	} {
		if got := render(t, referralBatch(1, tc.langs...)).Language; got != tc.want {
			t.Errorf("languages %v: rendered in %q, want %q", tc.langs, got, tc.want)
		}
	}
}

func TestRenderEmailDeterministic(t *testing.T) {
	t.Parallel()
	for _, b := range []Batch{referralBatch(30, "de"), orderBatch(5, "fr")} {
		first := raw(t, render(t, b))
		if again := raw(t, render(t, b)); !bytes.Equal(first, again) {
			t.Errorf("two renderings differ:\n%s", cmp.Diff(string(first), string(again)))
		}
		// A store may return the items in another order.
		slices.Reverse(b.Items)
		if again := raw(t, render(t, b)); !bytes.Equal(first, again) {
			t.Errorf("the items' order changes the message:\n%s", cmp.Diff(string(first), string(again)))
		}
	}
}

func TestRenderEmailManyItems(t *testing.T) {
	t.Parallel()
	b := referralBatch(25)
	m := render(t, b)
	for i, it := range b.Items {
		if listed := strings.Contains(m.Text, it.URL+"\n"); listed != (i < MaxBodyURLs) {
			t.Errorf("item %d listed in the text: %v", i+1, listed)
		}
	}
	if !strings.Contains(m.Text, "Items: 25.") || !strings.Contains(m.Text, "and 5 more in items.csv") {
		t.Errorf("the text does not count the items:\n%s", m.Text)
	}
	checkCSV(t, m.CSV, b.Items)
}

func TestRenderEmailCSVFormula(t *testing.T) {
	t.Parallel()
	b := referralBatch(1)
	b.Items[0].Reason = "=HYPERLINK(\"https://evil.example\")"
	m := render(t, b)
	rows, err := csv.NewReader(bytes.NewReader(m.CSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[1][2]; !strings.HasPrefix(got, "'=") {
		t.Errorf("a formula reason is written as %q", got)
	}
}

func TestRenderEmailRefuses(t *testing.T) {
	t.Parallel()
	for name, change := range map[string]func(*Batch){
		"no items":         func(b *Batch) { b.Items, b.Referral.Items = nil, nil },
		"no key":           func(b *Batch) { b.Referral.IdempotencyKey = "" },
		"no address":       func(b *Batch) { b.Provider.Contacts = takedown.ProviderContacts{} },
		"no sender":        func(b *Batch) { b.Sender.Email = "" },
		"no provider":      func(b *Batch) { b.Provider = nil },
		"incomplete order": func(b *Batch) { b.Referral.Order.Redress = "" },
	} {
		b := orderBatch(2)
		change(&b)
		if _, err := RenderEmail(b); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
	// The referral's own items stand in for a batch without any.
	b := referralBatch(2)
	b.Referral.Items, b.Items = b.Items, nil
	if m := render(t, b); !strings.Contains(m.Text, b.Referral.Items[1].URL) {
		t.Errorf("the referral's items are not rendered")
	}
}

// checkCSV reads items.csv and compares it with the items.
func checkCSV(t *testing.T, data []byte, items []takedown.ReferralItem) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("items.csv: %v", err)
	}
	want := [][]string{{"item_id", "url", "reason"}}
	for _, it := range items {
		want = append(want, []string{strconv.FormatInt(it.ItemID, 10), it.URL, it.Reason})
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("items.csv (-want +got):\n%s", diff)
	}
}

// startSimnet starts the simulated internet with a tiny world and returns
// it and the outbound configuration that leads to it.
func startSimnet(t *testing.T) (*simnet.Server, *outbound.Config) {
	t.Helper()
	sc, err := simnet.ParseScenario([]byte("name: tiny\nseed: 3\nnetwork: {items: 20, outlets: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := simnet.Start(context.Background(), simnet.Config{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	info := srv.Info()
	oc, err := outbound.Simnet(outbound.SimnetInfo{HTTPS: info.HTTPS, HTTP: info.HTTP, SMTP: info.SMTP, CAPEM: info.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	return srv, oc
}

func simnetMailConfig(oc *outbound.Config) MailConfig {
	return MailConfig{
		Host: "smtp.takedown.example", Port: 587, TLS: "mandatory",
		Dial: oc.DialContext, TLSConfig: oc.TLSConfig(), HeloName: "takedown.example", Timeout: 10 * time.Second,
	}
}

func TestSendEmailSimnet(t *testing.T) {
	t.Parallel()
	srv, oc := startSimnet(t)
	cfg := simnetMailConfig(oc)
	b := orderBatch(3)
	b.Provider.Contacts.OrderEmail = simnet.AbuseAddress(simnet.Telegram)
	m := render(t, b)
	id, err := SendEmail(context.Background(), cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	if id != m.MessageID {
		t.Errorf("SendEmail returned %q, want the Message-ID %q", id, m.MessageID)
	}
	mails := srv.Mails()
	if len(mails) != 1 {
		t.Fatalf("the simulator received %d mails, want 1", len(mails))
	}
	got := mails[0]
	if got.Subject != m.Subject || got.MessageID != "<takedown-rad-2026-11-referral-12@takedown.invalid>" || got.From != "coordination@iru.example" {
		t.Errorf("received subject %q, Message-ID %q, from %q", got.Subject, got.MessageID, got.From)
	}
	if !strings.Contains(got.Text, "BKA-RO-2026-0042") {
		t.Errorf("the received text lacks the order's reference:\n%s", got.Text)
	}
	for _, it := range b.Items {
		if !slices.Contains(got.URLs, it.URL) {
			t.Errorf("the simulator did not read %s from the mail (it read %v)", it.URL, got.URLs)
		}
	}
	reps := srv.Reports()
	if len(reps) != 1 || reps[0].LegalBasis != simnet.BasisRemovalOrder || reps[0].Reference != m.Key || reps[0].Channel != "mail" {
		t.Errorf("the simulated provider's reports: %+v", reps)
	}

	// A resend (takedown crashed before recording the first) carries the
	// same Message-ID and bytes.
	if _, err := SendEmail(context.Background(), cfg, render(t, b)); err != nil {
		t.Fatal(err)
	}
	mails = srv.Mails()
	if len(mails) != 2 || mails[1].MessageID != got.MessageID || mails[1].Text != got.Text {
		t.Errorf("a resend was received as %+v", mails[len(mails)-1])
	}

	// The simulator's mailboxes refuse an address they do not have.
	b.Provider.Contacts.OrderEmail = "nobody@elsewhere.example"
	_, err = SendEmail(context.Background(), cfg, render(t, b))
	var e *Error
	if !errors.As(err, &e) || !Permanent(err) || e.Code != 550 || !strings.Contains(err.Error(), "permanent") {
		t.Errorf("mail to an unknown mailbox: %v, want a permanent 550", err)
	}
	if n := len(srv.Mails()); n != 2 {
		t.Errorf("%d mails recorded after the refusal, want 2", n)
	}
}

func TestSendEmailUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv, oc := startSimnet(t)
	cfg := simnetMailConfig(oc)
	cfg.TLSConfig = &tls.Config{RootCAs: x509.NewCertPool()}
	b := referralBatch(1)
	b.Provider.Contacts.AbuseEmail = simnet.AbuseAddress(simnet.X)
	_, err := SendEmail(context.Background(), cfg, render(t, b))
	if err == nil || Permanent(err) {
		t.Errorf("a certificate from an unknown CA: %v, want a temporary error", err)
	}
	if n := len(srv.Mails()); n != 0 {
		t.Errorf("%d mails went through an untrusted connection", n)
	}
}

func TestSendEmailServerDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := MailConfig{Host: "smtp.takedown.example", TLS: "none", Dial: dialTo(addr)}
	_, err = SendEmail(context.Background(), cfg, render(t, referralBatch(1)))
	var e *Error
	if !errors.As(err, &e) || e.Permanent || e.Code != 0 || !strings.Contains(err.Error(), "temporary") {
		t.Errorf("SMTP server down: %v, want a temporary error", err)
	}
}

// TestSendEmailCancel: a server that never greets holds the sender only
// until the caller gives up.
func TestSendEmailCancel(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = SendEmail(ctx, MailConfig{Host: "smtp.takedown.example", TLS: "none", Dial: dialTo(ln.Addr().String()), Timeout: time.Minute}, render(t, referralBatch(1)))
	if err == nil || Permanent(err) {
		t.Errorf("a silent server: %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("SendEmail took %v after its context ended", d)
	}
}

func dialTo(addr string) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

// testSMTP is an SMTP server that keeps every message whole, attachments
// and all, and answers as a test tells it.
type testSMTP struct {
	addr string
	pool *x509.CertPool // trusts its certificate, for "example.com"

	mu   sync.Mutex
	got  []received
	rcpt error // answer to RCPT TO
	data error // answer to the end of DATA
	auth [2]string
}

type received struct {
	from string
	to   []string
	raw  []byte
}

func startTestSMTP(t *testing.T, withAuth, withTLS bool) *testSMTP {
	t.Helper()
	// httptest's certificate is for example.com and 127.0.0.1, and its
	// server hands out a client that trusts it.
	hs := httptest.NewTLSServer(nil)
	cert := hs.TLS.Certificates[0]
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	hs.Close()

	s := &testSMTP{pool: pool}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		if withAuth {
			return &authSession{testSession{s: s, needAuth: true}}, nil
		}
		return &testSession{s: s}, nil
	}))
	srv.Domain = "example.com"
	if withTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *testSMTP) config() MailConfig {
	return MailConfig{Host: "example.com", Port: 587, TLS: "mandatory", Dial: dialTo(s.addr), TLSConfig: &tls.Config{RootCAs: s.pool}, Timeout: 10 * time.Second}
}

func (s *testSMTP) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

type testSession struct {
	s        *testSMTP
	from     string
	to       []string
	authed   bool
	needAuth bool
}

func (ss *testSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *testSession) Logout() error { return nil }

func (ss *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.needAuth && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.rcpt != nil {
		return ss.s.rcpt
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.data != nil {
		return ss.s.data
	}
	ss.s.got = append(ss.s.got, received{from: ss.from, to: ss.to, raw: b})
	return nil
}

type authSession struct{ testSession }

func (as *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (as *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		as.s.mu.Lock()
		as.s.auth = [2]string{user, pass}
		as.s.mu.Unlock()
		if user != "takedown" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		as.authed = true
		return nil
	}), nil
}

// TestSendEmailAttachment reads the message as it arrived, over STARTTLS
// and after logging in: the CSV attachment holds every item, and the bytes
// are those RenderEmail's message writes.
func TestSendEmailAttachment(t *testing.T) {
	t.Parallel()
	s := startTestSMTP(t, true, true)
	cfg := s.config()
	cfg.Username, cfg.Password = "takedown", "s3cret"
	b := referralBatch(25, "de")
	b.Items[3].Reason = "Aufruf zur Gewalt, \"Märtyrer\"-Video; zweiter Teil"
	m := render(t, b)
	if _, err := SendEmail(context.Background(), cfg, m); err != nil {
		t.Fatal(err)
	}
	got := s.received()
	if len(got) != 1 {
		t.Fatalf("%d messages received, want 1", len(got))
	}
	s.mu.Lock()
	if s.auth != [2]string{"takedown", "s3cret"} {
		t.Errorf("logged in as %q", s.auth)
	}
	s.mu.Unlock()
	if got[0].from != "coordination@iru.example" || !slices.Equal(got[0].to, []string{"abuse@telegram.provider.example"}) {
		t.Errorf("envelope from %q to %v", got[0].from, got[0].to)
	}
	if want := raw(t, m); !bytes.Equal(got[0].raw, want) {
		t.Errorf("the message sent differs from the one rendered:\n%s", cmp.Diff(string(want), string(got[0].raw)))
	}

	msg, err := mail.ReadMessage(bytes.NewReader(got[0].raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	var text string
	var attachment []byte
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch {
		case p.FileName() == "items.csv":
			if pt != "text/csv" {
				t.Errorf("items.csv is %q", pt)
			}
			if attachment, err = decodePart(p.Header.Get("Content-Transfer-Encoding"), body); err != nil {
				t.Fatal(err)
			}
		case pt == "text/plain":
			text = string(body) // multipart undoes quoted-printable
		}
	}
	if attachment == nil {
		t.Fatal("no items.csv attachment")
	}
	checkCSV(t, attachment, b.Items)
	// On the wire, lines end in CRLF.
	if text = strings.ReplaceAll(text, "\r\n", "\n"); text != m.Text {
		t.Errorf("the text arrived as\n%s\nwant\n%s", text, m.Text)
	}
}

func decodePart(encoding string, body []byte) ([]byte, error) {
	if !strings.EqualFold(encoding, "base64") {
		return body, nil
	}
	return io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(body)))
}

func TestSendEmailReplies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		rcpt      error
		data      error
		code      int
		permanent bool
	}{
		{"recipient refused", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, nil, 550, true},
		{"mailbox busy", &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "try later"}, nil, 450, false},
		{"greylisted", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted"}, nil, 451, false},
		{"message refused", nil, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected as spam"}, 554, true},
		{"out of space", nil, &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "insufficient storage"}, 452, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startTestSMTP(t, false, true)
			s.rcpt, s.data = tc.rcpt, tc.data
			_, err := SendEmail(context.Background(), s.config(), render(t, referralBatch(2)))
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Permanent != tc.permanent || Permanent(err) != tc.permanent {
				t.Errorf("got %v (%+v), want code %d, permanent %v", err, e, tc.code, tc.permanent)
			}
		})
	}
}

func TestSendEmailTLSPolicy(t *testing.T) {
	t.Parallel()
	s := startTestSMTP(t, false, true)
	m := render(t, referralBatch(1))
	for _, tc := range []struct {
		tls string
		ok  bool
	}{{"mandatory", true}, {"", true}, {"opportunistic", true}, {"none", true}, {"sometimes", false}} {
		cfg := s.config()
		cfg.TLS = tc.tls
		_, err := SendEmail(context.Background(), cfg, m)
		if (err == nil) != tc.ok {
			t.Errorf("TLS %q: %v", tc.tls, err)
		}
		if tc.tls == "sometimes" && !Permanent(err) {
			t.Errorf("a bad TLS setting is not permanent: %v", err)
		}
	}
	// A server that offers no STARTTLS gets nothing when TLS is
	// mandatory; it may offer it later.
	plain := startTestSMTP(t, false, false)
	if _, err := SendEmail(context.Background(), plain.config(), m); err == nil || Permanent(err) {
		t.Errorf("mandatory TLS without STARTTLS: %v, want a temporary error", err)
	}
	cfg := plain.config()
	cfg.TLS = "opportunistic"
	if _, err := SendEmail(context.Background(), cfg, m); err != nil {
		t.Errorf("opportunistic TLS without STARTTLS: %v", err)
	}
	if n := len(plain.received()); n != 1 {
		t.Errorf("the plain server got %d messages, want 1", n)
	}
	if _, err := SendEmail(context.Background(), MailConfig{}, m); !Permanent(err) {
		t.Errorf("no host: %v, want a permanent error", err)
	}
}

func TestRenderEmailReminder(t *testing.T) {
	t.Parallel()
	b := reminderBatch(7) // items 100, 103 and 106 answered
	m := render(t, b)
	if want := "Reminder: removal order overdue: rad-2026-11 [takedown-rad-2026-11-referral-12]"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if want := "<takedown-rad-2026-11-referral-12.reminder@takedown.invalid>"; m.MessageID != want {
		t.Errorf("Message-ID %q, want %q", m.MessageID, want)
	}
	b.Reminder = false
	order := render(t, b)
	b.Reminder = true
	if m.MessageID == order.MessageID || m.To != order.To || m.Key != order.Key {
		t.Errorf("reminder: Message-ID %q to %q key %q; order: %q to %q key %q", m.MessageID, m.To, m.Key, order.MessageID, order.To, order.Key)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]string{
		"Subject":        m.Subject,
		"Message-Id":     m.MessageID,
		"To":             "<orders@telegram.provider.example>",
		"Date":           "Thu, 12 Nov 2026 10:32:40 +0000", // the escalation
		"X-Takedown-Key": "takedown-rad-2026-11-referral-12",
	} {
		if got := msg.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}

	// The text opens with the reminder, lists the pending items only, and
	// goes on with the order as it was.
	if first, _, _ := strings.Cut(m.Text, "\n"); !strings.HasPrefix(first, "REMINDER: this removal order is overdue. It was received at 2026-11-12 09:32:10 UTC, and the deadline of one hour passed at 2026-11-12 10:32:10 UTC. Items still without an answer: 4,") {
		t.Errorf("the text opens with\n%s", first)
	}
	if strings.Contains(order.Text, "REMINDER") || strings.Contains(order.Text, "without an answer") {
		t.Errorf("the order itself reads like a reminder:\n%s", order.Text)
	}
	for _, w := range []string{"Items still without an answer: 4.", "items.csv lists each of them", "REMOVAL ORDER under Regulation (EU) 2021/784", "BKA-RO-2026-0042", "Redress: "} {
		if !strings.Contains(m.Text, w) {
			t.Errorf("the reminder lacks %q:\n%s", w, m.Text)
		}
	}
	for _, it := range b.Items {
		if listed := strings.Contains(m.Text, "\n"+it.URL+"\n"); listed != (it.Outcome == takedown.OutcomePending) {
			t.Errorf("item %d (%s) listed: %v", it.ItemID, it.Outcome, listed)
		}
	}
	checkCSV(t, m.CSV, pending(b))

	// Deterministic, whatever the order of the items, and the same on
	// every resend.
	first := raw(t, m)
	slices.Reverse(b.Items)
	if again := raw(t, render(t, b)); !bytes.Equal(first, again) {
		t.Errorf("two renderings of the reminder differ:\n%s", cmp.Diff(string(first), string(again)))
	}

	// Past MaxBodyURLs the text counts the rest, of the pending ones.
	b = reminderBatch(40) // 26 pending
	m = render(t, b)
	if !strings.Contains(m.Text, "Items still without an answer: 26.") || !strings.Contains(m.Text, "and 6 more in items.csv") {
		t.Errorf("the reminder does not count the pending items:\n%s", m.Text)
	}
	checkCSV(t, m.CSV, pending(b))
}

// TestRenderEmailReminderLanguages holds every template's reminder to the
// same facts.
func TestRenderEmailReminderLanguages(t *testing.T) {
	t.Parallel()
	opening := map[string]string{"en": "REMINDER: ", "de": "ERINNERUNG: ", "fr": "RAPPEL : "}
	for _, lang := range Languages() {
		b := reminderBatch(7, lang)
		m := render(t, b)
		if m.Language != lang {
			t.Errorf("%s: rendered in %q", lang, m.Language)
		}
		if o, ok := opening[lang]; !ok || !strings.HasPrefix(m.Text, o) {
			t.Errorf("%s: the text does not open with the reminder (%q):\n%s", lang, o, m.Text)
		}
		o := b.Referral.Order
		want := []string{
			"2026-11-12 09:32:10 UTC", "2026-11-12 10:32:10 UTC", "still without an answer: 4", "Annex II", "Article 3(7)",
			"takedown-rad-2026-11-referral-12", "Telegram FZ-LLC", "coordination@iru.example", "items.csv",
			"POST /api/v1/referrals/12/answers", o.IssuingAuthority, o.Reference, o.Reasons, o.Redress, "(60 ",
		}
		for _, it := range pending(b) {
			want = append(want, "\n"+it.URL+"\n")
		}
		for _, w := range want {
			w = localise(lang, w)
			if !strings.Contains(m.Text, w) {
				t.Errorf("%s: the reminder lacks %q:\n%s", lang, w, m.Text)
			}
		}
		if n := strings.Count(m.Text, localise(lang, "still without an answer: 4")); n != 2 {
			t.Errorf("%s: the pending count is given %d times, want 2 (the opening and the list):\n%s", lang, n, m.Text)
		}
		for _, it := range b.Items {
			if it.Outcome != takedown.OutcomePending && strings.Contains(m.Text, it.URL+"\n") {
				t.Errorf("%s: the answered %s is listed", lang, it.URL)
			}
		}
		if strings.Contains(m.Text, "<no value>") {
			t.Errorf("%s: a field is missing:\n%s", lang, m.Text)
		}
	}
}

// TestReminderSimnet sends an order and then its reminder, each twice, on
// both channels to the simulator: it takes the reminders for what they
// are, tied to the order's reports, and makes no report of them.
func TestReminderSimnet(t *testing.T) {
	t.Parallel()
	srv, oc := startSimnet(t)
	cfg, client := simnetMailConfig(oc), oc.HTTPClient(10*time.Second)
	var secret string
	for _, p := range srv.Info().Providers {
		if p.Platform == simnet.Telegram {
			secret = p.WebhookSecret
		}
	}
	b := reminderBatch(5)
	// The simulator's mailbox takes every URL in the text for a reported
	// one, the portal's too.
	b.PortalURL = ""
	b.Provider.Contacts.OrderEmail = simnet.AbuseAddress(simnet.Telegram)
	b.Provider.Contacts.Webhook = &takedown.WebhookContact{URL: simnet.WebhookURL(simnet.Telegram), Secret: secret}
	key := b.Referral.IdempotencyKey
	send := func(reminder bool) {
		t.Helper()
		b.Reminder = reminder
		id := key
		if reminder {
			id = ReminderID(key)
		}
		for range 2 {
			if _, err := SendEmail(context.Background(), cfg, render(t, b)); err != nil {
				t.Fatal(err)
			}
			body, err := RenderWebhook(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := SendWebhook(context.Background(), client, b.Provider.Contacts.Webhook, id, body, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(false)
	reps := srv.Reports()
	if len(reps) != 2 {
		t.Fatalf("%d reports of the order, want 2 (mail and webhook)", len(reps))
	}
	send(true)
	if n := len(srv.Reports()); n != 2 {
		t.Errorf("%d reports after the reminders, want still 2", n)
	}
	report := map[string]string{}
	for _, r := range reps {
		report[r.Channel] = r.ID
	}
	rms := srv.Reminders()
	if len(rms) != 4 {
		t.Fatalf("%d reminders recorded, want 4: %+v", len(rms), rms)
	}
	for i, r := range rms {
		if r.Provider != simnet.Telegram || r.IdempotencyKey != key || r.ReferralID != 12 || r.ReportID != report[r.Channel] || r.Duplicate != (i >= 2) {
			t.Errorf("reminder %d: %+v (reports %v)", i, r, report)
		}
		if !slices.Equal(r.URLs, []string{"https://t.me/propaganda_channel_2", "https://t.me/propaganda_channel_3", "https://t.me/propaganda_channel_5"}) {
			t.Errorf("reminder %d (%s) names %v, want the pending items only", i, r.Channel, r.URLs)
		}
	}
	if rms[0].MessageID != "<"+key+".reminder@takedown.invalid>" || rms[1].WebhookID != key+".reminder" {
		t.Errorf("reminder IDs: Message-ID %q, webhook-id %q", rms[0].MessageID, rms[1].WebhookID)
	}
}
