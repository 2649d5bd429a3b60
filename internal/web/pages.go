package web

import (
	"net/http"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
)

// --- signing in and out ---

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	if _, ok := auth.Authenticated(r.Context()); ok {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "login", map[string]any{"Next": localPath(r.URL.Query().Get("next")), "OIDC": s.oidc != nil, "OIDCName": s.oidcName})
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	next := localPath(r.PostForm.Get("next"))
	_, err := s.auth.Login(w, r, strings.TrimSpace(r.PostForm.Get("user")), r.PostForm.Get("password"))
	if err != nil {
		code := takedown.ErrorCode(err)
		if code != takedown.EUNAUTHORIZED && code != takedown.ERATELIMITED && code != takedown.EINVALID {
			return err
		}
		status := http.StatusUnauthorized
		if code == takedown.ERATELIMITED {
			status = http.StatusTooManyRequests
		}
		s.render(w, r, status, "login", map[string]any{"Next": next, "Error": errorMessage(s.localizer(r), err), "User": r.PostForm.Get("user"), "OIDC": s.oidc != nil, "OIDCName": s.oidcName})
		return nil
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.Logout(w, r); err != nil {
		return err
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (s *Server) oidcBegin(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return uiErrorf(takedown.ENOTFOUND, msgNoOIDC)
	}
	s.oidc.Begin(w, r)
	return nil
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return uiErrorf(takedown.ENOTFOUND, msgNoOIDCCallback)
	}
	if _, err := s.oidc.Callback(w, r); err != nil {
		if takedown.ErrorCode(err) == takedown.EINTERNAL {
			return err
		}
		s.render(w, r, http.StatusUnauthorized, "login", map[string]any{"Next": "/", "Error": errorMessage(s.localizer(r), err), "OIDC": true, "OIDCName": s.oidcName})
		return nil
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// --- home ---

func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	ops, err := s.store.ListOperations(r.Context())
	if err != nil {
		return err
	}
	ops = slices.DeleteFunc(ops, func(op *takedown.Operation) bool { return !a.MaySeeOperation(op) })
	// Coordinators (and auditors, to read) reach an operation's referrals
	// and its unattributed items from here.
	type opRow struct {
		*takedown.Operation
		Referrals bool
	}
	rows := make([]opRow, 0, len(ops))
	for _, op := range ops {
		rows = append(rows, opRow{op, a.MayCoordinate(op) || a.SeesAll()})
	}
	// What holds mean for the user's agency, and for coordinators both
	// sides, unread, across its operations.
	type notice struct {
		*takedown.Notification
		Operation string
	}
	var notices []notice
	for _, op := range ops {
		ns, err := s.store.ListNotifications(r.Context(), takedown.NotificationFilter{OperationID: op.ID, Agency: a.Agency(), Coordinators: a.MayCoordinate(op), Unread: true, Limit: 20})
		if err != nil {
			return err
		}
		for _, n := range ns {
			notices = append(notices, notice{n, op.Slug})
		}
	}
	s.render(w, r, http.StatusOK, "home", map[string]any{"Operations": rows, "Roles": a.User.Roles, "Notices": notices})
	return nil
}

func (s *Server) readNotice(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("notice"), 10, 64)
	if err != nil {
		return uiErrorf(takedown.ENOTFOUND, msgNoNotice, r.PathValue("notice"))
	}
	n, err := s.store.FindNotification(r.Context(), id)
	if err != nil {
		return err
	}
	op, err := s.store.FindOperation(r.Context(), n.Operation)
	if err != nil {
		return err
	}
	mine := a.MaySeeOperation(op) && ((n.Agency != "" && n.Agency == a.Agency()) || (n.Agency == "" && a.MayCoordinate(op)))
	if !mine {
		return uiErrorf(takedown.ENOTFOUND, msgNoNotice, id)
	}
	if _, err := s.store.MarkNotificationRead(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// --- users and tokens ---

func mayAdmin(a *takedown.Actor) error {
	if !a.Has(takedown.RoleAdmin) {
		return uiErrorf(takedown.EFORBIDDEN, msgAdminRole)
	}
	return nil
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	if err := mayAdmin(a); err != nil {
		return err
	}
	return s.renderUsers(w, r, http.StatusOK, nil)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, data map[string]any) error {
	us, err := s.store.ListUsers(r.Context())
	if err != nil {
		return err
	}
	agencies, err := s.store.ListAgencies(r.Context())
	if err != nil {
		return err
	}
	providers, err := s.store.ListProviders(r.Context())
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Users"], data["Agencies"], data["Providers"], data["AllRoles"] = us, agencies, providers, takedown.Roles
	s.render(w, r, status, "users", data)
	return nil
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	if err := mayAdmin(a); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	f := r.PostForm
	u := &takedown.User{Name: strings.TrimSpace(f.Get("name")), DisplayName: f.Get("display_name"), Email: strings.TrimSpace(f.Get("email"))}
	for _, rr := range f["roles"] {
		u.Roles = append(u.Roles, takedown.Role(rr))
	}
	switch tenant := f.Get("tenant"); {
	case strings.HasPrefix(tenant, "agency:"):
		u.Agency = strings.TrimPrefix(tenant, "agency:")
	case strings.HasPrefix(tenant, "provider:"):
		u.Provider = strings.TrimPrefix(tenant, "provider:")
	}
	err = u.Validate()
	var hash string
	if err == nil && f.Get("password") != "" {
		hash, err = auth.HashPassword(f.Get("password"))
	}
	if err == nil {
		err = s.store.CreateUser(r.Context(), u, hash)
	}
	if err != nil {
		if code := takedown.ErrorCode(err); code == takedown.EINVALID || code == takedown.ECONFLICT {
			return s.renderUsers(w, r, http.StatusBadRequest, map[string]any{"Error": errorMessage(s.localizer(r), err), "Form": f})
		}
		return err
	}
	http.Redirect(w, r, "/users/"+neturl.PathEscape(u.Name), http.StatusSeeOther)
	return nil
}

// mayManage: admins manage every user, a user its own tokens.
func mayManage(a *takedown.Actor, name string) bool {
	return a.Has(takedown.RoleAdmin) || (a.User != nil && a.User.Name == name)
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	return s.renderUser(w, r, a, r.PathValue("user"), http.StatusOK, nil)
}

func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, a *takedown.Actor, name string, status int, data map[string]any) error {
	if !mayManage(a, name) {
		return uiErrorf(takedown.ENOTFOUND, msgNoUser, name)
	}
	u, err := s.store.FindUser(r.Context(), name)
	if err != nil {
		return err
	}
	ts, err := s.store.ListTokens(r.Context(), name)
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	now := s.now()
	type tokenRow struct {
		*takedown.Token
		State, Label string
	}
	var rows []tokenRow
	for _, t := range ts {
		state := "active"
		switch {
		case t.RevokedAt != nil:
			state = "revoked"
		case !t.Usable(now):
			state = "expired"
		}
		rows = append(rows, tokenRow{t, state, labelOf(s.localizer(r), tokenStateLabels, state)})
	}
	data["User"], data["Tokens"], data["CanAdmin"], data["Self"] = u, rows, a.Has(takedown.RoleAdmin), a.User != nil && a.User.Name == name
	s.render(w, r, status, "user", data)
	return nil
}

func (s *Server) addToken(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	name := r.PathValue("user")
	if !mayManage(a, name) {
		return uiErrorf(takedown.ENOTFOUND, msgNoUser, name)
	}
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	days, err := strconv.Atoi(r.PostForm.Get("days"))
	if err != nil || days < 1 || days > 366 {
		return s.renderUser(w, r, a, name, http.StatusBadRequest, map[string]any{"Error": s.localizer(r).T(msgTokenDays)})
	}
	scopes := []takedown.Scope{takedown.ScopeRead}
	if r.PostForm.Get("scope") == "write" {
		scopes = append(scopes, takedown.ScopeWrite)
	}
	secret, prefix, hash := auth.NewToken()
	t := &takedown.Token{User: name, Name: r.PostForm.Get("name"), Prefix: prefix, Scopes: scopes, ExpiresAt: s.now().Add(time.Duration(days) * 24 * time.Hour)}
	if err := s.store.CreateToken(r.Context(), t, hash); err != nil {
		if takedown.ErrorCode(err) == takedown.EINVALID {
			return s.renderUser(w, r, a, name, http.StatusBadRequest, map[string]any{"Error": errorMessage(s.localizer(r), err)})
		}
		return err
	}
	// The secret is shown on this answer only; reloading the user's page
	// shows its prefix.
	return s.renderUser(w, r, a, name, http.StatusCreated, map[string]any{"NewToken": t, "Secret": secret})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("token"), 10, 64)
	if err != nil {
		return uiErrorf(takedown.ENOTFOUND, msgNoToken, r.PathValue("token"))
	}
	t, err := s.store.FindToken(r.Context(), id)
	if err != nil {
		return err
	}
	if !mayManage(a, t.User) {
		return uiErrorf(takedown.ENOTFOUND, msgNoToken, id)
	}
	if _, err := s.store.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/users/"+neturl.PathEscape(t.User), http.StatusSeeOther)
	return nil
}

func (s *Server) setUserState(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	if err := mayAdmin(a); err != nil {
		return err
	}
	name := r.PathValue("user")
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	disabled := r.PostForm.Get("disabled") == "true"
	if disabled && a.User != nil && a.User.Name == name {
		return uiErrorf(takedown.ECONFLICT, msgDisableSelf)
	}
	if _, err := s.store.UpdateUser(r.Context(), name, takedown.UserUpdate{Disabled: &disabled}); err != nil {
		return err
	}
	http.Redirect(w, r, "/users/"+neturl.PathEscape(name), http.StatusSeeOther)
	return nil
}
