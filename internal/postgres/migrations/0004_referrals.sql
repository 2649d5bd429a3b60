-- Referrals reach providers and their answers come back: the provider
-- directory's details, attribution of items to providers, removal orders,
-- deliveries per channel, and per-item answers.

ALTER TABLE providers ADD COLUMN details text NOT NULL DEFAULT '{}'; -- JSON: domains, asns, languages, contacts

ALTER TABLE items ADD COLUMN provider_id bigint REFERENCES providers (id);
ALTER TABLE items ADD COLUMN attribution text NOT NULL DEFAULT ''; -- how; '' not yet attributed, 'none' for none found
CREATE INDEX items_operation_provider ON items (operation_id, provider_id, id);

ALTER TABLE referrals ADD COLUMN order_json text NOT NULL DEFAULT '';   -- Annex I fields of a removal order, JSON
ALTER TABLE referrals ADD COLUMN idempotency_key text NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN received_at timestamptz;
ALTER TABLE referrals ADD COLUMN acknowledged_at timestamptz;
ALTER TABLE referrals ADD COLUMN deadline timestamptz;
ALTER TABLE referrals ADD COLUMN escalated_at timestamptz;

CREATE TABLE deliveries (
	referral_id  bigint NOT NULL REFERENCES referrals (id),
	channel      text NOT NULL,
	state        text NOT NULL,
	attempts     integer NOT NULL DEFAULT 0,
	last_error   text NOT NULL DEFAULT '',
	external     text NOT NULL DEFAULT '',
	delivered_at timestamptz,
	updated_at   timestamptz NOT NULL,
	PRIMARY KEY (referral_id, channel)
);

ALTER TABLE referral_items ADD COLUMN reason text NOT NULL DEFAULT '';
ALTER TABLE referral_items ADD COLUMN outcome text NOT NULL DEFAULT 'pending';
ALTER TABLE referral_items ADD COLUMN answer_reason text NOT NULL DEFAULT '';
ALTER TABLE referral_items ADD COLUMN answered_at timestamptz;
ALTER TABLE referral_items ADD COLUMN answered_by text NOT NULL DEFAULT '';
ALTER TABLE referral_items ADD COLUMN feedback text NOT NULL DEFAULT ''; -- Annex II feedback, JSON
CREATE INDEX referral_items_item_outcome ON referral_items (item_id, outcome);
DROP INDEX referral_items_item; -- a prefix of referral_items_item_outcome
