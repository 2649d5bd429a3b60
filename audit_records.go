package takedown

import (
	"strconv"
	"time"
)

// What the audit chain says of each kind of change. Both storage backends
// build their events here, so that the chain reads the same whichever
// keeps it. Secrets never appear: a password change says "changed", a
// token shows its prefix.

func AuditAgencyCreate(a *Agency) AuditRecord {
	return AuditRecord{Action: "agency.create", Subject: "agency:" + a.Code,
		Details: map[string]any{"code": a.Code, "name": a.Name, "country": a.Country}}
}

func AuditOperationCreate(op *Operation) AuditRecord {
	return AuditRecord{Action: "operation.create", Subject: "operation:" + op.Slug, Operation: op.Slug,
		Details: map[string]any{"slug": op.Slug, "name": op.Name, "status": op.Status, "agencies": op.Agencies}}
}

func AuditOperationJoin(slug, agency string) AuditRecord {
	return AuditRecord{Action: "operation.join", Subject: "operation:" + slug, Operation: slug,
		Details: map[string]any{"agency": agency}}
}

func AuditProviderCreate(p *Provider) AuditRecord {
	return AuditRecord{Action: "provider.create", Subject: "provider:" + p.Code, Details: providerDetails(p)}
}

func AuditProviderUpdate(p *Provider) AuditRecord {
	return AuditRecord{Action: "provider.update", Subject: "provider:" + p.Code, Details: providerDetails(p)}
}

// providerDetails is a provider as the chain records it: secrets only as
// "(set)".
func providerDetails(p *Provider) map[string]any {
	r := p.Redacted()
	return map[string]any{"code": r.Code, "name": r.Name, "platforms": r.Platforms, "domains": r.Domains, "asns": r.ASNs,
		"languages": r.Languages, "contacts": r.Contacts}
}

// AuditAttribute records a round of attribution: how many items went to
// each provider and how many to none.
func AuditAttribute(slug string, as []ItemAttribution) AuditRecord {
	byProvider := map[string]int{}
	for _, a := range as {
		p := a.Provider
		if p == "" {
			p = "(none)"
		}
		byProvider[p]++
	}
	return AuditRecord{Action: "items.attribute", Subject: "operation:" + slug, Operation: slug,
		Details: map[string]any{"items": len(as), "providers": byProvider}}
}

func AuditDelivery(r *Referral, u DeliveryUpdate) AuditRecord {
	d := map[string]any{"channel": u.Channel, "state": u.State, "external": u.External}
	if u.Error != "" {
		d["error"] = u.Error
	}
	return AuditRecord{Action: "referral.deliver", Subject: "referral:" + strconv.FormatInt(r.ID, 10), Operation: r.Operation, Details: d}
}

// AuditRedeliver records that a person sent a dead-lettered delivery
// again.
func AuditRedeliver(r *Referral, channel Channel, by string) AuditRecord {
	return AuditRecord{Action: "referral.redeliver", Subject: "referral:" + strconv.FormatInt(r.ID, 10), Operation: r.Operation,
		Details: map[string]any{"channel": channel, "by": by}}
}

func AuditAcknowledge(r *Referral) AuditRecord {
	return AuditRecord{Action: "referral.acknowledge", Subject: "referral:" + strconv.FormatInt(r.ID, 10), Operation: r.Operation,
		Details: map[string]any{"provider": r.Provider}}
}

// AuditAnswer records answers about items of a referral, item by item:
// what a provider said is evidence of what it did.
func AuditAnswer(r *Referral, answers []ItemAnswer, by string) AuditRecord {
	type a struct {
		ItemID  int64   `json:"item_id"`
		Outcome Outcome `json:"outcome"`
		Reason  string  `json:"reason,omitempty"`
	}
	list := make([]a, 0, len(answers))
	for _, x := range answers {
		list = append(list, a{x.ItemID, x.Outcome, x.Reason})
	}
	return AuditRecord{Action: "referral.answer", Subject: "referral:" + strconv.FormatInt(r.ID, 10), Operation: r.Operation,
		Details: map[string]any{"by": by, "answers": list}}
}

func AuditEscalate(r *Referral) AuditRecord {
	return AuditRecord{Action: "referral.escalate", Subject: "referral:" + strconv.FormatInt(r.ID, 10), Operation: r.Operation,
		Details: map[string]any{"provider": r.Provider, "deadline": r.Deadline}}
}

// AuditSubmit records one batch of submissions: who, from where, and what
// it did.
func AuditSubmit(slug string, agencies, sources []string, results []SubmitResult) AuditRecord {
	counts := map[SubmitOutcome]int{}
	for _, r := range results {
		counts[r.Outcome]++
	}
	return AuditRecord{Action: "items.submit", Subject: "operation:" + slug, Operation: slug,
		Details: map[string]any{"agencies": agencies, "sources": sources, "submissions": len(results),
			"new_items": counts[SubmitNewItem], "merged": counts[SubmitMerged], "duplicates": counts[SubmitDuplicate]}}
}

func AuditUserCreate(u *User) AuditRecord {
	return AuditRecord{Action: "user.create", Subject: "user:" + u.Name,
		Details: map[string]any{"name": u.Name, "agency": u.Agency, "provider": u.Provider, "roles": u.Roles, "email": u.Email, "password": u.HasPassword}}
}

