-- Hash seeds: PDQ hashes an agency brings into an operation from a hash
-- list (a platform's, a partner's), and the items whose avatar matched
-- one of them. Seeds are only ever added, and read by ID from a
-- watermark; hits are listed by operation in ID order.

CREATE TABLE hash_seeds (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation_id bigint NOT NULL REFERENCES operations (id),
	agency_id    bigint NOT NULL REFERENCES agencies (id),
	value        text NOT NULL,               -- 64 lower-case hex digits
	quality      integer NOT NULL DEFAULT -1, -- 0-100; -1 unknown
	labels       jsonb NOT NULL DEFAULT '[]',
	source       text NOT NULL DEFAULT '',
	url          text NOT NULL DEFAULT '',
	added_at     timestamptz NOT NULL,
	UNIQUE (operation_id, value)
);
-- ListHashSeeds: an operation's seeds after an ID.
CREATE INDEX hash_seeds_operation ON hash_seeds (operation_id, id);

CREATE TABLE seed_hits (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation_id bigint NOT NULL REFERENCES operations (id),
	item_id      bigint NOT NULL REFERENCES items (id),
	seed_id      bigint NOT NULL REFERENCES hash_seeds (id),
	distance     integer NOT NULL,
	at           timestamptz NOT NULL,
	UNIQUE (item_id, seed_id)
);
-- ListSeedHits: an operation's hits after an ID.
CREATE INDEX seed_hits_operation ON seed_hits (operation_id, id);
