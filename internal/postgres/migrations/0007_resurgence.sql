-- Resurgence: what each item's page showed (its signals), when a watched
-- item was last read again and which item led to a candidate, the matches
-- of candidates against removed items with their review, and what each
-- operation does about successors.

ALTER TABLE operations ADD COLUMN successors text NOT NULL DEFAULT 'review';

ALTER TABLE items ADD COLUMN watched_at timestamptz;              -- last read by the watch
ALTER TABLE items ADD COLUMN found_via bigint REFERENCES items (id); -- a candidate's watched item
-- Due watch reads: never read first, then the least recently read.
-- NULLS FIRST because PostgreSQL sorts NULL last unless told: the index
-- gives DueWatch its order, so a page of due items reads only that page.
CREATE INDEX items_watch ON items (watched_at NULLS FIRST, id);

CREATE TABLE signals (
	item_id        bigint PRIMARY KEY REFERENCES items (id),
	operation_id   bigint NOT NULL REFERENCES operations (id),
	at             timestamptz NOT NULL,
	capture_id     bigint NOT NULL DEFAULT 0,  -- the capture they were last computed from
	title          text NOT NULL DEFAULT '',
	description    text NOT NULL DEFAULT '',
	posts          jsonb NOT NULL DEFAULT '[]',
	links          jsonb NOT NULL DEFAULT '[]',
	avatar_pdq     text NOT NULL DEFAULT '',
	avatar_quality bigint NOT NULL DEFAULT 0,
	matched_at     timestamptz                      -- a candidate's last matching round
);
CREATE INDEX signals_operation ON signals (operation_id, item_id);

CREATE TABLE matches (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation_id   bigint NOT NULL REFERENCES operations (id),
	successor_id   bigint NOT NULL REFERENCES items (id),
	predecessor_id bigint NOT NULL REFERENCES items (id),
	score          double precision NOT NULL,
	signals        jsonb NOT NULL,
	state          text NOT NULL,               -- open, confirmed, rejected
	found_at       timestamptz NOT NULL,
	reviewed_at    timestamptz,
	reviewed_by    text NOT NULL DEFAULT '',
	note           text NOT NULL DEFAULT '',
	UNIQUE (successor_id, predecessor_id)
);
CREATE INDEX matches_operation ON matches (operation_id, state, id);
CREATE INDEX matches_predecessor ON matches (predecessor_id);
