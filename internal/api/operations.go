package api

import (
	"net/http"
	"slices"

	"github.com/takedown-project/takedown"
)

type operationInput struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Agencies    []string `json:"agencies"`
	Evidence    string   `json:"evidence"`
	Successors  string   `json:"successors"`
}

func (s *Server) listOperations(w http.ResponseWriter, r *http.Request) error {
	a := who(r)
	ops, err := s.store.ListOperations(r.Context())
	if err != nil {
		return err
	}
	ops = slices.DeleteFunc(ops, func(op *takedown.Operation) bool { return !a.MaySeeOperation(op) })
	return writeJSON(w, http.StatusOK, map[string]any{"operations": nonNil(ops)})
}

func (s *Server) createOperation(w http.ResponseWriter, r *http.Request) error {
	a := who(r)
	if err := need(a, takedown.RoleCoordinator); err != nil {
		return err
	}
	var in operationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	// The coordinator's agency takes part in what it runs.
	if own := a.Agency(); own != "" && !slices.Contains(in.Agencies, own) {
		in.Agencies = append(in.Agencies, own)
	}
	op := &takedown.Operation{Slug: in.Slug, Name: in.Name, Description: in.Description, Status: takedown.OperationOpen, Agencies: in.Agencies, Evidence: takedown.EvidencePolicy(in.Evidence),
		Successors: takedown.SuccessorPolicy(in.Successors)}
	if err := s.store.CreateOperation(r.Context(), op); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/operations/"+op.Slug)
	return writeJSON(w, http.StatusCreated, op)
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, op)
}

func (s *Server) addParticipant(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	if !who(r).MayCoordinate(op) {
		return takedown.Errorf(takedown.EFORBIDDEN, "agencies are added by the operation's coordinators")
	}
	var in struct {
		Agency string `json:"agency"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Agency == "" {
		return takedown.Errorf(takedown.EINVALID, "field \"agency\" is required")
	}
	if err := s.store.AddParticipant(r.Context(), op.Slug, in.Agency); err != nil {
		return err
	}
	op, err = s.store.FindOperation(r.Context(), op.Slug)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, op)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
