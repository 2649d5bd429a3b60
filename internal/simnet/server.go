package simnet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// ControlHost is the simulator's own host: its control and inspection API
// lives under https://simnet.example/_simnet/.
const ControlHost = "simnet.example"

// Config starts a simulator.
type Config struct {
	Scenario *Scenario
	// HTTPSAddr, HTTPAddr and SMTPAddr are the loopback addresses that
	// stand for every simulated host's ports 443, 80 and 25; empty means
	// a free port on 127.0.0.1.
	HTTPSAddr, HTTPAddr, SMTPAddr string
	Logger                        *slog.Logger
	// Clock, when set, replaces the scenario's (tests move it by hand).
	Clock *Clock
}

// Server is a running simulated internet.
type Server struct {
	// smtpLag delays the mailboxes' confirmations (SetSMTPLag).
	smtpLag atomic.Int64

	world *World
	clock *Clock
	log   *slog.Logger

	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
	caPEM    []byte
	certMu   sync.Mutex
	certs    map[string]*tls.Certificate
	images   mediaCache
	requests atomic.Int64

	https, http *http.Server
	smtp        *smtp.Server
	smtpLn      *switchListener
	listeners   []net.Listener
	cancel      context.CancelFunc
	done        sync.WaitGroup
	info        Info

	callbackClient *http.Client

	mu          sync.Mutex
	reports     []*Report
	reportSeq   map[string]int
	byIdem      map[string]*Report
	mails       []Mail
	apiRequests []APIRequest
	callbacks   []CallbackRecord
	webhooks    []Webhook
	answers     []AnswerRecord
	reminders   []Reminder
	// mailSeen and webhookSeen map a provider and a Message-ID or a
	// webhook-id to the report its first delivery made; reminderSeen
	// holds the channel, provider and ID of every reminder received.
	mailSeen     map[string]string
	webhookSeen  map[string]string
	reminderSeen map[string]bool
	takedown     takedownTarget
	faults       map[string]Fault
	// pageFaults are the content hosts' faults by platform, replaced
	// whole on change (SetPageFault) and read without a lock.
	pageFaults atomic.Pointer[map[string]Fault]
	limits     rateLimiter
}

// Info is what a client needs to reach a running simulator. takedown's
// --simnet flag reads it from a JSON file: it routes every outbound
// connection to these addresses and trusts the CA for the simulated hosts.
type Info struct {
	HTTPS     string         `json:"https"`
	HTTP      string         `json:"http"`
	SMTP      string         `json:"smtp"`
	CAPEM     string         `json:"ca_pem"`
	Region    string         `json:"region"`
	Control   string         `json:"control"`
	Scenario  string         `json:"scenario"`
	Seed      uint64         `json:"seed"`
	Providers []ProviderInfo `json:"providers"`
}

// ProviderInfo is how to reach one simulated provider.
type ProviderInfo struct {
	Platform   string   `json:"platform"`
	Name       string   `json:"name"`
	Domains    []string `json:"domains"`
	AbuseEmail string   `json:"abuse_email"`
	API        string   `json:"api"`
	Token      string   `json:"token"`
	// Webhook takes batches signed with WebhookSecret (Standard Webhooks).
	Webhook       string `json:"webhook"`
	WebhookSecret string `json:"webhook_secret"`
}

// Start generates the scenario's world and serves it until Close.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Scenario == nil {
		return nil, errors.New("simnet: no scenario")
	}
	w, err := Generate(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	s := &Server{
		world: w, clock: cfg.Clock, log: cfg.Logger,
		certs: map[string]*tls.Certificate{}, reportSeq: map[string]int{}, byIdem: map[string]*Report{},
		mailSeen: map[string]string{}, webhookSeen: map[string]string{}, reminderSeen: map[string]bool{}, faults: map[string]Fault{},
	}
	if s.clock == nil {
		s.clock = NewClock(cfg.Scenario.Start, cfg.Scenario.TimeScale)
	}
	s.limits.now = time.Now
	s.limits.set(cfg.Scenario.Pages.RateLimit)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.makeCA(); err != nil {
		return nil, err
	}
	// Callbacks and answers go to the operator's own takedown, on loopback.
	s.callbackClient = &http.Client{Timeout: 10 * time.Second}

	listen := func(addr string) (net.Listener, error) {
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("simnet: address %q: %w", addr, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("simnet: %s is not a loopback address; the simulator serves loopback only", addr)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("simnet: %w", err)
		}
		s.listeners = append(s.listeners, ln)
		return ln, nil
	}
	httpsLn, err := listen(cfg.HTTPSAddr)
	if err == nil {
		var httpLn, smtpLn net.Listener
		if httpLn, err = listen(cfg.HTTPAddr); err == nil {
			if smtpLn, err = listen(cfg.SMTPAddr); err == nil {
				s.serve(ctx, httpsLn, httpLn, smtpLn)
				return s, nil
			}
		}
	}
	for _, ln := range s.listeners {
		ln.Close()
	}
	return nil, err
}

