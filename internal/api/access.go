package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
)

// Who may do what, route by route: adapt lets in signed-in users only;
// the handlers then check roles and tenants with these helpers. What a
// caller may not see is answered "not found", not "forbidden": another
// tenant's operations, holds and users are none of its business, not even
// their existence.

// who returns the signed-in actor; adapt has checked there is one.
func who(r *http.Request) *takedown.Actor {
	a, _ := auth.Authenticated(r.Context())
	return a
}

// need returns EFORBIDDEN unless the actor has one of the roles.
func need(a *takedown.Actor, roles ...takedown.Role) error {
	for _, r := range roles {
		if a.Has(r) {
			return nil
		}
	}
	return takedown.Errorf(takedown.EFORBIDDEN, "this needs the role %s", joinRoleNames(roles))
}

func joinRoleNames(rs []takedown.Role) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += " or "
		}
		s += string(r)
	}
	return s
}

// operation returns the operation of the request's path if the actor may
// see it, else ENOTFOUND, whether it exists or not.
func (s *Server) operation(r *http.Request) (*takedown.Operation, error) {
	slug := r.PathValue("operation")
	op, err := s.store.FindOperation(r.Context(), slug)
	if err != nil {
		return nil, err
	}
	if !who(r).MaySeeOperation(op) {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no operation %q", slug)
	}
	return op, nil
}

// itemIn returns item id of op; another operation's item is not found
// here, not forbidden: its existence is not this caller's business.
func (s *Server) itemIn(r *http.Request, op *takedown.Operation, id int64) (*takedown.Item, error) {
	it, err := s.store.FindItem(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if it.OperationID != op.ID {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no item %d in operation %q", id, op.Slug)
	}
	return it, nil
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, takedown.Errorf(takedown.ENOTFOUND, "no %s %q", name, r.PathValue(name))
	}
	return id, nil
}

// me is who the caller is, and what it may do.
type me struct {
	User   *takedown.User   `json:"user"`
	Via    string           `json:"via"`
	Scopes []takedown.Scope `json:"scopes"`
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) error {
	a := who(r)
	return writeJSON(w, http.StatusOK, me{User: a.User, Via: a.Via, Scopes: a.Scopes})
}

// --- users ---

// mayReadUser: admins and auditors read every user, a user itself.
func mayReadUser(a *takedown.Actor, name string) bool {
	return a.Has(takedown.RoleAdmin) || a.Has(takedown.RoleAuditor) || (a.User != nil && a.User.Name == name)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	if err := need(who(r), takedown.RoleAdmin, takedown.RoleAuditor); err != nil {
		return err
	}
	us, err := s.store.ListUsers(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"users": nonNil(us)})
}

