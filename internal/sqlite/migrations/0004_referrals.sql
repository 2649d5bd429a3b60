-- Referrals reach providers and their answers come back: the provider
-- directory's details, attribution of items to providers, removal orders,
-- deliveries per channel, and per-item answers.

ALTER TABLE providers ADD COLUMN details TEXT NOT NULL DEFAULT '{}'; -- JSON: domains, asns, languages, contacts

ALTER TABLE items ADD COLUMN provider_id INTEGER REFERENCES providers (id);
ALTER TABLE items ADD COLUMN attribution TEXT NOT NULL DEFAULT ''; -- how; '' not yet attributed, 'none' for none found
CREATE INDEX items_operation_provider ON items (operation_id, provider_id, id);

ALTER TABLE referrals ADD COLUMN order_json TEXT NOT NULL DEFAULT '';   -- Annex I fields of a removal order, JSON
ALTER TABLE referrals ADD COLUMN idempotency_key TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN received_at INTEGER;
ALTER TABLE referrals ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE referrals ADD COLUMN deadline INTEGER;
ALTER TABLE referrals ADD COLUMN escalated_at INTEGER;

CREATE TABLE deliveries (
	referral_id  INTEGER NOT NULL REFERENCES referrals (id),
	channel      TEXT NOT NULL,
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	external     TEXT NOT NULL DEFAULT '',
	delivered_at INTEGER,
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (referral_id, channel)
) WITHOUT ROWID;

ALTER TABLE referral_items ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE referral_items ADD COLUMN outcome TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE referral_items ADD COLUMN answer_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE referral_items ADD COLUMN answered_at INTEGER;
ALTER TABLE referral_items ADD COLUMN answered_by TEXT NOT NULL DEFAULT '';
ALTER TABLE referral_items ADD COLUMN feedback TEXT NOT NULL DEFAULT ''; -- Annex II feedback, JSON
CREATE INDEX referral_items_item_outcome ON referral_items (item_id, outcome);
DROP INDEX referral_items_item; -- a prefix of referral_items_item_outcome
