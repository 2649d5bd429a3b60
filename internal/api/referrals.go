package api

import (
	"net/http"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/refer"
)

// Referrals: the operation's coordinators put batches together (by hand or
// by plan) and read them with their deliveries and answers; auditors read
// them; a provider's liaisons read the batches addressed to their
// provider, acknowledge them and answer per item, and never learn who put
// them together.

// --- referral batches ---

func (s *Server) listReferrals(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	a := who(r)
	if !a.MayCoordinate(op) && !a.SeesAll() {
		return takedown.Errorf(takedown.EFORBIDDEN, "referrals are the coordinators' (and auditors')")
	}
	rs, err := s.store.ListReferrals(r.Context(), takedown.ReferralFilter{OperationID: op.ID, Provider: r.URL.Query().Get("provider")})
	if err != nil {
		return err
	}
	for _, ref := range rs {
		ref.SetClock(s.now())
	}
	return writeJSON(w, http.StatusOK, map[string]any{"referrals": nonNil(rs)})
}

func (s *Server) createReferral(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	if !who(r).MayCoordinate(op) {
		return takedown.Errorf(takedown.EFORBIDDEN, "referrals are put together by the operation's coordinators")
	}
	var in struct {
		Provider   string                 `json:"provider"`
		LegalBasis takedown.LegalBasis    `json:"legal_basis"`
		Order      *takedown.RemovalOrder `json:"order"`
		ItemIDs    []int64                `json:"item_ids"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.ItemIDs) > MaxBatchSize {
		return takedown.Errorf(takedown.EINVALID, "a referral holds at most %d items", MaxBatchSize)
	}
	ref := &takedown.Referral{OperationID: op.ID, Provider: in.Provider, LegalBasis: in.LegalBasis, Order: in.Order}
	held, err := s.store.CreateReferral(r.Context(), ref, in.ItemIDs)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/operations/"+op.Slug+"/referrals/"+itoa(ref.ID))
	// The coordinator learns which items were held back; who holds them,
	// the coordinator can see on the items.
	return writeJSON(w, http.StatusCreated, map[string]any{"referral": ref, "held": nonNil(held)})
}

func (s *Server) getReferral(w http.ResponseWriter, r *http.Request) error {
	a := who(r)
	id, err := pathID(r, "referral")
	if err != nil {
		return err
	}
	slug := r.PathValue("operation")
	ref, err := s.store.FindReferral(r.Context(), id)
	if err != nil {
		return err
	}
	notFound := takedown.Errorf(takedown.ENOTFOUND, "no referral %d in operation %q", id, slug)
	if ref.Operation != slug {
		return notFound
	}
	switch {
	case a.Has(takedown.RoleProvider) && !a.Local():
		// A liaison reads the referrals addressed to its provider, and
		// not who put them together.
		if a.User.Provider != ref.Provider {
			return notFound
		}
		ref.CreatedBy = ""
	default:
		op, err := s.operation(r)
		if err != nil {
			return err
		}
		if !a.MayCoordinate(op) && !a.SeesAll() {
			return takedown.Errorf(takedown.EFORBIDDEN, "referrals are the coordinators' (and auditors')")
		}
	}
	ref.SetClock(s.now())
	return writeJSON(w, http.StatusOK, ref)
}

// listProviderReferrals is the provider portal's list: every referral
// addressed to the caller's provider, across operations.
func (s *Server) listProviderReferrals(w http.ResponseWriter, r *http.Request) error {
	a := who(r)
	if err := need(a, takedown.RoleProvider); err != nil || a.Local() {
		return takedown.Errorf(takedown.EFORBIDDEN, "this list is a provider liaison's; coordinators list referrals per operation")
	}
	rs, err := s.store.ListReferrals(r.Context(), takedown.ReferralFilter{Provider: a.User.Provider})
	if err != nil {
		return err
	}
	for _, ref := range rs {
		ref.CreatedBy = ""
	}
	for _, ref := range rs {
		ref.SetClock(s.now())
	}
	return writeJSON(w, http.StatusOK, map[string]any{"referrals": nonNil(rs)})
}

// --- the provider portal's API and batching ---

// providerReferral returns a referral addressed to the caller's provider,
// or ENOTFOUND: a liaison sees its provider's referrals only.
func (s *Server) providerReferral(r *http.Request) (*takedown.Referral, error) {
	a := who(r)
	id, err := pathID(r, "referral")
	if err != nil {
		return nil, err
	}
	if !a.Has(takedown.RoleProvider) || a.Local() {
		return nil, takedown.Errorf(takedown.EFORBIDDEN, "this is a provider liaison's; coordinators read referrals per operation")
	}
	ref, err := s.store.FindReferral(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if ref.Provider != a.User.Provider {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no referral %d", id)
	}
	ref.CreatedBy = ""
	return ref, nil
}

func (s *Server) getProviderReferral(w http.ResponseWriter, r *http.Request) error {
	ref, err := s.providerReferral(r)
	if err != nil {
		return err
	}
	ref.SetClock(s.now())
	return writeJSON(w, http.StatusOK, ref)
}

func (s *Server) acknowledgeReferral(w http.ResponseWriter, r *http.Request) error {
	ref, err := s.providerReferral(r)
	if err != nil {
		return err
	}
	if ref, err = s.store.AcknowledgeReferral(r.Context(), ref.ID); err != nil {
		return err
	}
	ref.CreatedBy = ""
	ref.SetClock(s.now())
	return writeJSON(w, http.StatusOK, ref)
}

func (s *Server) answerReferral(w http.ResponseWriter, r *http.Request) error {
	ref, err := s.providerReferral(r)
	if err != nil {
		return err
	}
	var in struct {
		Answers []takedown.ItemAnswer `json:"answers"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Answers) == 0 || len(in.Answers) > MaxBatchSize {
		return takedown.Errorf(takedown.EINVALID, "answers: want 1 to %d", MaxBatchSize)
	}
	a := who(r)
	if ref, err = s.store.AnswerReferral(r.Context(), ref.ID, in.Answers, "provider "+a.User.Provider+" (user "+a.User.Name+")"); err != nil {
		return err
	}
	ref.CreatedBy = ""
	ref.SetClock(s.now())
	return writeJSON(w, http.StatusOK, ref)
}