type userInput struct {
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name"`
	Email       string          `json:"email"`
	Agency      string          `json:"agency"`
	Provider    string          `json:"provider"`
	Roles       []takedown.Role `json:"roles"`
	Password    string          `json:"password"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	if err := need(who(r), takedown.RoleAdmin); err != nil {
		return err
	}
	var in userInput
	if err := decode(r, &in); err != nil {
		return err
	}
	u := &takedown.User{Name: in.Name, DisplayName: in.DisplayName, Email: in.Email, Agency: in.Agency, Provider: in.Provider, Roles: in.Roles}
	if err := u.Validate(); err != nil {
		return err
	}
	var hash string
	if in.Password != "" {
		var err error
		if hash, err = auth.HashPassword(in.Password); err != nil {
			return err
		}
	}
	if err := s.store.CreateUser(r.Context(), u, hash); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+u.Name)
	return writeJSON(w, http.StatusCreated, u)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("user")
	if !mayReadUser(who(r), name) {
		return takedown.Errorf(takedown.ENOTFOUND, "no user %q", name)
	}
	u, err := s.store.FindUser(r.Context(), name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	a := who(r)
	name := r.PathValue("user")
	if err := need(a, takedown.RoleAdmin); err != nil {
		if !mayReadUser(a, name) {
			return takedown.Errorf(takedown.ENOTFOUND, "no user %q", name)
		}
		return err
	}
	var in struct {
		takedown.UserUpdate
		Password *string `json:"password,omitempty"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	upd := in.UserUpdate
	if in.Password != nil {
		hash, err := auth.HashPassword(*in.Password)
		if err != nil {
			return err
		}
		upd.PasswordHash = &hash
	}
	if a.User != nil && a.User.Name == name {
		// An administrator cannot lock themself out; another must.
		if upd.Disabled != nil && *upd.Disabled {
			return takedown.Errorf(takedown.ECONFLICT, "an administrator cannot disable themself; ask another")
		}
		if upd.Roles != nil && !slices.Contains(*upd.Roles, takedown.RoleAdmin) {
			return takedown.Errorf(takedown.ECONFLICT, "an administrator cannot take their own admin role; ask another")
		}
	}
	u, err := s.store.UpdateUser(r.Context(), name, upd)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

// --- tokens ---

// mayManageTokens: admins manage every user's tokens, a user its own.
func mayManageTokens(a *takedown.Actor, name string) bool {
	return a.Has(takedown.RoleAdmin) || (a.User != nil && a.User.Name == name)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	a, name := who(r), r.PathValue("user")
	if !mayManageTokens(a, name) && !a.Has(takedown.RoleAuditor) {
		return takedown.Errorf(takedown.ENOTFOUND, "no user %q", name)
	}
	if _, err := s.store.FindUser(r.Context(), name); err != nil {
		return err
	}
	ts, err := s.store.ListTokens(r.Context(), name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": nonNil(ts)})
}

// newToken is a token with its secret, shown this once.
type newToken struct {
	*takedown.Token
	Secret string `json:"secret"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	a, name := who(r), r.PathValue("user")
	if !mayManageTokens(a, name) {
		if a.Has(takedown.RoleAuditor) {
			return takedown.Errorf(takedown.EFORBIDDEN, "auditors change nothing")
		}
		return takedown.Errorf(takedown.ENOTFOUND, "no user %q", name)
	}
	var in struct {
		Name         string           `json:"name"`
		Scopes       []takedown.Scope `json:"scopes"`
		ExpiresInDay int              `json:"expires_in_days"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.ExpiresInDay == 0 {
		in.ExpiresInDay = 30
	}
	if len(in.Scopes) == 0 {
		in.Scopes = []takedown.Scope{takedown.ScopeRead}
	}
	if in.ExpiresInDay < 0 || in.ExpiresInDay > int(takedown.MaxTokenLifetime.Hours()/24) {
		return takedown.Errorf(takedown.EINVALID, "expires_in_days must be 1 to %d", int(takedown.MaxTokenLifetime.Hours()/24))
	}
	secret, prefix, hash := auth.NewToken()
	t := &takedown.Token{User: name, Name: in.Name, Prefix: prefix, Scopes: in.Scopes, ExpiresAt: s.now().Add(time.Duration(in.ExpiresInDay) * 24 * time.Hour)}
	if err := s.store.CreateToken(r.Context(), t, hash); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, newToken{Token: t, Secret: secret})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	a := who(r)
	id, err := pathID(r, "token")
	if err != nil {
		return err
	}
	t, err := s.store.FindToken(r.Context(), id)
	if err != nil {
		return err
	}
	if !mayManageTokens(a, t.User) {
		return takedown.Errorf(takedown.ENOTFOUND, "no token %d", id)
	}
	if t, err = s.store.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

// --- providers ---

func (s *Server) listProviders(w http.ResponseWriter, r *http.Request) error {
	a := who(r)
	ps, err := s.store.ListProviders(r.Context())
	if err != nil {
		return err
	}
	if a.Has(takedown.RoleProvider) && !a.Local() {
		// A provider's liaison sees its own provider only.
		ps = slices.DeleteFunc(ps, func(p *takedown.Provider) bool { return p.Code != a.User.Provider })
	}
	for i, p := range ps {
		ps[i] = providerFor(a, p)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"providers": nonNil(ps)})
}

func (s *Server) createProvider(w http.ResponseWriter, r *http.Request) error {
	if err := need(who(r), takedown.RoleAdmin); err != nil {
		return err
	}
	var in struct {
		Code      string                    `json:"code"`
		Name      string                    `json:"name"`
		Platforms []takedown.Platform       `json:"platforms"`
		Domains   []string                  `json:"domains"`
		ASNs      []uint32                  `json:"asns"`
		Languages []string                  `json:"languages"`
		Contacts  takedown.ProviderContacts `json:"contacts"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p := &takedown.Provider{Code: in.Code, Name: in.Name, Platforms: in.Platforms, Domains: in.Domains, ASNs: in.ASNs, Languages: in.Languages, Contacts: in.Contacts}
	if err := s.store.CreateProvider(r.Context(), p); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/providers/"+p.Code)
	return writeJSON(w, http.StatusCreated, p)
}

func (s *Server) getProvider(w http.ResponseWriter, r *http.Request) error {
	a, code := who(r), r.PathValue("provider")
	if a.Has(takedown.RoleProvider) && !a.Local() && a.User.Provider != code {
		return takedown.Errorf(takedown.ENOTFOUND, "no provider %q", code)
	}
	p, err := s.store.FindProvider(r.Context(), code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, providerFor(a, p))
}

func (s *Server) updateProvider(w http.ResponseWriter, r *http.Request) error {
	if err := need(who(r), takedown.RoleAdmin); err != nil {
		return err
	}
	p, err := s.store.FindProvider(r.Context(), r.PathValue("provider"))
	if err != nil {
		return err
	}
	var in struct {
		Name      *string                    `json:"name"`
		Platforms *[]takedown.Platform       `json:"platforms"`
		Domains   *[]string                  `json:"domains"`
		ASNs      *[]uint32                  `json:"asns"`
		Languages *[]string                  `json:"languages"`
		Contacts  *takedown.ProviderContacts `json:"contacts"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Platforms != nil {
		p.Platforms = *in.Platforms
	}
	if in.Domains != nil {
		p.Domains = *in.Domains
	}
	if in.ASNs != nil {
		p.ASNs = *in.ASNs
	}
	if in.Languages != nil {
		p.Languages = *in.Languages
	}
	if in.Contacts != nil {
		old := *p
		p.Contacts = *in.Contacts
		p.KeepSecrets(&old)
	}
	if err := s.store.UpdateProvider(r.Context(), p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p.Redacted())
}

// providerFor returns a provider as the actor may read it: its secrets
// (webhook secret, API token) for administrators only.
func providerFor(a *takedown.Actor, p *takedown.Provider) *takedown.Provider {
	if a.Has(takedown.RoleAdmin) {
		return p
	}
	return p.Redacted()
}

// --- the audit chain ---

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	if err := need(who(r), takedown.RoleAuditor); err != nil {
		return err
	}
	q := r.URL.Query()
	f := takedown.AuditFilter{Operation: q.Get("operation"), Subject: q.Get("subject"), Limit: 100}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return takedown.Errorf(takedown.EINVALID, "after must be an event's sequence number, not %q", v)
		}
		f.AfterSeq = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return takedown.Errorf(takedown.EINVALID, "limit must be a number from 1 to 1000, not %q", v)
		}
		f.Limit = n
	}
	evs, err := s.store.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"events": nonNil(evs)})
}

// auditVerification is the result of walking the whole chain.
type auditVerification struct {
	OK     bool               `json:"ok"`
	Events int64              `json:"events"`
	Head   takedown.AuditHead `json:"head"`
	Error  string             `json:"error,omitempty"`
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	if err := need(who(r), takedown.RoleAuditor); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	head, n, err := takedown.VerifyAudit(ctx, s.store)
	v := auditVerification{OK: err == nil, Events: n, Head: head}
	if err != nil {
		var broken *takedown.ChainBreak
		if !errors.As(err, &broken) {
			return err // could not read the chain: no finding either way
		}
		v.Error = err.Error()
	}
	return writeJSON(w, http.StatusOK, v)
}
