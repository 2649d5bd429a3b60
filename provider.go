package takedown

import (
	"context"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Provider is an online service provider that receives referrals: a
// platform's operator or a hosting company. Its liaisons are users with
// the provider role.
type Provider struct {
	ID   int64  `json:"-"`
	Code string `json:"code"` // stable public name, e.g. "telegram"
	Name string `json:"name"`
	// Platforms are the recognised platforms it runs; items of those go
	// to it.
	Platforms []Platform `json:"platforms"`
	// Domains are the registrable domains it hosts ("example.org"): a
	// website on one of them goes to it.
	Domains []string `json:"domains"`
	// ASNs are the autonomous systems of its hosting networks: a website
	// whose address one of them announces goes to it.
	ASNs []uint32 `json:"asns"`
	// Languages it reads, most preferred first (ISO 639-1): referrals are
	// written in the first one takedown has a template for.
	Languages []string `json:"languages"`
	// Contacts are how referrals reach it; a referral goes out on every
	// channel that is set, and always to the portal.
	Contacts  ProviderContacts `json:"contacts"`
	CreatedAt time.Time        `json:"created_at"`
}

// ProviderContacts are a provider's delivery channels.
type ProviderContacts struct {
	// AbuseEmail receives referrals by e-mail.
	AbuseEmail string `json:"abuse_email,omitempty"`
	// OrderEmail is the point of contact for removal orders (Regulation
	// (EU) 2021/784, Article 15); orders go there when set, else to
	// AbuseEmail.
	OrderEmail string `json:"order_email,omitempty"`
	// Webhook receives referrals as signed JSON (Standard Webhooks).
	Webhook *WebhookContact `json:"webhook,omitempty"`
	// API is the provider's own takedown API, which takedown calls.
	API *APIContact `json:"api,omitempty"`
}

// WebhookContact is where and how a provider's webhook is called.
type WebhookContact struct {
	URL string `json:"url"`
	// Secret signs the payloads ("whsec_" and base64, as Standard
	// Webhooks has it); only administrators read it.
	Secret string `json:"secret,omitempty"`
}

// APIContact is a provider's takedown API: takedown posts reports to it
// and reads the answers back.
type APIContact struct {
	URL   string `json:"url"`             // base URL, e.g. https://api.example.com/v1
	Token string `json:"token,omitempty"` // bearer token; only administrators read it
}

// Channels returns the delivery channels a provider has, in the order
// they are tried: its API, its webhook, e-mail, and the portal, which
// every provider has.
func (p *Provider) Channels() []Channel {
	var out []Channel
	if p.Contacts.API != nil && p.Contacts.API.URL != "" {
		out = append(out, ChannelAPI)
	}
	if p.Contacts.Webhook != nil && p.Contacts.Webhook.URL != "" {
		out = append(out, ChannelWebhook)
	}
	if p.Contacts.AbuseEmail != "" || p.Contacts.OrderEmail != "" {
		out = append(out, ChannelEmail)
	}
	return append(out, ChannelPortal)
}

// Redacted returns p without its secrets, for those who may not read
// them: whether a secret is set still shows.
func (p *Provider) Redacted() *Provider {
	c := *p
	if w := p.Contacts.Webhook; w != nil {
		c.Contacts.Webhook = &WebhookContact{URL: w.URL}
		if w.Secret != "" {
			c.Contacts.Webhook.Secret = SecretWithheld
		}
	}
	if a := p.Contacts.API; a != nil {
		c.Contacts.API = &APIContact{URL: a.URL}
		if a.Token != "" {
			c.Contacts.API.Token = SecretWithheld
		}
	}
	return &c
}

// Validate reports an EINVALID error for a provider that cannot be stored.
func (p *Provider) Validate() error {
	if !ValidSlug(p.Code) {
		return Errorf(EINVALID, "provider code %q must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit", p.Code)
	}
	if p.Name == "" {
		return Errorf(EINVALID, "provider %q needs a name", p.Code)
	}
	for _, pl := range p.Platforms {
		if !ValidPlatform(pl) || pl == PlatformWeb {
			return Errorf(EINVALID, "provider %q: unknown platform %q (websites go by domain or network)", p.Code, pl)
		}
	}
	for _, d := range p.Domains {
		if d == "" || strings.ContainsAny(d, "/:@ *") || !strings.Contains(d, ".") || strings.ToLower(d) != d {
			return Errorf(EINVALID, "provider %q: domain %q: want a lower-case registrable domain such as example.org", p.Code, d)
		}
	}
	for _, l := range p.Languages {
		if len(l) != 2 || strings.ToLower(l) != l {
			return Errorf(EINVALID, "provider %q: language %q: want a two-letter ISO 639-1 code such as en", p.Code, l)
		}
	}
	c := p.Contacts
	for _, e := range []string{c.AbuseEmail, c.OrderEmail} {
		if e == "" {
			continue
		}
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			return Errorf(EINVALID, "provider %q: %q is not an e-mail address", p.Code, e)
		}
	}
	if c.Webhook != nil {
		if err := checkURL(c.Webhook.URL); err != nil {
			return Errorf(EINVALID, "provider %q: webhook: %v", p.Code, err)
		}
		if c.Webhook.Secret != "" && !strings.HasPrefix(c.Webhook.Secret, "whsec_") {
			return Errorf(EINVALID, "provider %q: a webhook secret starts with whsec_", p.Code)
		}
	}
	if c.API != nil {
		if err := checkURL(c.API.URL); err != nil {
			return Errorf(EINVALID, "provider %q: API: %v", p.Code, err)
		}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Errorf(EINVALID, "%q is not an http(s) URL", s)
	}
	return nil
}