// planInput asks for the ready items of an operation to be batched.
type planInput struct {
	LegalBasis takedown.LegalBasis    `json:"legal_basis"`
	Order      *takedown.RemovalOrder `json:"order"`
	MaxItems   int                    `json:"max_items"`
	Providers  []string               `json:"providers"`
}

func (s *Server) planReferrals(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	if !who(r).MayCoordinate(op) {
		return takedown.Errorf(takedown.EFORBIDDEN, "referrals are put together by the operation's coordinators")
	}
	var in planInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if s.plan == nil {
		return takedown.Errorf(takedown.EUNAVAILABLE, "batching is not configured on this server")
	}
	if in.MaxItems < 0 {
		return takedown.Errorf(takedown.EINVALID, "max_items: want 0 (the default) or more")
	}
	res, err := s.plan(r.Context(), op.ID, refer.Rule{LegalBasis: in.LegalBasis, Order: in.Order, MaxItems: in.MaxItems, Providers: in.Providers})
	if err != nil {
		return err
	}
	// The batches without their items: a plan may make thousands.
	for _, ref := range res.Referrals {
		ref.Items = nil
	}
	res.Referrals, res.Held = nonNil(res.Referrals), nonNil(res.Held)
	return writeJSON(w, http.StatusCreated, res)
}

// attributeItem sends an item to a provider by hand: the way out of the
// unattributed queue, or a correction.
func (s *Server) attributeItem(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	a := who(r)
	if !a.MayCoordinate(op) {
		return takedown.Errorf(takedown.EFORBIDDEN, "items are attributed by hand by the operation's coordinators")
	}
	id, err := pathID(r, "item")
	if err != nil {
		return err
	}
	it, err := s.itemIn(r, op, id)
	if err != nil {
		return err
	}
	var in struct {
		Provider string `json:"provider"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Provider == "" {
		return takedown.Errorf(takedown.EINVALID, "provider: name the provider the item goes to")
	}
	if _, err := s.store.FindProvider(r.Context(), in.Provider); takedown.ErrorCode(err) == takedown.ENOTFOUND {
		return takedown.Errorf(takedown.EINVALID, "no provider %q in the directory", in.Provider)
	} else if err != nil {
		return err
	}
	if err := s.store.SetAttributions(r.Context(), []takedown.ItemAttribution{{ItemID: id, Provider: in.Provider, Via: "by hand (" + a.String() + ")"}}); err != nil {
		return err
	}
	if it, err = s.store.FindItem(r.Context(), id); err != nil {
		return err
	}
	a.Redact(op, it)
	return writeJSON(w, http.StatusOK, it)
}

// redeliverReferral sends a dead-lettered delivery again.
func (s *Server) redeliverReferral(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	a := who(r)
	if !a.MayCoordinate(op) {
		return takedown.Errorf(takedown.EFORBIDDEN, "dead letters are sent again by the operation's coordinators")
	}
	id, err := pathID(r, "referral")
	if err != nil {
		return err
	}
	ref, err := s.store.FindReferral(r.Context(), id)
	if err != nil {
		return err
	}
	if ref.OperationID != op.ID {
		return takedown.Errorf(takedown.ENOTFOUND, "no referral %d in operation %q", id, op.Slug)
	}
	var in struct {
		Channel takedown.Channel `json:"channel"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.store.RedeliverReferral(r.Context(), id, in.Channel, a.String()); err != nil {
		return err
	}
	if ref, err = s.store.FindReferral(r.Context(), id); err != nil {
		return err
	}
	ref.SetClock(s.now())
	return writeJSON(w, http.StatusOK, ref)
}
