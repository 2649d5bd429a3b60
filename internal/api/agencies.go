package api

import (
	"net/http"

	"github.com/takedown-project/takedown"
)

// The agencies are known to everyone of the agencies' side and to
// auditors; a provider's liaison learns nothing of them.
func mayReadAgencies(a *takedown.Actor) error {
	return need(a, takedown.RoleAdmin, takedown.RoleCoordinator, takedown.RoleAnalyst, takedown.RoleAuditor)
}

func (s *Server) listAgencies(w http.ResponseWriter, r *http.Request) error {
	if err := mayReadAgencies(who(r)); err != nil {
		return err
	}
	as, err := s.store.ListAgencies(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"agencies": nonNil(as)})
}

func (s *Server) createAgency(w http.ResponseWriter, r *http.Request) error {
	if err := need(who(r), takedown.RoleAdmin); err != nil {
		return err
	}
	var in struct {
		Code    string `json:"code"`
		Name    string `json:"name"`
		Country string `json:"country"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	a := &takedown.Agency{Code: in.Code, Name: in.Name, Country: in.Country}
	if err := s.store.CreateAgency(r.Context(), a); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/agencies/"+a.Code)
	return writeJSON(w, http.StatusCreated, a)
}

func (s *Server) getAgency(w http.ResponseWriter, r *http.Request) error {
	if err := mayReadAgencies(who(r)); err != nil {
		return err
	}
	a, err := s.store.FindAgency(r.Context(), r.PathValue("agency"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}