func (s *Server) serve(ctx context.Context, httpsLn, httpLn, smtpLn net.Listener) {
	errLog := slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	s.https = &http.Server{Handler: s, TLSConfig: s.tlsConfig(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	s.smtp = s.newSMTPServer()
	// The SMTP listener can go down and come back (SetSMTPDown).
	s.smtpLn = newSwitchListener(smtpLn)
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.done.Add(4)
	go func() { defer s.done.Done(); s.https.ServeTLS(httpsLn, "", "") }()
	go func() { defer s.done.Done(); s.http.Serve(httpLn) }()
	go func() { defer s.done.Done(); s.smtp.Serve(s.smtpLn) }()
	go func() { defer s.done.Done(); s.callbackLoop(ctx) }()
	s.info = Info{
		HTTPS: httpsLn.Addr().String(), HTTP: httpLn.Addr().String(), SMTP: smtpLn.Addr().String(),
		CAPEM: string(s.caPEM), Region: s.world.Scenario.Region, Control: "https://" + ControlHost + "/_simnet/",
		Scenario: s.world.Scenario.Name, Seed: s.world.Seed,
	}
	for _, p := range PlatformKeys {
		spec := s.world.Scenario.Providers[p]
		s.info.Providers = append(s.info.Providers, ProviderInfo{
			Platform: p, Name: spec.Name, Domains: s.world.providerDomains(p),
			AbuseEmail: AbuseAddress(p), API: "https://" + ProviderHost(p) + "/v1", Token: spec.Token,
			Webhook: WebhookURL(p), WebhookSecret: spec.WebhookSecret,
		})
	}
	s.log.Debug("simulated internet up", "https", s.info.HTTPS, "http", s.info.HTTP, "smtp", s.info.SMTP, "entities", len(s.world.Entities))
}

// providerDomains are the domains a provider hosts.
func (w *World) providerDomains(platform string) []string {
	var out []string
	switch platform {
	case FileHost:
		return append(out, w.Scenario.Network.FileHosts...)
	case WebHost:
		for _, o := range w.Outlets {
			for _, site := range o.Sites {
				out = append(out, site.Host)
			}
		}
		return out
	}
	for h, p := range platformHosts {
		if p == platform && !strings.HasPrefix(h, "www.") && !strings.HasPrefix(h, "m.") && !strings.HasPrefix(h, "mobile.") {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// Close stops serving and waits for the servers to end.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.cancel()
	err := errors.Join(s.https.Shutdown(ctx), s.http.Shutdown(ctx), s.smtp.Close())
	// A server whose Serve had not begun when Shutdown ran (a test that
	// ends within milliseconds of Start) would go on accepting: closing
	// the listeners ends it either way.
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.done.Wait()
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

// Info returns how to reach the simulator.
func (s *Server) Info() Info { return s.info }

// World returns the simulated world.
func (s *Server) World() *World { return s.world }

// Clock returns the scenario clock.
func (s *Server) Clock() *Clock { return s.clock }

// Requests returns how many HTTP requests the simulator has answered.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Reports returns every report received, as the providers see them now.
func (s *Server) Reports() []ReportView {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ReportView, len(s.reports))
	for i, r := range s.reports {
		out[i] = r.snapshot().view(now)
	}
	return out
}

// Mails returns every message the abuse mailboxes received.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// APIRequests returns every request to a takedown API.
func (s *Server) APIRequests() []APIRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]APIRequest(nil), s.apiRequests...)
}

// Callbacks returns every delivered callback.
func (s *Server) Callbacks() []CallbackRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackRecord(nil), s.callbacks...)
}

