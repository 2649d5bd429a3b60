package web

import (
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"

	"github.com/takedown-project/takedown"
)

// The provider directory, for administrators: where referrals go and how
// they get there. Secrets (a webhook's signing secret, an API token) are
// written, never read back: the page says whether one is set, and a
// secret field left empty keeps the secret the contact has
// (Provider.KeepSecrets).

func mayAdminProviders(r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	if !a.Has(takedown.RoleAdmin) {
		return uiErrorf(takedown.EFORBIDDEN, msgAdminsOnly)
	}
	return nil
}

// providerRow is a provider as the directory lists it.
type providerRow struct {
	*takedown.Provider
	Channels []string
}

func (s *Server) providersPage(w http.ResponseWriter, r *http.Request) error {
	if err := mayAdminProviders(r); err != nil {
		return err
	}
	ps, err := s.store.ListProviders(r.Context())
	if err != nil {
		return err
	}
	rows := make([]providerRow, 0, len(ps))
	for _, p := range ps {
		var chans []string
		for _, c := range p.Channels() {
			chans = append(chans, string(c))
		}
		rows = append(rows, providerRow{p.Redacted(), chans})
	}
	s.render(w, r, http.StatusOK, "providers", map[string]any{"Providers": rows})
	return nil
}

// providerForm is what the edit form shows: the provider's fields as
// text, and of its secrets only whether they are set.
type providerForm struct {
	Code, Name, Platforms, Domains, ASNs, Languages string
	AbuseEmail, OrderEmail, WebhookURL, APIURL      string
	WebhookSecretSet, APITokenSet                   bool
}

func formOf(p *takedown.Provider) providerForm {
	f := providerForm{Code: p.Code, Name: p.Name, AbuseEmail: p.Contacts.AbuseEmail, OrderEmail: p.Contacts.OrderEmail,
		Domains: strings.Join(p.Domains, ", "), Languages: strings.Join(p.Languages, ", ")}
	var ps, as []string
	for _, pl := range p.Platforms {
		ps = append(ps, string(pl))
	}
	for _, n := range p.ASNs {
		as = append(as, strconv.FormatUint(uint64(n), 10))
	}
	f.Platforms, f.ASNs = strings.Join(ps, ", "), strings.Join(as, ", ")
	if w := p.Contacts.Webhook; w != nil {
		f.WebhookURL, f.WebhookSecretSet = w.URL, w.Secret != ""
	}
	if a := p.Contacts.API; a != nil {
		f.APIURL, f.APITokenSet = a.URL, a.Token != ""
	}
	return f
}

func (s *Server) providerPage(w http.ResponseWriter, r *http.Request) error {
	if err := mayAdminProviders(r); err != nil {
		return err
	}
	p, err := s.store.FindProvider(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "provider", map[string]any{"Form": formOf(p), "Done": s.done(r)})
	return nil
}

// list splits what a person types as a list: commas, spaces or lines.
func list(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

func (s *Server) updateProvider(w http.ResponseWriter, r *http.Request) error {
	if err := mayAdminProviders(r); err != nil {
		return err
	}
	old, err := s.store.FindProvider(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	f := r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	p := &takedown.Provider{ID: old.ID, Code: old.Code, Name: get("name"), Platforms: old.Platforms, CreatedAt: old.CreatedAt,
		Contacts: takedown.ProviderContacts{AbuseEmail: get("abuse_email"), OrderEmail: get("order_email")}}
	for _, d := range list(f.Get("domains")) {
		p.Domains = append(p.Domains, strings.ToLower(d))
	}
	for _, l := range list(f.Get("languages")) {
		p.Languages = append(p.Languages, strings.ToLower(l))
	}
	var bad error
	for _, v := range list(f.Get("asns")) {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(v), "AS"), 10, 32)
		if err != nil || n == 0 {
			bad = uiErrorf(takedown.EINVALID, msgNetwork, p.Code, v)
			break
		}
		p.ASNs = append(p.ASNs, uint32(n))
	}
	if u := get("webhook_url"); u != "" {
		p.Contacts.Webhook = &takedown.WebhookContact{URL: u, Secret: get("webhook_secret")}
	}
	if u := get("api_url"); u != "" {
		p.Contacts.API = &takedown.APIContact{URL: u, Token: get("api_token")}
	}
	// A secret left empty, for the same URL, stays; a new URL takes the
	// secret given with it, or none.
	p.KeepSecrets(old)
	if bad == nil {
		bad = s.store.UpdateProvider(r.Context(), p)
	}
	if bad != nil {
		if takedown.ErrorCode(bad) != takedown.EINVALID {
			return bad
		}
		form := formOf(p)
		// What was typed, as typed; of the secrets, what is stored.
		form.Domains, form.Languages, form.ASNs = f.Get("domains"), f.Get("languages"), f.Get("asns")
		stored := formOf(old)
		form.WebhookSecretSet = stored.WebhookSecretSet && form.WebhookURL == stored.WebhookURL
		form.APITokenSet = stored.APITokenSet && form.APIURL == stored.APIURL
		s.render(w, r, http.StatusBadRequest, "provider", map[string]any{"Form": form, "Error": errorMessage(s.localizer(r), bad)})
		return nil
	}
	http.Redirect(w, r, "/providers/"+neturl.PathEscape(p.Code)+"?done=saved", http.StatusSeeOther)
	return nil
}
