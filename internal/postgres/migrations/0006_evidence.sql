-- Evidence: every capture of an item, with the WARC file it made (its
-- SHA-256, size and place in the blob store), or why it failed; and what
-- each operation asks of evidence before a referral.

ALTER TABLE operations ADD COLUMN evidence text NOT NULL DEFAULT 'before';

CREATE TABLE captures (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	item_id      bigint NOT NULL REFERENCES items (id),
	operation_id bigint NOT NULL REFERENCES operations (id),
	at           timestamptz NOT NULL,
	url          text NOT NULL,
	state        text NOT NULL,              -- captured, failed
	reason       text NOT NULL DEFAULT '',
	error        text NOT NULL DEFAULT '',
	status       bigint NOT NULL DEFAULT 0,
	sha256       text NOT NULL DEFAULT '',
	size         bigint NOT NULL DEFAULT 0,
	location     text NOT NULL DEFAULT '',
	records      bigint NOT NULL DEFAULT 0,
	resources    bigint NOT NULL DEFAULT 0
);
-- An item's captures, newest first.
CREATE INDEX captures_item ON captures (item_id, at, id);