// ServeHTTP answers for every simulated host.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	w.Header().Set("Server", "simnet")
	if host == ControlHost {
		s.control(w, r)
		return
	}
	for _, p := range PlatformKeys {
		if host == ProviderHost(p) {
			s.providerAPI(w, r, p)
			return
		}
	}
	if host == consentHost {
		consentPage(w, r)
		return
	}
	now := s.clock.Now()
	t, ok := s.world.route(host, r.URL.Path, r.URL.Query())
	if !ok {
		unknownHost(w, host)
		return
	}
	if r.TLS == nil {
		// Every simulated service, like its real model, moves plain HTTP
		// to HTTPS.
		redirect(w, http.StatusMovedPermanently, "https://"+host+r.URL.RequestURI())
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.gate(w, r, host, t) {
		return
	}
	if strings.HasPrefix(r.URL.Path, "/_media/") {
		s.media(w, r, r.URL.Path, now)
		return
	}
	switch t.platform {
	case Telegram:
		s.telegram(w, r, t, now)
	case X:
		s.microblog(w, r, t, now)
	case YouTube:
		s.video(w, r, t, now)
	case FileHost:
		s.fileHost(w, r, t, now)
	case WebHost:
		s.webHost(w, r, t, now)
	}
}

// --- TLS: a CA made at start-up, trusted only by clients told about it ---

func (s *Server) makeCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("simnet: CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "takedown simnet CA (synthetic, loopback only)", Organization: []string{"takedown simulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("simnet: CA certificate: %w", err)
	}
	s.ca, _ = x509.ParseCertificate(der)
	s.caKey = key
	s.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return nil
}

func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certificate}
}