// Normalize sorts the lists (but the languages, whose order is a
// preference) and drops repeats.
func (p *Provider) Normalize() {
	ps := slices.Clone(p.Platforms)
	slices.Sort(ps)
	p.Platforms = slices.Compact(ps)
	ds := slices.Clone(p.Domains)
	slices.Sort(ds)
	p.Domains = slices.Compact(ds)
	as := slices.Clone(p.ASNs)
	slices.Sort(as)
	p.ASNs = slices.Compact(as)
	var ls []string
	for _, l := range p.Languages {
		if !slices.Contains(ls, l) {
			ls = append(ls, l)
		}
	}
	p.Languages = ls
	if p.Platforms == nil {
		p.Platforms = []Platform{}
	}
	if p.Domains == nil {
		p.Domains = []string{}
	}
	if p.ASNs == nil {
		p.ASNs = []uint32{}
	}
	if p.Languages == nil {
		p.Languages = []string{}
	}
}

// NormalizePlatforms is Normalize, under its older name.
func (p *Provider) NormalizePlatforms() { p.Normalize() }

// ProviderService manages the provider directory.
type ProviderService interface {
	// CreateProvider stores p and sets its ID and CreatedAt. Returns
	// EINVALID for a bad provider, ECONFLICT if the code is taken.
	CreateProvider(ctx context.Context, p *Provider) error
	// UpdateProvider replaces everything of a provider but its code, ID
	// and creation time. Returns ENOTFOUND for an unknown provider,
	// EINVALID for a bad one.
	UpdateProvider(ctx context.Context, p *Provider) error
	// FindProvider returns a provider. Returns ENOTFOUND if there is none.
	FindProvider(ctx context.Context, code string) (*Provider, error)
	// ListProviders returns every provider ordered by code.
	ListProviders(ctx context.Context) ([]*Provider, error)
}

// SecretWithheld is what Redacted writes in place of a secret that is set.
const SecretWithheld = "(set)"

// KeepSecrets fills in the secrets p's contacts leave out (empty, or
// withheld as Redacted writes them) from old, where the contact's URL is
// the same: a directory exported without secrets and imported again, or
// a contact changed by someone who may not read its secret, keeps them.
func (p *Provider) KeepSecrets(old *Provider) {
	if old == nil {
		return
	}
	if w, o := p.Contacts.Webhook, old.Contacts.Webhook; w != nil && o != nil && w.URL == o.URL && (w.Secret == "" || w.Secret == SecretWithheld) {
		w.Secret = o.Secret
	}
	if a, o := p.Contacts.API, old.Contacts.API; a != nil && o != nil && a.URL == o.URL && (a.Token == "" || a.Token == SecretWithheld) {
		a.Token = o.Token
	}
}
