package api

import (
	"net/http"

	"github.com/takedown-project/takedown"
)

func (s *Server) listAgencies(w http.ResponseWriter, r *http.Request) error {
	as, err := s.store.ListAgencies(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"agencies": nonNil(as)})
}

func (s *Server) createAgency(w http.ResponseWriter, r *http.Request) error {
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
	a, err := s.store.FindAgency(r.Context(), r.PathValue("agency"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}