// certificate issues (once) a certificate for the name a client asks for.
func (s *Server) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(hello.ServerName)
	if name == "" {
		name = "127.0.0.1"
	}
	s.certMu.Lock()
	defer s.certMu.Unlock()
	if c, ok := s.certs[name]; ok {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(29 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	if len(s.certs) > 10000 {
		s.certs = map[string]*tls.Certificate{}
	}
	s.certs[name] = c
	return c, nil
}

// --- the control API ---

// control serves https://simnet.example/_simnet/...: what the simulator
// received and knows, for tests, the demo and curious operators.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/info":
		writeJSON(w, http.StatusOK, s.info)
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/status":
		writeJSON(w, http.StatusOK, s.Summary())
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/reports":
		writeJSON(w, http.StatusOK, s.Reports())
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/mail":
		writeJSON(w, http.StatusOK, s.Mails())
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/api-requests":
		writeJSON(w, http.StatusOK, s.APIRequests())
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/callbacks":
		writeJSON(w, http.StatusOK, s.Callbacks())
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/webhooks":
		writeJSON(w, http.StatusOK, s.Webhooks())
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/answers":
		writeJSON(w, http.StatusOK, s.Answers())
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/reminders":
		writeJSON(w, http.StatusOK, s.Reminders())
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/faults":
		writeJSON(w, http.StatusOK, s.Faults())
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/page-faults":
		writeJSON(w, http.StatusOK, s.PageFaults())
	case r.Method == http.MethodPost && r.URL.Path == "/_simnet/page-fault":
		s.controlPageFault(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/rate-limit":
		writeJSON(w, http.StatusOK, rateLimitJSON(s.RateLimit()))
	case r.Method == http.MethodPost && r.URL.Path == "/_simnet/rate-limit":
		s.controlRateLimit(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/_simnet/state":
		s.controlState(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/_simnet/takedown":
		s.controlTakedown(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/_simnet/fault":
		s.controlFault(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/_simnet/smtp":
		s.controlSMTP(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/truth":
		writeJSON(w, http.StatusOK, s.world.Truth(now, r.URL.Query().Get("all") != ""))
	case r.Method == http.MethodGet && r.URL.Path == "/_simnet/entities":
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		region := s.region(r)
		for _, e := range s.world.All() {
			enc.Encode(map[string]any{"id": e.ID, "url": e.URL, "platform": e.Platform, "kind": e.Kind, "status": s.world.Status(e, now, region).String(), "created": e.Created})
		}
	case r.Method == http.MethodPost && r.URL.Path == "/_simnet/clock/advance":
		d, err := ParseDuration(r.URL.Query().Get("by"))
		if err != nil {
			apiError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.clock.Advance(d.D())
		writeJSON(w, http.StatusOK, map[string]any{"now": s.clock.Now()})
	default:
		apiError(w, http.StatusNotFound, "the control API has GET info, status, reports, mail, webhooks, reminders, api-requests, callbacks, answers, faults, page-faults, rate-limit, truth, entities and POST clock/advance?by=DURATION, takedown, fault, page-fault, rate-limit, state, smtp under /_simnet/")
	}
}

// readControl decodes a control request's JSON body into v, or answers
// 400 and returns false.
func readControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "malformed request: "+err.Error())
		return false
	}
	return true
}

// controlTakedown serves POST /_simnet/takedown: {"url": "http://127.0.0.1:8080",
// "tokens": {"telegram": "..."}} (SetTakedown).
func (s *Server) controlTakedown(w http.ResponseWriter, r *http.Request) {
	var req struct {
		URL    string            `json:"url"`
		Tokens map[string]string `json:"tokens"`
	}
	if !readControl(w, r, &req) {
		return
	}
	if req.URL != "" {
		if u, err := url.Parse(req.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("url %q: want takedown's base URL, http(s)://host:port", req.URL))
			return
		}
	}
	for p := range req.Tokens {
		if !slices.Contains(PlatformKeys, p) {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("tokens: unknown platform %q (platforms: %s)", p, strings.Join(PlatformKeys, ", ")))
			return
		}
	}
	s.SetTakedown(req.URL, req.Tokens)
	platforms := slices.Sorted(maps.Keys(req.Tokens))
	writeJSON(w, http.StatusOK, map[string]any{"url": req.URL, "platforms": platforms})
}

// faultRequest is the body of POST /_simnet/fault and /_simnet/page-fault.
type faultRequest struct {
	Platform string `json:"platform"`
	Mode     string `json:"mode"`
	For      string `json:"for"`
	Delay    string `json:"delay"`
}

// readFault reads a fault request with modes allowed, or answers 400 and
// returns false.
func readFault(w http.ResponseWriter, r *http.Request, modes []string) ([]string, Fault, bool) {
	var req faultRequest
	if !readControl(w, r, &req) {
		return nil, Fault{}, false
	}
	platforms := []string{req.Platform}
	if req.Platform == "*" {
		platforms = PlatformKeys
	} else if !slices.Contains(PlatformKeys, req.Platform) {
		apiError(w, http.StatusBadRequest, fmt.Sprintf("platform %q: want one of %s, or *", req.Platform, strings.Join(PlatformKeys, ", ")))
		return nil, Fault{}, false
	}
	if !slices.Contains(modes, req.Mode) {
		apiError(w, http.StatusBadRequest, fmt.Sprintf("mode %q: want %s, or empty to clear", req.Mode, strings.Join(modes[1:], ", ")))
		return nil, Fault{}, false
	}
	f := Fault{Mode: req.Mode}
	if req.For != "" {
		d, err := ParseDuration(req.For)
		if err != nil || d <= 0 {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("for %q: want a duration such as 30s", req.For))
			return nil, Fault{}, false
		}
		f.Until = time.Now().Add(d.D())
	}
	if req.Delay != "" {
		d, err := ParseDuration(req.Delay)
		if err != nil {
			apiError(w, http.StatusBadRequest, err.Error())
			return nil, Fault{}, false
		}
		f.Delay = d.D()
	}
	if (f.Mode == FaultSlow || f.Mode == FaultLag) && f.Delay <= 0 {
		apiError(w, http.StatusBadRequest, "a "+f.Mode+" fault needs its delay")
		return nil, Fault{}, false
	}
	return platforms, f, true
}

// controlFault serves POST /_simnet/fault: {"platform": "telegram" (or
// "*" for all), "mode": "down", "for": "30s", "delay": "2s"} (SetFault;
// "for" is real time, empty for until cleared; mode "" clears).
func (s *Server) controlFault(w http.ResponseWriter, r *http.Request) {
	platforms, f, ok := readFault(w, r, FaultModes)
	if !ok {
		return
	}
	for _, p := range platforms {
		s.SetFault(p, f)
	}
	writeJSON(w, http.StatusOK, s.Faults())
}

// controlPageFault serves POST /_simnet/page-fault: the same request as
// /_simnet/fault, for the platform's content hosts, with the modes of
// PageFaultModes (SetPageFault).
func (s *Server) controlPageFault(w http.ResponseWriter, r *http.Request) {
	platforms, f, ok := readFault(w, r, PageFaultModes)
	if !ok {
		return
	}
	for _, p := range platforms {
		s.SetPageFault(p, f)
	}
	writeJSON(w, http.StatusOK, s.PageFaults())
}