func AuditUserUpdate(name string, upd UserUpdate) AuditRecord {
	d := map[string]any{}
	if upd.DisplayName != nil {
		d["display_name"] = *upd.DisplayName
	}
	if upd.Email != nil {
		d["email"] = *upd.Email
	}
	if upd.Roles != nil {
		d["roles"] = *upd.Roles
	}
	if upd.Disabled != nil {
		d["disabled"] = *upd.Disabled
	}
	if upd.OIDCSubject != nil {
		d["oidc_subject"] = *upd.OIDCSubject
	}
	if upd.PasswordHash != nil {
		d["password"] = "changed"
	}
	return AuditRecord{Action: "user.update", Subject: "user:" + name, Details: d}
}

func AuditTokenCreate(t *Token) AuditRecord {
	return AuditRecord{Action: "token.create", Subject: "token:" + strconv.FormatInt(t.ID, 10),
		Details: map[string]any{"user": t.User, "name": t.Name, "prefix": t.Prefix, "scopes": t.Scopes, "expires_at": t.ExpiresAt.UTC().Format(time.RFC3339)}}
}

func AuditTokenRevoke(t *Token) AuditRecord {
	return AuditRecord{Action: "token.revoke", Subject: "token:" + strconv.FormatInt(t.ID, 10),
		Details: map[string]any{"user": t.User, "prefix": t.Prefix}}
}

func AuditLogin(a LoginAttempt) AuditRecord {
	action, d := "login.ok", map[string]any{"address": a.Address}
	if !a.OK {
		action = "login.fail"
		d["reason"] = a.Reason
	}
	return AuditRecord{Action: action, Subject: "user:" + a.Account, Details: d}
}

func AuditSessionStart(sessionID int64, user, via, address string) AuditRecord {
	return AuditRecord{Action: "session.start", Subject: "session:" + strconv.FormatInt(sessionID, 10),
		Details: map[string]any{"user": user, "via": via, "address": address}}
}

func AuditSessionEnd(sessionID int64, user string) AuditRecord {
	return AuditRecord{Action: "session.end", Subject: "session:" + strconv.FormatInt(sessionID, 10),
		Details: map[string]any{"user": user}}
}

func AuditHoldPlace(h *Hold) AuditRecord {
	return AuditRecord{Action: "hold.place", Subject: "hold:" + strconv.FormatInt(h.ID, 10), Operation: h.Operation,
		Details: map[string]any{"agency": h.Agency, "scope": h.Scope, "item_id": h.ItemID, "platform": h.Platform, "handle": h.Handle,
			"pattern": h.Pattern, "reason": h.Reason, "note": h.Note, "expires_at": h.ExpiresAt.UTC().Format(time.RFC3339)}}
}

func AuditHoldRenew(h *Hold) AuditRecord {
	return AuditRecord{Action: "hold.renew", Subject: "hold:" + strconv.FormatInt(h.ID, 10), Operation: h.Operation,
		Details: map[string]any{"expires_at": h.ExpiresAt.UTC().Format(time.RFC3339)}}
}

func AuditHoldRelease(h *Hold) AuditRecord {
	return AuditRecord{Action: "hold.release", Subject: "hold:" + strconv.FormatInt(h.ID, 10), Operation: h.Operation,
		Details: map[string]any{"agency": h.Agency}}
}

func AuditReferralCreate(r *Referral, held []int64) AuditRecord {
	items := make([]int64, len(r.Items))
	for i, it := range r.Items {
		items[i] = it.ItemID
	}
	d := map[string]any{"provider": r.Provider, "legal_basis": r.LegalBasis, "items": items, "held": held, "idempotency_key": r.IdempotencyKey}
	if r.Order != nil {
		d["order"] = r.Order
	}
	return AuditRecord{Action: "referral.create", Subject: "referral:" + strconv.FormatInt(r.ID, 10), Operation: r.Operation, Details: d}
}

// AuditConfirmed records a confirmed removal of an item with the evidence
// of the observation that confirmed it: a figure of items taken offline
// counts these events' items.
func AuditConfirmed(operation string, itemID int64, url string, v *Verification, o Observation) AuditRecord {
	d := observationDetails(url, o)
	d["referred_at"], d["removed_at"], d["confirmed_at"] = auditTime(v.ReferredAt), auditTime(v.RemovedAt), auditTime(v.ConfirmedAt)
	return AuditRecord{Action: "item.confirm_offline", Subject: "item:" + strconv.FormatInt(itemID, 10), Operation: operation, Details: d}
}

// AuditReinstated records that an item confirmed offline was seen online
// again, with the evidence of the observation that saw it.
func AuditReinstated(operation string, itemID int64, url string, v *Verification, o Observation) AuditRecord {
	d := observationDetails(url, o)
	d["removed_at"], d["reinstated_at"] = auditTime(v.RemovedAt), auditTime(v.ReinstatedAt)
	return AuditRecord{Action: "item.reinstate", Subject: "item:" + strconv.FormatInt(itemID, 10), Operation: operation, Details: d}
}

// observationDetails is the evidence of one observation as the chain
// records it.
func observationDetails(url string, o Observation) map[string]any {
	d := map[string]any{"url": url, "at": o.At.UTC().Format(time.RFC3339Nano), "verdict": o.Verdict, "reason": o.Reason, "rule": o.Rule,
		"status": o.Status, "final_url": o.FinalURL}
	if o.Region != "" {
		d["region"] = o.Region
	}
	if o.Error != "" {
		d["error"] = o.Error
	}
	return d
}

// auditTime is a time as the chain records it; nil for none.
func auditTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}
