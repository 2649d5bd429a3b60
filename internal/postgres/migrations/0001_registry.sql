-- The registry: agencies, operations and who takes part, items under their
-- canonical identity, and every submission of them.

CREATE TABLE agencies (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code       text NOT NULL UNIQUE,
	name       text NOT NULL,
	country    text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL
);

CREATE TABLE operations (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	slug        text NOT NULL UNIQUE,
	name        text NOT NULL,
	description text NOT NULL DEFAULT '',
	status      text NOT NULL,
	created_at  timestamptz NOT NULL
);

CREATE TABLE operation_agencies (
	operation_id bigint NOT NULL REFERENCES operations (id),
	agency_id    bigint NOT NULL REFERENCES agencies (id),
	PRIMARY KEY (operation_id, agency_id)
);

CREATE TABLE items (
	id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation_id       bigint NOT NULL REFERENCES operations (id),
	identity           text NOT NULL,
	url                text NOT NULL,
	platform           text NOT NULL,
	kind               text NOT NULL,
	handle             text NOT NULL DEFAULT '',
	title              text NOT NULL DEFAULT '',
	status             text NOT NULL,
	submission_count   integer NOT NULL,
	first_submitted_at timestamptz NOT NULL,
	last_submitted_at  timestamptz NOT NULL,
	UNIQUE (operation_id, identity)
) WITH (fillfactor = 85); -- room for HOT updates: counts and statuses change, indexed columns rarely
-- Lists page newest first within an operation, optionally by one filter.
CREATE INDEX items_operation ON items (operation_id, id);
CREATE INDEX items_operation_platform ON items (operation_id, platform, id);
CREATE INDEX items_operation_kind ON items (operation_id, kind, id);
CREATE INDEX items_operation_status ON items (operation_id, status, id);

CREATE TABLE submissions (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	item_id           bigint NOT NULL REFERENCES items (id),
	agency_id         bigint NOT NULL REFERENCES agencies (id),
	fingerprint       text NOT NULL,
	raw_input         text NOT NULL,
	declared_kind     text NOT NULL DEFAULT '',
	declared_platform text NOT NULL DEFAULT '',
	declared_handle   text NOT NULL DEFAULT '',
	title             text NOT NULL DEFAULT '',
	notes             text NOT NULL DEFAULT '',
	tags              jsonb,  -- array; NULL for none
	language          text NOT NULL DEFAULT '',
	found_at          timestamptz,
	attributes        jsonb,  -- object of strings; NULL for none
	source            text NOT NULL,
	submitted_at      timestamptz NOT NULL,
	-- One agency's identical report of an item is one submission.
	UNIQUE (item_id, fingerprint)
);