// rateLimitJSON is a limit as the control API shows it.
func rateLimitJSON(l RateLimit) map[string]any {
	if l.Requests == 0 {
		return map[string]any{"requests": 0}
	}
	return map[string]any{"requests": l.Requests, "per": l.Per.String(), "burst": l.Burst}
}

// controlRateLimit serves POST /_simnet/rate-limit: {"requests": 60,
// "per": "1m", "burst": 10} (SetRateLimit; requests 0 lifts the limit).
func (s *Server) controlRateLimit(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Requests int    `json:"requests"`
		Per      string `json:"per"`
		Burst    int    `json:"burst"`
	}
	if !readControl(w, r, &req) {
		return
	}
	l := RateLimit{Requests: req.Requests, Burst: req.Burst}
	if req.Per != "" {
		d, err := ParseDuration(req.Per)
		if err != nil || d <= 0 {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("per %q: want a duration such as 1m", req.Per))
			return
		}
		l.Per = d
	}
	if err := s.SetRateLimit(l); err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rateLimitJSON(s.RateLimit()))
}

// controlState serves POST /_simnet/state: {"url": "https://t.me/name",
// "status": "removed" | "withheld" | "live", "regions": ["EU"]}
// (SetStatus).
func (s *Server) controlState(w http.ResponseWriter, r *http.Request) {
	var req struct {
		URL     string   `json:"url"`
		Status  string   `json:"status"`
		Regions []string `json:"regions"`
	}
	if !readControl(w, r, &req) {
		return
	}
	st, err := ParseStatus(req.Status)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.world.Resolve(req.URL) == nil {
		apiError(w, http.StatusNotFound, fmt.Sprintf("url %q names nothing on the simulated internet", req.URL))
		return
	}
	if err := s.SetStatus(req.URL, st, req.Regions...); err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	region := s.world.Scenario.Region
	if len(req.Regions) > 0 {
		region = req.Regions[0]
	}
	writeJSON(w, http.StatusOK, map[string]any{"url": req.URL, "status": s.world.Status(s.world.Resolve(req.URL), s.clock.Now(), region).String()})
}

// controlSMTP serves POST /_simnet/smtp: {"down": true} (SetSMTPDown).
func (s *Server) controlSMTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Down *bool `json:"down"`
	}
	if !readControl(w, r, &req) {
		return
	}
	if req.Down == nil {
		apiError(w, http.StatusBadRequest, `want {"down": true} or {"down": false}`)
		return
	}
	if err := s.SetSMTPDown(*req.Down); err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"down": *req.Down, "smtp": s.info.SMTP})
}

// Summary is the simulated internet at a moment, in numbers.
type Summary struct {
	Now        time.Time      `json:"now"`
	TimeScale  float64        `json:"time_scale"`
	Entities   int            `json:"entities"`
	ByStatus   map[string]int `json:"by_status"`
	Successors int            `json:"successors"`
	Reports    int            `json:"reports"`
	Mails      int            `json:"mails"`
	Webhooks   int            `json:"webhooks"`
	Answers    int            `json:"answers"`
	Reminders  int            `json:"reminders"`
	Requests   int64          `json:"requests"`
}

// Summary counts the world as the scenario's region sees it now.
func (s *Server) Summary() Summary {
	now := s.clock.Now()
	st := Summary{Now: now, TimeScale: s.clock.Scale(), ByStatus: map[string]int{}, Requests: s.requests.Load()}
	for _, e := range s.world.All() {
		st.Entities++
		st.ByStatus[s.world.Status(e, now, s.world.Scenario.Region).String()]++
	}
	st.Successors = len(s.world.Truth(now, false))
	s.mu.Lock()
	st.Reports, st.Mails, st.Webhooks, st.Answers, st.Reminders = len(s.reports), len(s.mails), len(s.webhooks), len(s.answers), len(s.reminders)
	s.mu.Unlock()
	return st
}

// All returns the network's entities and the successors made so far (or
// scheduled), in ID order.
func (w *World) All() []*Entity {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return append(w.Entities[:len(w.Entities):len(w.Entities)], w.successors...)
}
